package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.BackendFrameDecoder;
import dev.gatehouse.edge.postgres.codec.FrontendDecoder;
import io.netty.buffer.ByteBuf;
import dev.gatehouse.edge.NettySockets;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * Puts the PostgreSQL codecs into a socket's Netty pipeline, in front of Vert.x's own handler
 * (through {@link NettySockets}, the one place that reaches into Vert.x's pipeline).
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

    static Buffer buffer(ByteBuf buf) {
        return NettySockets.buffer(buf);
    }

    static void writeNoFlush(NetSocket socket, ByteBuf buf) {
        NettySockets.writeNoFlush(socket, buf);
    }

    static void flush(NetSocket socket) {
        NettySockets.flush(socket);
    }

    static boolean writeQueueFull(NetSocket socket) {
        return NettySockets.writeQueueFull(socket);
    }

    static void onWritable(NetSocket socket, Runnable handler) {
        NettySockets.onWritable(socket, handler);
    }

    static void onReadComplete(NetSocket socket, Handler<Void> handler) {
        NettySockets.onReadComplete(socket, handler);
    }
}
