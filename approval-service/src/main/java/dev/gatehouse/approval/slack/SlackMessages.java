package dev.gatehouse.approval.slack;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;

/**
 * Renders approvals as Slack Block Kit messages: the request (who asked, connection, the SQL in
 * an escaped, truncated code block, statement by statement with each statement's own parameters
 * when the command was recorded so, the analysis, rule and reason, expiry, Approve / Deny
 * buttons) and its later states (votes so far; the outcome with who decided and when, buttons
 * removed). Pure: values in, JSON out. Every piece of user text goes through {@link SlackText}.
 *
 * <p>Both buttons carry the approval id as their {@code value}; the message carries it in its
 * {@code metadata} ({@code event_type} {@value #METADATA_EVENT_TYPE}, payload {@code approval_id}).
 */
public final class SlackMessages {

    public static final String APPROVE_ACTION = "gatehouse_approve";
    public static final String DENY_ACTION = "gatehouse_deny";
    public static final String ACTIONS_BLOCK = "gatehouse_approval_actions";
    public static final String METADATA_EVENT_TYPE = "gatehouse_approval";

    /** Default cap for the SQL shown in the message (a section's text may hold 3000 characters). */
    public static final int DEFAULT_SQL_LIMIT = 2500;

    private static final int FIELD_LIMIT = 1900;

    private final String consoleUrl;
    private final int sqlLimit;

    /**
     * @param consoleUrl base URL of the web console (links to "/sessions/{id}"), or null for no links
     * @param sqlLimit   how many characters of (escaped) SQL the message shows at most
     */
    public SlackMessages(String consoleUrl, int sqlLimit) {
        this.consoleUrl = consoleUrl == null || consoleUrl.isBlank() ? null : consoleUrl.replaceAll("/+$", "");
        if (sqlLimit < 100 || sqlLimit > 2900) throw new IllegalArgumentException("sqlLimit must be in 100..2900");
        this.sqlLimit = sqlLimit;
    }

    public SlackMessages(String consoleUrl) {
        this(consoleUrl, DEFAULT_SQL_LIMIT);
    }

    /** The message announcing a request: {@code text}, {@code blocks} and {@code metadata}. */
    public JsonObject request(Approval a) {
        return message(a, true);
    }

    /**
     * The message for the approval's current state: while pending, the request with the votes so
     * far and the buttons; once decided, the outcome (who, when, why) and no buttons.
     */
    public JsonObject current(Approval a) {
        return message(a, a.state() == Approval.State.PENDING && a.open());
    }

    /** The short plain-text line for a vote refused or accepted, for an ephemeral reply. */
    public static JsonObject ephemeral(String text) {
        return new JsonObject()
                .put("response_type", "ephemeral")
                .put("replace_original", false)
                .put("text", SlackText.escape(text));
    }

    private JsonObject message(Approval a, boolean withButtons) {
        JsonArray blocks = new JsonArray();
        blocks.add(header(a));
        blocks.add(section(fields(a)));
        if (a.reason() != null && !a.reason().isBlank()) {
            blocks.add(section(mrkdwn("*Reason*\n" + SlackText.escape(SlackText.clip(a.reason(), FIELD_LIMIT)))));
        }
        SqlCommand command = a.command();
        if (command != null) {
            SlackText.Code code = SlackText.codeBlock(sqlWithParameters(command), sqlLimit);
            blocks.add(section(mrkdwn(code.mrkdwn())));
            if (code.truncated()) {
                String link = consoleLink(a, "the full statement in the console");
                blocks.add(context("The statement was shortened here." + (link == null ? "" : " See " + link + ".")));
            }
            String analysis = analysis(command.analysis());
            if (!analysis.isEmpty()) blocks.add(context(analysis));
        }
        String status = status(a);
        if (status != null) blocks.add(section(mrkdwn(status)));
        if (withButtons) blocks.add(buttons(a));
        String console = consoleLink(a, "session in the console");
        blocks.add(context("Approval " + SlackText.escape(a.id())
                + (console == null ? "" : " · " + console)));
        return new JsonObject()
                .put("text", fallbackText(a))
                .put("blocks", blocks)
                .put("metadata", new JsonObject()
                        .put("event_type", METADATA_EVENT_TYPE)
                        .put("event_payload", new JsonObject().put("approval_id", a.id())));
    }

