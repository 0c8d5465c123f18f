package dev.gatehouse.edge.mysql.codec;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.util.HexFormat;

/**
 * Values of the binary protocol (COM_STMT_EXECUTE parameters, rows of a prepared statement's
 * result): how long each type's value is, and how it reads as text.
 */
public final class BinaryValue {
    /** MYSQL_TYPE_NULL: a value with no bytes. */
    public static final int TYPE_NULL = 0x06;

    private BinaryValue() {
    }

    /** The bytes of one binary-protocol value of {@code type}; throws when they run past the packet or are malformed. */
    public static byte[] read(ByteBuf b, int type) {
        int n = switch (type) {
            case TYPE_NULL -> 0;
            case 0x01 -> 1;                                   // TINY
            case 0x02, 0x0D -> 2;                             // SHORT, YEAR
            case 0x03, 0x09, 0x04 -> 4;                       // LONG, INT24, FLOAT
            case 0x08, 0x05 -> 8;                             // LONGLONG, DOUBLE
            case 0x07, 0x0A, 0x0C, 0x0B -> b.readUnsignedByte(); // dates and times: length first
            case 0x00, 0x0F, 0x10, 0xF5, 0xF6, 0xF7, 0xF8, 0xF9, 0xFA, 0xFB, 0xFC, 0xFD, 0xFE, 0xFF -> {
                long len = MySqlProtocol.readLenenc(b);
                if (len < 0 || len > b.readableBytes()) throw new IllegalArgumentException("a value runs past the packet");
                yield (int) len;
            }
            default -> throw new IllegalArgumentException("unknown value type 0x" + Integer.toHexString(type));
        };
        boolean dateLength = n == 0 || n == 4 || n == 7 || n == 11;
        boolean timeLength = n == 0 || n == 8 || n == 12;
        if ((type == 0x07 || type == 0x0A || type == 0x0C) && !dateLength || type == 0x0B && !timeLength) {
            throw new IllegalArgumentException("a date or time value of " + n + " bytes");
        }
        byte[] out = new byte[n];
        b.readBytes(out);
        return out;
    }

    /**
     * A value as text for the record: integers, floats, dates and times rendered, strings in
     * {@code charset} (as {@code \\x} hex when not valid there), at most {@code maxBytes} long.
     */
    public static String render(int type, boolean unsigned, byte[] v, Charset charset, int maxBytes) {
        ByteBuffer le = ByteBuffer.wrap(v).order(java.nio.ByteOrder.LITTLE_ENDIAN);
        return switch (type) {
            case 0x01 -> Long.toString(unsigned ? v[0] & 0xFF : v[0]);
            case 0x02, 0x0D -> Long.toString(unsigned ? le.getShort() & 0xFFFF : le.getShort());
            case 0x03, 0x09 -> Long.toString(unsigned ? le.getInt() & 0xFFFFFFFFL : le.getInt());
            case 0x08 -> unsigned ? Long.toUnsignedString(le.getLong()) : Long.toString(le.getLong());
            case 0x04 -> Float.toString(le.getFloat());
            case 0x05 -> Double.toString(le.getDouble());
            case 0x07, 0x0A, 0x0C -> dateTime(le, v.length);
            case 0x0B -> time(le, v.length);
            default -> text(v, charset, maxBytes);
        };
    }

    private static String dateTime(ByteBuffer b, int length) {
        if (length == 0) return "0000-00-00 00:00:00";
        String date = String.format("%04d-%02d-%02d", b.getShort() & 0xFFFF, b.get(), b.get());
        if (length < 7) return date;
        String time = String.format(" %02d:%02d:%02d", b.get(), b.get(), b.get());
        return date + time + (length >= 11 ? String.format(".%06d", b.getInt()) : "");
    }

    private static String time(ByteBuffer b, int length) {
        if (length == 0) return "00:00:00";
        boolean negative = b.get() != 0;
        long days = b.getInt() & 0xFFFFFFFFL;
        int h = b.get();
        int m = b.get();
        int s = b.get();
        String out = (negative ? "-" : "") + String.format("%02d:%02d:%02d", days * 24 + h, m, s);
        return length >= 12 ? out + String.format(".%06d", b.getInt()) : out;
    }

    /** A string value in the connection's character set, or {@code \x} hex when it is not valid there; bounded. */
    private static String text(byte[] v, Charset charset, int maxBytes) {
        String out;
        try {
            out = charset.newDecoder().onMalformedInput(CodingErrorAction.REPORT).onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(ByteBuffer.wrap(v)).toString();
            if (out.length() > maxBytes) out = out.substring(0, maxBytes);
        } catch (CharacterCodingException e) {
            out = "\\x" + HexFormat.of().formatHex(v, 0, Math.min(v.length, maxBytes));
        }
        return v.length > maxBytes ? out + "...(truncated, " + v.length + " bytes)" : out;
    }

}
