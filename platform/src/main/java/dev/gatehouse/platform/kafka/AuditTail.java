package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.SessionId;
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
import java.util.function.Consumer;

/**
 * Reads {@code gatehouse.audit} for {@code gatehouse audit tail [--session ID] [--follow]}.
 *
 * <p>Without follow: from the beginning up to the end offsets captured when reading starts, then
 * returns. With follow: from the end, until {@link #close()} is called (from another thread) or
 * the calling thread is interrupted. Only committed records are read; records of other sessions
 * are skipped by key without being decoded; undecodable records are logged and skipped.
 *
 * <p>The callback runs on the thread that called {@link #read}. Not thread-safe otherwise.
 */
public final class AuditTail implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(AuditTail.class);

    private final String topic;
    private final Duration timeout;
    private final EventSerde<AuditEvent> serde;
    private final KafkaConsumer<String, byte[]> consumer;
    private final java.util.concurrent.atomic.AtomicBoolean reading = new java.util.concurrent.atomic.AtomicBoolean();
    private volatile boolean closed;
    private boolean consumerClosed;

    /**
     * @param topic   normally {@link Topics#AUDIT}
     * @param timeout bound on metadata and offset lookups
     */
    public AuditTail(String bootstrapServers, String topic, Duration timeout, EventSerde<AuditEvent> serde) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        this.serde = Objects.requireNonNull(serde, "serde");
        Map<String, Object> config = KafkaClients.client(Objects.requireNonNull(bootstrapServers, "bootstrapServers"),
                "gatehouse-audit-tail");
        config.putAll(Map.of(
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis()));
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * Delivers the audit events to {@code callback}.
     *
     * @param session only this session's events, or null for all
     * @param follow  false: beginning to the current end, then return; true: from the end, until closed
     * @return how many events were delivered
     */
    public long read(SessionId session, boolean follow, Consumer<AuditEvent> callback) {
        return read(session, follow, null, callback);
    }

    /**
     * Follows the audit events from the first record written at or after {@code since} (the
     * record timestamps), until closed: for a caller that must not miss events written while it
     * starts reading.
     */
    public long follow(SessionId session, java.time.Instant since, Consumer<AuditEvent> callback) {
        return read(session, true, Objects.requireNonNull(since, "since"), callback);
    }

    private long read(SessionId session, boolean follow, java.time.Instant since, Consumer<AuditEvent> callback) {
        Objects.requireNonNull(callback, "callback");
        if (closed) throw new IllegalStateException("audit tail is closed");
        if (!reading.compareAndSet(false, true)) throw new IllegalStateException("audit tail is already reading");
        try {
            return readAssigned(session, follow, since, callback);
        } finally {
            reading.set(false);
            if (closed) closeConsumer();
        }
    }

    private long readAssigned(SessionId session, boolean follow, java.time.Instant since, Consumer<AuditEvent> callback) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
        if (infos == null || infos.isEmpty()) throw new IllegalStateException("topic " + topic + " does not exist");
        List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(topic, i.partition())).toList();
        consumer.assign(partitions);
        Map<TopicPartition, Long> end = consumer.endOffsets(partitions, timeout);
        if (since != null) {
            Map<TopicPartition, Long> query = new java.util.HashMap<>();
            partitions.forEach(p -> query.put(p, since.toEpochMilli()));
            var found = consumer.offsetsForTimes(query, timeout);
            for (TopicPartition p : partitions) {
                var at = found.get(p);
                if (at == null) consumer.seek(p, end.get(p));
                else consumer.seek(p, at.offset());
            }
        } else if (follow) {
            consumer.seekToEnd(partitions);
        } else {
            consumer.seekToBeginning(partitions);
        }
        String key = session == null ? null : session.value();
        long delivered = 0;
        try {
            while (!closed && !Thread.currentThread().isInterrupted() && (follow || !reached(end))) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                    if (!follow && record.offset() >= end.get(new TopicPartition(record.topic(), record.partition()))) continue;
                    if (key != null && !key.equals(record.key())) continue;
                    AuditEvent event;
                    try {
                        event = serde.decode(record.value());
                    } catch (RuntimeException e) {
                        LOGGER.warn("Skipping undecodable audit record partition={} offset={} error={}",
                                record.partition(), record.offset(), e.toString());
                        continue;
                    }
                    callback.accept(event);
                    delivered++;
                }
            }
        } catch (WakeupException e) {
            // close() from another thread
        }
        return delivered;
    }

    /** Whether every partition's position has passed the captured end (markers included). */
    private boolean reached(Map<TopicPartition, Long> end) {
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (consumer.position(e.getKey(), timeout) < e.getValue()) return false;
        }
        return true;
    }

    /** Stops a {@link #read} in progress (safe from any thread) and releases the consumer. */
    @Override
    public void close() {
        if (closed) return;
        closed = true;
        consumer.wakeup();
        // a running read owns the consumer and closes it when it returns
        if (!reading.get()) closeConsumer();
    }

    private synchronized void closeConsumer() {
        if (consumerClosed) return;
        consumerClosed = true;
        consumer.close(Duration.ofSeconds(5));
    }
}
