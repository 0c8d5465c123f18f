package dev.gatehouse.platform.kafka;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/** A keyed {@code acks=all} producer for the fleet's small compacted topics. Thread-safe. */
final class FleetProducer implements AutoCloseable {

    private final KafkaProducer<String, byte[]> producer;

    FleetProducer(String bootstrapServers, String clientId, Duration timeout) {
        int timeoutMs = (int) timeout.toMillis();
        Map<String, Object> config = KafkaClients.client(bootstrapServers, clientId);
        config.putAll(Map.of(
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true,
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeoutMs,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, (long) timeoutMs));
        this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    }

    /** Sends one record (a null value is a tombstone); completes once every in-sync replica has it. */
    CompletionStage<Void> send(String topic, String key, byte[] value) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            producer.send(new ProducerRecord<>(topic, key, value), (md, error) -> {
                if (error == null) done.complete(null);
                else done.completeExceptionally(error);
            });
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
