package dev.gatehouse.deploy.cli;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * Turns recorded extended-protocol SQL ({@code $1}, {@code $2} placeholders) into the JDBC form the
 * PostgreSQL driver prepares ({@code ?}, bound in order of appearance, a repeated {@code $n} bound
 * again), escaping a literal {@code ?} operator as {@code ??}. String literals, quoted identifiers,
 * comments and dollar-quoted bodies are left as they are.
 */
final class Placeholders {

    /** The JDBC SQL and the values to bind to its {@code ?}s, in order (a recorded NULL stays null). */
    record Jdbc(String sql, List<String> parameters) {
    }

    private Placeholders() {
    }

    /**
     * @throws IllegalArgumentException when the SQL refers to a parameter that was not recorded
     */
    static Jdbc toJdbc(String sql, List<String> recorded) {
        StringBuilder out = new StringBuilder(sql.length() + 8);
        List<String> bound = new ArrayList<>();
        int i = 0;
        int n = sql.length();
        while (i < n) {
            char c = sql.charAt(i);
            if (c == '\'') {
                boolean escapes = i > 0 && (sql.charAt(i - 1) == 'E' || sql.charAt(i - 1) == 'e')
                        && (i < 2 || !Character.isLetterOrDigit(sql.charAt(i - 2)) && sql.charAt(i - 2) != '_');
                int end = quoted(sql, i, '\'', escapes);
                out.append(sql, i, end);
                i = end;
            } else if (c == '"') {
                int end = quoted(sql, i, '"', false);
                out.append(sql, i, end);
                i = end;
            } else if (c == '-' && i + 1 < n && sql.charAt(i + 1) == '-') {
                int end = sql.indexOf('\n', i);
                end = end < 0 ? n : end;
                out.append(sql, i, end);
                i = end;
            } else if (c == '/' && i + 1 < n && sql.charAt(i + 1) == '*') {
                int end = blockComment(sql, i);
                out.append(sql, i, end);
                i = end;
            } else if (c == '$' && i + 1 < n && Character.isDigit(sql.charAt(i + 1))
                    && (i == 0 || !isIdentifierPart(sql.charAt(i - 1)))) {
                int end = i + 1;
                while (end < n && Character.isDigit(sql.charAt(end))) end++;
                int index = Integer.parseInt(sql.substring(i + 1, end));
                if (index < 1 || index > recorded.size()) {
                    throw new IllegalArgumentException("the recorded SQL refers to $" + index + " but " + recorded.size()
                            + " parameter(s) were recorded");
                }
                bound.add(recorded.get(index - 1));
                out.append('?');
                i = end;
            } else if (c == '$' && (i == 0 || !isIdentifierPart(sql.charAt(i - 1)))) {
                int tagEnd = i + 1;
                while (tagEnd < n && isIdentifierPart(sql.charAt(tagEnd))) tagEnd++;
                if (tagEnd < n && sql.charAt(tagEnd) == '$') {
                    String tag = sql.substring(i, tagEnd + 1);
                    int close = sql.indexOf(tag, tagEnd + 1);
                    int end = close < 0 ? n : close + tag.length();
                    out.append(sql, i, end);
                    i = end;
                } else {
                    out.append(c);
                    i++;
                }
            } else if (c == '?') {
                out.append("??");
                i++;
            } else {
                out.append(c);
                i++;
            }
        }
        return new Jdbc(out.toString(), Collections.unmodifiableList(bound));
    }

    private static int quoted(String sql, int start, char quote, boolean backslashEscapes) {
        int i = start + 1;
        while (i < sql.length()) {
            char c = sql.charAt(i);
            if (backslashEscapes && c == '\\') {
                i += 2;
            } else if (c == quote) {
                if (i + 1 < sql.length() && sql.charAt(i + 1) == quote) {
                    i += 2;
                } else {
                    return i + 1;
                }
            } else {
                i++;
            }
        }
        return sql.length();
    }

    private static int blockComment(String sql, int start) {
        int depth = 0;
        int i = start;
        while (i < sql.length()) {
            if (sql.startsWith("/*", i)) {
                depth++;
                i += 2;
            } else if (sql.startsWith("*/", i)) {
                depth--;
                i += 2;
                if (depth == 0) return i;
            } else {
                i++;
            }
        }
        return sql.length();
    }

    private static boolean isIdentifierPart(char c) {
        return Character.isLetterOrDigit(c) || c == '_';
    }
}
