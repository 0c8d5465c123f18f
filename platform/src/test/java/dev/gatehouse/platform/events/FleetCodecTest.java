package dev.gatehouse.platform.events;

import dev.gatehouse.platform.revocation.EdgeSessions;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.Selector;
import dev.gatehouse.platform.revocation.SessionInfo;
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
    void garbageIsADecodingError() {
        assertThatThrownBy(() -> codec.decodeRevocation(new byte[]{1, 2, 3})).isInstanceOf(EventDecodingException.class);
        assertThatThrownBy(() -> codec.decodeSessions(codec.encodeRevocation(
                Revocation.create(Selector.parse("subject=a"), "x", null)))).isInstanceOf(EventDecodingException.class);
    }
}
