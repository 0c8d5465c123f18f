package dev.gatehouse.platform.core;

/** Analyses SQL text. Implementations are thread-safe and never throw on bad SQL. */
@FunctionalInterface
public interface SqlAnalyzer {
    SqlAnalysis analyze(String sql);
}
