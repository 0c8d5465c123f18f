package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.ControlMessage;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
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
 * <p>Threads: the subscriber callback runs on this channel's poll thread
 * ({@code gatehouse-control-<edge>}); it must be quick. Publish stages complete on the Kafka
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
    private final KafkaConsumer<String, byte[]> consumer;
    private final Consumer<ControlMessage> listener;
    private final Thread poller;
    private volatile boolean running = true;

    /**
     * Positions at the end of every partition and starts delivering messages published from now
     * on to {@code listener}.
     */
    public ControlChannel(Settings settings, EventSerde<ControlMessage> serde, Consumer<ControlMessage> listener) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.serde = Objects.requireNonNull(serde, "serde");
        this.listener = Objects.requireNonNull(listener, "listener");
        int timeoutMs = (int) settings.timeout().toMillis();
        this.producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers(),
                ProducerConfig.CLIENT_ID_CONFIG, "gatehouse-control-" + settings.edgeId(),
                ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.LINGER_MS_CONFIG, 0,
                ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, timeoutMs,
                ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, timeoutMs,
                ProducerConfig.MAX_BLOCK_MS_CONFIG, (long) timeoutMs),
                new StringSerializer(), new ByteArraySerializer());
        this.consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers(),
                ConsumerConfig.CLIENT_ID_CONFIG, "gatehouse-control-" + settings.edgeId(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200),
                new StringDeserializer(), new ByteArrayDeserializer());
        try {
            List<PartitionInfo> infos = consumer.partitionsFor(settings.topic(), settings.timeout());
            if (infos == null || infos.isEmpty()) throw new IllegalStateException("topic " + settings.topic() + " does not exist");
            List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToEnd(partitions);
            partitions.forEach(tp -> consumer.position(tp, settings.timeout()));
        } catch (RuntimeException e) {
            consumer.close(Duration.ZERO);
            producer.close(Duration.ZERO);
            throw e instanceof IllegalStateException ? e
                    : new IllegalStateException("control channel for edge " + settings.edgeId() + " cannot start: " + e.getMessage(), e);
        }
        this.poller = Thread.ofPlatform().daemon().name("gatehouse-control-" + settings.edgeId()).unstarted(this::pollLoop);
        poller.start();
    }

    /** Publishes one message to every edge; the stage completes once the broker has it. */
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

    private void pollLoop() {
        try {
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
                    deliver(record);
                }
            }
        } catch (WakeupException e) {
            if (running) LOGGER.error("Control poll loop woken unexpectedly edgeId={}", settings.edgeId());
        } catch (RuntimeException e) {
            LOGGER.error("Control poll loop stopped edgeId={}", settings.edgeId(), e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
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

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            poller.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        producer.close(Duration.ofSeconds(5));
    }
}
