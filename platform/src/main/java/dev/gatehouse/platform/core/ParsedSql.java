package dev.gatehouse.platform.core;

import java.util.List;
import java.util.Objects;

/**
 * A SQL text as the edge needs it: the analysis the log records, and per statement its place in
 * the text and its effect on the session. When the text is not parseable, {@code statements} is
 * empty.
 */
public record ParsedSql(SqlAnalysis analysis, List<ParsedStatement> statements) {
    public ParsedSql {
        Objects.requireNonNull(analysis, "analysis");
        statements = List.copyOf(statements);
        if (analysis.parseable() && analysis.statements().size() != statements.size()) {
            throw new IllegalArgumentException("one ParsedStatement per analysed statement: " + statements.size()
                    + " for " + analysis.statements().size());
        }
    }

    /** The text could not be parsed: nothing is known. */
    public static ParsedSql unparseable(String error) {
        return new ParsedSql(SqlAnalysis.unparseable(error), List.of());
    }

    /** An analysis without positions or effects: each statement spans the whole text. */
    public static ParsedSql of(SqlAnalysis analysis, String sql) {
        return new ParsedSql(analysis, analysis.statements().stream()
                .map(s -> new ParsedStatement(0, sql.length(), s, null)).toList());
    }
}
