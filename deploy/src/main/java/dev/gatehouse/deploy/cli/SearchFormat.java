package dev.gatehouse.deploy.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One line per match of {@code gatehouse audit search}, from the indexer's JSON (the contract's
 * {@code SessionSummary} and {@code CommandEntry}): when, what, who (with CI provenance), which
 * session and what was decided. Pure: no I/O.
 */
final class SearchFormat {
    /** SQL longer than this is cut (with "…") so that a match stays on one line. */
    static final int SQL_WIDTH = 80;

    private SearchFormat() {
    }

    /** A line for one {@code {"session": SessionSummary, "command": CommandEntry}} of {@code /commands}. */
    static String commandLine(JsonObject match) {
        JsonObject session = orEmpty(match.getJsonObject("session"));
        JsonObject command = orEmpty(match.getJsonObject("command"));
        String at = command.getString("receivedAt", command.getString("at"));
        StringBuilder line = new StringBuilder();
        line.append(utc(at)).append("  ").append(oneLine(command.getString("sql", ""), SQL_WIDTH));
        line.append("  by ").append(identity(session.getJsonObject("identity")));
        JsonObject connection = session.getJsonObject("connection");
        if (connection != null && connection.getString("name") != null) {
            line.append("  on ").append(connection.getString("name"));
        }
        line.append("  session ").append(session.getString("sessionId", "?"));
        line.append("  ").append(decision(command));
        return line.toString();
    }

    /** A line for one {@code SessionSummary} of {@code /sessions}. */
    static String sessionLine(JsonObject session) {
        StringBuilder line = new StringBuilder();
        line.append(utc(session.getString("startedAt"))).append("  session ").append(session.getString("sessionId", "?"));
        line.append("  ").append(session.getString("status", "?"));
        line.append("  by ").append(identity(session.getJsonObject("identity")));
        JsonObject connection = session.getJsonObject("connection");
        if (connection != null && connection.getString("name") != null) {
            line.append("  on ").append(connection.getString("name"));
        }
        line.append("  ").append(count(session, "commands", "command"));
        List<String> marks = new ArrayList<>();
        if (number(session, "denied") > 0) marks.add(session.getValue("denied") + " denied");
        if (number(session, "approvals") > 0) marks.add(session.getValue("approvals") + " approval(s)");
        if (number(session, "masked") > 0) marks.add(session.getValue("masked") + " masked");
        if (!marks.isEmpty()) line.append(" (").append(String.join(", ", marks)).append(')');
        if (session.getString("endedAt") != null) line.append("  ended ").append(utc(session.getString("endedAt")));
        if (Boolean.TRUE.equals(session.getBoolean("sealed"))) line.append("  sealed");
        return line.toString();
    }

    /**
     * Who: for a CI job {@code ci:github-actions repo=R commit=abc1234 run=URL (subject S)} (the provider is
     * the issuer kind the indexer recorded: github-actions or gitlab), else the subject
     * with its groups and issuer. A delegated session names its chain, originator first,
     * {@code alice → planner-agent actor-groups=agents issuer=I}, and a declared intent follows as
     * {@code intent="run r step s (unverified: declared by the client)"}.
     */
    static String identity(JsonObject identity) {
        if (identity == null) return "(unknown identity)";
        String who = who(identity);
        String intent = intent(identity.getJsonObject("intent"));
        return intent == null ? who : who + " intent=\"" + intent + '"';
    }

    /**
     * A declared intent for people, "run r step s (unverified: declared by the client)" unless its
     * issuer signed it; null when none was declared.
     */
    static String intent(JsonObject intent) {
        if (intent == null) return null;
        String described = intent.getString("description");
        if (described == null) {
            // an answer without the description: mark it here, never show an unsigned intent unmarked
            described = (intent.getString("runId") == null ? "" : "run " + intent.getString("runId"))
                    + (intent.getString("stepId") == null ? "" : " step " + intent.getString("stepId"))
                    + (Boolean.TRUE.equals(intent.getBoolean("verified")) ? " (signed by the issuer)"
                    : " (unverified: declared by the client)");
        }
        return described.strip();
    }

