package dev.gatehouse.platform.core;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Objects;

/**
 * One statement of a command as the target receives and runs it: each execution is its own
 * entry, with its own text and arguments, never several statements joined into one text.
 *
 * @param step           how it reaches the target (see {@link Step})
 * @param sql            the statement's text exactly as the target runs it: a statement of a
 *                       simple Query cut from the message at its boundaries, the text a portal was
 *                       bound to, the query of a cursor, a prepared statement's text
 * @param statementName  the prepared statement ({@code ""}: the unnamed one), or null
 * @param portalName     the portal or cursor ({@code ""}: the unnamed portal), or null
 * @param parameters     the arguments as text, each bounded in size (binary as {@code \x} hex,
 *                       SQL NULL as null); for an SQL-level {@code EXECUTE} its argument
 *                       expressions
 * @param parametersDigest {@code sha256:} hex over the complete argument values (length-prefixed,
 *                       null distinct from empty), what an approval binds to; null without arguments
 * @param rowLimit       an Execute's row limit (0: all rows)
 * @param continued      it continues a portal that already ran (a suspended portal, a cursor)
 * @param via            the SQL-level statement that led here ({@code EXECUTE p(1)},
 *                       {@code FETCH 10 FROM c}), or null
 * @param analysis       what the statement does, as decided: for an EXECUTE the prepared statement
 *                       with its arguments, for a FETCH the cursor's query
 */
public record CommandStatement(Step step, String sql, String statementName, String portalName, List<String> parameters,
                               String parametersDigest, long rowLimit, boolean continued, String via,
                               StatementAnalysis analysis) {

    /** How a statement reaches the target. */
    public enum Step {
        /** A statement of a simple Query message. */
        QUERY,
        /** A Bind: the statement is planned for the portal (planning may evaluate functions). */
        BIND,
        /** An Execute of a portal (the extended protocol). */
        EXECUTE,
        /** A protocol-level FunctionCall. */
        FUNCTION_CALL,
        /** Not known to this reader (a newer writer). */
        UNKNOWN
    }

    public CommandStatement {
        Objects.requireNonNull(step, "step");
        Objects.requireNonNull(sql, "sql");
        parameters = parameters == null ? List.of() : Collections.unmodifiableList(new ArrayList<>(parameters));
        Objects.requireNonNull(analysis, "analysis");
    }

    /** A statement of a simple Query. */
    public static CommandStatement query(String sql, StatementAnalysis analysis) {
        return new CommandStatement(Step.QUERY, sql, null, null, List.of(), null, 0, false, null, analysis);
    }
}
