package dev.gatehouse.edge.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.DefaultByteBufHolder;

/**
 * One framed message from the target (type byte + Int32 length + payload), undecoded. It holds a
 * retained slice of the whole frame: {@link #frame()} relays it byte-identical, {@link #payload()}
 * is a view of the bytes after the length. The receiver owns one reference and must release it
 * (or hand it on, e.g. as {@code new BackendMessage.RawFrame(frame.frame())}).
 */
public final class BackendFrame extends DefaultByteBufHolder {

    /** @param frame the complete frame, type byte first; ownership passes to this holder */
    public BackendFrame(ByteBuf frame) {
        super(frame);
        if (frame.readableBytes() < 5) {
            throw new IllegalArgumentException("a backend frame has at least 5 bytes, got " + frame.readableBytes());
        }
    }

    /** The message type byte, e.g. {@code 'Z'}. */
    public byte type() {
        return content().getByte(content().readerIndex());
    }

    /** The whole frame (type, length, payload), sharing this holder's reference count. */
    public ByteBuf frame() {
        return content();
    }

    /** The payload after the length field; a slice sharing this holder's reference count. */
    public ByteBuf payload() {
        ByteBuf c = content();
        return c.slice(c.readerIndex() + 5, c.readableBytes() - 5);
    }

    /** Number of bytes of the whole frame (type byte and length field included). */
    public int size() {
        return content().readableBytes();
    }

    /** Number of payload bytes. */
    public int payloadLength() {
        return content().readableBytes() - 5;
    }

    @Override
    public BackendFrame replace(ByteBuf content) {
        return new BackendFrame(content);
    }

    @Override
    public BackendFrame retain() {
        super.retain();
        return this;
    }

    @Override
    public BackendFrame retain(int increment) {
        super.retain(increment);
        return this;
    }

    @Override
    public BackendFrame touch() {
        super.touch();
        return this;
    }

    @Override
    public BackendFrame touch(Object hint) {
        super.touch(hint);
        return this;
    }

    @Override
    public String toString() {
        return "BackendFrame[type=" + PgProtocol.describeType(type()) + ", " + payloadLength() + " payload bytes]";
    }
}
