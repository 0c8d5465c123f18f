package dev.gatehouse.platform.events;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.stream.Collectors;
import java.util.stream.Stream;

import org.apache.avro.Schema;
import org.apache.avro.SchemaNormalization;
import org.apache.avro.generic.GenericData;
import org.apache.avro.generic.GenericDatumReader;
import org.apache.avro.generic.GenericEnumSymbol;
import org.apache.avro.generic.GenericRecord;
import org.apache.avro.generic.IndexedRecord;
import org.apache.avro.io.DecoderFactory;
import org.apache.avro.message.BinaryMessageEncoder;
import org.apache.avro.SystemLimitException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.DryRunVerdict;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.Verdict;
import dev.gatehouse.schemas.v1.AuditRecord;
import dev.gatehouse.schemas.v1.ControlRecord;

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
    void aCommandsStatementsRoundTripInOrderEachWithItsOwnParameters() {
        // Given
        AuditEvent.CommandReceived event = EventFixtures.allFieldsSet().stream()
                .filter(e -> e instanceof AuditEvent.CommandReceived c && c.refusal() != null)
                .map(AuditEvent.CommandReceived.class::cast).findFirst().orElseThrow();

        // When
        AuditEvent.CommandReceived decoded = (AuditEvent.CommandReceived) codec.decode(codec.encode(event));

        // Then
        SqlCommand command = decoded.command();
        assertThat(decoded.refusal()).isEqualTo("standard_conforming_strings is pinned to on by Gatehouse");
        assertThat(command.protocol()).isEqualTo("mysql");
        assertThat(command.statements()).extracting(CommandStatement::step)
                .containsExactly(CommandStatement.Step.EXECUTE, CommandStatement.Step.BIND, CommandStatement.Step.QUERY);
        CommandStatement execute = command.statements().getFirst();
        assertThat(execute.parameters()).containsExactly("100", null);
        assertThat(execute.statementName()).isEqualTo("upd");
        assertThat(execute.portalName()).isEqualTo("p1");
        assertThat(execute.parametersDigest()).startsWith("sha256:");
        assertThat(execute.rowLimit()).isEqualTo(100);
        assertThat(execute.continued()).isTrue();
        assertThat(execute.via()).isEqualTo("EXECUTE upd(100, NULL)");
        assertThat(execute.analysis().runsCode()).isTrue();
        assertThat(execute.analysis().uncertainty()).containsExactly("a trigger on public.accounts runs code");
        assertThat(execute.analysis().filterColumns()).contains("public.accounts.id");
        assertThat(command.statements().get(1).statementName()).isEmpty();
        assertThat(command.statements().get(1).parameters()).containsExactly("search_path");
        assertThat(command.statements().get(2).parameters()).isEmpty();
        assertThat(command).isEqualTo(event.command());
    }

    @Test
    void everyFieldOfTheSchemaIsWrittenByTheFixtures() {
        // Given: the Avro records the writer makes of every fixture
        Map<String, Set<String>> written = new TreeMap<>();
        Map<String, Schema> records = new TreeMap<>();
        for (AuditEvent event : EventFixtures.allFieldsSet()) {
            collectWritten(AvroEventWriter.toAvro(event), written, records);
        }

        // When: the fields no fixture gets a value other than the field's default into
        List<String> alwaysDefault = new ArrayList<>();
        records.forEach((name, schema) -> schema.getFields().forEach(f -> {
            if (!written.getOrDefault(name, Set.of()).contains(f.name())) alwaysDefault.add(name + "." + f.name());
        }));

        // Then: a field the writer drops (left at its default) cannot hide
        assertThat(alwaysDefault).isEmpty();
    }

    @Test
    void theCodecKnowsTheReleasedWriterSchemaAndTheCurrentOne() {
        // When
        List<Long> fingerprints = AuditEventCodec.writerSchemas().stream()
                .map(SchemaNormalization::parsingFingerprint64).toList();

        // Then
        assertThat(fingerprints).contains(SchemaNormalization.parsingFingerprint64(AuditRecord.getClassSchema()),
                RELEASED_V1_FINGERPRINT);
    }

    @ParameterizedTest
    @MethodSource("releasedEventTypes")
    void aRecordWrittenWithTheReleasedSchemaDecodesWithTheNewFieldsAtTheirDefaults(AuditEvent event) throws Exception {
        // Given: the event as a producer of the first version wrote it
        byte[] bytes = writtenWith(RELEASED_V1_FINGERPRINT, event);

        // When
        AuditEvent decoded = codec.decode(bytes);

        // Then
        switch (decoded) {
            case AuditEvent.SessionOpened o -> {
                assertThat(o.startupParameters()).isEmpty();
                assertThat(o.targetParameters()).isEmpty();
                assertThat(o.targetProcessId()).isNull();
                assertThat(o.identity().subject()).isEqualTo(((AuditEvent.SessionOpened) event).identity().subject());
                assertThat(o.identity().ci().commitSha()).isEqualTo("0123456789abcdef0123456789abcdef01234567");
                assertThat(o.identity().ci().actor()).as("a field the first version did not have").isNull();
            }
            case AuditEvent.CommandReceived c -> {
                assertThat(c.refusal()).isNull();
                assertThat(c.command().protocol()).isEqualTo("postgres");
                assertThat(c.command().statements()).isEmpty();
                assertThat(c.command().sql()).isEqualTo(((AuditEvent.CommandReceived) event).command().sql());
                assertThat(c.command().parameters()).containsExactly("100", null);
                assertThat(c.command().analysis().statements()).isNotEmpty().allSatisfy(s -> {
                    assertThat(s.runsCode()).isFalse();
                    assertThat(s.uncertain()).isFalse();
                    assertThat(s.uncertainty()).isEmpty();
                    assertThat(s.settings()).isEmpty();
                    assertThat(s.filterColumns()).isEmpty();
                });
            }
            case AuditEvent.CommandCompleted c -> {
                assertThat(c.outcome().statementsRun()).isEqualTo(-1);
                assertThat(c.outcome().commandTags()).containsExactly("UPDATE 1", "SELECT 1");
            }
            default -> throw new AssertionError("no expectation for " + decoded);
        }
    }

    static Stream<AuditEvent> releasedEventTypes() {
        // v1-shaped events of the types whose records gained fields
        return Stream.of(
                new AuditEvent.SessionOpened(EventFixtures.HEADER, EventFixtures.identity(), EventFixtures.connection(),
                        "10.0.0.7:51234", "app", "psql", "enforce", true),
                new AuditEvent.CommandReceived(EventFixtures.HEADER, EventFixtures.command(), EventFixtures.identity(),
                        EventFixtures.connection(), "edge-1", 3, "enforce"),
                EventFixtures.allFieldsSet().stream().filter(e -> e instanceof AuditEvent.CommandCompleted).findFirst()
                        .orElseThrow());
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
        ControlMessage killConnection = new ControlMessage.KillConnection(77, true, "alice", "https://issuer", "s-1", "edge-1");
        ControlMessage killConnectionBare = new ControlMessage.KillConnection(78, false, "bob", "https://issuer", null, null);

        // Then
        for (ControlMessage m : new ControlMessage[] {cancel, cancelBare, kill, killBare, killConnection, killConnectionBare}) {
            assertThat(control.decode(control.encode(m))).isEqualTo(m);
        }
    }

    @Test
    void controlMessagesOfTheReleasedSchemaDecode() throws java.io.IOException {
        // Given a cancel and a kill written by an edge of the released version (no KillConnection yet)
        ControlCodec control = new ControlCodec();
        Schema released = AuditEventCodec.WriterSchemas.of(ControlRecord.getClassSchema()).stream()
                .filter(w -> w.getField("payload").schema().getTypes().stream().noneMatch(t -> t.getName().equals("KillConnection")))
                .findFirst().orElseThrow();
        for (ControlMessage m : new ControlMessage[] {new ControlMessage.CancelQuery(4242, -17, "edge-2"),
                new ControlMessage.KillSession(new SessionId("s-9"), "revoked")}) {
            byte[] current = control.encode(m);
            GenericRecord old = new GenericDatumReader<GenericRecord>(ControlRecord.getClassSchema(), released)
                    .read(null, DecoderFactory.get().binaryDecoder(current, 10, current.length - 10, null));
            byte[] bytes = AuditEventCodec.toArray(new BinaryMessageEncoder<GenericRecord>(GenericData.get(), released).encode(old));

            // Then
            assertThat(control.decode(bytes)).isEqualTo(m);
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

    /** The CRC-64-AVRO fingerprint of the first released AuditRecord schema. */
    private static final long RELEASED_V1_FINGERPRINT = Long.parseUnsignedLong("90e9f815fc424e6d", 16);

    /**
     * The event in single-object encoding with the writer schema of {@code fingerprint}: the current
     * record resolved to that schema (fields it lacks dropped), then encoded with it.
     */
    private static byte[] writtenWith(long fingerprint, AuditEvent event) throws java.io.IOException {
        Schema writer = AuditEventCodec.writerSchemas().stream()
                .filter(s -> SchemaNormalization.parsingFingerprint64(s) == fingerprint).findFirst().orElseThrow();
        byte[] current = codec().encode(event);
        GenericRecord old = new GenericDatumReader<GenericRecord>(AuditRecord.getClassSchema(), writer)
                .read(null, DecoderFactory.get().binaryDecoder(current, 10, current.length - 10, null));
        return AuditEventCodec.toArray(new BinaryMessageEncoder<GenericRecord>(GenericData.get(), writer).encode(old));
    }

    private static AuditEventCodec codec() {
        return new AuditEventCodec();
    }

    /**
     * Notes, per record type, the fields that hold a value other than their default (every field
     * without a default counts when present), walking nested records, arrays, maps and unions.
     */
    private static void collectWritten(Object value, Map<String, Set<String>> written, Map<String, Schema> records) {
        switch (value) {
            case IndexedRecord r -> {
                Schema schema = r.getSchema();
                records.putIfAbsent(schema.getFullName(), schema);
                for (Schema.Field f : schema.getFields()) {
                    Object v = r.get(f.pos());
                    if (!f.hasDefaultValue() || !Objects.equals(plain(v), plain(GenericData.get().getDefaultValue(f)))) {
                        written.computeIfAbsent(schema.getFullName(), k -> new TreeSet<>()).add(f.name());
                    }
                    collectWritten(v, written, records);
                }
            }
            case Collection<?> c -> c.forEach(v -> collectWritten(v, written, records));
            case Map<?, ?> m -> m.values().forEach(v -> collectWritten(v, written, records));
            case null, default -> { }
        }
    }

    /** A value comparable with a field's default: texts and enum symbols as strings, containers element-wise. */
    private static Object plain(Object value) {
        return switch (value) {
            case null -> null;
            case CharSequence s -> s.toString();
            case Enum<?> e -> e.name();
            case GenericEnumSymbol<?> e -> e.toString();
            case Collection<?> c -> c.stream().map(AuditEventCodecTest::plain).toList();
            case Map<?, ?> m -> {
                Map<String, Object> copy = new TreeMap<>();
                m.forEach((k, v) -> copy.put(k.toString(), plain(v)));
                yield copy;
            }
            case Instant i -> i.toEpochMilli() * 1000;
            default -> value;
        };
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
