package dev.gatehouse.edge.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;

/**
 * Bounds-checked reads of the fields of one message body. Every failure is a
 * {@link PgProtocolException} naming the message and the field. Does not own the buffer.
 */
final class FieldReader {

    private final ByteBuf body;
    private final String what;

    /** @param what how the message is named in errors, e.g. {@code "message 'B'"} */
    FieldReader(ByteBuf body, String what) {
        this.body = body;
        this.what = what;
    }

    int remaining() {
        return body.readableBytes();
    }

    private void need(int n, String field) {
        if (body.readableBytes() < n) {
            throw new PgProtocolException(what + " is truncated: field '" + field + "' needs " + n
                    + " bytes but only " + body.readableBytes() + " remain in the frame");
        }
    }

    byte int8(String field) {
        need(1, field);
        return body.readByte();
    }

    short int16(String field) {
        need(2, field);
        return body.readShort();
    }

    /** An Int16 count, which PostgreSQL reads as unsigned (0..65535). */
    int count16(String field) {
        need(2, field);
        return body.readUnsignedShort();
    }

    int int32(String field) {
        need(4, field);
        return body.readInt();
    }

    byte[] bytes(int n, String field) {
        need(n, field);
        byte[] b = new byte[n];
        body.readBytes(b);
        return b;
    }

    /** Int32 length (-1 = NULL) followed by that many bytes. */
    byte[] lengthPrefixedValue(String field) {
        int len = int32(field + " length");
        if (len == -1) {
            return null;
        }
        if (len < -1) {
            throw new PgProtocolException(what + " has an invalid length " + len + " for field '" + field + "'");
        }
        return bytes(len, field);
    }

    /** A NUL-terminated strict UTF-8 string. */
    String cstring(String field) {
        int start = body.readerIndex();
        int nul = body.indexOf(start, body.writerIndex(), (byte) 0);
        if (nul < 0) {
            throw new PgProtocolException(what + " field '" + field
                    + "' has no NUL terminator before the end of the frame");
        }
        String s = utf8(body.nioBuffer(start, nul - start), field);
        body.readerIndex(nul + 1);
        return s;
    }

    private String utf8(ByteBuffer bytes, String field) {
        try {
            return StandardCharsets.UTF_8.newDecoder()
                    .onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT)
                    .decode(bytes).toString();
        } catch (CharacterCodingException e) {
            throw new PgProtocolException(what + " field '" + field
                    + "' is not valid UTF-8 (the edge requires client_encoding UTF8)", e);
        }
    }

    /** Fails when bytes are left in the frame after all fields were read. */
    void end() {
        if (body.isReadable()) {
            int n = Math.min(body.readableBytes(), 16);
            throw new PgProtocolException(what + " has " + body.readableBytes()
                    + " unexpected trailing bytes after its last field (starting with "
                    + ByteBufUtil.hexDump(body, body.readerIndex(), n) + ")");
        }
    }
}
