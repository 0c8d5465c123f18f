package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;

import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;

/** Events for the Kafka tests, and a serde that keeps them in this JVM (the wire codec is tested elsewhere). */
final class TestEvents {

    private TestEvents() {
    }

    /** Encodes an event as a random id and remembers it; enough for one JVM. */
    static <T> EventSerde<T> inMemorySerde() {
        Map<String, T> store = new ConcurrentHashMap<>();
        return EventSerde.of(value -> {
            String id = UUID.randomUUID().toString();
            store.put(id, value);
            return id.getBytes(StandardCharsets.UTF_8);
        }, bytes -> {
            T value = store.get(new String(bytes, StandardCharsets.UTF_8));
            if (value == null) throw new IllegalArgumentException("unknown test event");
            return value;
        });
    }

    static AuditEvent.CommandReceived command(String edgeId, int replyPartition) {
        return command(SessionId.random(), edgeId, replyPartition);
    }

    static AuditEvent.CommandReceived command(SessionId session, String edgeId, int replyPartition) {
        return command(session, edgeId, replyPartition, "enforce", null);
    }

    /** A command of {@code session} in {@code mode}, refused by the edge when {@code refusal} is not null. */
    static AuditEvent.CommandReceived command(SessionId session, String edgeId, int replyPartition, String mode,
                                              String refusal) {
        SqlCommand sql = new SqlCommand(CommandId.random(), session, 1, Instant.now(), SqlCommand.Form.SIMPLE_QUERY,
                "select 1", List.of(), SqlAnalysis.unparseable("not analysed in this test"));
        Identity identity = new Identity("alice", "https://issuer.test", List.of(), List.of(), Map.of(), null);
        ConnectionRef connection = new ConnectionRef("demo", "postgres", "127.0.0.1:5432/demo", Map.of());
        return new AuditEvent.CommandReceived(EventHeader.now(session, "edge", edgeId), sql, identity, connection,
                edgeId, replyPartition, mode, null, null, refusal);
    }

    static AuditEvent.DecisionMade allow(AuditEvent.CommandReceived command) {
        CommandId id = command.command().id();
        return new AuditEvent.DecisionMade(EventHeader.now(command.sessionId(), "policy", "test"), id,
                command.command().sequence(), new Decision.Allow(id, "test-allow", "allowed by test", "v1"),
                command.edgeId(), command.replyPartition(), command.mode(), Duration.ZERO);
    }

    /** A connection attempt by alice to "demo". */
    static AuditEvent.SessionRequested sessionRequest(String edgeId, int replyPartition) {
        SessionId session = SessionId.random();
        AuditEvent.CommandReceived like = command(session, edgeId, replyPartition);
        return new AuditEvent.SessionRequested(EventHeader.now(session, "edge", edgeId), CommandId.random(), like.identity(),
                like.connection(), "127.0.0.1", "app", "psql", edgeId, replyPartition, "enforce");
    }

    /** A producer for writing decisions by hand, as the policy and approval services write them. */
    static KafkaProducer<String, byte[]> decisionWriter(String bootstrapServers) {
        return new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
    }

    /** Writes the DecisionMade about {@code request} to its reply partition and waits until it is written. */
    static void reply(KafkaProducer<String, byte[]> producer, EventSerde<AuditEvent> serde, AuditEvent.DecisionRequest request,
                      Decision decision) throws ExecutionException, InterruptedException {
        var made = new AuditEvent.DecisionMade(EventHeader.now(request.sessionId(), "policy", "test"), decision.commandId(),
                1, decision, request.edgeId(), request.replyPartition(), request.mode(), Duration.ZERO);
        producer.send(new ProducerRecord<>(Topics.DECISIONS, request.replyPartition(), request.sessionId().value(),
                serde.encode(made))).get();
    }

    /** The events of {@code session} in the audit topic, once at least {@code expected} are there (10 s at most). */
    static List<AuditEvent> tail(String bootstrapServers, EventSerde<AuditEvent> serde, SessionId session, int expected) {
        List<AuditEvent> events = new ArrayList<>();
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> {
            events.clear();
            try (AuditTail tail = new AuditTail(bootstrapServers, Topics.AUDIT, Duration.ofSeconds(10), serde)) {
                tail.read(session, false, events::add);
            }
            return events.size() >= expected;
        });
        return events;
    }
}
