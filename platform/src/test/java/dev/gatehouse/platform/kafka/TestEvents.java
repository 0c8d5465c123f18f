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

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;

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
        SqlCommand sql = new SqlCommand(CommandId.random(), session, 1, Instant.now(), SqlCommand.Form.SIMPLE_QUERY,
                "select 1", List.of(), SqlAnalysis.unparseable("not analysed in this test"));
        Identity identity = new Identity("alice", "https://issuer.test", List.of(), List.of(), Map.of(), null);
        ConnectionRef connection = new ConnectionRef("demo", "postgres", "127.0.0.1:5432/demo", Map.of());
        return new AuditEvent.CommandReceived(EventHeader.now(session, "edge", edgeId), sql, identity, connection,
                edgeId, replyPartition, "enforce");
    }

    static AuditEvent.DecisionMade allow(AuditEvent.CommandReceived command) {
        CommandId id = command.command().id();
        return new AuditEvent.DecisionMade(EventHeader.now(command.sessionId(), "policy", "test"), id,
                command.command().sequence(), new Decision.Allow(id, "test-allow", "allowed by test", "v1"),
                command.edgeId(), command.replyPartition(), command.mode(), Duration.ZERO);
    }
}