    private static JsonObject header(Approval a) {
        String title = switch (a.state()) {
            case PENDING -> switch (a.tally()) {
                case GRANTED -> "Approved";
                case DENIED -> "Denied";
                default -> a.fromOriginator() ? "Confirm your agent's command" : "Approval requested";
            };
            case GRANTED -> "Approved";
            case EXECUTED -> "Approved and executed";
            case DENIED -> "Denied";
            case EXPIRED -> "Expired";
        };
        return new JsonObject().put("type", "header")
                .put("text", new JsonObject().put("type", "plain_text").put("emoji", false)
                        .put("text", SlackText.clip(title + ": " + a.id(), 150)));
    }

    private List<JsonObject> fields(Approval a) {
        List<JsonObject> fields = new ArrayList<>();
        Identity who = a.requester();
        if (who != null && who.delegated()) {
            // the agent is named first: it asks, on behalf of the originator
            fields.add(mrkdwn("*Agent*\n" + SlackText.escape(SlackText.clip(who.subject(), 200)) + " acting for "
                    + SlackText.escape(SlackText.clip(who.delegation().originator(), 200)) + "\n"
                    + SlackText.escape(SlackText.clip(who.delegation().chain(who.subject()), 400))));
            if (who.intent() != null) {
                fields.add(mrkdwn("*Declared intent*\n" + SlackText.escape(SlackText.clip(who.intent().describe(), 300))));
            }
        } else {
            fields.add(mrkdwn("*Requested by*\n" + (who == null ? "unknown" : SlackText.escape(SlackText.clip(who.subject(), 200))
                    + "\n" + SlackText.escape(SlackText.clip(who.issuer(), 200)))));
        }
        ConnectionRef connection = a.connection();
        if (connection != null) {
            String labels = connection.labels().entrySet().stream().sorted(java.util.Map.Entry.comparingByKey())
                    .map(e -> e.getKey() + "=" + e.getValue()).collect(Collectors.joining(", "));
            fields.add(mrkdwn("*Connection*\n" + SlackText.escape(SlackText.clip(connection.name(), 200))
                    + (labels.isEmpty() ? "" : "\n" + SlackText.escape(SlackText.clip(labels, 300)))));
        }
        if (who != null && who.ci() != null) {
            String ci = ciLinks(who);
            if (!ci.isEmpty()) fields.add(mrkdwn("*CI*\n" + ci));
        }
        fields.add(mrkdwn("*Rule*\n" + SlackText.escape(SlackText.clip(String.valueOf(a.ruleId()), 200))));
        if (a.fromOriginator()) {
            String originator = a.delegation() == null ? "nobody (the session is not delegated)"
                    : a.delegation().originator() + ", for whom the agent acts";
            fields.add(mrkdwn("*Who confirms*\nonly " + SlackText.escape(SlackText.clip(originator, 250))));
        } else {
            fields.add(mrkdwn("*Approvers*\n" + a.approvalsRequired() + " of group "
                    + SlackText.escape(SlackText.clip(String.valueOf(a.approverGroup()), 200))
                    + (who != null && who.delegated() ? "\nnot the agent, nor " + SlackText.escape(SlackText.clip(
                    who.delegation().originator(), 200)) + " for whom it acts" : "")));
        }
        if (a.expiresAt() != null) {
            fields.add(mrkdwn("*Expires*\n" + date(a.expiresAt()) + (a.deferred() ? "\ndeferred: run it again once approved" : "")));
        }
        return fields;
    }

    /** Repository, commit and run as links for GitHub Actions and GitLab CI; plain text otherwise. */
    static String ciLinks(Identity who) {
        CiProvenance ci = who.ci();
        String repo = ci.repository();
        String sha = ci.commitSha();
        String run = ci.runId();
        String base = switch (ci.system() == null ? "" : ci.system()) {
            case "github-actions" -> "https://github.com";
            case "gitlab" -> who.issuer() != null && who.issuer().startsWith("https://")
                    ? who.issuer().replaceAll("/+$", "") : null;
            default -> null;
        };
        boolean gitlab = "gitlab".equals(ci.system());
        List<String> parts = new ArrayList<>();
        boolean linkable = base != null && SlackText.safePath(repo);
        if (repo != null) {
            parts.add(linkable ? SlackText.link(base + "/" + repo, repo) : SlackText.escape(repo));
        }
        if (sha != null) {
            String shortSha = sha.length() > 7 ? sha.substring(0, 7) : sha;
            parts.add("commit " + (linkable && SlackText.safeToken(sha)
                    ? SlackText.link(base + "/" + repo + (gitlab ? "/-/commit/" : "/commit/") + sha, shortSha)
                    : SlackText.escape(shortSha)));
        }
        if (run != null) {
            parts.add((gitlab ? "pipeline " : "run ") + (linkable && SlackText.safeToken(run)
                    ? SlackText.link(base + "/" + repo + (gitlab ? "/-/pipelines/" : "/actions/runs/") + run, run)
                    : SlackText.escape(run)));
        }
        return String.join("\n", parts);
    }

