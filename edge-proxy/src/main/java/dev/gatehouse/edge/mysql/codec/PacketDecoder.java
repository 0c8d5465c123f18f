package dev.gatehouse.edge.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.CompositeByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;

import java.util.List;

/**
 * Cuts a byte stream into logical {@link MySqlPacket}s: a 3-byte little-endian length and a
 * sequence id before each payload; a payload of exactly 2^24-1 bytes continues in the next packet
 * (whose sequence id must follow). A logical packet larger than {@code maxPacketSize} is refused
 * before it is buffered (as the server refuses one over max_allowed_packet).
 */
public final class PacketDecoder extends ByteToMessageDecoder {
    private final int maxPacketSize;
    private CompositeByteBuf partial;
    private int partialSequence;
    private int partialFragments;
    /** After a framing error nothing more is read: the connection is being closed. */
    private boolean failed;

    public PacketDecoder(int maxPacketSize) {
        this.maxPacketSize = maxPacketSize;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        while (in.readableBytes() >= 4) {
            int start = in.readerIndex();
            int length = in.getUnsignedMediumLE(start);
            int sequence = in.getUnsignedByte(start + 3);
            long total = (partial == null ? 0 : partial.readableBytes()) + (long) length;
            if (total > maxPacketSize) {
                dropPartial();
                failed = true;
                throw new TooLongFrameException("packet of more than " + maxPacketSize + " bytes (max packet size)");
            }
            if (in.readableBytes() < 4 + length) return;
            in.skipBytes(4);
            ByteBuf payload = in.readRetainedSlice(length);
            if (partial != null) {
                if (sequence != ((partialSequence + partialFragments) & 0xFF)) {
                    payload.release();
                    dropPartial();
                    failed = true;
                    throw new DecoderException("packets out of order: continuation with sequence id " + sequence);
                }
                partial.addComponent(true, payload);
                partialFragments++;
                if (length == MySqlProtocol.MAX_PACKET_PAYLOAD) continue;
                out.add(new MySqlPacket(partialSequence, partialFragments, partial));
                partial = null;
                continue;
            }
            if (length == MySqlProtocol.MAX_PACKET_PAYLOAD) {
                partial = ctx.alloc().compositeBuffer(Integer.MAX_VALUE);
                partial.addComponent(true, payload);
                partialSequence = sequence;
                partialFragments = 1;
                continue;
            }
            out.add(new MySqlPacket(sequence, 1, payload));
        }
    }

    @Override
    protected void handlerRemoved0(ChannelHandlerContext ctx) {
        dropPartial();
    }

    private void dropPartial() {
        if (partial != null) {
            partial.release();
            partial = null;
        }
    }
}
