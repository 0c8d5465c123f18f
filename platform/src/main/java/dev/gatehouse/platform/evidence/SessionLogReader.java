package dev.gatehouse.platform.evidence;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.events.EventDecodingException;
import dev.gatehouse.platform.kafka.KafkaClients;

/**
 * Reads one session's records and its seal straight from {@code gatehouse.audit}, independent of
 * any indexer store: the session's partition (the producers' default partitioner over the session
 * id key) from its beginning to the end offset captured at the start, committed records only.
 * Not thread-safe.
 */
public final class SessionLogReader implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(SessionLogReader.class);

    private final String topic;
    private final Duration timeout;
    private final KafkaConsumer<String, byte[]> consumer;
    private final AuditEventCodec codec = new AuditEventCodec();

    /**
     * @param topic   normally {@code gatehouse.audit}
     * @param timeout bound on metadata and offset lookups, and on the whole read
     */
    public SessionLogReader(String bootstrapServers, String topic, Duration timeout) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        Map<String, Object> config = KafkaClients.client(Objects.requireNonNull(bootstrapServers, "bootstrapServers"),
                "gatehouse-audit-verify");
        config.putAll(Map.of(
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false,
                ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed",
                ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis()));
        this.consumer = new KafkaConsumer<>(config, new StringDeserializer(), new ByteArrayDeserializer());
    }

    /**
     * The session's records in log order, seals excluded, and its last seal.
     *
     * @throws IllegalStateException when the topic does not exist or the read takes longer than the timeout
     */
    public SessionLog read(String sessionId) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
        if (infos == null || infos.isEmpty()) {
            throw new IllegalStateException("topic " + topic + " does not exist");
        }
        TopicPartition partition = new TopicPartition(topic, partitionOf(sessionId, infos.size()));
        consumer.assign(List.of(partition));
        consumer.seekToBeginning(List.of(partition));
        long end = consumer.endOffsets(List.of(partition), timeout).get(partition);
        long deadline = System.nanoTime() + timeout.toNanos();
        List<SessionRecord> records = new ArrayList<>();
        AuditEvent.SessionSealed seal = null;
        long scanned = 0;
        while (consumer.position(partition, timeout) < end) {
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("reading partition " + partition + " to offset " + end
                        + " took longer than " + timeout);
            }
            for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofMillis(500))) {
                scanned++;
                if (record.offset() >= end || !sessionId.equals(record.key()) || record.value() == null) {
                    continue;
                }
                AuditEvent.SessionSealed sealed = sealOrNull(record);
                if (sealed != null) {
                    seal = sealed;
                } else {
                    records.add(new SessionRecord(record.partition(), record.offset(), eventId(record),
                            record.value()));
                }
            }
        }
        LOGGER.debug("Read session {} from {}: {} records, seal {}, {} records scanned", sessionId, partition,
                records.size(), seal != null, scanned);
        return new SessionLog(sessionId, partition.partition(), records, seal);
    }

    /** The partition the producers' default partitioner puts a session's records in. */
    public static int partitionOf(String sessionId, int partitions) {
        return Utils.toPositive(Utils.murmur2(sessionId.getBytes(StandardCharsets.UTF_8))) % partitions;
    }

    private AuditEvent.SessionSealed sealOrNull(ConsumerRecord<String, byte[]> record) {
        try {
            return codec.decode(record.value()) instanceof AuditEvent.SessionSealed s ? s : null;
        } catch (EventDecodingException e) {
            return null; // chained as bytes; SessionChain reports it
        }
    }

    private String eventId(ConsumerRecord<String, byte[]> record) {
        try {
            return codec.decodeRecord(record.value()).getEventId();
        } catch (EventDecodingException e) {
            return "undecodable@" + record.partition() + ":" + record.offset();
        }
    }

    @Override
    public void close() {
        consumer.close(Duration.ofSeconds(5));
    }

    /**
     * What the log holds of one session.
     *
     * @param sessionId the session
     * @param partition the partition read
     * @param records   its records in log order, seals excluded
     * @param seal      its last seal, or null
     */
    public record SessionLog(String sessionId, int partition, List<SessionRecord> records,
                             AuditEvent.SessionSealed seal) {
        public SessionLog {
            records = List.copyOf(records);
        }
    }
}
