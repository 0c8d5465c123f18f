package dev.gatehouse.platform.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.avro.SchemaNormalization;
import org.apache.avro.SystemLimitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.DryRunVerdict;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.Verdict;
import dev.gatehouse.schemas.v1.AuditRecord;

class AuditEventCodecTest {

    private final AuditEventCodec codec = new AuditEventCodec();

    static Stream<AuditEvent> allFieldsSet() {
        return EventFixtures.allFieldsSet().stream();
    }

    static Stream<AuditEvent> optionalFieldsNull() {
        return EventFixtures.optionalFieldsNull().stream();
    }

    @ParameterizedTest
    @MethodSource("allFieldsSet")
    void roundTripsEveryEventWithAllFieldsSet(AuditEvent event) {
        // When
        AuditEvent decoded = codec.decode(codec.encode(event));

        // Then
        assertThat(decoded).isEqualTo(event);
    }

    @ParameterizedTest
    @MethodSource("optionalFieldsNull")
    void roundTripsEveryEventWithOptionalFieldsNull(AuditEvent event) {
        // When
        AuditEvent decoded = codec.decode(codec.encode(event));

        // Then
        assertThat(decoded).isEqualTo(event);
    }

    @Test
    void roundTripsDryRunVerdictsInOrderWithTheirParameters() {
        // Given
        AuditEvent.DecisionMade event = EventFixtures.allFieldsSet().stream()
                .filter(e -> e instanceof AuditEvent.DecisionMade d && !d.dryRun().isEmpty())
                .map(AuditEvent.DecisionMade.class::cast).findFirst().orElseThrow();

        // When
        AuditEvent.DecisionMade decoded = (AuditEvent.DecisionMade) codec.decode(codec.encode(event));

        // Then
        assertThat(decoded.dryRun()).isEqualTo(event.dryRun());
        assertThat(decoded.dryRun()).extracting(DryRunVerdict::verdict)
                .containsExactly(Verdict.DENY, Verdict.REQUIRE_APPROVAL, Verdict.MASK);
        assertThat(decoded.dryRun().get(1).approverGroup()).isEqualTo("dba");
        assertThat(decoded.dryRun().get(2).maskProfile()).isEqualTo("pii-basic");
    }

    @Test
    void aCommandReceivedCarriesTheSessionStartAndClientAddress() {
        // Given
        AuditEvent.CommandReceived event = EventFixtures.allFieldsSet().stream()
                .filter(e -> e instanceof AuditEvent.CommandReceived)
                .map(AuditEvent.CommandReceived.class::cast).findFirst().orElseThrow();

        // When
        AuditEvent.CommandReceived decoded = (AuditEvent.CommandReceived) codec.decode(codec.encode(event));

        // Then
        assertThat(decoded.sessionStartedAt()).isEqualTo(EventFixtures.AT.minusSeconds(60));
        assertThat(decoded.clientAddress()).isEqualTo("10.0.0.7");
    }

    @Test
    void theFixturesCoverEveryEventTypeAndEveryVerdict() {
        // Given
        Set<Class<?>> permitted = concreteEvents(AuditEvent.class);

        // When
        Set<Class<?>> full = EventFixtures.allFieldsSet().stream().map(Object::getClass).collect(Collectors.toSet());
        Set<Class<?>> bare = EventFixtures.optionalFieldsNull().stream().map(Object::getClass).collect(Collectors.toSet());
        Set<Verdict> verdicts = EventFixtures.allFieldsSet().stream()
                .filter(e -> e instanceof AuditEvent.DecisionMade)
                .map(e -> ((AuditEvent.DecisionMade) e).decision().verdict())
                .collect(Collectors.toCollection(() -> EnumSet.noneOf(Verdict.class)));

        // Then
        assertThat(full).isEqualTo(permitted);
        assertThat(bare).isEqualTo(permitted);
        assertThat(verdicts).containsExactlyInAnyOrder(Verdict.values());
    }

    @Test
    void writesSingleObjectEncodingWithTheEnvelopeFingerprint() {
        // Given
        AuditEvent event = EventFixtures.allFieldsSet().getFirst();

        // When
        byte[] bytes = codec.encode(event);

        // Then
        long fingerprint = SchemaNormalization.parsingFingerprint64(AuditRecord.getClassSchema());
        assertThat(bytes[0] & 0xFF).isEqualTo(0xC3);
        assertThat(bytes[1]).isEqualTo((byte) 0x01);
        assertThat(ByteBuffer.wrap(bytes, 2, 8).order(ByteOrder.LITTLE_ENDIAN).getLong()).isEqualTo(fingerprint);
    }

    @Test
    void refusesToEncodeAnEventWithoutARequiredValue() {
        // Given
        AuditEvent event = new AuditEvent.DecisionMade(EventFixtures.HEADER, EventFixtures.COMMAND, 1, null, null, 0,
                null, null);

        // Then
        assertThatThrownBy(() -> codec.encode(event))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("DecisionMade")
                .hasMessageContaining("e-0001")
                .hasMessageContaining("decision");
    }

