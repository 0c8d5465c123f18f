package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.masking.ColumnName;
import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfile;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.util.ResourceLeakDetector;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResultMaskerTest {

    private static final int USERS = 16384;
    private static final MaskingProfiles PROFILES = MaskingProfiles.parse("""
            profiles:
              - name: pii
                columns:
                  - column: public.users.email
                    method: hmac
                  - column: "*.ssn"
                    method: {keep_last: 4}
                  - column: public.users.birth_date
                    method: redact
                  - column: public.users.profile
                    method: redact
                detectors:
                  - detector: email
                    method: redact
                  - detector: payment_card
                    method: {keep_last: 4}
              - name: copyable
                copy: mask
                detectors:
                  - detector: email
                    method: redact
                  - detector: us_ssn
                    method: "null"
            """, () -> HmacKey.of("result-masker-test-key"));

    private static final ResultMasker.Columns CATALOG = (oid, attnum) -> oid != USERS ? Optional.empty() : Optional.ofNullable(
            Map.of(1, new ColumnName("public", "users", "id"), 2, new ColumnName("public", "users", "email"),
                    3, new ColumnName("public", "users", "ssn"), 4, new ColumnName("public", "users", "birth_date"),
                    5, new ColumnName("public", "users", "note"), 6, new ColumnName("public", "users", "profile")).get(attnum));

    /** name, table oid, attnum, type oid, format. */
    private record Field(String name, int table, int attnum, int type, int format) {
    }

    @BeforeAll
    static void paranoid() {
        ResourceLeakDetector.setLevel(ResourceLeakDetector.Level.PARANOID);
    }

    @Test
    void masksColumnsAndDetectorsInTextFormat() {
        // Given a masker and the description of a result over public.users plus an expression
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        describe(masker, new Field("id", USERS, 1, 23, 0), new Field("email", USERS, 2, 25, 0),
                new Field("ssn", USERS, 3, 1043, 0), new Field("birth_date", USERS, 4, 1082, 0),
                new Field("note", USERS, 5, 25, 0), new Field("?column?", 0, 0, 25, 0));

        // When a row streams through
        List<byte[]> row = values(relay(masker, dataRow("42", "alice@example.com", "123-45-6789", "1990-02-03",
                "card 4111 1111 1111 1111 on file", "mail bob@example.org")));

        // Then
        assertThat(text(row.get(0))).isEqualTo("42");
        assertThat(text(row.get(1))).matches("[0-9a-f]{16}");
        assertThat(text(row.get(2))).isEqualTo("***-**-6789");
        assertThat(row.get(3)).as("a column rule on a non-text type yields NULL").isNull();
        assertThat(text(row.get(4))).isEqualTo("card **** **** **** 1111 on file");
        assertThat(text(row.get(5))).isEqualTo("mail [REDACTED]");
        assertThat(masker.stats().columns()).containsExactlyInAnyOrderEntriesOf(Map.of(
                "public.users.email", 1L, "public.users.ssn", 1L, "public.users.birth_date", 1L));
        assertThat(masker.stats().detectors()).containsExactlyInAnyOrderEntriesOf(Map.of("payment_card", 1L, "email", 1L));
        assertThat(masker.stats().values()).isEqualTo(5);
    }

    @Test
    void hmacJoinsAcrossRowsAndNullsStayNull() {
        // Given
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        describe(masker, new Field("email", USERS, 2, 25, 0));

        // When
        String a = text(values(relay(masker, dataRow("alice@example.com"))).get(0));
        String b = text(values(relay(masker, dataRow("alice@example.com"))).get(0));
        List<byte[]> nullRow = values(relay(masker, dataRow((String) null)));

        // Then
        assertThat(a).isEqualTo(b);
        assertThat(nullRow.get(0)).isNull();
        assertThat(masker.stats().columns()).containsEntry("public.users.email", 2L);
    }

    @Test
    void rowsWithNothingToMaskAreRelayedAsTheSameBuffer() {
        // Given a result without text columns, and one whose text holds nothing sensitive
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        describe(masker, new Field("id", USERS, 1, 23, 0), new Field("note", USERS, 5, 25, 0));
        ByteBuf original = dataRow("7", "nothing here");
        BackendFrame frame = new BackendFrame(original);

        // When
        ResultMasker.Rewrite rewrite = masker.onFrame(frame);

        // Then the very bytes are relayed, no copy
        assertThat(rewrite.frame()).isSameAs(original);
        rewrite.frame().release();
    }

    @Test
    void binaryTextAndJsonbAreMaskedOtherBinaryTypesAreLeftOrNulled() {
        // Given binary-format columns: int4, text (column rule), text (scanned), jsonb (column rule), jsonb (scanned)
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        describe(masker, new Field("id", USERS, 1, 23, 1), new Field("email", USERS, 2, 25, 1),
                new Field("note", USERS, 5, 25, 1), new Field("profile", USERS, 6, 3802, 1), new Field("doc", 0, 0, 3802, 1));
        byte[] id = {0, 0, 0, 42};
        byte[] jsonb = withVersion("{\"contact\": \"carol@example.net\"}");

        // When
        List<byte[]> row = values(relay(masker, dataRowBytes(id, bytes("dave@example.com"), bytes("x eve@example.com y"),
                jsonb, jsonb)));

        // Then
        assertThat(row.get(0)).isEqualTo(id);
        assertThat(text(row.get(1))).matches("[0-9a-f]{16}");
        assertThat(text(row.get(2))).isEqualTo("x [REDACTED] y");
        assertThat(row.get(3)).isEqualTo(withVersion("\"[REDACTED]\""));
        assertThat(row.get(4)).isEqualTo(withVersion("{\"contact\": \"[REDACTED]\"}"));
    }

    @Test
    void tablesTheCatalogDoesNotKnowAreScannedAndCounted() {
        // Given a column of a table created after the catalog snapshot
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        describe(masker, new Field("email", 99999, 2, 25, 0));

        // When
        List<byte[]> row = values(relay(masker, dataRow("frank@example.com")));

        // Then detectors still apply
        assertThat(text(row.get(0))).isEqualTo("[REDACTED]");
        assertThat(masker.unknownTables()).isEqualTo(1);
    }

    @Test
    void executeWithoutDescribeGetsOneInjectedAndItsAnswerDropped() {
        // Given an extended batch whose Execute has no Describe (a client reusing a described statement)
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        List<FrontendMessage> batch = new ArrayList<>(List.of(
                new FrontendMessage.Bind("", "S_1", new short[0], List.of(), new short[]{1}),
                new FrontendMessage.Execute("", 0), new FrontendMessage.Sync()));

        // When
        List<FrontendMessage> prepared = masker.prepare(batch);
        ResultMasker.Rewrite bind = masker.onFrame(new BackendFrame(frame('2', new byte[0])));
        ResultMasker.Rewrite description = masker.onFrame(new BackendFrame(rowDescription(new Field("email", USERS, 2, 25, 1))));
        List<byte[]> row = values(relay(masker, dataRow("gina@example.com")));

        // Then
        assertThat(prepared).hasSize(4);
        assertThat(prepared.get(1)).isEqualTo(new FrontendMessage.Describe((byte) 'P', ""));
        assertThat(bind.dropped()).isFalse();
        bind.frame().release();
        assertThat(description.dropped()).isTrue();
        assertThat(text(row.get(0))).matches("[0-9a-f]{16}");
    }

    @Test
    void aClientDescribeIsRelayedAndAStatementDescriptionDoesNotDescribeRows() {
        // Given Parse/Describe S/Bind/Describe P/Execute
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        List<FrontendMessage> prepared = masker.prepare(new ArrayList<>(List.of(
                new FrontendMessage.Parse("", "select", new int[0]), new FrontendMessage.Describe((byte) 'S', ""),
                new FrontendMessage.Bind("", "", new short[0], List.of(), new short[0]),
                new FrontendMessage.Describe((byte) 'P', ""), new FrontendMessage.Execute("", 0), new FrontendMessage.Sync())));

        // When the statement is described as text columns, the portal as its real result
        ResultMasker.Rewrite ofStatement = masker.onFrame(new BackendFrame(rowDescription(new Field("id", USERS, 1, 23, 0))));
        ResultMasker.Rewrite ofPortal = masker.onFrame(new BackendFrame(rowDescription(new Field("email", USERS, 2, 25, 0))));
        List<byte[]> row = values(relay(masker, dataRow("hal@example.com")));

        // Then nothing was injected, both descriptions are relayed, and the portal's applies
        assertThat(prepared).hasSize(6);
        assertThat(ofStatement.dropped()).isFalse();
        assertThat(ofPortal.dropped()).isFalse();
        ofStatement.frame().release();
        ofPortal.frame().release();
        assertThat(text(row.get(0))).matches("[0-9a-f]{16}");
    }

    @Test
    void rowsWithoutADescriptionFailClosed() {
        // Given
        ResultMasker masker = new ResultMasker(profile("pii"), CATALOG);
        ByteBuf row = dataRow("ivan@example.com");

        // When / Then
        assertThatThrownBy(() -> masker.onFrame(new BackendFrame(row))).isInstanceOf(ResultMasker.MaskingFailure.class)
                .hasMessageContaining("without describing");
        assertThat(row.refCnt()).isZero();
    }

    @Test
    void copyIsRefusedUnlessTheProfileMasksIt() {
        // Given COPY OUT in text format with 2 columns
        byte[] copyOut = {0, 0, 2, 0, 0, 0, 0};

        // When / Then: refused under a profile with copy: refuse
        ResultMasker strict = new ResultMasker(profile("pii"), CATALOG);
        assertThatThrownBy(() -> strict.onFrame(new BackendFrame(frame('H', copyOut))))
                .isInstanceOf(ResultMasker.MaskingFailure.class).hasMessageContaining("does not allow COPY");

        // and masked per field under copy: mask
        ResultMasker copyable = new ResultMasker(profile("copyable"), CATALOG);
        relay(copyable, frame('H', copyOut)).release();
        ByteBuf out = relay(copyable, frame('d', bytes("1\tjoe@example.com, 123-45-6789\t\\N\n")));
        assertThat(text(payload(out))).isEqualTo("1\t\\N\t\\N\n");
        out.release();
        ByteBuf out2 = relay(copyable, frame('d', bytes("2\tkim@example.com\tplain\n")));
        assertThat(text(payload(out2))).isEqualTo("2\t[REDACTED]\tplain\n");
        out2.release();
        assertThat(copyable.stats().detectors()).containsEntry("email", 1L).containsEntry("us_ssn", 1L);
    }

    @Test
    void binaryCopyIsRefused() {
        // Given
        ResultMasker copyable = new ResultMasker(profile("copyable"), CATALOG);

        // When / Then
        assertThatThrownBy(() -> copyable.onFrame(new BackendFrame(frame('H', new byte[]{1, 0, 1, 0, 1}))))
                .isInstanceOf(ResultMasker.MaskingFailure.class).hasMessageContaining("binary COPY");
    }

    // ------------------------------------------------------------------ helpers

    private static MaskingProfile profile(String name) {
        return PROFILES.find(name).orElseThrow();
    }

    /** Runs one frame through the masker, expecting it relayed; returns what is relayed (caller releases). */
    private static ByteBuf relay(ResultMasker masker, ByteBuf frame) {
        ResultMasker.Rewrite rewrite = masker.onFrame(new BackendFrame(frame));
        assertThat(rewrite.dropped()).isFalse();
        ByteBuf out = rewrite.frame();
        assertThat(out.getInt(out.readerIndex() + 1)).as("length field").isEqualTo(out.readableBytes() - 1);
        return out;
    }

    private static void describe(ResultMasker masker, Field... fields) {
        relay(masker, rowDescription(fields)).release();
    }

    private static List<byte[]> values(ByteBuf dataRow) {
        try {
            return BackendFrames.parseDataRow(new BackendFrame(dataRow.retainedDuplicate()));
        } finally {
            dataRow.release(2);
        }
    }

    private static ByteBuf payload(ByteBuf frame) {
        return frame.slice(frame.readerIndex() + 5, frame.readableBytes() - 5);
    }

    private static ByteBuf rowDescription(Field... fields) {
        ByteBuf b = Unpooled.buffer();
        b.writeShort(fields.length);
        for (Field f : fields) {
            b.writeBytes(bytes(f.name())).writeByte(0).writeInt(f.table()).writeShort(f.attnum()).writeInt(f.type())
                    .writeShort(-1).writeInt(-1).writeShort(f.format());
        }
        return frame('T', ByteBufUtilBytes(b));
    }

    private static ByteBuf dataRow(String... values) {
        return dataRowBytes(Arrays.stream(values).map(v -> v == null ? null : bytes(v)).toArray(byte[][]::new));
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
        return frame('D', ByteBufUtilBytes(b));
    }

    private static ByteBuf frame(char type, byte[] payload) {
        return Unpooled.buffer().writeByte(type).writeInt(payload.length + 4).writeBytes(payload);
    }

    private static byte[] ByteBufUtilBytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }

    private static byte[] withVersion(String json) {
        byte[] text = bytes(json);
        byte[] out = new byte[text.length + 1];
        out[0] = 1;
        System.arraycopy(text, 0, out, 1, text.length);
        return out;
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    private static String text(byte[] b) {
        return new String(b, StandardCharsets.UTF_8);
    }

    private static String text(ByteBuf b) {
        return b.toString(StandardCharsets.UTF_8);
    }
}
