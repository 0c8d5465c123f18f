package dev.gatehouse.platform.kafka;

import org.apache.kafka.clients.producer.ProducerConfig;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/** The settings of the producers that write from event loops (audit, control), which keep an edge's promises (no broker needed). */
class NeverBlockingProducersTest {

    private final KafkaAuditSink.Settings settings = KafkaAuditSink.Settings.of("127.0.0.1:9092", Duration.ofSeconds(10));

    @Test
    void anIdleEdgeKeepsTheAuditTopicsMetadataSoItsNextConnectionIsNotRefused() {
        // Given both lanes' producer settings (write-ahead, after the fact)
        for (Map<String, Object> config : new Map[] {KafkaAuditSink.producerConfig(settings, "edge", 0),
                KafkaAuditSink.producerConfig(settings, "edge-after", 5)}) {
            // Then: appends never block the event loop, so metadata forgotten after the producer's
            // default 5 idle minutes would fail the next append at once (a quiet edge refusing its
            // next client with 58000): it is kept for as long as the edge runs
            assertNeverBlocking(config);
            // and the write-ahead promise: every in-sync replica, failing within the delivery timeout
            assertThat(config).containsEntry(ProducerConfig.ACKS_CONFIG, "all")
                    .containsEntry(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 10_000);
        }
    }

    @Test
    void aNeverBlockingProducerKeepsItsTopicsMetadataWhileIdle() {
        // the control channel's producer too: it publishes from event loops, where hours may pass between cancels
        assertNeverBlocking(KafkaClients.neverBlocking(KafkaClients.client("127.0.0.1:9092", "edge-control")));
    }

    private static void assertNeverBlocking(Map<String, Object> config) {
        assertThat(config).containsEntry(ProducerConfig.MAX_BLOCK_MS_CONFIG, 0L);
        assertThat((Long) config.get(ProducerConfig.METADATA_MAX_IDLE_CONFIG)).isGreaterThanOrEqualTo(Duration.ofDays(30).toMillis());
    }
}
