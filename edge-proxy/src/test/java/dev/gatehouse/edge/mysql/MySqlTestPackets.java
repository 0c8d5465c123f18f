package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.mysql.MySqlResponseTracker.Part;
import dev.gatehouse.edge.mysql.codec.MySqlProtocol;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** Packets of a MySQL target's answers, built by hand for the sampler's and the masker's tests. */
final class MySqlTestPackets {
    private MySqlTestPackets() {
    }

    // MYSQL_TYPE_* and collations
    static final int TINY = 0x01;
    static final int LONG = 0x03;
    static final int LONGLONG = 0x08;
    static final int DATE = 0x0A;
    static final int DATETIME = 0x0C;
    static final int VAR_STRING = 0xFD;
    static final int BLOB = 0xFC;
    static final int UTF8MB4 = 255;
    static final int BINARY = 63;
    static final int UNSIGNED = 0x20;

    /** A packet of the target's answer, as the tracker told it apart. */
    record Packet(Part part, ByteBuf payload) {
    }

    static Packet packet(Part part, byte[] payload) {
        return new Packet(part, Unpooled.buffer().writeBytes(payload));
    }

    static Packet columnCount(int n) {
        ByteBuf b = Unpooled.buffer();
        MySqlProtocol.writeLenenc(b, n);
        return new Packet(Part.COLUMN_COUNT, b);
    }

    static Packet column(String name, int type) {
        return column(name, type, type == VAR_STRING || type == BLOB ? UTF8MB4 : BINARY, 0);
    }

    /** A ColumnDefinition41 of a column of table shop.t. */
    static Packet column(String name, int type, int charset, int flags) {
        return column("shop", "t", name, type, charset, flags);
    }

    /** A ColumnDefinition41: {@code schema.table.name} ("" table: an expression). */
    static Packet column(String schema, String table, String name, int type, int charset, int flags) {
        ByteBuf b = Unpooled.buffer();
        for (String s : List.of("def", schema, table, table, name, table.isEmpty() ? "" : name)) {
            MySqlProtocol.writeLenencBytes(b, s.getBytes(StandardCharsets.UTF_8));
        }
        b.writeByte(0x0C).writeShortLE(charset).writeIntLE(255).writeByte(type).writeShortLE(flags).writeByte(0)
                .writeShort(0);
        return new Packet(Part.COLUMN_DEFINITION, b);
    }

    static Packet eof() {
        return packet(Part.OTHER, new byte[]{(byte) 0xFE, 0, 0, 2, 0});
    }

    static Packet ok() {
        return packet(Part.OTHER, new byte[]{0, 1, 0, 2, 0, 0, 0});
    }

    static Packet textRow(String... values) {
        return textRowBytes(Arrays.stream(values).map(v -> v == null ? null : v.getBytes(StandardCharsets.UTF_8))
                .toArray(byte[][]::new));
    }

    /** A text protocol row: length-encoded strings, 0xFB for NULL. */
    static Packet textRowBytes(byte[]... values) {
        ByteBuf b = Unpooled.buffer();
        for (byte[] v : values) {
            if (v == null) b.writeByte(0xFB);
            else MySqlProtocol.writeLenencBytes(b, v);
        }
        return new Packet(Part.ROW, b);
    }

    /** A binary protocol row of values already encoded, null for NULL. */
    static Packet binaryRow(byte[]... values) {
        ByteBuf b = Unpooled.buffer().writeByte(0);
        byte[] bitmap = new byte[(values.length + 7 + 2) / 8];
        for (int i = 0; i < values.length; i++) {
            if (values[i] == null) bitmap[(i + 2) / 8] |= (byte) (1 << ((i + 2) % 8));
        }
        b.writeBytes(bitmap);
        for (byte[] v : values) {
            if (v != null) b.writeBytes(v);
        }
        return new Packet(Part.ROW, b);
    }

    static byte[] int4(int v) {
        return bytes(Unpooled.buffer().writeIntLE(v));
    }

    static byte[] int8(long v) {
        return bytes(Unpooled.buffer().writeLongLE(v));
    }

    static byte[] lenenc(String s) {
        return lenenc(s.getBytes(StandardCharsets.UTF_8));
    }

    static byte[] lenenc(byte[] v) {
        ByteBuf b = Unpooled.buffer();
        MySqlProtocol.writeLenencBytes(b, v);
        return bytes(b);
    }

    static byte[] date(int year, int month, int day) {
        return bytes(Unpooled.buffer().writeByte(4).writeShortLE(year).writeByte(month).writeByte(day));
    }

    static byte[] dateTime(int year, int month, int day, int hour, int minute, int second) {
        return bytes(Unpooled.buffer().writeByte(7).writeShortLE(year).writeByte(month).writeByte(day)
                .writeByte(hour).writeByte(minute).writeByte(second));
    }

    static byte[] bytes(ByteBuf b) {
        byte[] out = new byte[b.readableBytes()];
        b.readBytes(out);
        b.release();
        return out;
    }
}
