package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.BackendFrameDecoder;
import dev.gatehouse.edge.postgres.codec.FrontendDecoder;
import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.buffer.ByteBufUtil;
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
     * Writes {@code buf} without copying and without flushing, and hands it over: Netty releases
     * it once written, or when the write fails (socket closed). The caller flushes once per batch
     * of frames ({@link #flush}), so a result of many rows is not one system call per row.
     */
    static void writeNoFlush(NetSocket socket, ByteBuf buf) {
        ChannelHandlerContext ctx = ((NetSocketInternal) socket).channelHandlerContext();
        ctx.write(buf, ctx.voidPromise());
    }

    static void flush(NetSocket socket) {
        ((NetSocketInternal) socket).channelHandlerContext().flush();
    }

    /**
     * Whether the socket's outbound buffer is above its high-water mark (see
     * {@link #onWritable} for when it falls below again).
     */
    static boolean writeQueueFull(NetSocket socket) {
        return !((NetSocketInternal) socket).channelHandlerContext().channel().isWritable();
    }

    /**
     * Calls {@code handler} each time the socket's outbound buffer falls below its low-water mark.
     * Frames are written past Vert.x's own queue ({@link #writeNoFlush}), so its drain handler
     * would not know; Netty's writability event does.
     */
    static void onWritable(NetSocket socket, Runnable handler) {
        ((NetSocketInternal) socket).channelHandlerContext().pipeline().addBefore("handler", "pg-writability",
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
                        if (ctx.channel().isWritable()) handler.run();
                        super.channelWritabilityChanged(ctx);
                    }
                });
    }

    /** Called after each batch of reads from the socket (Netty's channelReadComplete). */
    static void onReadComplete(NetSocket socket, Handler<Void> handler) {
        ((NetSocketInternal) socket).readCompletionHandler(handler);
    }
}
