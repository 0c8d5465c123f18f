package dev.gatehouse.platform.kafka;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AfterTheFactRetryTest {
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor();

    @AfterEach
    void stop() {
        timer.shutdownNow();
    }

    @Test
    void aRecordTheLogFailedToTakeIsSentAgainUntilItIsTaken() throws Exception {
        // Given a log that fails the first two attempts (a partition leader moving), then takes the record
        AtomicInteger attempts = new AtomicInteger();
        AfterTheFactRetry retry = new AfterTheFactRetry(timer, () -> false);

        // When
        CompletableFuture<Void> done = retry.send(() -> attempts.incrementAndGet() <= 2
                ? CompletableFuture.failedFuture(new IllegalStateException("batch expired"))
                : CompletableFuture.completedFuture(null), "CommandCompleted");

        // Then it is recorded at the third attempt, after backoffs of 1 s and 2 s
        done.get(30, TimeUnit.SECONDS);
        assertThat(attempts).hasValue(3);
        assertThat(AfterTheFactRetry.backoff(2)).isEqualTo(Duration.ofSeconds(1));
        assertThat(AfterTheFactRetry.backoff(3)).isEqualTo(Duration.ofSeconds(2));
        assertThat(AfterTheFactRetry.backoff(20)).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void aClosedSinkGivesUpWithTheLastError() {
        AtomicBoolean closed = new AtomicBoolean(true);
        AfterTheFactRetry retry = new AfterTheFactRetry(timer, closed::get);

        CompletableFuture<Void> done = retry.send(() -> CompletableFuture.failedFuture(new IllegalStateException("gone")), "x");

        assertThatThrownBy(() -> done.get(5, TimeUnit.SECONDS)).hasCauseInstanceOf(IllegalStateException.class)
                .hasMessageContaining("gone");
    }
}