    @Test
    void randomBytesAreRefusedWithAClearMessage() {
        // Given
        byte[] garbage = new byte[256];
        new Random(42).nextBytes(garbage);
        garbage[0] = 0x42;

        // Then
        assertThatThrownBy(() -> codec.decode(garbage))
                .isInstanceOf(EventDecodingException.class)
                .hasMessageContaining("not a single-object encoded audit event")
                .hasMessageContaining("0x42");
    }

    @Test
    void tooShortInputIsRefused() {
        assertThatThrownBy(() -> codec.decode(new byte[] {(byte) 0xC3, 0x01, 1}))
                .isInstanceOf(EventDecodingException.class)
                .hasMessageContaining("3 bytes");
        assertThatThrownBy(() -> codec.decode(null))
                .isInstanceOf(EventDecodingException.class);
    }

    @Test
    void anUnknownSchemaFingerprintIsNamed() {
        // Given
        byte[] bytes = codec.encode(EventFixtures.allFieldsSet().getFirst());
        Arrays.fill(bytes, 2, 10, (byte) 0x11);

        // Then
        assertThatThrownBy(() -> codec.decode(bytes))
                .isInstanceOf(EventDecodingException.class)
                .hasMessageContaining("unknown schema")
                .hasMessageContaining("1111111111111111");
    }

    @Test
    void aTruncatedBodyIsRefused() {
        // Given
        byte[] bytes = codec.encode(EventFixtures.allFieldsSet().getFirst());
        byte[] truncated = Arrays.copyOf(bytes, bytes.length / 2);

        // Then
        assertThatThrownBy(() -> codec.decode(truncated))
                .isInstanceOf(EventDecodingException.class)
                .hasMessageContaining("corrupt audit event");
    }

    @Test
    void aHugeDeclaredLengthDoesNotAllocateIt() {
        // Given: a valid header, then a body whose first string claims about 1 GiB
        byte[] header = Arrays.copyOf(codec.encode(EventFixtures.allFieldsSet().getFirst()), 10);
        byte[] bytes = Arrays.copyOf(header, 20);
        long zigzag = (1L << 30) << 1;
        int i = 10;
        while ((zigzag & ~0x7FL) != 0) {
            bytes[i++] = (byte) ((zigzag & 0x7F) | 0x80);
            zigzag >>>= 7;
        }
        bytes[i] = (byte) zigzag;

        // Then
        assertThatThrownBy(() -> codec.decode(bytes))
                .isInstanceOf(EventDecodingException.class)
                .hasMessageContaining("corrupt audit event")
                .hasRootCauseInstanceOf(SystemLimitException.class);
    }

    @Test
    void valuesTheCoreModelRefusesAreADecodingError() {
        // Given: an envelope whose session id is blank, which SessionId refuses
        AuditRecord record = AvroEventWriter.toAvro(EventFixtures.allFieldsSet().getFirst());
        record.setSessionId(" ");
        byte[] bytes = AuditEventCodec.toArray(encode(record));

        // Then
        assertThatThrownBy(() -> codec.decode(bytes))
                .isInstanceOf(EventDecodingException.class)
                .hasMessageContaining("e-0001")
                .hasMessageContaining("session id must not be blank");
    }

    @Test
    void controlMessagesRoundTrip() {
        // Given
        ControlCodec control = new ControlCodec();
        ControlMessage cancel = new ControlMessage.CancelQuery(4242, -17, "edge-2");
        ControlMessage cancelBare = new ControlMessage.CancelQuery(1, 2, null);
        ControlMessage kill = new ControlMessage.KillSession(new SessionId("s-9"), "revoked");
        ControlMessage killBare = new ControlMessage.KillSession(new SessionId("s-9"), null);

        // Then
        for (ControlMessage m : new ControlMessage[] {cancel, cancelBare, kill, killBare}) {
            assertThat(control.decode(control.encode(m))).isEqualTo(m);
        }
    }

    @Test
    void anAuditEventIsNotAControlMessage() {
        // Given
        byte[] audit = codec.encode(EventFixtures.allFieldsSet().getFirst());

        // Then
        assertThatThrownBy(() -> new ControlCodec().decode(audit))
                .isInstanceOf(EventDecodingException.class)
                .hasMessageContaining("control message written with an unknown schema");
    }

    private static ByteBuffer encode(AuditRecord record) {
        try {
            return AuditRecord.getEncoder().encode(record);
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** The records a sealed type permits, through nested sealed interfaces (DecisionRequest). */
    private static Set<Class<?>> concreteEvents(Class<?> type) {
        if (!type.isSealed()) return Set.of(type);
        return java.util.Arrays.stream(type.getPermittedSubclasses())
                .flatMap(c -> concreteEvents(c).stream())
                .collect(Collectors.toSet());
    }
}
