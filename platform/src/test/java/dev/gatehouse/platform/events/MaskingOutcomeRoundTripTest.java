package dev.gatehouse.platform.events;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class MaskingOutcomeRoundTripTest {

    private final AuditEventCodec codec = new AuditEventCodec();

    @Test
    void maskingStatisticsRoundTrip() {
        // Given a completion with masking statistics
        var masking = new AuditEvent.Masking("pii-basic", 7, Map.of("public.users.email", 3L), Map.of("email", 4L, "iban", 1L));
        var event = new AuditEvent.CommandCompleted(EventHeader.now(SessionId.random(), "edge", "e1"), CommandId.random(), 3,
                new AuditEvent.Outcome(true, List.of("SELECT 3"), 3, null, null, Duration.ofMillis(4), 512, "I", masking));

        // When
        AuditEvent decoded = codec.decode(codec.encode(event));

        // Then
        assertThat(((AuditEvent.CommandCompleted) decoded).outcome().masking()).isEqualTo(masking);
    }

    @Test
    void completionsWithoutMaskingHaveNone() {
        // Given
        var event = new AuditEvent.CommandCompleted(EventHeader.now(SessionId.random(), "edge", "e1"), CommandId.random(), 1,
                new AuditEvent.Outcome(true, List.of("SELECT 1"), 1, null, null, Duration.ofMillis(1), 10, "I"));

        // When
        AuditEvent decoded = codec.decode(codec.encode(event));

        // Then
        assertThat(((AuditEvent.CommandCompleted) decoded).outcome().masking()).isNull();
    }
}
