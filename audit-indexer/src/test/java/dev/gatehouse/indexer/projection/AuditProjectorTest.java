package dev.gatehouse.indexer.projection;

import dev.gatehouse.indexer.SampleSessions;
import dev.gatehouse.indexer.store.JdbcTimelineStore;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.evidence.SessionExport;
import dev.gatehouse.platform.evidence.SessionRecord;
import dev.gatehouse.platform.evidence.SessionSealer;
import dev.gatehouse.platform.evidence.SigningKeys;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.TopicInitializer;
import dev.gatehouse.platform.kafka.TopicSettings;
import dev.gatehouse.platform.revocation.EdgeSessions;
import dev.gatehouse.testsupport.KafkaFixture;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The projector against a real broker: exactly-once into the store, dead letters, rebuild, aborts and seals. */
class AuditProjectorTest {

    private static final AuditEventCodec CODEC = new AuditEventCodec();
    private static final EventSerde<AuditEvent> SERDE = EventSerde.of(CODEC::encode, CODEC::decode);

    @TempDir
    Path dir;

    private String audit;
    private String dlq;
    private String bootstrap;

    @BeforeEach
    void topics() {
        bootstrap = KafkaFixture.bootstrapServers();
        String suffix = UUID.randomUUID().toString().substring(0, 8);
        audit = "test.audit." + suffix;
        dlq = "test.audit.dlq." + suffix;
        TopicInitializer.ensure(bootstrap, List.of(new TopicSettings(audit, 2, (short) 1, null, false),
                new TopicSettings(dlq, 1, (short) 1, null, false)), Duration.ofSeconds(30));
    }

    private AuditProjector.Settings settings(String group) {
        return AuditProjector.Settings.of(bootstrap, "test-" + group).withTopics(audit, dlq).withGroup(group)
                .withAbortGrace(Duration.ofMillis(300), Duration.ofMillis(100));
    }

