package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.BackendFrameDecoder;
import dev.gatehouse.edge.postgres.codec.FrontendDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.vertx.core.Future;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * The one place that uses Vert.x internals: it puts the PostgreSQL codecs into a socket's Netty
 * pipeline, in front of Vert.x's own handler, and turns Netty buffers into Vert.x buffers.
 */
final class PgSocketBridge {
    private PgSocketBridge() {
    }

    /** Client side: decoded {@code FrontendMessage}s are delivered to {@code handler}. */
    static void installFrontend(NetSocket socket, int maxMessageSize, Handler<Object> handler) {
        NetSocketInternal s = (NetSocketInternal) socket;
        s.channelHandlerContext().pipeline().addBefore("handler", "pg-frontend-decoder", new FrontendDecoder(maxMessageSize));
        s.messageHandler(handler);
    }

    /** Target side: {@code BackendFrame}s are delivered to {@code handler}. */
    static void installBackend(NetSocket socket, int maxFrameSize, Handler<Object> handler) {
        NetSocketInternal s = (NetSocketInternal) socket;
        s.channelHandlerContext().pipeline().addBefore("handler", "pg-backend-decoder", new BackendFrameDecoder(maxFrameSize));
        s.messageHandler(handler);
    }

    /**
     * Copies {@code buf} into a heap buffer and releases it. A Vert.x socket never releases a
     * Netty buffer it is handed inside a {@link Buffer} (it writes an unreleasable slice), so
     * wrapping would leak every encoded message; for small messages the copy is cheaper than the
     * bookkeeping. Relay result frames with {@link #write}.
     */
    static Buffer buffer(ByteBuf buf) {
        try {
            return Buffer.buffer(ByteBufUtil.getBytes(buf));
        } finally {
            buf.release();
        }
    }

    /**
     * Writes {@code buf} without copying and hands it over: Netty releases it once written, and
     * it is released here if the write fails before reaching the channel (socket closed). Goes
     * through the socket's write queue, so {@link NetSocket#writeQueueFull()} accounts for it.
     */
    static Future<Void> write(NetSocket socket, ByteBuf buf) {
        return ((NetSocketInternal) socket).writeMessage(buf).onFailure(e -> {
            if (buf.refCnt() > 0) buf.release();
        });
    }
}
