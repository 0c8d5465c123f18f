package dev.gatehouse.platform.core;

import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** Analyses SQL text. Implementations are thread-safe and never throw on bad SQL. */
@FunctionalInterface
public interface SqlAnalyzer {
    /** Analyses on the calling thread (or waits for the analysis). */
    SqlAnalysis analyze(String sql);

    /**
     * Analyses without holding the caller's thread: what an event loop calls. The default runs
     * {@link #analyze} in place; implementations with a cost of their own override it.
     */
    default CompletionStage<SqlAnalysis> analyzeAsync(String sql) {
        return CompletableFuture.completedFuture(analyze(sql));
    }

    /**
     * Parses a text into its statements with their positions and session effects. The default
     * knows no positions or effects (each statement spans the whole text).
     */
    default ParsedSql parse(String sql) {
        return ParsedSql.of(analyze(sql), sql);
    }

    /** {@link #parse} without holding the caller's thread. */
    default CompletionStage<ParsedSql> parseAsync(String sql) {
        return CompletableFuture.completedFuture(parse(sql));
    }

    /**
     * What a routine's body does, given its full definition ({@code CREATE FUNCTION ...} as
     * {@code pg_get_functiondef} returns it) and its language. The default sees nothing.
     */
    default RoutineAnalysis analyzeRoutine(String language, String definition) {
        return RoutineAnalysis.opaque("routine bodies are not analysed");
    }
}
