package dev.gatehouse.platform.core;

import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * A SQL command: one simple Query message (possibly several statements), one extended-protocol
 * batch up to Sync (its statements decided as a unit), or one FunctionCall.
 *
 * @param form        how the client sent it
 * @param sql         the SQL text; statements of a pipeline joined by ";\n"
 * @param parameters  bound parameters in text form, each bounded in size (null for SQL NULL)
 * @param analysis    the statement analysis
 */
public record SqlCommand(
        CommandId id,
        SessionId sessionId,
        long sequence,
        Instant receivedAt,
        Form form,
        String sql,
        List<String> parameters,
        SqlAnalysis analysis) implements Command {

    public enum Form { SIMPLE_QUERY, EXTENDED, FUNCTION_CALL, COPY }

    public SqlCommand {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(form, "form");
        Objects.requireNonNull(sql, "sql");
        parameters = parameters == null ? List.of() : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(parameters));
        Objects.requireNonNull(analysis, "analysis");
    }
}
