package dev.gatehouse.indexer.ocsf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.dev.EmbeddedKafka;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import dev.gatehouse.testsupport.KafkaFixture;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(KafkaFixture.class)
class OcsfExporterTest {

    private static final AuditEventCodec CODEC = new AuditEventCodec();
    private static final ObjectMapper JSON = new ObjectMapper();

    @Test
    void sessionEventsAppearOnTheOcsfTopicKeyedBySessionAndGarbageIsSkipped(EmbeddedKafka kafka) throws Exception {
        // Given a session on the audit log, with an undecodable record in its midst
        SessionId session = SessionId.random();
        Identity identity = new Identity("alice", "https://sso.example.com", List.of("dba"), List.of(), Map.of(), null);
        ConnectionRef demo = new ConnectionRef("demo", "postgres", "127.0.0.1:5432/app", Map.of());
        Instant t0 = Instant.now();
        var command = new SqlCommand(CommandId.random(), session, 1, t0, SqlCommand.Form.SIMPLE_QUERY, "CREATE DATABASE x",
                List.of(), new SqlAnalysis(true, null, "CREATE DATABASE x", List.of(new StatementAnalysis(StatementKind.DDL,
                "CREATE DATABASE", "DATABASE", List.of(), List.of("x"), List.of(), false))));
        List<AuditEvent> events = List.of(
                new AuditEvent.SessionOpened(header(session, t0, "edge"), identity, demo, "10.0.0.7", "app", "psql", "enforce", false),
                new AuditEvent.CommandReceived(header(session, t0, "edge"), command, identity, demo, "edge-1", 0, "enforce", t0, "10.0.0.7"),
                new AuditEvent.DecisionMade(header(session, t0, "policy"), command.id(), 1,
                        new Decision.Allow(command.id(), "dba", "DBAs", "v1"), "edge-1", 0, "enforce", Duration.ofMillis(1)),
                new AuditEvent.CommandCompleted(header(session, t0, "edge"), command.id(), 1,
                        new AuditEvent.Outcome(true, List.of("CREATE DATABASE"), 0, null, null, Duration.ofMillis(9), 20, "I")),
                new AuditEvent.SessionClosed(header(session, t0, "edge"), "client terminated", 1, Duration.ofSeconds(1)));
        try (var producer = new KafkaProducer<>(Map.<String, Object>of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()),
                new StringSerializer(), new ByteArraySerializer())) {
            producer.send(new ProducerRecord<>(Topics.AUDIT, session.value(), CODEC.encode(events.get(0)))).get();
            producer.send(new ProducerRecord<>(Topics.AUDIT, session.value(), new byte[]{1, 2, 3, 4})).get();
            for (AuditEvent e : events.subList(1, events.size())) {
                producer.send(new ProducerRecord<>(Topics.AUDIT, session.value(), CODEC.encode(e))).get();
            }
        }
        var registry = new SimpleMeterRegistry();
        var settings = new OcsfExporter.Settings(kafka.bootstrapServers(), Topics.AUDIT, Topics.AUDIT_OCSF,
                "gatehouse-ocsf-test-" + UUID.randomUUID(), OcsfMapper.Settings.defaults(), Duration.ofMillis(200));
        List<JsonNode> received = new CopyOnWriteArrayList<>();

        // When
        try (var exporter = new OcsfExporter(settings, EventSerde.of(CODEC::encode, CODEC::decode), registry);
             var consumer = new KafkaConsumer<>(Map.<String, Object>of(
                     ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                     ConsumerConfig.GROUP_ID_CONFIG, "ocsf-reader-" + UUID.randomUUID(),
                     ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest"), new StringDeserializer(), new ByteArrayDeserializer())) {
            exporter.start();
            consumer.subscribe(List.of(Topics.AUDIT_OCSF));
            await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    if (session.value().equals(r.key())) received.add(JSON.readTree(r.value()));
                }
                assertThat(received).hasSize(3);
            });

            // Then
            assertThat(received).extracting(e -> e.path("type_uid").asLong()).containsExactly(300201L, 600506L, 300202L);
            assertThat(received.get(1).path("query_info").path("query_string").asText()).isEqualTo("CREATE DATABASE x");
            OcsfDefinitions definitions = OcsfDefinitions.load();
            received.forEach(e -> assertThat(definitions.violations(e)).as("violations of %s", e).isEmpty());
            assertThat(exporter.skipped()).isGreaterThanOrEqualTo(1);
            assertThat(registry.get("gatehouse.ocsf.skipped").counter().count()).isGreaterThanOrEqualTo(1.0);
            assertThat(registry.get("gatehouse.ocsf.published").tag("class_uid", "6005").counter().count())
                    .isGreaterThanOrEqualTo(1.0);
        }
    }

    private static EventHeader header(SessionId session, Instant at, String service) {
        return new EventHeader(UUID.randomUUID().toString(), session, at, service, service + "-1");
    }
}
