package dev.gatehouse.platform.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.function.Function;

/**
 * Reads a compacted topic (state keyed by id) fully, then follows it: every partition is read
 * from the beginning, and the constructor returns once the end offsets of that moment are reached,
 * so the caller has the whole state before it goes on; afterwards what is published is delivered
 * as it comes. No consumer group, no committed offsets: every process reads the whole topic.
 *
 * <p>The reading is a {@link ConsumerLoop} (thread named after the client id) whose
 * {@link #health()} is ready once the topic was read to its end. An exception from the listener
 * or the consumer restarts it with a backoff, resuming after the last record handled (the failing
 * batch is delivered again); a fatal Kafka error ({@link ConsumerLoop#isFatal}) stops it, failed.
 * A listener that wants to skip a record it cannot take must catch its own exceptions.
 *
 * <p>Threads: records are delivered on the loop's thread (during construction too; the
 * constructor returns after they were delivered). The listener must be quick.
 *
 * @param <V> the value type; a tombstone is delivered as null, an undecodable value is skipped
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
     * @param clientId         consumer client id, also the loop's (and its thread's) name
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
    private final ConsumerLoop loop;
    private long delivered; // loop thread

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
        Map<String, Object> config = KafkaClients.client(settings.bootstrapServers(), settings.clientId());
        config.putAll(Map.of(
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest",
                ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 200,
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) settings.timeout().toMillis()));
        ConsumerLoop.Settings loopSettings = ConsumerLoop.Settings.of(settings.clientId(), config,
                ConsumerLoop.ErrorPolicy.restartUnlessFatal()).catchingUp();
        try {
            this.loop = ConsumerLoop.started(loopSettings, ConsumerLoop.Handler.ofRecords(
                    consumer -> consumer.seekToBeginning(ConsumerLoop.assignAll(consumer, settings.topic(), settings.timeout())),
                    this::deliver), settings.timeout());
        } catch (IllegalStateException e) {
            throw new IllegalStateException("cannot read topic " + settings.topic() + " to its end: " + e.getMessage(), e);
        }
        LOGGER.info("Read compacted topic topic={} records={} client={}", settings.topic(), delivered, settings.clientId());
    }

    private void deliver(ConsumerRecord<String, byte[]> record) {
        delivered++;
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
        listener.onRecord(record.key(), value, record.offset());
    }

    /** The reading loop's health: ready while it follows the topic, having read it to its end. */
    public ConsumerLoop.Health health() {
        return loop.health();
    }

    @Override
    public void close() {
        loop.close();
    }
}
