package dev.gatehouse.platform.kafka;

import dev.gatehouse.dev.EmbeddedKafka;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DecisionUnavailableException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** Fail closed when the log is gone: decide() fails within the delivery timeout, and the command never lands later. */
class BrokerDownTest {

    private static final Duration DELIVERY_TIMEOUT = Duration.ofSeconds(2);

    @TempDir
    Path dir;

    @Test
    void decideFailsWithinTheDeliveryTimeoutAndTheCommandIsNeverWrittenLater() throws Exception {
        // Given
        EventSerde<AuditEvent> serde = TestEvents.inMemorySerde();
        EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0);
        int port = kafka.port();
        TopicInitializer.ensure(kafka.bootstrapServers(), TopicSettings.defaults(2, (short) 1), Duration.ofSeconds(30));
        try (KafkaAuditSink sink = new KafkaAuditSink(KafkaAuditSink.Settings.of(kafka.bootstrapServers(), DELIVERY_TIMEOUT), serde, null);
             KafkaDecisionPort decisions = new KafkaDecisionPort(KafkaDecisionPort.Settings.of(kafka.bootstrapServers(), "edge-down"), sink, serde)) {
            AuditEvent.CommandReceived command = TestEvents.command("edge-down", decisions.replyPartition());
            kafka.close();

            // When
            long t0 = System.nanoTime();
            CompletableFuture<Decision> stage = decisions.decide(command, Duration.ofSeconds(30)).toCompletableFuture();
            long callMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);

            // Then
            await().atMost(DELIVERY_TIMEOUT.plusSeconds(15)).until(stage::isDone);
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0);
            System.out.println("decide() with the broker down failed after " + tookMs + " ms");
            // the call hands the write to the producer and returns; it never waits out the
            // delivery timeout on the caller's thread (an edge's event loop)
            assertThat(callMs).as("decide() must not block its caller").isLessThan(DELIVERY_TIMEOUT.toMillis());
            assertThatThrownBy(stage::join).hasCauseInstanceOf(DecisionUnavailableException.class)
                    .hasMessageContaining("audit log unreachable");

            // and after the broker is back, a later append lands but the rejected command does not
            try (EmbeddedKafka again = EmbeddedKafka.start(dir, port)) {
                AuditEvent.CommandReceived marker = TestEvents.command("edge-down", decisions.replyPartition());
                await().atMost(Duration.ofSeconds(30)).ignoreExceptions().untilAsserted(() ->
                        sink.append(marker).toCompletableFuture().get(10, TimeUnit.SECONDS));
                List<AuditEvent> log = new ArrayList<>();
                try (AuditTail tail = new AuditTail(again.bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(10), serde)) {
                    tail.read(null, false, log::add);
                }
                assertThat(log).contains(marker).doesNotContain(command);
            }
        }
    }
}
