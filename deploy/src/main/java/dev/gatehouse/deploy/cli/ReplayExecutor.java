package dev.gatehouse.deploy.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.ParameterMetaData;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Types;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.regex.Pattern;

/**
 * Re-runs the recorded commands of one session timeline that reached the target, in order, on one
 * JDBC connection in autocommit mode (a recorded BEGIN / COMMIT is a statement itself), and compares
 * each outcome with the recording: the command tags (rows affected) and the error's SQLSTATE.
 *
 * <p>Simple queries run as they were sent (their statements, an {@code EXECUTE} or {@code FETCH}
 * among them, are cut from that text). Extended-protocol commands run as prepared statements with
 * their recorded parameters as texts of unspecified type (binary ones, recorded as hex, turned into
 * text by the type the server infers: {@link BinaryParameters}): a command recorded statement by
 * statement runs each executed statement with its own parameters, in order, stopping at the first
 * error as PostgreSQL does; a Bind alone runs nothing. One recorded as one text runs that text with
 * all its parameters. Not replayed: a command the edge refused or the policy denied, one with a
 * parameter the edge recorded truncated, a portal run in parts (a row limit that suspended it, a continued portal:
 * its rows are split over executions), FunctionCall, COPY, and statements of a step this version
 * does not know. Each statement of an extended batch runs on its own, so the implicit transaction
 * that spans a batch without BEGIN is not reproduced.
 */
final class ReplayExecutor {
    private static final Logger LOGGER = LoggerFactory.getLogger(ReplayExecutor.class);
    /** The statement steps this version replays or knows to skip. */
    private static final java.util.Set<String> STEPS = java.util.Set.of("QUERY", "BIND", "EXECUTE", "FUNCTION_CALL");
    /** How the edge marks a parameter it recorded only in part. */
    private static final Pattern TRUNCATED = Pattern.compile("\\.\\.\\.\\(truncated, \\d+ bytes\\)$");

    /** How one command compares. */
    enum Status { SAME, DIFFERS, SKIPPED }

    /** One command's result: its sequence, SQL, status and a human explanation. */
    record Step(Object sequence, String sql, Status status, String detail) {
    }

    /**
     * An outcome, recorded or observed now: the command tags ({@code INSERT 0 3}), and the SQLSTATE and
     * message when it failed (null when it did not).
     */
    record Outcome(List<String> tags, String sqlState, String error) {
        Outcome {
            tags = List.copyOf(tags);
        }

        boolean failed() {
            return sqlState != null || error != null;
        }

        String describe() {
            if (failed()) return "error " + Objects.requireNonNullElse(sqlState, "?????")
                    + (error != null ? " (" + error + ")" : "");
            return tags.isEmpty() ? "OK" : String.join("; ", tags);
        }
    }

    /** What the driver reported for one statement: a result set of n rows, or an update count. */
    record Result(boolean rows, long count) {
    }

    private ReplayExecutor() {
    }

    /** Replays every command entry of {@code entries} on {@code connection}, reporting each step as it completes. */
    static List<Step> run(Connection connection, JsonArray entries, Consumer<Step> listener) throws SQLException {
        connection.setAutoCommit(true);
        List<Step> steps = new ArrayList<>();
        for (Object o : entries) {
            JsonObject entry = (JsonObject) o;
            if (!"command".equals(entry.getString("type"))) continue;
            Step step = replay(connection, entry);
            LOGGER.debug("replayed command sequence={} status={}", step.sequence(), step.status());
            steps.add(step);
            listener.accept(step);
        }
        return steps;
    }

    static Step replay(Connection connection, JsonObject command) {
        Object sequence = command.getValue("sequence");
        String sql = command.getString("sql", "");
        String skip = skipReason(command);
        if (skip != null) return new Step(sequence, sql, Status.SKIPPED, skip);
        Outcome recorded = recorded(command.getJsonObject("outcome"));
        List<Result> results = new ArrayList<>();
        Outcome now;
        try {
            execute(connection, command, results);
            now = new Outcome(tags(recorded.tags(), results), null, null);
        } catch (SQLException e) {
            now = new Outcome(tags(recorded.tags(), results), e.getSQLState() == null ? "?????" : e.getSQLState(),
                    firstLine(e.getMessage()));
        } catch (IllegalArgumentException e) {
            return new Step(sequence, sql, Status.SKIPPED, "cannot replay: " + e.getMessage());
        }
        return compare(sequence, sql, recorded, now);
    }

