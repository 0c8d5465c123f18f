package dev.gatehouse.edge.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.CompositeByteBuf;

import java.util.Objects;

/**
 * One logical MySQL packet: its payload (a packet of 2^24-1 bytes and its continuations joined)
 * and the sequence id of its first fragment. The payload is reference-counted: whoever takes the
 * packet releases it, or hands it on with {@link #encode}.
 *
 * @param sequence  the sequence id of its first fragment (0..255)
 * @param fragments how many packets it took on the wire (1 unless the payload is 16 MiB or more)
 * @param payload   the joined payload
 */
public record MySqlPacket(int sequence, int fragments, ByteBuf payload) {
    public MySqlPacket {
        Objects.requireNonNull(payload, "payload");
        if (sequence < 0 || sequence > 255) throw new IllegalArgumentException("sequence id " + sequence);
    }

    /** The first byte of the payload (a command, or OK/ERR/EOF), or -1 when empty. */
    public int header() {
        return payload.isReadable() ? payload.getUnsignedByte(payload.readerIndex()) : -1;
    }

    public int size() {
        return payload.readableBytes();
    }

    /** The sequence id of the packet after this one. */
    public int nextSequence() {
        return (sequence + fragments) & 0xFF;
    }

    public void release() {
        payload.release();
    }

    /** How many fragments a payload of {@code size} bytes takes on the wire. */
    public static int fragmentsFor(int size) {
        return size / MySqlProtocol.MAX_PACKET_PAYLOAD + 1;
    }

    /**
     * Frames {@code payload} as packets starting at {@code sequence} (a payload of 2^24-1 bytes or
     * more is split, with an empty packet after an exact multiple). Takes over {@code payload}: the
     * returned buffer holds it and is released once written.
     */
    public static ByteBuf encode(ByteBufAllocator alloc, int sequence, ByteBuf payload) {
        int size = payload.readableBytes();
        if (size < MySqlProtocol.MAX_PACKET_PAYLOAD) {
            ByteBuf header = alloc.buffer(4).writeMediumLE(size).writeByte(sequence & 0xFF);
            if (size <= 256) {
                // small packets: one buffer, one write
                header.ensureWritable(size).writeBytes(payload);
                payload.release();
                return header;
            }
            return alloc.compositeBuffer(2).addComponents(true, header, payload);
        }
        CompositeByteBuf out = alloc.compositeBuffer(2 * fragmentsFor(size));
        int seq = sequence;
        while (true) {
            int n = Math.min(payload.readableBytes(), MySqlProtocol.MAX_PACKET_PAYLOAD);
            out.addComponent(true, alloc.buffer(4).writeMediumLE(n).writeByte(seq & 0xFF));
            out.addComponent(true, payload.readRetainedSlice(n));
            seq++;
            if (n < MySqlProtocol.MAX_PACKET_PAYLOAD) break;
        }
        payload.release();
        return out;
    }
}
