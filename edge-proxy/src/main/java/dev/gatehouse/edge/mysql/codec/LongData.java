package dev.gatehouse.edge.mysql.codec;

import io.netty.buffer.ByteBuf;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * The value of one prepared-statement parameter as the target accumulates it from
 * COM_STMT_SEND_LONG_DATA packets (until an execute consumes it or COM_STMT_RESET clears it). The
 * edge keeps the first {@code maxBytes} for the record, the total length, and a SHA-256 over all of
 * it, never the whole value. Not thread-safe: one session's event loop.
 */
public final class LongData {
    private final int maxBytes;
    private final MessageDigest sha = sha256();
    private byte[] head = new byte[0];
    private long length;

    public LongData(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Reads a COM_STMT_SEND_LONG_DATA payload (from its command byte on): statement id and parameter index. */
    public record Header(int statementId, int parameter) {
        public static Header read(ByteBuf payload) {
            if (payload.readableBytes() < 7) throw new IllegalArgumentException("COM_STMT_SEND_LONG_DATA too short");
            int r = payload.readerIndex();
            return new Header(payload.getIntLE(r + 1), payload.getUnsignedShortLE(r + 5));
        }
    }

    /** Adds the data of one COM_STMT_SEND_LONG_DATA payload (after its 7-byte header). */
    public void append(ByteBuf payload) {
        ByteBuf data = payload.duplicate();
        data.skipBytes(7);
        int n = data.readableBytes();
        if (head.length < maxBytes && n > 0) {
            int take = (int) Math.min(n, maxBytes - head.length);
            byte[] more = new byte[head.length + take];
            System.arraycopy(head, 0, more, 0, head.length);
            data.getBytes(data.readerIndex(), more, head.length, take);
            head = more;
        }
        byte[] all = new byte[n];
        data.readBytes(all);
        sha.update(all);
        length += n;
    }

    /** The first bytes of the value, at most {@code maxBytes}. */
    public byte[] head() {
        return head.clone();
    }

    public long length() {
        return length;
    }

    /** SHA-256 of the whole value (the accumulation goes on after this). */
    public byte[] digest() {
        try {
            return ((MessageDigest) sha.clone()).digest();
        } catch (CloneNotSupportedException e) {
            throw new IllegalStateException("SHA-256 cannot be cloned", e);
        }
    }

    static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