    private void write(String key, List<byte[]> values) throws Exception {
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer())) {
            for (byte[] v : values) producer.send(new ProducerRecord<>(audit, key, v)).get();
        }
    }

    private static List<byte[]> encoded(List<AuditEvent> events) {
        return events.stream().map(CODEC::encode).toList();
    }

    @Test
    void projectsParksDeadLettersSealsAndRebuildsToTheSameDigests() throws Exception {
        // Given: a closed session with corrupt bytes in the middle, and an open one
        SigningKeys keys = SigningKeys.generate();
        SessionSealer sealer = new SessionSealer(keys, "indexer-test");
        List<AuditEvent> closed = new SampleSessions("p-closed", "edge-1", Instant.now()).typical(true);
        List<byte[]> values = new ArrayList<>(encoded(closed.subList(0, 3)));
        values.add("not an avro record at all".getBytes(StandardCharsets.UTF_8));
        values.addAll(encoded(closed.subList(3, closed.size())));
        write("p-closed", values);
        List<AuditEvent> open = new SampleSessions("p-open", "edge-1", Instant.now()).typical(false);
        write("p-open", encoded(open));
        SimpleMeterRegistry registry = new SimpleMeterRegistry();
        Map<String, String> digests;
        try (JdbcTimelineStore store = JdbcTimelineStore.embedded(dir.resolve("first"));
             AuditProjector projector = new AuditProjector(settings("g-" + UUID.randomUUID()), store, SERDE, sealer, null,
                     registry, Clock.systemUTC())) {
            // When
            await().atMost(Duration.ofSeconds(60)).until(() -> store.timeline("p-closed")
                    .map(t -> t.session().sealed()).orElse(false));
            await().atMost(Duration.ofSeconds(30)).until(() -> store.timeline("p-open").map(t -> t.session().commands() == 3).orElse(false));
            digests = store.digests();
            // Then: the dead letter is parked with its reason and counted; the rest is projected
            List<ConsumerRecord<String, byte[]>> letters = readAll(dlq, 1);
            assertThat(letters).singleElement().satisfies(letter -> {
                assertThat(letter.key()).isEqualTo("p-closed");
                assertThat(new String(letter.value(), StandardCharsets.UTF_8)).isEqualTo("not an avro record at all");
                assertThat(header(letter, AuditProjector.DLQ_REASON)).contains("single-object");
                assertThat(header(letter, AuditProjector.DLQ_TOPIC)).isEqualTo(audit);
                assertThat(header(letter, AuditProjector.DLQ_OFFSET)).isEqualTo("3");
            });
            assertThat(registry.get("gatehouse.indexer.dead.letters").counter().count()).isEqualTo(1);
            assertThat(projector.deadLetterCount()).isEqualTo(1);
            var timeline = store.timeline("p-closed").orElseThrow();
            assertThat(timeline.session().status()).isEqualTo("closed");
            assertThat(timeline.session().denied()).isEqualTo(1);
            // and the seal verifies against the stored records
            List<SessionRecord> records = store.events("p-closed").stream().filter(e -> !e.type().equals("SessionSealed"))
                    .map(e -> new SessionRecord(e.partition(), e.offset(), e.eventId(), e.value())).toList();
            AuditEvent.SessionSealed seal = store.events("p-closed").stream().filter(e -> e.type().equals("SessionSealed"))
                    .map(e -> (AuditEvent.SessionSealed) CODEC.decode(e.value())).findFirst().orElseThrow();
            assertThat(SessionExport.verify(SessionExport.write("p-closed", records, seal, keys.publicKey()), keys.publicKey()).ok())
                    .isTrue();
        }
        // When: the store is dropped and rebuilt from the log by a new indexer
        try (JdbcTimelineStore rebuilt = JdbcTimelineStore.embedded(dir.resolve("rebuilt"));
             AuditProjector projector = new AuditProjector(settings("g-" + UUID.randomUUID()), rebuilt, SERDE, sealer, null,
                     null, Clock.systemUTC())) {
            await().atMost(Duration.ofSeconds(60)).until(() -> rebuilt.digests().equals(digests));
            // Then: the same timelines, and no second seal was written (every event and the one seal projected)
            assertThat(rebuilt.pendingSeals()).isEmpty();
            assertThat(projector.projectedCount()).isEqualTo(closed.size() + 1 + open.size());
        }
    }

    @Test
    void abortsAndSealsASessionWhoseEdgeStoppedHeartBeating() throws Exception {
        // Given: an open session on edge-dead, whose last heartbeat is old, and one on a live edge that still lists it
        SigningKeys keys = SigningKeys.generate();
        write("a-dead", encoded(new SampleSessions("a-dead", "edge-dead", Instant.now()).typical(false)));
        write("a-live", encoded(new SampleSessions("a-live", "edge-live", Instant.now()).typical(false)));
        List<EdgeSessions> heartbeats = new CopyOnWriteArrayList<>();
        heartbeats.add(new EdgeSessions("edge-dead", Instant.now().minusSeconds(60), Duration.ofSeconds(2), List.of()));
        try (JdbcTimelineStore store = JdbcTimelineStore.embedded(dir.resolve("aborts"));
             AuditProjector projector = new AuditProjector(settings("g-" + UUID.randomUUID()), store, SERDE,
                     new SessionSealer(keys, "indexer-test"), () -> liveEdge(heartbeats), null, Clock.systemUTC())) {
            // When
            await().atMost(Duration.ofSeconds(60)).until(() -> store.timeline("a-dead").map(t -> t.session().sealed()).orElse(false));
            // Then
            var dead = store.timeline("a-dead").orElseThrow().session();
            assertThat(dead.status()).isEqualTo("aborted");
            assertThat(dead.closeReason()).isEqualTo(TimelineProjection.abortReason("edge-dead"));
            assertThat(store.timeline("a-live").orElseThrow().session().status()).isEqualTo("open");
            // and a rebuild from the log agrees
            Map<String, String> digests = store.digests();
            try (JdbcTimelineStore rebuilt = JdbcTimelineStore.embedded(dir.resolve("aborts-rebuilt"));
                 AuditProjector again = new AuditProjector(settings("g-" + UUID.randomUUID()), rebuilt, SERDE, null, null,
                         null, Clock.systemUTC())) {
                await().atMost(Duration.ofSeconds(60)).until(() -> rebuilt.digests().get("a-dead") != null
                        && rebuilt.digests().get("a-dead").equals(digests.get("a-dead")));
            }
        }
    }

    private static List<EdgeSessions> liveEdge(List<EdgeSessions> others) {
        List<EdgeSessions> edges = new ArrayList<>(others);
        edges.add(new EdgeSessions("edge-live", Instant.now(), Duration.ofSeconds(2), List.of(
                new dev.gatehouse.platform.revocation.SessionInfo("a-live", "alice", "https://issuer", List.of(), null, null,
                        "demo", "10.0.0.7", Instant.now().minusSeconds(5)))));
        return edges;
    }

    private static String header(ConsumerRecord<String, byte[]> record, String name) {
        var h = record.headers().lastHeader(name);
        return h == null ? null : new String(h.value(), StandardCharsets.UTF_8);
    }

    private List<ConsumerRecord<String, byte[]>> readAll(String topic, int expected) {
        List<ConsumerRecord<String, byte[]>> out = new ArrayList<>();
        try (var consumer = new KafkaConsumer<>(Map.<String, Object>of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap,
                ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer())) {
            consumer.assign(List.of(new TopicPartition(topic, 0)));
            consumer.seekToBeginning(List.of(new TopicPartition(topic, 0)));
            await().atMost(Duration.ofSeconds(30)).until(() -> {
                consumer.poll(Duration.ofMillis(200)).forEach(out::add);
                return out.size() >= expected;
            });
        }
        return out;
    }
}
