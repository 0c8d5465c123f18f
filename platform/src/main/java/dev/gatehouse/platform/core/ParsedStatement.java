package dev.gatehouse.platform.core;

import java.util.Objects;

/**
 * One statement of a parsed SQL text: where it is in the text, what it does, and what it does to
 * its session.
 *
 * @param offset   index of its first character in the text (Java {@code char} index)
 * @param length   its length in {@code char}s, without the terminating semicolon
 * @param analysis what it does
 * @param effect   what it does to the session's prepared statements, cursors or settings; null when nothing
 */
public record ParsedStatement(int offset, int length, StatementAnalysis analysis, SessionEffect effect) {
    public ParsedStatement {
        Objects.requireNonNull(analysis, "analysis");
        if (offset < 0 || length < 0) throw new IllegalArgumentException("negative span " + offset + "+" + length);
    }

    /** Its text, cut from the text it was parsed from. */
    public String text(String sql) {
        return sql.substring(offset, Math.min(sql.length(), offset + length));
    }
}
