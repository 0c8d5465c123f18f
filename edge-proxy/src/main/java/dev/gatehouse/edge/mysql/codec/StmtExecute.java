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
 *                    empty; a value sent as long data as a marker, its length and its own SHA-256);
 *                    null without parameters
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
        return read(payload, paramCount, previousTypes, charset, maxBytes, java.util.Map.of());
    }

    /**
     * Reads a COM_STMT_EXECUTE payload whose statement holds long data: a parameter the target
     * received as COM_STMT_SEND_LONG_DATA has no value in the packet (and its NULL bit is not read,
     * as the server does not read it); its value is the long data.
     *
     * @param longData the statement's parameters sent as long data since its last execute, by index
     */
    public static StmtExecute read(ByteBuf payload, int paramCount, int[] previousTypes, Charset charset, int maxBytes,
                                   java.util.Map<Integer, LongData> longData) {
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
                int type = types[i] & 0xFF;
                boolean unsigned = (types[i] & 0x8000) != 0;
                LongData sent = longData.get(i);
                if (sent != null) {
                    sha.update(new byte[] {(byte) 0xFF, (byte) 0xFF, (byte) (types[i] >>> 8), (byte) types[i]});
                    sha.update(java.nio.ByteBuffer.allocate(8).putLong(sent.length()).array());
                    sha.update(sent.digest());
                    byte[] head = sent.head();
                    String shown = BinaryValue.render(0xFE, false, head, charset, maxBytes); // long data is bytes, of any type
                    text.add(sent.length() > head.length ? shown + "...(truncated, " + sent.length() + " bytes)" : shown);
                    continue;
                }
                boolean isNull = (nulls[i / 8] & (1 << (i % 8))) != 0;
                byte[] raw = isNull || type == 0x06 ? null : BinaryValue.read(b, type);
                sha.update(new byte[] {(byte) (types[i] >>> 8), (byte) types[i]});
                int len = raw == null ? -1 : raw.length;
                sha.update(new byte[] {(byte) (len >>> 24), (byte) (len >>> 16), (byte) (len >>> 8), (byte) len});
                if (raw != null) sha.update(raw);
                text.add(raw == null ? null : BinaryValue.render(type, unsigned, raw, charset, maxBytes));
            }
            if (b.isReadable()) throw new IllegalArgumentException(b.readableBytes() + " bytes after the last parameter");
            return new StmtExecute(id, flags, types, text, "sha256:" + HexFormat.of().formatHex(sha.digest()));
        } catch (IndexOutOfBoundsException | java.nio.BufferUnderflowException e) {
            throw new IllegalArgumentException("parameters run past the packet or their value", e);
        }
    }

    private static MessageDigest sha256() {
        return LongData.sha256();
    }
}
