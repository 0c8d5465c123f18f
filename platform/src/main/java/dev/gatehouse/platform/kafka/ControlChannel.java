package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.ControlMessage;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * Cancel requests and session kills between edges, through {@code gatehouse.control}. Every
 * edge publishes (keyed by its own id) and every edge reads <em>all</em> partitions, by manual
 * assignment from their end, so each message reaches every edge; the edge holding the session
 * acts on it, the others ignore it.
 *
 * <p>Threads: the subscriber callback runs on this channel's {@link ConsumerLoop}
 * ({@code gatehouse-control-<edge>}); it must be quick, and a message it throws on is logged and
 * dropped. An error of the consumer restarts the loop, a fatal Kafka error stops it (see
 * {@link #health()}). Publish stages complete on the Kafka
 * producer's network thread.
 */
public final class ControlChannel implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(ControlChannel.class);

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param edgeId           this edge's id; the key of what it publishes
     * @param topic            normally {@link Topics#CONTROL}
     * @param timeout          bound on start-up lookups and on a publish
     */
    public record Settings(String bootstrapServers, String edgeId, String topic, Duration timeout) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(edgeId, "edgeId");
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(timeout, "timeout");
            if (edgeId.isBlank()) throw new IllegalArgumentException("edgeId must not be blank");
            if (timeout.compareTo(Duration.ofSeconds(1)) < 0) throw new IllegalArgumentException("timeout must be at least 1s");
        }

        public static Settings of(String bootstrapServers, String edgeId) {
            return new Settings(bootstrapServers, edgeId, Topics.CONTROL, Duration.ofSeconds(10));
        }
    }

    private final Settings settings;
    private final EventSerde<ControlMessage> serde;
    private final KafkaProducer<String, byte[]> producer;
    private final Consumer<ControlMessage> listener;
    private final ConsumerLoop loop;

    /**
     * Positions at the end of every partition and starts delivering messages published from now
     * on to {@code listener}.
     *
     * @throws IllegalStateException when the topic is missing or cannot be reached within the timeout
     */
    public ControlChannel(Settings settings, EventSerde<ControlMessage> serde, Consumer<ControlMessage> listener) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.serde = Objects.requireNonNull(serde, "serde");
        this.listener = Objects.requireNonNull(listener, "listener");
        int timeoutMs = (int) settings.timeout().toMillis();
        Map<String, Object> producerConfig = KafkaClients.client(settings.bootstrapServers(),
                "gatehouse-control-" + settings.edgeId());
        producerConfig.putAll(Map.of(
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeoutMs,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs));
        // publish runs on an event loop (a CancelRequest for another edge's session, a routed KILL): it
        // must never wait there for metadata, even after hours without a cancel or with the brokers gone
        KafkaClients.neverBlocking(producerConfig);
        this.producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
        Map<String, Object> config = KafkaClients.client(settings.bootstrapServers(), "gatehouse-control-" + settings.edgeId());
        config.putAll(Map.of(
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200,
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, timeoutMs));
        // a restart resumes where the previous consumer stopped; partitions it read nothing from start at their end again
        ConsumerLoop.Settings loopSettings = ConsumerLoop.Settings.of("gatehouse-control-" + settings.edgeId(), config,
                ConsumerLoop.ErrorPolicy.restartUnlessFatal());
        try {
            KafkaClients.awaitMetadata(producer, settings.topic(), settings.bootstrapServers(), settings.timeout());
            this.loop = ConsumerLoop.started(loopSettings, ConsumerLoop.Handler.ofRecords(consumer -> {
                List<TopicPartition> partitions = ConsumerLoop.assignAll(consumer, settings.topic(), settings.timeout());
                consumer.seekToEnd(partitions);
                partitions.forEach(tp -> consumer.position(tp, settings.timeout()));
            }, this::deliver), settings.timeout());
        } catch (IllegalStateException e) {
            producer.close(Duration.ZERO);
            throw new IllegalStateException("control channel for edge " + settings.edgeId() + " cannot start: " + e.getMessage(), e);
        }
    }

    /**
     * Publishes one message to every edge; the stage completes once the broker has it, and fails
     * (never blocking the caller) when it cannot be written within the timeout.
     */
    public CompletionStage<Void> publish(ControlMessage message) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        try {
            producer.send(new ProducerRecord<>(settings.topic(), settings.edgeId(), serde.encode(message)), (md, error) -> {
                if (error == null) done.complete(null);
                else done.completeExceptionally(error);
            });
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    private void deliver(ConsumerRecord<String, byte[]> record) {
        ControlMessage message;
        try {
            message = serde.decode(record.value());
        } catch (RuntimeException e) {
            LOGGER.warn("Skipping undecodable control record partition={} offset={} error={}",
                    record.partition(), record.offset(), e.toString());
            return;
        }
        try {
            listener.accept(message);
        } catch (RuntimeException e) {
            LOGGER.error("Control listener failed edgeId={} from={} message={}", settings.edgeId(), record.key(),
                    message.getClass().getSimpleName(), e);
        }
    }

    /** The subscriber loop's health: not ready when it stopped reading, i.e. cancels and kills from other edges are lost. */
    public ConsumerLoop.Health health() {
        return loop.health();
    }

    @Override
    public void close() {
        loop.close();
        producer.close(Duration.ofSeconds(5));
    }
}