    /** Why a command is not replayed (refused, denied, not forwarded, never completed, COPY, ...), or null. */
    static String skipReason(JsonObject command) {
        JsonObject decision = command.getJsonObject("decision");
        JsonObject outcome = command.getJsonObject("outcome");
        if (command.getString("refusal") != null) {
            return "refused by gatehouse: " + command.getString("refusal") + ", never forwarded";
        }
        if (decision != null && "deny".equalsIgnoreCase(decision.getString("verdict"))) {
            return "denied by rule " + decision.getString("ruleId", "?") + ", never forwarded";
        }
        if (outcome == null) return "no outcome recorded (it never completed), not replayed";
        if (!Boolean.TRUE.equals(outcome.getBoolean("forwarded", true))) return "never forwarded to the target";
        String form = String.valueOf(command.getString("form")).toLowerCase(Locale.ROOT);
        if (form.equals("function-call")) return "a protocol-level FunctionCall is not replayed (it carries no SQL)";
        if (form.equals("copy")) return "COPY is not replayed (its data stream is not recorded)";
        List<JsonObject> runs = runs(command);
        for (JsonObject run : runs) {
            String step = run.getString("step");
            if (step.equals("FUNCTION_CALL")) return "a protocol-level FunctionCall is not replayed (it carries no SQL)";
            if (!STEPS.contains(step)) return "a statement of step " + step + " is not known to this version, not replayed";
        }
        if (form.equals("extended")) {
            if (truncated(command.getJsonArray("parameters")) || runs.stream().anyMatch(r -> truncated(r.getJsonArray("parameters")))) {
                return "a parameter was recorded truncated, so it cannot be replayed";
            }
            // a row limit splits a portal only if it suspended it: every Execute that completed has its
            // tag (pgjdbc sends a limit of 1 with every INSERT or UPDATE, which completes at once)
            JsonArray tags = outcome.getJsonArray("tags");
            long executes = runs.stream().filter(r -> "EXECUTE".equals(r.getString("step"))).count();
            boolean suspended = runs.stream().anyMatch(r -> r.getLong("rowLimit", 0L) > 0)
                    && (tags == null || tags.size() < executes);
            if (suspended || runs.stream().anyMatch(r -> Boolean.TRUE.equals(r.getBoolean("continued")))) {
                return "a portal run in parts (row limit, continued portal) is not replayed: its rows are split over executions";
            }
            if (!runs.isEmpty() && runs.stream().allMatch(r -> "BIND".equals(r.getString("step")))) {
                return "only bound, nothing executed";
            }
        }
        JsonArray statements = command.getJsonArray("statements");
        if (statements != null) {
            for (Object s : statements) {
                if (s instanceof JsonObject st && String.valueOf(st.getString("kind")).toUpperCase(Locale.ROOT).startsWith("COPY")) {
                    return "COPY is not replayed (its data stream is not recorded)";
                }
            }
        }
        return null;
    }

    /** The statements of a command recorded statement by statement (those with a step); empty otherwise. */
    static List<JsonObject> runs(JsonObject command) {
        List<JsonObject> runs = new ArrayList<>();
        JsonArray statements = command.getJsonArray("statements");
        if (statements != null) {
            for (Object s : statements) {
                if (s instanceof JsonObject st && st.getString("step") != null) runs.add(st);
            }
        }
        return runs;
    }

    private static boolean truncated(JsonArray parameters) {
        return parameters != null && parameters.stream().anyMatch(p -> p instanceof String v && TRUNCATED.matcher(v).find());
    }

    /** The recorded outcome of a command entry. */
    static Outcome recorded(JsonObject outcome) {
        List<String> tags = new ArrayList<>();
        JsonArray recordedTags = outcome.getJsonArray("tags");
        if (recordedTags != null) recordedTags.forEach(t -> tags.add(String.valueOf(t)));
        return new Outcome(tags, outcome.getString("sqlState"), outcome.getString("error"));
    }

