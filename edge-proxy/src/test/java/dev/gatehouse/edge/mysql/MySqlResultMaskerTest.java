package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfile;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.mysql.codec.BinaryValue;
import dev.gatehouse.edge.mysql.codec.MySqlProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static dev.gatehouse.edge.mysql.MySqlTestPackets.*;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MySqlResultMaskerTest {
    private static final MaskingProfile PROFILE = MaskingProfiles.parse("""
            profiles:
              - name: pii
                columns:
                  - {column: shop.people.secret, method: redact}
                  - {column: shop.people.code, method: redact}
                  - {column: "*.people.ssn", method: {keep_last: 4}}
                detectors:
                  - {detector: email, method: redact}
            """, () -> HmacKey.of("mysql-masker-test-hmac-key-01")).find("pii").orElseThrow();

    /** shop.people (a base table with ten columns c0..c7, code, secret), shop.people_v (a view). */
    private static final MySqlCatalog.Snapshot CATALOG = MySqlCatalog.build(rows(), 0);

    private static List<String[]> rows() {
        List<String[]> rows = new ArrayList<>();
        for (String c : List.of("c0", "c1", "c2", "c3", "c4", "c5", "c6", "c7", "code", "secret", "ssn")) {
            rows.add(new String[]{"shop", "people", "BASE TABLE", c});
        }
        rows.add(new String[]{"shop", "people_v", "VIEW", "loud"});
        return rows;
    }

    @Test
    void aBinaryRowOfElevenColumnsHasTheRightValuesMaskedAndItsNullBitmapStaysTrue() {
        // Given: eleven columns (a NULL bitmap of two bytes), two of them selected by rules: an INT and a VARCHAR
        MySqlResultMasker masker = new MySqlResultMasker(PROFILE, CATALOG, false, true);
        List<Packet> definitions = new ArrayList<>();
        definitions.add(columnCount(11));
        for (int i = 0; i < 8; i++) definitions.add(column("shop", "people", "c" + i, i % 2 == 0 ? LONG : VAR_STRING, i % 2 == 0 ? BINARY : UTF8MB4, 0));
        definitions.add(column("shop", "people", "code", LONG, BINARY, 0));
        definitions.add(column("shop", "people", "secret", VAR_STRING, UTF8MB4, 0));
        definitions.add(column("shop", "people", "ssn", VAR_STRING, UTF8MB4, 0));
        for (Packet p : definitions) {
            assertThat(masker.rewrite(p.part(), p.payload())).isSameAs(p.payload());
            p.payload().release();
        }

        // When: a row with a NULL among the unmasked columns passes
        Packet row = binaryRow(int4(0), lenenc("one"), int4(2), null, int4(4), lenenc("mail ann@example.com"), int4(6),
                lenenc("seven"), int4(42), lenenc("hunter2"), lenenc("123-45-6789"));
        ByteBuf out = masker.rewrite(row.part(), row.payload());

        // Then: the INT of a rule became NULL, the strings got their methods' text, the rest is as it was
        List<String> values = decodeBinary(out, List.of(LONG, VAR_STRING, LONG, VAR_STRING, LONG, VAR_STRING, LONG,
                VAR_STRING, LONG, VAR_STRING, VAR_STRING));
        assertThat(values).containsExactly("0", "one", "2", null, "4", "mail [REDACTED]", "6", "seven", null, "[REDACTED]",
                "***-**-6789");
        assertThat(masker.stats().columns()).containsOnlyKeys("shop.people.code", "shop.people.secret", "shop.people.ssn");
        assertThat(masker.stats().detectors()).containsOnlyKeys("email");
        row.payload().release();
        out.release();
    }

    @Test
    void withMaskDerivedExpressionsViewColumnsAndUnknownTablesAreMaskedAsAWholeNullsOfTextToo() {
        // Given: the command reads a relation with a masked column
        MySqlResultMasker masker = new MySqlResultMasker(PROFILE, CATALOG, true, false);
        for (Packet p : List.of(columnCount(5), column("", "", "upper_ssn", VAR_STRING, UTF8MB4, 0),
                column("", "", "n", LONG, BINARY, 0), column("shop", "people_v", "loud", VAR_STRING, UTF8MB4, 0),
                column("shop", "created_since", "x", VAR_STRING, UTF8MB4, 0), column("shop", "people", "c1", VAR_STRING, UTF8MB4, 0))) {
            masker.rewrite(p.part(), p.payload());
            p.payload().release();
        }

        // When
        Packet row = textRow(null, "11", "LOUD", "new", "plain");
        ByteBuf out = masker.rewrite(row.part(), row.payload());

        // Then: only the base table's own unmasked column passes
        assertThat(decodeText(out)).containsExactly("[REDACTED]", null, "[REDACTED]", "[REDACTED]", "plain");
        assertThat(masker.unknownTables()).isEqualTo(1);
        row.payload().release();
        out.release();
    }

    @Test
    void anErrorKeepsItsNumberAndSqlStateButNotItsText() {
        MySqlResultMasker masker = new MySqlResultMasker(PROFILE, CATALOG, true, false);
        ByteBuf err = MySqlProtocol.errPacket(io.netty.buffer.ByteBufAllocator.DEFAULT, 1292, "22007",
                "Truncated incorrect DOUBLE value: '123-45-6789'");

        ByteBuf out = masker.rewrite(MySqlResponseTracker.Part.ERROR, err);

        MySqlProtocol.Error e = MySqlProtocol.Error.read(out);
        assertThat(e.number()).isEqualTo(1292);
        assertThat(e.sqlState()).isEqualTo("22007");
        assertThat(e.message()).contains("withheld").doesNotContain("6789");
        err.release();
        out.release();
    }

    @Test
    void rowsItCannotReadFailTheCommandClosed() {
        MySqlResultMasker masker = new MySqlResultMasker(PROFILE, CATALOG, false, false);
        Packet count = columnCount(2);
        masker.rewrite(count.part(), count.payload());
        Packet one = column("shop", "people", "secret", VAR_STRING, UTF8MB4, 0);
        masker.rewrite(one.part(), one.payload());
        Packet row = textRow("a", "b");
        // a row before all its columns were described
        assertThatThrownBy(() -> masker.rewrite(row.part(), row.payload())).isInstanceOf(MySqlResultMasker.MaskingFailure.class);
        Packet two = column("shop", "people", "c1", VAR_STRING, UTF8MB4, 0);
        masker.rewrite(two.part(), two.payload());
        // a row with a value running past its packet
        ByteBuf bad = Unpooled.buffer().writeByte(1).writeByte('a').writeByte(40).writeBytes("short".getBytes(StandardCharsets.UTF_8));
        assertThatThrownBy(() -> masker.rewrite(MySqlResponseTracker.Part.ROW, bad))
                .isInstanceOf(MySqlResultMasker.MaskingFailure.class);
        for (ByteBuf b : List.of(count.payload(), one.payload(), row.payload(), two.payload(), bad)) b.release();
    }

    private static List<String> decodeText(ByteBuf row) {
        List<String> out = new ArrayList<>();
        ByteBuf b = row.duplicate();
        while (b.isReadable()) {
            byte[] v = MySqlProtocol.readLenencBytes(b);
            out.add(v == null ? null : new String(v, StandardCharsets.UTF_8));
        }
        return out;
    }

    private static List<String> decodeBinary(ByteBuf row, List<Integer> types) {
        ByteBuf b = row.duplicate();
        assertThat(b.readUnsignedByte()).isZero();
        byte[] bitmap = new byte[(types.size() + 9) / 8];
        b.readBytes(bitmap);
        List<String> out = new ArrayList<>();
        for (int i = 0; i < types.size(); i++) {
            boolean isNull = (bitmap[(i + 2) / 8] & (1 << ((i + 2) % 8))) != 0;
            out.add(isNull ? null : BinaryValue.render(types.get(i), false, BinaryValue.read(b, types.get(i)),
                    StandardCharsets.UTF_8, 1000));
        }
        assertThat(b.isReadable()).isFalse();
        return out;
    }
}
