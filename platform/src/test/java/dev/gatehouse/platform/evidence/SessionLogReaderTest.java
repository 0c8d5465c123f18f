package dev.gatehouse.platform.evidence;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.dev.EmbeddedKafka;

/** Reads a sealed session back from a real (embedded) Kafka and verifies it. */
class SessionLogReaderTest {

    @TempDir
    Path dir;

    @Test
    void readsTheSessionsPartitionAndItsSealAndTheyVerify() throws Exception {
        // Given
        SigningKeys keys = SigningKeys.generate();
        List<SessionRecord> mine = EvidenceFixtures.records("s-log-1", 4);
        List<SessionRecord> other = EvidenceFixtures.records("s-log-2", 3);
        AuditEvent.SessionSealed seal = new SessionSealer(keys, "indexer-1").seal(new SessionId("s-log-1"),
                SessionChain.head("s-log-1", mine.stream().map(SessionRecord::value).toList()), 4, SessionSealer.CLOSED);
        try (EmbeddedKafka kafka = EmbeddedKafka.start(dir, 0)) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("audit", 3, (short) 1))).all().get(30, TimeUnit.SECONDS);
            }
            try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(Map.of(
                    ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(), ProducerConfig.ACKS_CONFIG, "all"),
                    new StringSerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < 4; i++) {
                    producer.send(new ProducerRecord<>("audit", "s-log-1", mine.get(i).value())).get(30, TimeUnit.SECONDS);
                    if (i < 3) {
                        producer.send(new ProducerRecord<>("audit", "s-log-2", other.get(i).value())).get(30, TimeUnit.SECONDS);
                    }
                }
                producer.send(new ProducerRecord<>("audit", "s-log-1", EvidenceFixtures.encode(seal))).get(30, TimeUnit.SECONDS);
            }

            // When
            SessionLogReader.SessionLog log;
            try (SessionLogReader reader = new SessionLogReader(kafka.bootstrapServers(), "audit", Duration.ofSeconds(30))) {
                log = reader.read("s-log-1");
            }

            // Then
            assertThat(log.partition()).isEqualTo(SessionLogReader.partitionOf("s-log-1", 3));
            assertThat(log.records()).extracting(SessionRecord::eventId)
                    .containsExactly("s-log-1-e0", "s-log-1-e1", "s-log-1-e2", "s-log-1-e3");
            assertThat(log.seal()).isEqualTo(seal);
            Verification verification = SessionEvidence.verify("s-log-1", log.records(), null, log.seal(),
                    keys.publicKey(), true);
            assertThat(verification.ok()).as(verification.describe()).isTrue();
            assertThat(verification.events()).isEqualTo(4);
        }
    }
}
