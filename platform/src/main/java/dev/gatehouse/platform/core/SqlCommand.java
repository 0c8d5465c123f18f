package dev.gatehouse.platform.core;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A SQL command, decided as a unit: one simple Query message (possibly several statements), one
 * extended-protocol batch up to Sync or Flush, or one FunctionCall.
 *
 * @param form        how the client sent it
 * @param sql         the SQL text for readers of the first event version: a simple Query's text;
 *                    otherwise the statements' texts joined by {@code "\n;\n"}. {@link #statements}
 *                    is the record of what runs.
 * @param parameters  for readers of the first event version: every statement's arguments in order
 * @param analysis    the statement analysis, one entry per statement of {@link #statements} (an
 *                    EXECUTE analysed as the statement it runs, a FETCH as its cursor's query)
 * @param protocol    the wire protocol ("postgres", "mysql")
 * @param statements  each statement as the target receives and runs it, in order
 */
public record SqlCommand(
        CommandId id,
        SessionId sessionId,
        long sequence,
        Instant receivedAt,
        Form form,
        String sql,
        List<String> parameters,
        SqlAnalysis analysis,
        String protocol,
        List<CommandStatement> statements) implements Command {

    public enum Form { SIMPLE_QUERY, EXTENDED, FUNCTION_CALL, COPY }

    /** The protocol of commands recorded before it was recorded. */
    public static final String POSTGRES = "postgres";

    public SqlCommand {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(form, "form");
        Objects.requireNonNull(sql, "sql");
        parameters = parameters == null ? List.of() : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(parameters));
        Objects.requireNonNull(analysis, "analysis");
        protocol = protocol == null ? POSTGRES : protocol;
        statements = statements == null ? List.of() : List.copyOf(statements);
    }

    /** A PostgreSQL command recorded as one text (the first event version's shape). */
    public SqlCommand(CommandId id, SessionId sessionId, long sequence, Instant receivedAt, Form form, String sql,
                      List<String> parameters, SqlAnalysis analysis) {
        this(id, sessionId, sequence, receivedAt, form, sql, parameters, analysis, POSTGRES, List.of());
    }

    /**
     * A command of the given statements: {@code sql}, {@code parameters} and {@code analysis} are
     * derived from them for readers of the first event version; {@code parseable} and
     * {@code parseError} come from the analysis of the text the client sent.
     */
    public static SqlCommand of(CommandId id, SessionId sessionId, long sequence, Instant receivedAt, Form form,
                                String protocol, List<CommandStatement> statements, String simpleQueryText,
                                boolean parseable, String parseError, String fingerprint) {
        String sql = simpleQueryText != null ? simpleQueryText
                : String.join("\n;\n", statements.stream().map(CommandStatement::sql).toList());
        List<String> parameters = new java.util.ArrayList<>();
        statements.forEach(s -> parameters.addAll(s.parameters()));
        SqlAnalysis analysis = new SqlAnalysis(parseable, parseError, fingerprint,
                statements.stream().map(CommandStatement::analysis).toList());
        return new SqlCommand(id, sessionId, sequence, receivedAt, form, sql, parameters, analysis, protocol, statements);
    }
}
