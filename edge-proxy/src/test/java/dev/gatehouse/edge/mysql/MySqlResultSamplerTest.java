package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.catalog.ResultCapture;
import dev.gatehouse.edge.mysql.MySqlResponseTracker.Part;
import dev.gatehouse.edge.mysql.codec.MySqlProtocol;
import dev.gatehouse.edge.session.SampleCollector;
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
import java.util.function.Supplier;

import static dev.gatehouse.edge.mysql.MySqlTestPackets.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MySqlResultSamplerTest {

    private static final Supplier<EventHeader> HEADER =
            () -> EventHeader.now(new SessionId("s-1"), "edge", "edge-test");
    private static final CommandId COMMAND = new CommandId("c-1");

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @Test
    void textRowsAreCapturedWithNullsUpToTheRowLimitAndTheRestIsRecordedAsTruncated() {
        // Given a sampler for two rows
        MySqlResultSampler sampler = text(new ResultCapture(2, 16384));

        // When a three-row result streams through
        feed(sampler, columnCount(2), column("id", LONG), column("email", VAR_STRING), eof(),
                textRow("1", "a@example.com"), textRow("2", null), textRow("3", "c@example.com"), eof());

        // Then
        AuditEvent.ResultSampled e = single(sampler);
        assertThat(e.columns()).containsExactly("id", "email");
        assertThat(e.rows()).containsExactly(List.of("1", "a@example.com"), Arrays.asList("2", null));
        assertThat(e.truncated()).isTrue();
        assertThat(e.rowsCaptured()).isEqualTo(2);
        assertThat(e.bytesCaptured()).isEqualTo(1 + 13 + 1);
    }

    @Test
    void aResultWithinTheLimitsIsNotTruncated() {
        // Given
        MySqlResultSampler sampler = text(new ResultCapture(2, 16384));

        // When exactly as many rows as the limit
        feed(sampler, columnCount(1), column("n", LONG), textRow("1"), textRow("2"), eof());

        // Then
        AuditEvent.ResultSampled e = single(sampler);
        assertThat(e.rows()).containsExactly(List.of("1"), List.of("2"));
        assertThat(e.truncated()).isFalse();
    }

    @Test
    void textValuesAreDecodedInTheConnectionsCharacterSetAndInvalidBytesAreHex() {
        // Given a utf8mb4 connection and a latin1 one
        MySqlResultSampler utf8 = text(ResultCapture.DEFAULT);
        MySqlResultSampler latin1 = new MySqlResultSampler(ResultCapture.DEFAULT, false, StandardCharsets.ISO_8859_1);

        // When both get 'zoë' in their set, and the utf8mb4 one bytes that are not UTF-8
        feed(utf8, columnCount(2), column("a", VAR_STRING), column("b", BLOB),
                textRowBytes("zoë".getBytes(StandardCharsets.UTF_8), new byte[]{(byte) 0xC3, 0x28}));
        feed(latin1, columnCount(1), column("a", VAR_STRING), textRowBytes("zoë".getBytes(StandardCharsets.ISO_8859_1)));

        // Then a text value counts the bytes sent, a hex one its hex
        assertThat(single(utf8).rows()).containsExactly(List.of("zoë", "\\xc328"));
        assertThat(single(utf8).bytesCaptured()).isEqualTo(4 + 6);
        assertThat(single(latin1).rows()).containsExactly(List.of("zoë"));
        assertThat(single(latin1).bytesCaptured()).isEqualTo(3);
    }

    @Test
    void binaryRowsAreRenderedByColumnTypeWithNullsFromTheBitmap() {
        // Given a prepared statement's result
        MySqlResultSampler sampler = binary(ResultCapture.DEFAULT);

        // When rows of numbers, strings, dates, bytes and NULLs stream through
        feed(sampler, columnCount(7), column("id", LONG), column("big", LONGLONG, UTF8MB4, UNSIGNED),
                column("small", TINY), column("name", VAR_STRING), column("born", DATE),
                column("seen", DATETIME, BINARY, 0), column("raw", BLOB, BINARY, 0), eof(),
                binaryRow(int4(42), int8(-1), new byte[]{-5}, lenenc("zoë"), date(2024, 2, 29),
                        dateTime(2024, 2, 29, 13, 14, 15), lenenc(new byte[]{(byte) 0xCA, (byte) 0xFE})),
                binaryRow(int4(-7), null, null, lenenc(""), null, null, lenenc("ab")),
                eof());

        // Then binary strings are hex even when their bytes would read as text
        AuditEvent.ResultSampled e = single(sampler);
        assertThat(e.columns()).containsExactly("id", "big", "small", "name", "born", "seen", "raw");
        assertThat(e.rows()).containsExactly(
                List.of("42", "18446744073709551615", "-5", "zoë", "2024-02-29", "2024-02-29 13:14:15", "\\xcafe"),
                Arrays.asList("-7", null, null, "", null, null, "\\x6162"));
        assertThat(e.truncated()).isFalse();
        // a binary value counts its rendering (UTF-8)
        assertThat(e.bytesCaptured()).isEqualTo(2 + 20 + 2 + 4 + 10 + 19 + 6 + 2 + 6);
    }

    @Test
    void severalResultSetsGiveOneSampleWithTheFirstColumnsAndEachSetsOwnTypes() {
        // Given a procedure called through COM_STMT_EXECUTE: two result sets of different shapes
        MySqlResultSampler sampler = binary(ResultCapture.DEFAULT);

        // When
        feed(sampler, columnCount(1), column("first", LONG), eof(), binaryRow(int4(1)), eof(),
                columnCount(2), column("second", VAR_STRING), column("other", LONGLONG), eof(),
                binaryRow(lenenc("two"), int8(3)), eof(), ok());

        // Then
        AuditEvent.ResultSampled e = single(sampler);
        assertThat(e.columns()).containsExactly("first");
        assertThat(e.rows()).containsExactly(List.of("1"), List.of("two", "3"));
    }

    @Test
    void theByteLimitCutsTheRowThatCrossesItAndEndsTheCapture() {
        // Given at most 10 bytes
        MySqlResultSampler sampler = text(new ResultCapture(100, 10));

        // When rows of 6 bytes each stream through (the second crosses the limit; 'é' is two bytes)
        feed(sampler, columnCount(2), column("a", VAR_STRING), column("b", VAR_STRING),
                textRow("abc", "def"), textRow("ééé", "xyz"), textRow("no", "more"));

        // Then the second row is cut at a character boundary within the 4 bytes left, the third is not captured
        AuditEvent.ResultSampled e = single(sampler);
        assertThat(e.rows()).containsExactly(List.of("abc", "def"), List.of("éé", ""));
        assertThat(e.bytesCaptured()).isEqualTo(10);
        assertThat(e.truncated()).isTrue();
    }

    @Test
    void binaryValuesCountTheirRenderingAgainstTheByteLimit() {
        // Given at most 8 bytes
        MySqlResultSampler sampler = binary(new ResultCapture(100, 8));

        // When a row renders as 6 + 6 bytes
        feed(sampler, columnCount(2), column("n", LONG), column("s", VAR_STRING), eof(),
                binaryRow(int4(123456), lenenc("abcdef")), binaryRow(int4(1), lenenc("x")));

        // Then
        AuditEvent.ResultSampled e = single(sampler);
        assertThat(e.rows()).containsExactly(List.of("123456", "ab"));
        assertThat(e.bytesCaptured()).isEqualTo(8);
        assertThat(e.truncated()).isTrue();
    }

    @Test
    void aRowLargerThanAChunkIsCutSoThatItFitsOne() {
        // Given a 1 MB text value and the largest byte limit
        MySqlResultSampler sampler = text(new ResultCapture(10, ResultCapture.MAX_BYTES));

        // When
        feed(sampler, columnCount(1), column("doc", BLOB), textRow("x".repeat(1_000_000)), textRow("next"));

        // Then
        List<AuditEvent.ResultSampled> events = sampler.events(HEADER, COMMAND, 1, false);
        assertThat(events).singleElement().satisfies(e -> {
            assertThat(e.rows()).singleElement()
                    .satisfies(row -> assertThat(row.getFirst()).hasSize(SampleCollector.ROW_LIMIT));
            assertThat(e.truncated()).isTrue();
            assertThat(new AuditEventCodec().encode(e).length).isLessThanOrEqualTo(SampleCollector.CHUNK_LIMIT);
        });
    }

    @Test
    void anUnreadableRowEndsTheSampleAsTruncated() {
        // Given
        MySqlResultSampler text = text(ResultCapture.DEFAULT);
        MySqlResultSampler binary = binary(ResultCapture.DEFAULT);

        // When a text row claims a value longer than itself, a binary row has a type the protocol lacks
        feed(text, columnCount(1), column("a", VAR_STRING), textRow("first"),
                packet(Part.ROW, new byte[]{9, 'x'}), textRow("later"));
        feed(binary, columnCount(1), column("a", 0x42), binaryRow(int4(1)), binaryRow(int4(2)));

        // Then what was captured before stays, nothing after
        assertThat(single(text).rows()).containsExactly(List.of("first"));
        assertThat(single(text).truncated()).isTrue();
        assertThat(single(binary).rows()).isEmpty();
        assertThat(single(binary).truncated()).isTrue();
    }

    @Test
    void unreadableDefinitionsAndRowsWithoutDefinitionsNeverThrow() {
        // Given
        MySqlResultSampler garbled = text(ResultCapture.DEFAULT);
        MySqlResultSampler early = binary(ResultCapture.DEFAULT);

        // When a column definition is not one, and rows come with no definitions (a cursor's fetch)
        feed(garbled, columnCount(1), packet(Part.COLUMN_DEFINITION, new byte[]{3, 'x', 'y', 'z'}), textRow("1"));
        feed(early, binaryRow(int4(1)));

        // Then
        assertThat(garbled.hasResult()).isTrue();
        assertThat(single(garbled).columns()).isEmpty();
        assertThat(single(garbled).rows()).isEmpty();
        assertThat(single(garbled).truncated()).isTrue();
        assertThat(single(early).rows()).isEmpty();
        assertThat(single(early).truncated()).isTrue();
    }

    @Test
    void aCommandWithoutAResultHasNoSample() {
        // Given
        MySqlResultSampler sampler = text(ResultCapture.DEFAULT);

        // When an INSERT answers OK
        feed(sampler, ok());

        // Then
        assertThat(sampler.hasResult()).isFalse();
        assertThat(sampler.events(HEADER, COMMAND, 1, false)).isEmpty();
    }

    @Test
    void anEmptyResultIsOneChunkWithItsColumns() {
        // Given
        MySqlResultSampler sampler = text(ResultCapture.DEFAULT);
        feed(sampler, columnCount(1), column("id", LONG), eof(), eof());

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
    void packetsAreReadNotConsumed() {
        // Given a payload that starts after other bytes in its buffer, as a packet's payload may
        MySqlResultSampler sampler = text(ResultCapture.DEFAULT);
        feed(sampler, columnCount(2), column("a", LONG), column("b", VAR_STRING));
        ByteBuf row = Unpooled.buffer().writeInt(0xDEADBEEF).writeBytes(bytes(textRow("1", "two").payload()));
        row.readerIndex(4);

        // When
        sampler.onPacket(Part.ROW, row);

        // Then
        assertThat(row.refCnt()).isEqualTo(1);
        assertThat(row.readerIndex()).isEqualTo(4);
        assertThat(single(sampler).rows()).containsExactly(List.of("1", "two"));
        row.release();
    }

    @Test
    void disabledLimitsAreRefused() {
        assertThatThrownBy(() -> new MySqlResultSampler(ResultCapture.DISABLED, false, StandardCharsets.UTF_8))
                .isInstanceOf(IllegalArgumentException.class);
    }

    // ------------------------------------------------------------------ packets

    private static MySqlResultSampler text(ResultCapture limits) {
        return new MySqlResultSampler(limits, false, StandardCharsets.UTF_8);
    }

    private static MySqlResultSampler binary(ResultCapture limits) {
        return new MySqlResultSampler(limits, true, StandardCharsets.UTF_8);
    }

    private static AuditEvent.ResultSampled single(MySqlResultSampler sampler) {
        List<AuditEvent.ResultSampled> events = sampler.events(HEADER, COMMAND, 1, false);
        assertThat(events).hasSize(1);
        return events.getFirst();
    }

    private static void feed(MySqlResultSampler sampler, Packet... packets) {
        for (Packet p : packets) {
            sampler.onPacket(p.part(), p.payload());
            p.payload().release();
        }
    }
}
