package dev.gatehouse.platform.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Reads a compacted topic (state keyed by id) fully, then follows it: on construction every
 * partition is read from the beginning up to the end offsets of that moment, so the caller has
 * the whole state before it goes on; afterwards a poll thread delivers what is published. No
 * consumer group, no committed offsets: every process reads the whole topic.
 *
 * <p>Threads: during construction records are delivered on the constructing thread, afterwards on
 * the poll thread ({@code gatehouse-<clientId>}). The listener must be quick.
 *
 * @param <V> the value type; a tombstone or an undecodable value is delivered as null / skipped
 */
public final class CompactedTopicReader<V> implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(CompactedTopicReader.class);

    /** Receives each record: the key and the decoded value, or null for a tombstone. */
    @FunctionalInterface
    public interface Listener<V> {
        void onRecord(String key, V value);
    }

    /** Like {@link Listener}, with the record's offset (for logs whose order matters). */
    @FunctionalInterface
    public interface OffsetListener<V> {
        void onRecord(String key, V value, long offset);
    }

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param topic            the compacted topic
     * @param clientId         consumer client id, also the poll thread's name
     * @param timeout          bound on reading the topic to its end at start
     */
    public record Settings(String bootstrapServers, String topic, String clientId, Duration timeout) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(clientId, "clientId");
            Objects.requireNonNull(timeout, "timeout");
        }
    }

    private final Settings settings;
    private final Function<byte[], V> decoder;
    private final OffsetListener<V> listener;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Thread poller;
    private volatile boolean running = true;

    /**
     * Reads the topic to its current end (delivering every record to {@code listener}) and starts
     * following it.
     *
     * @throws IllegalStateException when the topic is missing or cannot be read to its end in time
     */
    public CompactedTopicReader(Settings settings, Function<byte[], V> decoder, Listener<V> listener) {
        this(settings, decoder, offsetListener(listener));
    }

    private static <V> OffsetListener<V> offsetListener(Listener<V> listener) {
        Objects.requireNonNull(listener, "listener");
        return (key, value, offset) -> listener.onRecord(key, value);
    }

    /** Like the other constructor, with each record's offset handed to the listener. */
    public CompactedTopicReader(Settings settings, Function<byte[], V> decoder, OffsetListener<V> listener) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        this.listener = Objects.requireNonNull(listener, "listener");
        this.consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, settings.bootstrapServers(),
                ConsumerConfig.CLIENT_ID_CONFIG, settings.clientId(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200),
                new StringDeserializer(), new ByteArrayDeserializer());
        try {
            readToEnd();
        } catch (RuntimeException e) {
            consumer.close(Duration.ZERO);
            throw e instanceof IllegalStateException ? e
                    : new IllegalStateException("cannot read topic " + settings.topic() + ": " + e.getMessage(), e);
        }
        this.poller = Thread.ofPlatform().daemon().name("gatehouse-" + settings.clientId()).unstarted(this::pollLoop);
        poller.start();
    }

    private void readToEnd() {
        List<PartitionInfo> infos = consumer.partitionsFor(settings.topic(), settings.timeout());
        if (infos == null || infos.isEmpty()) throw new IllegalStateException("topic " + settings.topic() + " does not exist");
        List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(partitions);
        consumer.seekToBeginning(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, settings.timeout());
        long deadline = System.nanoTime() + settings.timeout().toNanos();
        int records = 0;
        while (!caughtUp(end)) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("topic " + settings.topic() + " could not be read to its end within "
                        + settings.timeout() + " (" + records + " records read)");
            }
            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(200))) {
                deliver(record);
                records++;
            }
        }
        LOGGER.info("Read compacted topic topic={} records={} client={}", settings.topic(), records, settings.clientId());
    }

    private boolean caughtUp(Map<TopicPartition, Long> end) {
        for (var e : end.entrySet()) {
            if (consumer.position(e.getKey(), settings.timeout()) < e.getValue()) return false;
        }
        return true;
    }

    private void pollLoop() {
        try {
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
                    deliver(record);
                }
            }
        } catch (WakeupException e) {
            if (running) LOGGER.error("Poll loop woken unexpectedly topic={}", settings.topic());
        } catch (RuntimeException e) {
            LOGGER.error("Poll loop stopped topic={} client={}", settings.topic(), settings.clientId(), e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void deliver(ConsumerRecord<String, byte[]> record) {
        if (record.key() == null) {
            LOGGER.warn("Skipping record without key topic={} partition={} offset={}", record.topic(), record.partition(),
                    record.offset());
            return;
        }
        V value = null;
        if (record.value() != null) {
            try {
                value = decoder.apply(record.value());
            } catch (RuntimeException e) {
                LOGGER.warn("Skipping undecodable record topic={} key={} partition={} offset={} error={}", record.topic(),
                        record.key(), record.partition(), record.offset(), e.toString());
                return;
            }
        }
        try {
            listener.onRecord(record.key(), value, record.offset());
        } catch (RuntimeException e) {
            LOGGER.error("Listener failed topic={} key={}", record.topic(), record.key(), e);
        }
    }

    /** Whether the poll thread is still following the topic. */
    public boolean isRunning() {
        return running && poller != null && poller.isAlive();
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        if (poller != null) {
            try {
                poller.join(Duration.ofSeconds(10));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
