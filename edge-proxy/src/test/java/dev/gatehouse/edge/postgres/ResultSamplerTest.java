package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.catalog.ResultCapture;
import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResultSamplerTest {

    private static final Supplier<EventHeader> HEADER =
            () -> EventHeader.now(new SessionId("s-1"), "edge", "edge-test");
    private static final CommandId COMMAND = new CommandId("c-1");

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @Test
    void capturesTheFirstRowsWithNullsAndRecordsTruncation() {
        // Given a sampler for two rows
        ResultSampler sampler = new ResultSampler(new ResultCapture(2, 16384), List.of());

        // When a three-row result streams through
        feed(sampler, rowDescription(0, "id", "email"), dataRow("1", "a@example.com"), dataRow("2", null),
                dataRow("3", "c@example.com"), frame('C', "SELECT 3\0".getBytes(StandardCharsets.UTF_8)));

        // Then
        ResultSampler.Sample sample = sampler.sample();
        assertThat(sample.columns()).containsExactly("id", "email");
        assertThat(sample.rows()).containsExactly(List.of("1", "a@example.com"), Arrays.asList("2", null));
        assertThat(sample.truncated()).isTrue();
        assertThat(sample.bytes()).isEqualTo(1 + 13 + 1);
    }

    @Test
    void aResultWithinTheLimitsIsNotTruncated() {
        // Given
        ResultSampler sampler = new ResultSampler(new ResultCapture(2, 16384), List.of());

        // When exactly as many rows as the limit
        feed(sampler, rowDescription(0, "n"), dataRow("1"), dataRow("2"));

        // Then
        assertThat(sampler.sample().rows()).hasSize(2);
        assertThat(sampler.sample().truncated()).isFalse();
    }

    @Test
    void theByteLimitCutsTheRowThatCrossesItAndEndsTheCapture() {
        // Given at most 10 bytes
        ResultSampler sampler = new ResultSampler(new ResultCapture(100, 10), List.of());

        // When rows of 6 bytes each stream through (the second crosses the limit; 'é' is two bytes)
        feed(sampler, rowDescription(0, "a", "b"), dataRow("abc", "def"), dataRow("ééé", "xyz"), dataRow("no", "more"));

        // Then the second row is cut at a character boundary within the 4 bytes left, the third is not captured
        ResultSampler.Sample sample = sampler.sample();
        assertThat(sample.rows()).containsExactly(List.of("abc", "def"), List.of("éé", ""));
        assertThat(sample.bytes()).isEqualTo(10);
        assertThat(sample.truncated()).isTrue();
    }

    @Test
    void binaryValuesAreHexFromTheRowDescriptionOrFromTheBind() {
        // Given a described binary result, and an undescribed one whose Bind asked for binary results
        ResultSampler described = new ResultSampler(ResultCapture.DEFAULT, List.of());
        ResultSampler bound = new ResultSampler(ResultCapture.DEFAULT, List.of(new short[]{0, 1}));

        // When
        feed(described, rowDescription(1, "i"), dataRowBytes(new byte[]{0, 0, 0, 42}), dataRowBytes((byte[]) null));
        feed(bound, frame('1', new byte[0]), frame('2', new byte[0]),
                dataRowBytes("7".getBytes(StandardCharsets.UTF_8), new byte[]{(byte) 0xCA, (byte) 0xFE}));

        // Then
        assertThat(described.sample().rows()).containsExactly(List.of("\\x0000002a"), Arrays.asList((String) null));
        assertThat(described.sample().bytes()).isEqualTo(10);
        assertThat(bound.sample().columns()).isEmpty();
        assertThat(bound.sample().rows()).containsExactly(List.of("7", "\\xcafe"));
    }

    @Test
    void aStatementDescriptionDoesNotOverrideTheFormatsOfTheBindThatFollows() {
        // Given a batch Parse, Describe statement, Bind (binary results), Execute
        ResultSampler sampler = new ResultSampler(ResultCapture.DEFAULT, List.<short[]>of(new short[]{1}));

        // When the statement's RowDescription (format codes not yet known: 0) precedes the BindComplete
        feed(sampler, frame('1', new byte[0]), rowDescription(0, "n"), frame('2', new byte[0]),
                dataRowBytes(new byte[]{1, 2}));

        // Then
        assertThat(sampler.sample().columns()).containsExactly("n");
        assertThat(sampler.sample().rows()).containsExactly(List.of("\\x0102"));
    }

    @Test
    void severalStatementsGiveOneSampleWithTheFirstColumns() {
        // Given
        ResultSampler sampler = new ResultSampler(ResultCapture.DEFAULT, List.of());

        // When a simple query with two SELECTs answers
        feed(sampler, rowDescription(0, "first"), dataRow("1"), frame('C', "SELECT 1\0".getBytes(StandardCharsets.UTF_8)),
                rowDescription(0, "second", "other"), dataRow("2", "3"));

        // Then
        assertThat(sampler.sample().columns()).containsExactly("first");
        assertThat(sampler.sample().rows()).containsExactly(List.of("1"), List.of("2", "3"));
    }

    @Test
    void copyOutRowsAreCapturedAsTextLines() {
        // Given
        ResultSampler sampler = new ResultSampler(new ResultCapture(2, 1024), List.of());

        // When COPY ... TO STDOUT (text) answers three rows
        feed(sampler, frame('H', new byte[]{0, 0, 2, 0, 0, 0, 0}), copyData("1\talice\n"), copyData("2\t\\N\n"),
                copyData("3\tcarol\n"), frame('c', new byte[0]));

        // Then
        assertThat(sampler.sample().rows()).containsExactly(List.of("1\talice"), List.of("2\t\\N"));
        assertThat(sampler.sample().truncated()).isTrue();
    }

    @Test
    void aCommandWithoutAResultHasNoSample() {
        // Given
        ResultSampler sampler = new ResultSampler(ResultCapture.DEFAULT, List.of());

        // When
        feed(sampler, frame('C', "INSERT 0 1\0".getBytes(StandardCharsets.UTF_8)), frame('Z', new byte[]{'I'}));

        // Then
        assertThat(sampler.hasResult()).isFalse();
        assertThat(sampler.events(HEADER, COMMAND, 1, false)).isEmpty();
    }

    @Test
    void anEmptyResultIsOneChunkWithItsColumns() {
        // Given
        ResultSampler sampler = new ResultSampler(ResultCapture.DEFAULT, List.of());
        feed(sampler, rowDescription(0, "id"));

        // When
        List<AuditEvent.ResultSampled> events = sampler.events(HEADER, COMMAND, 4, true);

        // Then
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.columns()).containsExactly("id");
            assertThat(e.rows()).isEmpty();
            assertThat(e.chunk()).isZero();
            assertThat(e.last()).isTrue();
            assertThat(e.sequence()).isEqualTo(4);
            assertThat(e.masked()).isTrue();
            assertThat(e.truncated()).isFalse();
        });
    }

    @Test
    void aLargeSampleIsCutIntoChunksUnder256KiBThatReassemble() {
        // Given the largest byte limit and rows of about 10 KB
        ResultSampler sampler = new ResultSampler(new ResultCapture(1000, ResultCapture.MAX_BYTES), List.of());
        String[] columns = new String[20];
        for (int i = 0; i < columns.length; i++) columns[i] = "column_with_a_long_name_" + i;
        List<ByteBuf> frames = new ArrayList<>();
        frames.add(rowDescription(0, columns));
        for (int r = 0; r < 600; r++) {
            String[] values = new String[20];
            for (int c = 0; c < values.length; c++) values[c] = c == 3 ? null : ("r" + r + "c" + c + "-").repeat(60);
            frames.add(dataRow(values));
        }
        feed(sampler, frames.toArray(ByteBuf[]::new));

        // When
        List<AuditEvent.ResultSampled> events = sampler.events(HEADER, COMMAND, 9, false);

        // Then every chunk encodes under the limit, and the chunks give back the sample
        AuditEventCodec codec = new AuditEventCodec();
        assertThat(events).hasSizeGreaterThan(10);
        List<List<String>> reassembled = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            AuditEvent.ResultSampled e = events.get(i);
            byte[] encoded = codec.encode(e);
            assertThat(encoded.length).as("chunk %d", i).isLessThanOrEqualTo(ResultSampler.CHUNK_LIMIT);
            AuditEvent.ResultSampled decoded = (AuditEvent.ResultSampled) codec.decode(encoded);
            assertThat(decoded.rows().equals(e.rows()) && decoded.columns().equals(e.columns()))
                    .as("chunk %d decodes to what was encoded", i).isTrue();
            assertThat(e.chunk()).isEqualTo(i);
            assertThat(e.last()).isEqualTo(i == events.size() - 1);
            assertThat(e.columns()).hasSize(i == 0 ? 20 : 0);
            assertThat(e.truncated()).isTrue();
            assertThat(e.rowsCaptured()).isEqualTo(sampler.sample().rows().size());
            reassembled.addAll(e.rows());
        }
        assertThat(reassembled).isEqualTo(sampler.sample().rows());
        assertThat(sampler.sample().bytes()).isEqualTo(ResultCapture.MAX_BYTES);
    }

    @Test
    void aRowLargerThanAChunkIsCutSoThatItFitsOne() {
        // Given a 1 MB text value and the largest byte limit
        ResultSampler sampler = new ResultSampler(new ResultCapture(10, ResultCapture.MAX_BYTES), List.of());

        // When
        feed(sampler, rowDescription(0, "doc"), dataRow("x".repeat(1_000_000)), dataRow("next"));

        // Then
        List<AuditEvent.ResultSampled> events = sampler.events(HEADER, COMMAND, 1, false);
        assertThat(sampler.sample().rows()).singleElement()
                .satisfies(row -> assertThat(row.getFirst()).hasSize(ResultSampler.ROW_LIMIT));
        assertThat(sampler.sample().truncated()).isTrue();
        assertThat(events).allSatisfy(e ->
                assertThat(new AuditEventCodec().encode(e).length).isLessThanOrEqualTo(ResultSampler.CHUNK_LIMIT));
    }

    @Test
    void samplingTheMaskedFramesCapturesOnlyMaskedValues() {
        // Given a masker that redacts e-mail addresses, and a sampler behind it as in the edge
        var profile = MaskingProfiles.parse("""
                profiles:
                  - name: mail
                    detectors:
                      - detector: email
                        method: redact
                """, () -> HmacKey.of("sampler-test-key")).find("mail").orElseThrow();
        ResultMasker masker = new ResultMasker(profile, (oid, attnum) -> Optional.empty());
        ResultSampler sampler = new ResultSampler(ResultCapture.DEFAULT, List.of());

        // When
        for (ByteBuf original : List.of(rowDescriptionTyped("note", 25), dataRow("write to alice@example.com"))) {
            ResultMasker.Rewrite rewrite = masker.onFrame(new BackendFrame(original));
            BackendFrame relayed = new BackendFrame(rewrite.frame());
            sampler.onFrame(relayed);
            relayed.release();
        }

        // Then
        assertThat(sampler.sample().rows()).containsExactly(List.of("write to [REDACTED]"));
        assertThat(sampler.events(HEADER, COMMAND, 1, true).toString()).doesNotContain("alice@example.com");
    }

    @Test
    void framesAreReadNotConsumed() {
        // Given
        ResultSampler sampler = new ResultSampler(ResultCapture.DEFAULT, List.of());
        BackendFrame row = new BackendFrame(dataRow("1", "2"));
        int index = row.frame().readerIndex();

        // When
        sampler.onFrame(row);

        // Then
        assertThat(row.refCnt()).isEqualTo(1);
        assertThat(row.frame().readerIndex()).isEqualTo(index);
        row.release();
    }

    @Test
    void aMalformedFrameEndsTheSampleAsTruncated() {
        // Given
        ResultSampler sampler = new ResultSampler(ResultCapture.DEFAULT, List.of());

        // When a DataRow claims a value longer than itself
        feed(sampler, rowDescription(0, "a"), frame('D', new byte[]{0, 1, 0, 0, 0, 9, 'x'}), dataRow("later"));

        // Then
        assertThat(sampler.sample().rows()).isEmpty();
        assertThat(sampler.sample().truncated()).isTrue();
    }

    @Test
    void disabledLimitsAndLimitsAbove4MiBAreRefused() {
        // Given / When / Then
        assertThat(new ResultCapture(0, 100).enabled()).isFalse();
        assertThat(new ResultCapture(5, 0).enabled()).isFalse();
        assertThatThrownBy(() -> new ResultSampler(ResultCapture.DISABLED, List.of()))
                .isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> new ResultCapture(20, ResultCapture.MAX_BYTES + 1))
                .hasMessageContaining("at most 4194304 (4 MiB)");
        assertThatThrownBy(() -> new ResultCapture(-1, 10)).hasMessageContaining("rows must be >= 0");
    }

    // ------------------------------------------------------------------ frames

    private static void feed(ResultSampler sampler, ByteBuf... frames) {
        for (ByteBuf f : frames) {
            BackendFrame frame = new BackendFrame(f);
            sampler.onFrame(frame);
            frame.release();
        }
    }

    /** A RowDescription of text columns (type text), every field in the given format. */
    private static ByteBuf rowDescription(int format, String... names) {
        ByteBuf b = Unpooled.buffer();
        b.writeShort(names.length);
        for (String name : names) {
            b.writeBytes(name.getBytes(StandardCharsets.UTF_8)).writeByte(0).writeInt(0).writeShort(0).writeInt(25)
                    .writeShort(-1).writeInt(-1).writeShort(format);
        }
        return frame('T', bytes(b));
    }

    private static ByteBuf rowDescriptionTyped(String name, int typeOid) {
        ByteBuf b = Unpooled.buffer();
        b.writeShort(1);
        b.writeBytes(name.getBytes(StandardCharsets.UTF_8)).writeByte(0).writeInt(0).writeShort(0).writeInt(typeOid)
                .writeShort(-1).writeInt(-1).writeShort(0);
        return frame('T', bytes(b));
    }

    private static ByteBuf dataRow(String... values) {
        return dataRowBytes(Arrays.stream(values).map(v -> v == null ? null : v.getBytes(StandardCharsets.UTF_8))
                .toArray(byte[][]::new));
    }

    private static ByteBuf dataRowBytes(byte[]... values) {
        ByteBuf b = Unpooled.buffer();
        b.writeShort(values.length);
        for (byte[] v : values) {
            if (v == null) {
                b.writeInt(-1);
            } else {
                b.writeInt(v.length).writeBytes(v);
            }
        }
        return frame('D', bytes(b));
    }

    private static ByteBuf copyData(String line) {
        return frame('d', line.getBytes(StandardCharsets.UTF_8));
    }

    private static ByteBuf frame(char type, byte[] payload) {
        return Unpooled.buffer().writeByte(type).writeInt(payload.length + 4).writeBytes(payload);
    }

    private static byte[] bytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }
}
