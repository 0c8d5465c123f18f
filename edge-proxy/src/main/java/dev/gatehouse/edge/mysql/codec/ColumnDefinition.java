package dev.gatehouse.edge.mysql.codec;

import io.netty.buffer.ByteBuf;

import java.nio.charset.StandardCharsets;

/**
 * A ColumnDefinition41 packet: what a result column is and where its values come from. Names are
 * read as UTF-8 (the target sends them in {@code character_set_results}, which the edge only
 * lets be an ASCII-compatible set).
 *
 * @param schema   the database of the column's table ("" for an expression)
 * @param table    the table as the statement named it (its alias)
 * @param orgTable the table or view the value comes from ("" for an expression)
 * @param name     the column as the result names it (its alias)
 * @param orgName  the column of {@code orgTable} ("" for an expression)
 * @param charset  the collation id of the values (63: binary)
 * @param type     the MYSQL_TYPE_* of the values
 * @param flags    column flags (bit 0x20: unsigned)
 */
public record ColumnDefinition(String schema, String table, String orgTable, String name, String orgName, int charset,
                               long length, int type, int flags, int decimals) {
    /** The collation id of the binary character set. */
    public static final int BINARY = 63;
    public static final int UNSIGNED_FLAG = 0x20;

    /** Reads a ColumnDefinition41 payload; throws IllegalArgumentException when it is not one. */
    public static ColumnDefinition read(ByteBuf payload) {
        ByteBuf b = payload.duplicate();
        try {
            String catalog = string(b);
            if (!"def".equals(catalog)) throw new IllegalArgumentException("not a column definition (catalog " + catalog + ")");
            String schema = string(b);
            String table = string(b);
            String orgTable = string(b);
            String name = string(b);
            String orgName = string(b);
            long fixed = MySqlProtocol.readLenenc(b);
            if (fixed < 12 || b.readableBytes() < 12) throw new IllegalArgumentException("a column definition is truncated");
            int charset = b.readUnsignedShortLE();
            long length = b.readUnsignedIntLE();
            int type = b.readUnsignedByte();
            int flags = b.readUnsignedShortLE();
            int decimals = b.readUnsignedByte();
            return new ColumnDefinition(schema, table, orgTable, name, orgName, charset, length, type, flags, decimals);
        } catch (IndexOutOfBoundsException e) {
            throw new IllegalArgumentException("a column definition is truncated", e);
        }
    }

    private static String string(ByteBuf b) {
        byte[] bytes = MySqlProtocol.readLenencBytes(b);
        return bytes == null ? "" : new String(bytes, StandardCharsets.UTF_8);
    }

    public boolean unsigned() {
        return (flags & UNSIGNED_FLAG) != 0;
    }

    /** Whether values of this column are character strings (not numbers, dates, bits, geometry or binary strings). */
    public boolean textual() {
        return stringType() && charset != BINARY;
    }

    /** Whether values of this column are strings of bytes in both protocols (character or binary strings, JSON, ENUM, SET). */
    public boolean stringType() {
        return switch (type) {
            case 0x0F, 0xFD, 0xFE, 0xF9, 0xFA, 0xFB, 0xFC, 0xF5, 0xF7, 0xF8 -> true;
            default -> false;
        };
    }
}