    /**
     * Same when both succeeded with the same tags, or both failed with the same SQLSTATE; differs
     * otherwise, saying how.
     */
    static Step compare(Object sequence, String sql, Outcome recorded, Outcome now) {
        if (recorded.failed() && now.failed()) {
            if (Objects.equals(recorded.sqlState(), now.sqlState())) {
                return new Step(sequence, sql, Status.SAME, "error " + now.sqlState() + " as recorded");
            }
            return new Step(sequence, sql, Status.DIFFERS, "error now " + now.sqlState() + " (" + now.error()
                    + "), error recorded " + recorded.sqlState());
        }
        if (now.failed()) {
            return new Step(sequence, sql, Status.DIFFERS, "error now " + now.sqlState() + " (" + now.error()
                    + "), recorded \"" + recorded.describe() + "\"");
        }
        if (recorded.failed()) {
            return new Step(sequence, sql, Status.DIFFERS, "error recorded " + recorded.sqlState()
                    + (recorded.error() != null ? " (" + recorded.error() + ")" : "") + ", now \"" + now.describe() + "\"");
        }
        if (recorded.tags().equals(now.tags())) return new Step(sequence, sql, Status.SAME, now.describe());
        return new Step(sequence, sql, Status.DIFFERS, "recorded \"" + recorded.describe() + "\", now \"" + now.describe() + "\"");
    }

    /**
     * The command tags the target would have sent now, from what the driver reports (counts only):
     * the recorded tag with its count replaced ({@code INSERT 0 3} and 0 rows now give
     * {@code INSERT 0 0}); {@code SELECT n} or {@code n rows} where nothing was recorded.
     */
    static List<String> tags(List<String> recorded, List<Result> results) {
        List<String> tags = new ArrayList<>();
        for (int i = 0; i < results.size(); i++) {
            Result r = results.get(i);
            String was = i < recorded.size() ? recorded.get(i) : null;
            if (was != null) {
                int space = was.lastIndexOf(' ');
                String last = was.substring(space + 1);
                tags.add(space > 0 && !last.isEmpty() && last.chars().allMatch(Character::isDigit)
                        ? was.substring(0, space + 1) + r.count() : was);
            } else {
                tags.add(r.rows() ? "SELECT " + r.count() : r.count() + " rows");
            }
        }
        return tags;
    }

    private static void execute(Connection connection, JsonObject command, List<Result> results) throws SQLException {
        String sql = command.getString("sql", "");
        if ("extended".equalsIgnoreCase(command.getString("form"))) {
            List<JsonObject> runs = runs(command);
            if (runs.isEmpty()) {
                prepared(connection, sql, command.getJsonArray("parameters"), results);
            } else {
                for (JsonObject run : runs) {
                    // a Bind plans the statement for its portal; it runs with the Execute
                    if (!"BIND".equals(run.getString("step"))) {
                        prepared(connection, run.getString("sql", ""), run.getJsonArray("parameters"), results);
                    }
                }
            }
        } else {
            try (Statement st = connection.createStatement()) {
                st.setEscapeProcessing(false);
                collect(st, st.execute(sql), results);
            }
        }
    }

    /** Runs {@code sql} as a prepared statement with the recorded parameters as texts of unspecified type. */
    private static void prepared(Connection connection, String sql, JsonArray recorded, List<Result> results)
            throws SQLException {
        List<String> parameters = new ArrayList<>();
        if (recorded != null) recorded.forEach(p -> parameters.add(p == null ? null : String.valueOf(p)));
        Placeholders.Jdbc jdbc = Placeholders.toJdbc(sql, parameters);
        try (PreparedStatement ps = connection.prepareStatement(jdbc.sql())) {
            ParameterMetaData types = jdbc.parameters().stream().anyMatch(BinaryParameters::isHex)
                    ? ps.getParameterMetaData() : null;
            for (int i = 0; i < jdbc.parameters().size(); i++) {
                String value = jdbc.parameters().get(i);
                if (types != null) value = BinaryParameters.toText(types.getParameterTypeName(i + 1), value);
                if (value == null) {
                    ps.setNull(i + 1, Types.OTHER);
                } else {
                    ps.setObject(i + 1, value, Types.OTHER);
                }
            }
            collect(ps, ps.execute(), results);
        }
    }

    private static void collect(Statement st, boolean resultSet, List<Result> results) throws SQLException {
        boolean rows = resultSet;
        while (true) {
            if (rows) {
                long n = 0;
                try (ResultSet rs = st.getResultSet()) {
                    while (rs.next()) n++;
                }
                results.add(new Result(true, n));
            } else {
                long count = st.getLargeUpdateCount();
                if (count == -1) return;
                results.add(new Result(false, count));
            }
            rows = st.getMoreResults();
        }
    }

    private static String firstLine(String message) {
        if (message == null) return null;
        int nl = message.indexOf('\n');
        return nl < 0 ? message : message.substring(0, nl);
    }
}
