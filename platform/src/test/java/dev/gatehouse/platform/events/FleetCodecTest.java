package dev.gatehouse.platform.events;

import dev.gatehouse.platform.revocation.EdgeSessions;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.Selector;
import dev.gatehouse.platform.revocation.SessionInfo;
import org.apache.avro.Schema;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.message.BinaryMessageEncoder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FleetCodecTest {

    private final FleetCodec codec = new FleetCodec();

    @Test
    void revocationsRoundTripInForceAndLifted() {
        // Given
        Revocation r = Revocation.create(Selector.parse("commit=4f2a9c1e"), "admin", null);
        Revocation lifted = r.lift("other-admin");

        // When
        Revocation back = codec.decodeRevocation(codec.encodeRevocation(r));
        Revocation liftedBack = codec.decodeRevocation(codec.encodeRevocation(lifted));

        // Then
        assertThat(back).isEqualTo(new Revocation(r.id(), r.selector(), "admin", null,
                r.revokedAt().truncatedTo(ChronoUnit.MICROS), null, null));
        assertThat(liftedBack.lifted()).isTrue();
        assertThat(liftedBack.liftedBy()).isEqualTo("other-admin");
    }

    @Test
    void edgeSessionsRoundTrip() {
        // Given
        Instant t = Instant.parse("2026-01-02T03:04:05.123456Z");
        EdgeSessions e = new EdgeSessions("edge-1", t, Duration.ofSeconds(2), List.of(
                new SessionInfo("s1", "alice", "https://i", List.of("dba"), null, null, "demo", "/127.0.0.1:5555", t),
                new SessionInfo("s2", "ci", "https://gh", List.of(), "acme/app", "abcdef0", "demo", null, t)));

        // When
        EdgeSessions back = codec.decodeSessions(codec.encodeSessions(e));

        // Then
        assertThat(back).isEqualTo(e);
    }

    @Test
    void delegatedSessionsAndTheEnforcedSelectorTypesRoundTrip() {
        // Given an edge that enforces every selector type, with an agent's session for alice
        Instant t = Instant.parse("2026-01-02T03:04:05.123456Z");
        EdgeSessions e = new EdgeSessions("edge-1", t, Duration.ofSeconds(2), List.of(
                new SessionInfo("s1", "executor-agent", "https://i", List.of("agents"), null, null, "demo", null, t,
                        "alice", List.of("planner-agent"))));

        // When
        EdgeSessions back = codec.decodeSessions(codec.encodeSessions(e));

        // Then
        assertThat(back).isEqualTo(e);
        assertThat(back.sessions().getFirst().delegated()).isTrue();
        assertThat(back.selectorTypes()).containsExactlyInAnyOrder(Selector.Type.values());
        assertThat(back.enforces(Selector.Type.ORIGINATOR)).isTrue();
    }

    @Test
    void aHeartbeatOfAnEdgeOlderThanDelegationDecodesAndEnforcesTheLegacySelectorTypesOnly() throws Exception {
        // Given a heartbeat written with the schema of edges before delegation (no originator, no selector types)
        Schema old;
        try (var in = getClass().getResourceAsStream("/dev/gatehouse/schemas/v1/writers/EdgeSessionsRecord-78ce3aa64248daaa.avsc")) {
            old = new Schema.Parser().parse(in);
        }
        GenericRecord session = new GenericData.Record(old.getField("sessions").schema().getElementType());
        session.put("sessionId", "s1");
        session.put("subject", "alice");
        session.put("issuer", "https://i");
        session.put("groups", List.of("dba"));
        session.put("connection", "demo");
        session.put("startedAt", 1_767_323_045_123_456L);
        GenericRecord heartbeat = new GenericData.Record(old);
        heartbeat.put("edgeId", "edge-old");
        heartbeat.put("heartbeatAt", 1_767_323_045_123_456L);
        heartbeat.put("intervalMillis", 2000L);
        heartbeat.put("sessions", List.of(session));
        byte[] bytes = AuditEventCodec.toArray(new BinaryMessageEncoder<GenericRecord>(GenericData.get(), old).encode(heartbeat));

        // When
        EdgeSessions back = codec.decodeSessions(bytes);

        // Then
        assertThat(back.edgeId()).isEqualTo("edge-old");
        assertThat(back.sessions()).singleElement().satisfies(s -> {
            assertThat(s.subject()).isEqualTo("alice");
            assertThat(s.delegated()).isFalse();
            assertThat(s.earlierActors()).isEmpty();
        });
        assertThat(back.selectorTypes()).isEqualTo(EdgeSessions.LEGACY_SELECTOR_TYPES);
        assertThat(back.enforces(Selector.Type.ACTOR)).isFalse();
        assertThat(back.enforces(Selector.Type.SUBJECT)).isTrue();
    }

    @Test
    void garbageIsADecodingError() {
        assertThatThrownBy(() -> codec.decodeRevocation(new byte[]{1, 2, 3})).isInstanceOf(EventDecodingException.class);
        assertThatThrownBy(() -> codec.decodeSessions(codec.encodeRevocation(
                Revocation.create(Selector.parse("subject=a"), "x", null)))).isInstanceOf(EventDecodingException.class);
    }
}
