package dev.gatehouse.deploy.it;

import dev.gatehouse.platform.kafka.Topics;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The audit topic's raw bytes (keys and values), for proving that a secret never reached the log. */
final class RawAuditLog {

    private final byte[] bytes;

    private RawAuditLog(byte[] bytes) {
        this.bytes = bytes;
    }

    /** Reads every partition of {@code gatehouse.audit} from the beginning to its current end. */
    static RawAuditLog read(String bootstrapServers) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        p.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        p.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        ByteArrayOutputStream all = new ByteArrayOutputStream();
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(p)) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.AUDIT).stream()
                    .map(i -> new TopicPartition(i.topic(), i.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<TopicPartition, Long> end = consumer.endOffsets(partitions);
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (partitions.stream().anyMatch(tp -> consumer.position(tp) < end.get(tp)) && System.nanoTime() < deadline) {
                for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(500))) {
                    if (r.key() != null) all.writeBytes(r.key());
                    if (r.value() != null) all.writeBytes(r.value());
                }
            }
            // at least to the end read at the start: records written since (a session's lingering
            // after-the-fact records) may come with the last poll, and are searched too
            assertThat(partitions).allSatisfy(tp -> assertThat(consumer.position(tp)).isGreaterThanOrEqualTo(end.get(tp)));
        }
        assertThat(all.size()).isPositive();
        return new RawAuditLog(all.toByteArray());
    }

    /** True when the UTF-8 bytes of {@code text} occur anywhere in the log. */
    boolean contains(String text) {
        byte[] needle = text.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 0; i <= bytes.length - needle.length; i++) {
            for (int j = 0; j < needle.length; j++) {
                if (bytes[i + j] != needle[j]) continue outer;
            }
            return true;
        }
        return false;
    }
}