    /**
     * What is to be approved: each statement of a command recorded statement by statement with its own
     * parameters (and, when there are several or it is reached through a prepared statement, portal or
     * SQL-level statement, a comment saying how it runs); else the command's text and parameters.
     */
    static String sqlWithParameters(SqlCommand command) {
        List<CommandStatement> statements = command.statements();
        if (statements.isEmpty()) return withParameters(command.sql(), command.parameters());
        List<String> parts = new ArrayList<>();
        for (int i = 0; i < statements.size(); i++) {
            CommandStatement s = statements.get(i);
            String how = how(s);
            String head = statements.size() == 1 && how.isEmpty() ? ""
                    : "-- " + (statements.size() == 1 ? "" : "statement " + (i + 1) + " of " + statements.size()
                    + (how.isEmpty() ? "" : ": ")) + how + "\n";
            parts.add(head + withParameters(s.sql(), s.parameters()));
        }
        return String.join("\n", parts);
    }

    /** How a statement runs, beyond a plain statement of a simple Query: "" for that. */
    private static String how(CommandStatement s) {
        List<String> how = new ArrayList<>();
        if (s.step() != CommandStatement.Step.QUERY) how.add(s.step().name().toLowerCase(java.util.Locale.ROOT));
        if (s.statementName() != null) how.add("statement \"" + s.statementName() + "\"");
        if (s.portalName() != null) how.add("portal \"" + s.portalName() + "\"");
        if (s.continued()) how.add("continued");
        if (s.rowLimit() > 0) how.add("row limit " + s.rowLimit());
        if (s.via() != null) how.add("via " + s.via());
        return String.join(", ", how).replace("\n", " ");
    }

    private static String withParameters(String sql, List<String> params) {
        if (params.isEmpty()) return sql;
        StringBuilder sb = new StringBuilder(sql).append("\n-- parameters:");
        for (int i = 0; i < params.size(); i++) {
            String p = params.get(i);
            sb.append("\n-- $").append(i + 1).append(" = ")
                    .append(p == null ? "NULL" : "'" + p.replace("'", "''").replace("\n", "\\n") + "'");
        }
        return sb.toString();
    }

    private static String analysis(SqlAnalysis analysis) {
        if (analysis == null) return "";
        if (!analysis.parseable()) return "Not parseable: " + SlackText.escape(SlackText.clip(analysis.parseError(), 300));
        List<String> parts = new ArrayList<>();
        String kinds = analysis.kinds().stream().map(StatementKind::label).collect(Collectors.joining(", "));
        if (!kinds.isEmpty()) parts.add("*Kinds* " + kinds);
        String tags = analysis.tags().stream().distinct().collect(Collectors.joining(", "));
        if (!tags.isEmpty()) parts.add("*Statements* " + SlackText.escape(SlackText.clip(tags, 300)));
        if (!analysis.tablesWritten().isEmpty()) {
            parts.add("*Writes* " + SlackText.escape(SlackText.clip(String.join(", ", analysis.tablesWritten()), 400)));
        }
        if (!analysis.tablesRead().isEmpty()) {
            parts.add("*Reads* " + SlackText.escape(SlackText.clip(String.join(", ", analysis.tablesRead()), 400)));
        }
        if (analysis.missingWhere()) parts.add("*No WHERE clause*");
        if (analysis.statements().stream().anyMatch(StatementAnalysis::runsCode)) parts.add("*Runs code*");
        List<String> uncertainty = analysis.statements().stream().flatMap(s -> s.uncertainty().stream()).distinct().toList();
        if (!uncertainty.isEmpty()) {
            parts.add("*Uncertain* " + SlackText.escape(SlackText.clip(String.join("; ", uncertainty), 300)));
        } else if (analysis.statements().stream().anyMatch(StatementAnalysis::uncertain)) {
            parts.add("*Uncertain*");
        }
        return String.join(" · ", parts);
    }

