package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.BackendFrameDecoder;
import dev.gatehouse.edge.postgres.codec.FrontendDecoder;
import io.netty.buffer.ByteBuf;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;
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

    /** Wraps without copying; the write releases it. */
    static Buffer buffer(ByteBuf buf) {
        return BufferInternal.buffer(buf);
    }
}