    /** The chain of a delegated session, "alice → earlier → planner-agent", or null when not delegated. */
    static String chain(JsonObject identity) {
        JsonObject delegation = identity.getJsonObject("delegation");
        if (delegation == null || delegation.getString("originator") == null) return null;
        StringBuilder s = new StringBuilder(delegation.getString("originator"));
        JsonArray earlier = delegation.getJsonArray("earlierActors", new JsonArray());
        for (int i = earlier.size() - 1; i >= 0; i--) s.append(" → ").append(earlier.getValue(i));
        return s.append(" → ").append(identity.getString("subject", "?")).toString();
    }

    private static String who(JsonObject identity) {
        String subject = identity.getString("subject", "?");
        String chain = chain(identity);
        if (chain != null) {
            StringBuilder s = new StringBuilder(chain);
            JsonArray groups = identity.getJsonArray("groups");
            if (groups != null && !groups.isEmpty()) s.append(" actor-groups=").append(join(groups));
            append(s, "issuer", identity.getString("issuer"));
            return s.toString();
        }
        JsonObject ci = identity.getJsonObject("ci");
        if (ci != null) {
            StringBuilder s = new StringBuilder("ci:").append(ci.getString("provider", "?"));
            append(s, "repo", ci.getString("repository"));
            append(s, "commit", shortSha(ci.getString("commitSha")));
            String run = ci.getString("runUrl") != null ? ci.getString("runUrl") : ci.getString("runId");
            append(s, "run", run);
            return s.append(" (subject ").append(subject).append(')').toString();
        }
        StringBuilder s = new StringBuilder(subject);
        JsonArray groups = identity.getJsonArray("groups");
        if (groups != null && !groups.isEmpty()) s.append(" groups=").append(join(groups));
        append(s, "issuer", identity.getString("issuer"));
        return s.toString();
    }

    /**
     * {@code allow}, {@code deny (rule r)}, {@code refused by gatehouse: why} (the edge refused it
     * itself; no decision follows), ... plus the outcome when it failed or was not forwarded.
     */
    static String decision(JsonObject command) {
        JsonObject decision = command.getJsonObject("decision");
        String refusal = command.getString("refusal");
        StringBuilder s = new StringBuilder(refusal != null ? "refused by gatehouse: " + refusal
                : decision == null ? "undecided" : decision.getString("verdict", "?"));
        if (decision != null && decision.getString("ruleId") != null && !"allow".equals(decision.getString("verdict"))) {
            s.append(" (rule ").append(decision.getString("ruleId")).append(')');
        }
        JsonObject approval = command.getJsonObject("approval");
        if (approval != null && approval.getString("state") != null) {
            s.append(" approval ").append(approval.getString("state").toLowerCase(java.util.Locale.ROOT));
        }
        JsonObject outcome = command.getJsonObject("outcome");
        if (outcome != null && outcome.getString("sqlState") != null) {
            s.append(" -> error ").append(outcome.getString("sqlState"));
        } else if (outcome == null && decision != null && !"deny".equals(decision.getString("verdict"))) {
            s.append(" -> no outcome recorded");
        }
        return s.toString();
    }

    /** An ISO instant as {@code 2026-11-24T07:02:11Z} (seconds, UTC); unparseable text as it is. */
    static String utc(String instant) {
        if (instant == null) return "????-??-??T??:??:??Z";
        try {
            return Instant.parse(instant).truncatedTo(ChronoUnit.SECONDS).toString();
        } catch (DateTimeParseException e) {
            return instant;
        }
    }

    /** Whitespace runs as one space, cut at {@code width} with an ellipsis. */
    static String oneLine(String sql, int width) {
        String s = sql.strip().replaceAll("\\s+", " ");
        return s.length() <= width ? s : s.substring(0, width - 1) + "…";
    }

    static String shortSha(String sha) {
        return sha == null ? null : sha.length() > 7 ? sha.substring(0, 7) : sha;
    }

    private static String join(JsonArray values) {
        List<String> names = new ArrayList<>();
        values.forEach(v -> names.add(String.valueOf(v)));
        return String.join(",", names);
    }

    private static void append(StringBuilder s, String key, String value) {
        if (value != null && !value.isBlank()) s.append(' ').append(key).append('=').append(value);
    }

    private static String count(JsonObject o, String key, String noun) {
        long n = number(o, key);
        return n + " " + noun + (n == 1 ? "" : "s");
    }

    private static long number(JsonObject o, String key) {
        Object v = o.getValue(key);
        return v instanceof Number n ? n.longValue() : 0;
    }

    private static JsonObject orEmpty(JsonObject o) {
        return Objects.requireNonNullElseGet(o, JsonObject::new);
    }
}
