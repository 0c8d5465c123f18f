package dev.gatehouse.edge.mysql.codec;

import io.netty.buffer.ByteBuf;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.Charset;
import java.nio.charset.CodingErrorAction;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * A COM_STMT_EXECUTE as the edge reads it: the statement id, the cursor flags, and every parameter
 * decoded from the binary protocol, for the record (as text, bounded) and for approvals (a digest
 * over the complete values).
 *
 * @param statementId the statement id as sent (-1: MariaDB's "the last prepared")
 * @param flags       the cursor flags (0: no cursor)
 * @param types       the parameter types in force: those sent with this execute, else the previous ones
 * @param parameters  the values as text, each bounded; SQL NULL as null
 * @param digest      {@code sha256:} over each value's type and length-prefixed bytes (NULL distinct from
 *                    empty); null without parameters
 */
public record StmtExecute(int statementId, int flags, int[] types, List<String> parameters, String digest) {

    /** Statement id -1: MariaDB's "the statement this connection prepared last". */
    public static final int LAST_PREPARED = -1;

    /** The statement id of an execute (or close, reset, long data) payload, from its command byte on. */
    public static int statementId(ByteBuf payload) {
        if (payload.readableBytes() < 5) throw new IllegalArgumentException("statement command too short");
        return payload.getIntLE(payload.readerIndex() + 1);
    }

    /**
     * Reads a COM_STMT_EXECUTE payload (from its command byte on).
     *
     * @param paramCount    the prepared statement's parameter count
     * @param previousTypes the types sent with an earlier execute of it, or null
     * @param charset       the connection's character set, for string values
     * @param maxBytes      values longer than this are truncated in {@link #parameters}
     * @throws IllegalArgumentException when the packet does not hold what it says
     */
    public static StmtExecute read(ByteBuf payload, int paramCount, int[] previousTypes, Charset charset, int maxBytes) {
        try {
            ByteBuf b = payload.duplicate();
            b.skipBytes(1);
            int id = b.readIntLE();
            int flags = b.readUnsignedByte();
            b.skipBytes(4); // iteration count, always 1
            if (paramCount == 0) return new StmtExecute(id, flags, new int[0], List.of(), null);
            byte[] nulls = new byte[(paramCount + 7) / 8];
            b.readBytes(nulls);
            boolean bound = b.readUnsignedByte() == 1;
            int[] types;
            if (bound) {
                types = new int[paramCount];
                for (int i = 0; i < paramCount; i++) types[i] = b.readUnsignedShortLE();
            } else if (previousTypes != null && previousTypes.length == paramCount) {
                types = previousTypes;
            } else {
                throw new IllegalArgumentException("parameters without types (none were sent before)");
            }
            List<String> text = new ArrayList<>(paramCount);
            MessageDigest sha = sha256();
            for (int i = 0; i < paramCount; i++) {
                boolean isNull = (nulls[i / 8] & (1 << (i % 8))) != 0;
                int type = types[i] & 0xFF;
                boolean unsigned = (types[i] & 0x8000) != 0;
                byte[] raw = isNull || type == 0x06 ? null : value(b, type);
                sha.update(new byte[] {(byte) (types[i] >>> 8), (byte) types[i]});
                int len = raw == null ? -1 : raw.length;
                sha.update(new byte[] {(byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
                if (raw != null) sha.update(raw);
                text.add(raw == null ? null : render(type, unsigned, raw, charset, maxBytes));
            }
            if (b.isReadable()) throw new IllegalArgumentException(b.readableBytes() + " bytes after the last parameter");
            return new StmtExecute(id, flags, types, text, "sha256:" + HexFormat.of().formatHex(sha.digest()));
        } catch (IndexOutOfBoundsException | java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("parameters run past the packet or their value", e);
        }
    }

    /** The bytes of one binary-protocol value. */
    private static byte[] value(ByteBuf b, int type) {
        int n = switch (type) {
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
            default -> throw new IllegalArgumentException("unknown parameter type 0x" + Integer.toHexString(type));
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

    private static String render(int type, boolean unsigned, byte[] v, Charset charset, int maxBytes) {
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

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