    /** The votes so far, or the outcome; null when there is nothing to say yet. */
    private static String status(Approval a) {
        Approval.Outcome outcome = a.outcome();
        if (outcome != null) {
            String who = outcome.by().stream().map(SlackText::escape).collect(Collectors.joining(", "));
            return switch (outcome.state()) {
                case GRANTED, EXECUTED -> ":white_check_mark: *Approved* by " + who + " " + date(outcome.at())
                        + (outcome.validUntil() != null ? "\nMay run once until " + date(outcome.validUntil()) : "")
                        + (a.execution() != null ? "\nExecuted " + date(a.execution().at()) : "");
                case DENIED -> ":no_entry: *Denied* by " + who + " " + date(outcome.at())
                        + (outcome.reason() == null || outcome.reason().isBlank() ? ""
                        : "\n*Reason* " + SlackText.escape(SlackText.clip(outcome.reason(), FIELD_LIMIT)));
                case EXPIRED -> ":hourglass: *Expired* unanswered " + date(outcome.at());
                case PENDING -> null;
            };
        }
        List<String> approved = a.approvedBy();
        if (a.deniedBy().isPresent()) {
            Approval.Vote v = a.deniedBy().get();
            return ":no_entry: *Denied* by " + SlackText.escape(v.approver()) + " " + date(v.at());
        }
        if (approved.isEmpty()) return null;
        if (a.tally() == Approval.State.GRANTED) {
            Instant last = a.votes().stream().filter(v -> v.counted() && v.approve()).map(Approval.Vote::at)
                    .reduce((x, y) -> y).orElse(null);
            return ":white_check_mark: *Approved* by " + approved.stream().map(SlackText::escape)
                    .collect(Collectors.joining(", ")) + " " + date(last);
        }
        return ":ballot_box_with_check: " + approved.size() + " of " + a.approvalsRequired() + " approvals: "
                + approved.stream().map(SlackText::escape).collect(Collectors.joining(", "));
    }

    private static JsonObject buttons(Approval a) {
        JsonObject approve = new JsonObject().put("type", "button").put("action_id", APPROVE_ACTION)
                .put("style", "primary").put("value", a.id())
                .put("text", plain("Approve"));
        JsonObject deny = new JsonObject().put("type", "button").put("action_id", DENY_ACTION)
                .put("style", "danger").put("value", a.id())
                .put("text", plain("Deny"))
                .put("confirm", new JsonObject()
                        .put("title", plain("Deny this statement?"))
                        .put("text", plain("The request " + a.id() + " will be denied and the client told so."))
                        .put("confirm", plain("Deny"))
                        .put("deny", plain("Cancel"))
                        .put("style", "danger"));
        return new JsonObject().put("type", "actions").put("block_id", ACTIONS_BLOCK)
                .put("elements", new JsonArray().add(approve).add(deny));
    }

    private String consoleLink(Approval a, String label) {
        if (consoleUrl == null || a.sessionId() == null) return null;
        return SlackText.link(consoleUrl + "/sessions/" + SlackText.pathSegment(a.sessionId().value()), label);
    }

    private static String fallbackText(Approval a) {
        Identity requester = a.requester();
        String who = requester == null ? "someone" : requester.delegated()
                ? "agent " + requester.subject() + " acting for " + requester.delegation().originator() : requester.subject();
        String where = a.connection() == null ? "" : " on " + a.connection().name();
        String what = switch (a.state()) {
            case PENDING -> a.fromOriginator() ? "Confirm your agent's command" : "Approval requested";
            case GRANTED, EXECUTED -> "Approved";
            case DENIED -> "Denied";
            case EXPIRED -> "Expired";
        };
        return SlackText.escape(SlackText.clip(what + ": " + a.id() + " (" + who + where + ")", 300));
    }

    /** A Slack date token: shown in the reader's time zone, with an ISO fallback. */
    static String date(Instant at) {
        if (at == null) return "";
        Instant s = at.truncatedTo(ChronoUnit.SECONDS);
        return "<!date^" + s.getEpochSecond() + "^{date_short_pretty} {time_secs}|" + s + ">";
    }

    private static JsonObject section(JsonObject text) {
        return new JsonObject().put("type", "section").put("text", text);
    }

    private static JsonObject section(List<JsonObject> fields) {
        return new JsonObject().put("type", "section").put("fields", new JsonArray(new ArrayList<>(fields)));
    }

    private static JsonObject context(String mrkdwnText) {
        return new JsonObject().put("type", "context").put("elements", new JsonArray().add(mrkdwn(mrkdwnText)));
    }

    private static JsonObject mrkdwn(String text) {
        return new JsonObject().put("type", "mrkdwn").put("text", text).put("verbatim", true);
    }

    private static JsonObject plain(String text) {
        return new JsonObject().put("type", "plain_text").put("text", text).put("emoji", false);
    }
}
