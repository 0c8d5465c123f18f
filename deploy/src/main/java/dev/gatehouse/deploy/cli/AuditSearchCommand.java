package dev.gatehouse.deploy.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code gatehouse audit search}: commands (or, with {@code --sessions}, sessions) from the audit
 * indexer, newest first, one line each: which identity, repository and commit did what, and when.
 */
@Command(name = "search", mixinStandardHelpOptions = true,
        description = {"Search the audit indexer: one line per command (or per session with --sessions), newest first.",
                "Example: who created database scratch?  gatehouse audit search --kind CREATE_DATABASE --object scratch",
                "Example: what did agents do for alice?  gatehouse audit search --originator alice --actor planner-agent"})
final class AuditSearchCommand implements Callable<Integer> {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    AdminClient.IndexerOptions indexer = new AdminClient.IndexerOptions();

    @Option(names = "--subject", description = "Only this subject (who the token says the caller is; in a delegated session the agent).")
    String subject;
    @Option(names = "--originator", description = "Only delegated sessions acting for this person (the delegation token's subject).")
    String originator;
    @Option(names = "--actor", description = "Only delegated sessions with this agent in their chain (the current or an earlier actor).")
    String actor;
    @Option(names = "--group", description = "Only callers in this group.")
    String group;
    @Option(names = "--issuer", description = "Only tokens from this issuer.")
    String issuer;
    @Option(names = "--repository", description = "Only CI jobs of this repository, e.g. acme/infra.")
    String repository;
    @Option(names = "--commit", description = "Only CI jobs at this commit sha (or prefix).")
    String commit;
    @Option(names = "--connection", description = "Only this connection (catalog name).")
    String connection;
    @Option(names = "--verdict", description = "Only commands decided so: allow, deny, mask, require_approval.")
    String verdict;
    @Option(names = "--from", description = "Not before this instant (ISO-8601, e.g. 2026-11-24T07:00:00Z).")
    String from;
    @Option(names = "--to", description = "Not after this instant (ISO-8601).")
    String to;
    @Option(names = "--object", description = "Only commands touching this table, database, ... (name or schema.name).")
    String object;
    @Option(names = "--kind", description = "Only this statement kind, e.g. CREATE_DATABASE, DROP_TABLE, SELECT.")
    String kind;
    @Option(names = "--text", description = "Only SQL containing this text.")
    String text;
    @Option(names = "--status", description = "With --sessions: open, closed, aborted or rejected.")
    String status;
    @Option(names = "--sessions", description = "List sessions instead of commands.")
    boolean sessions;
    @Option(names = "--limit", defaultValue = "50", description = "At most this many matches (default: ${DEFAULT-VALUE}).")
    int limit;
    @Option(names = "--before", description = "The cursor printed by the previous page, to continue.")
    String before;
    @Option(names = "--json", description = "Print the indexer's JSON answer.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, String> query = query();
        JsonObject answer;
        try {
            answer = AdminClient.indexer(indexer).get(sessions ? "/sessions" : "/commands", query);
        } catch (AdminClient.ApiError e) {
            spec.commandLine().getErr().println("gatehouse audit search: " + e.getMessage());
            return 1;
        }
        if (json) {
            out.println(answer.encodePrettily());
            out.flush();
            return 0;
        }
        JsonArray matches = answer.getJsonArray(sessions ? "sessions" : "commands", new JsonArray());
        if (matches.isEmpty()) out.println(sessions ? "no session matches" : "no command matches");
        for (Object match : matches) {
            out.println(sessions ? SearchFormat.sessionLine((JsonObject) match) : SearchFormat.commandLine((JsonObject) match));
        }
        if (answer.getString("next") != null) {
            out.println("... more: repeat with --before " + answer.getString("next"));
        }
        out.flush();
        return 0;
    }

    private Map<String, String> query() {
        if (limit < 1) throw new IllegalArgumentException("--limit must be at least 1, not " + limit);
        Map<String, String> query = new LinkedHashMap<>();
        query.put("subject", subject);
        query.put("originator", originator);
        query.put("actor", actor);
        query.put("group", group);
        query.put("issuer", issuer);
        query.put("repository", repository);
        query.put("commit", commit);
        query.put("connection", connection);
        query.put("verdict", verdict == null ? null : verdict.toLowerCase(java.util.Locale.ROOT));
        query.put("from", instant("--from", from));
        query.put("to", instant("--to", to));
        query.put("object", object);
        query.put("kind", kind == null ? null : kind.toUpperCase(java.util.Locale.ROOT).replace(' ', '_'));
        query.put("text", text);
        query.put("status", status);
        query.put("limit", String.valueOf(limit));
        query.put("before", before);
        return query;
    }

    private static String instant(String option, String value) {
        if (value == null) return null;
        try {
            return Instant.parse(value).toString();
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(option + " must be an ISO-8601 instant such as 2026-11-24T07:00:00Z, not '"
                    + value + "'");
        }
    }
}
