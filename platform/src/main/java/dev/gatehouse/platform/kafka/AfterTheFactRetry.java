package dev.gatehouse.platform.kafka;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import java.util.function.Supplier;

/**
 * Retries the append of a record nobody waits for (a command's completion, a session's close): it
 * cannot fail a client any more, so when the log does not take it (a batch expired while a partition
 * leader moved, and a later record of the session still landed) it is sent again with backoff, from
 * 1 s doubling to 30 s, for {@link #ATTEMPTS} attempts (about ten minutes) or until the sink closes.
 * At least once: an append that failed on its deadline may have been written after all.
 */
final class AfterTheFactRetry {
    private static final Logger LOGGER = LoggerFactory.getLogger(AfterTheFactRetry.class);

    /** Attempts in all, the first included. */
    static final int ATTEMPTS = 25;

    private final ScheduledExecutorService timer;
    private final BooleanSupplier closed;

    AfterTheFactRetry(ScheduledExecutorService timer, BooleanSupplier closed) {
        this.timer = timer;
        this.closed = closed;
    }

    /** The backoff before attempt {@code next} (2 or more). */
    static Duration backoff(int next) {
        return Duration.ofSeconds(Math.min(30, 1L << Math.min(next - 2, 5)));
    }

    /**
     * Sends with {@code send} until one attempt succeeds; the result completes then, or fails with
     * the last error when the attempts are spent or the sink closed.
     */
    CompletableFuture<Void> send(Supplier<CompletableFuture<Void>> send, String what) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        attempt(send, what, 1, done);
        return done;
    }

    private void attempt(Supplier<CompletableFuture<Void>> send, String what, int attempt, CompletableFuture<Void> done) {
        send.get().whenComplete((ok, err) -> {
            if (err == null) {
                if (attempt > 1) LOGGER.info("Audit append of {} succeeded at attempt {}", what, attempt);
                done.complete(null);
                return;
            }
            if (attempt >= ATTEMPTS || closed.getAsBoolean()) {
                LOGGER.error("Audit append of {} given up after {} attempts: {}", what, attempt, err.toString());
                done.completeExceptionally(err);
                return;
            }
            Duration wait = backoff(attempt + 1);
            LOGGER.warn("Audit append of {} failed (attempt {}): {}; retrying in {} s", what, attempt, err, wait.toSeconds());
            try {
                timer.schedule(() -> attempt(send, what, attempt + 1, done), wait.toMillis(), TimeUnit.MILLISECONDS);
            } catch (RuntimeException rejected) { // the sink closed meanwhile
                done.completeExceptionally(err);
            }
        });
    }
}
