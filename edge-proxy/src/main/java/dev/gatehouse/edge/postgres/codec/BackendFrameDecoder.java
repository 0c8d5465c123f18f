package dev.gatehouse.edge.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.handler.codec.ByteToMessageDecoder;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;

/**
 * Client-side framing of what the target sends: type byte + Int32 length, nothing decoded. Emits
 * {@link BackendFrame}s (retained slices; the receiver releases). The declared length is checked
 * against {@code maxFrameSize} (length field included) before the body is accumulated.
 *
 * <p>After the edge sends an SSLRequest or GSSENCRequest upstream, call {@link #expectSslResponse()}:
 * the next byte is then emitted as a {@link BackendMessage.SslResponse}. An {@code 'E'} there is an
 * ErrorResponse from a server that rejects the request and is framed as usual. Bytes following an
 * {@code 'S'} in the same read are rejected (unencrypted data injected ahead of the handshake).
 *
 * <p>Any violation throws {@link PgProtocolException} and all further input is discarded.
 *
 * <p>Memory: frames are slices of the decoder's buffer, so while one is held the buffer cannot be
 * compacted, and Netty compacts only at the end of a read, before the edge has written (and
 * released) that read's frames. With a result streaming in, a frame split across reads was always
 * left behind, the buffer was never compacted and grew by every byte relayed (410 MiB of direct
 * memory over a 10-million-row SELECT). {@link #CUMULATOR} compacts it when new bytes arrive and no
 * frame of it is held any more, so it stays within one read plus one partial frame.
 */
public final class BackendFrameDecoder extends ByteToMessageDecoder {

    private static final Logger LOGGER = LoggerFactory.getLogger(BackendFrameDecoder.class);

    private final int maxFrameSize;
    private boolean expectSslResponse;
    private boolean failed;

    /** @param maxFrameSize largest frame accepted, length field included */
    public BackendFrameDecoder(int maxFrameSize) {
        if (maxFrameSize < 5) {
            throw new IllegalArgumentException("maxFrameSize must be at least 5, got " + maxFrameSize);
        }
        this.maxFrameSize = maxFrameSize;
        setCumulator(CUMULATOR);
    }

    /**
     * Netty's merge cumulator, after moving the unread bytes (a partial frame) to the front of the
     * buffer when nothing else holds it (reference count 1: every frame sliced from it released)
     * and the new bytes would not fit behind them. While frames are held the merge cumulator
     * itself copies the partial frame into a new buffer rather than growing the shared one.
     */
    static final Cumulator CUMULATOR = (alloc, cumulation, in) -> {
        if (cumulation.refCnt() == 1 && cumulation.readerIndex() > 0
                && in.readableBytes() > cumulation.maxFastWritableBytes() && !cumulation.isReadOnly()) {
            cumulation.discardReadBytes();
        }
        return MERGE_CUMULATOR.cumulate(alloc, cumulation, in);
    };

    /** The capacity of the bytes kept between reads (0 when none are), for tests. */
    int bufferedCapacity() {
        ByteBuf buffered = internalBuffer();
        return buffered.capacity();
    }

    /** The next byte from the target answers an SSLRequest/GSSENCRequest. Call before sending it. */
    public void expectSslResponse() {
        this.expectSslResponse = true;
    }

    public boolean isFailed() {
        return failed;
    }

    @Override
    protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out) {
        if (failed) {
            in.skipBytes(in.readableBytes());
            return;
        }
        try {
            decodeFrames(in, out);
        } catch (PgProtocolException e) {
            failed = true;
            in.skipBytes(in.readableBytes());
            LOGGER.debug("backend protocol violation: {}", e.getMessage());
            throw e;
        }
    }

    private void decodeFrames(ByteBuf in, List<Object> out) {
        while (in.isReadable()) {
            int start = in.readerIndex();
            byte type = in.getByte(start);
            if (expectSslResponse && type != PgProtocol.BE_ERROR_RESPONSE) {
                if (type != PgProtocol.SSL_ACCEPTED && type != PgProtocol.SSL_REJECTED) {
                    throw new PgProtocolException("target answered the SSL/GSSENC request with "
                            + PgProtocol.describeType(type) + " instead of 'S' or 'N'");
                }
                in.skipBytes(1);
                expectSslResponse = false;
                out.add(new BackendMessage.SslResponse(type));
                if (type == PgProtocol.SSL_ACCEPTED && in.isReadable()) {
                    throw new PgProtocolException("target sent " + in.readableBytes()
                            + " bytes of unencrypted data after accepting SSL (possible man-in-the-middle injection)");
                }
                continue;
            }
            if (in.readableBytes() < 5) {
                return;
            }
            int length = in.getInt(start + 1);
            if (length < 4) {
                throw new PgProtocolException("target message " + PgProtocol.describeType(type)
                        + " declares length " + length + ", less than the 4 bytes of the length field itself");
            }
            if (length > maxFrameSize) {
                throw new PgProtocolException("target message " + PgProtocol.describeType(type) + " declares "
                        + length + " bytes, over the " + maxFrameSize + "-byte limit");
            }
            if (in.readableBytes() < 1 + length) {
                return;
            }
            expectSslResponse = false;
            out.add(new BackendFrame(in.readRetainedSlice(1 + length)));
        }
    }
}
