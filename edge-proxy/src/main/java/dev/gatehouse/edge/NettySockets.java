package dev.gatehouse.edge;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.ChannelHandler;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.net.NetSocketInternal;
import io.vertx.core.net.NetSocket;

/**
 * The one place that reaches past Vert.x's socket API into its Netty pipeline, for every
 * protocol's listener: a protocol's decoders go in front of Vert.x's own handler, relayed frames
 * are written without copying and flushed once per batch, and Netty's writability events drive
 * back-pressure.
 */
public final class NettySockets {
    private NettySockets() {
    }

    /** Puts {@code decoder} in front of Vert.x's handler; what it decodes is delivered to {@code handler}. */
    public static void install(NetSocket socket, String name, ChannelHandler decoder, Handler<Object> handler) {
        NetSocketInternal s = (NetSocketInternal) socket;
        s.channelHandlerContext().pipeline().addBefore("handler", name, decoder);
        s.messageHandler(handler);
    }

    /** Puts {@code handler} in front of the handler named {@code before}. */
    public static void installBefore(NetSocket socket, String before, String name, ChannelHandler handler) {
        ((NetSocketInternal) socket).channelHandlerContext().pipeline().addBefore(before, name, handler);
    }

    /**
     * Copies {@code buf} into a heap buffer and releases it. A Vert.x socket never releases a
     * Netty buffer it is handed inside a {@link Buffer} (it writes an unreleasable slice), so
     * wrapping would leak every encoded message; for small messages the copy is cheaper than the
     * bookkeeping. Relay result frames with {@link #writeNoFlush}.
     */
    public static Buffer buffer(ByteBuf buf) {
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
    public static void writeNoFlush(NetSocket socket, ByteBuf buf) {
        ChannelHandlerContext ctx = ((NetSocketInternal) socket).channelHandlerContext();
        ctx.write(buf, ctx.voidPromise());
    }

    public static void flush(NetSocket socket) {
        ((NetSocketInternal) socket).channelHandlerContext().flush();
    }

    /** The socket's allocator. */
    public static io.netty.buffer.ByteBufAllocator alloc(NetSocket socket) {
        return ((NetSocketInternal) socket).channelHandlerContext().alloc();
    }

    /** Whether the socket's outbound buffer is above its high-water mark (see {@link #onWritable}). */
    public static boolean writeQueueFull(NetSocket socket) {
        return !((NetSocketInternal) socket).channelHandlerContext().channel().isWritable();
    }

    /**
     * Calls {@code handler} each time the socket's outbound buffer falls below its low-water mark.
     * Frames are written past Vert.x's own queue ({@link #writeNoFlush}), so its drain handler
     * would not know; Netty's writability event does.
     */
    public static void onWritable(NetSocket socket, Runnable handler) {
        ((NetSocketInternal) socket).channelHandlerContext().pipeline().addBefore("handler", "writability",
                new ChannelInboundHandlerAdapter() {
                    @Override
                    public void channelWritabilityChanged(ChannelHandlerContext ctx) throws Exception {
                        if (ctx.channel().isWritable()) handler.run();
                        super.channelWritabilityChanged(ctx);
                    }
                });
    }

    /** Called after each batch of reads from the socket (Netty's channelReadComplete). */
    public static void onReadComplete(NetSocket socket, Handler<Void> handler) {
        ((NetSocketInternal) socket).readCompletionHandler(handler);
    }
}
