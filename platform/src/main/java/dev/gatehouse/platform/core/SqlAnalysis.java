package dev.gatehouse.platform.core;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The analysis of one command's SQL text (possibly several statements).
 *
 * @param parseable   false when the parser rejected the text; nothing else is then guessed
 * @param parseError  the parser's message when not parseable, else null
 * @param fingerprint the normalized fingerprint (literals removed), null when not parseable
 * @param statements  one entry per statement, in order
 */
public record SqlAnalysis(boolean parseable, String parseError, String fingerprint, List<StatementAnalysis> statements) {

    public SqlAnalysis {
        statements = List.copyOf(statements);
    }

    public static SqlAnalysis unparseable(String error) {
        return new SqlAnalysis(false, error, null, List.of());
    }

    public Set<StatementKind> kinds() {
        Set<StatementKind> kinds = new LinkedHashSet<>();
        statements.forEach(s -> kinds.add(s.kind()));
        return kinds;
    }

    public List<String> tags() {
        return statements.stream().map(StatementAnalysis::tag).toList();
    }

    public Set<String> tablesRead() {
        Set<String> t = new LinkedHashSet<>();
        statements.forEach(s -> t.addAll(s.tablesRead()));
        return t;
    }

    public Set<String> tablesWritten() {
        Set<String> t = new LinkedHashSet<>();
        statements.forEach(s -> t.addAll(s.tablesWritten()));
        return t;
    }

    public Set<String> functions() {
        Set<String> t = new LinkedHashSet<>();
        statements.forEach(s -> t.addAll(s.functions()));
        return t;
    }

    public boolean missingWhere() {
        return statements.stream().anyMatch(StatementAnalysis::missingWhere);
    }
}
