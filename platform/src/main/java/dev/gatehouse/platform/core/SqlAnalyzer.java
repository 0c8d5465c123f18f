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
}
