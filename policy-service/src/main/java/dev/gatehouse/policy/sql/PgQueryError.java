package dev.gatehouse.policy.sql;

/**
 * An error reported by libpg_query (a {@code PgQueryError}).
 *
 * @param message   the parser's message, e.g. {@code syntax error at or near "frm"}
 * @param funcname  the PostgreSQL source function that raised it, may be null
 * @param filename  the PostgreSQL source file that raised it, may be null
 * @param lineno    the source line that raised it
 * @param cursorpos 1-based character position in the query where the error was found, 0 if unknown
 * @param context   additional context, may be null
 */
public record PgQueryError(String message, String funcname, String filename, int lineno, int cursorpos, String context) {

    /** The message with the position, as an operator would want to read it. */
    public String describe() {
        return cursorpos > 0 ? message + " (at character " + cursorpos + ")" : message;
    }
}
