package dev.gatehouse.edge.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;

/**
 * Switches a client connection to TLS exactly where the client does. A MySQL client asks for TLS
 * with an SSLRequest (the first 32 bytes of a handshake response, CLIENT_SSL set) and starts its
 * TLS handshake right after it, without waiting for an answer: its ClientHello may arrive in the
 * same read as the SSLRequest. So the switch happens at the front of the pipeline, before any
 * packet decoding: this handler reads the client's first packet, passes it on, and if it is an
 * SSLRequest puts a TLS handler in its own place and hands it every byte that followed. Then it
 * is gone. Without a TLS context (the edge offers no TLS) it passes everything on.
 */
public final class TlsSwitch extends ChannelInboundHandlerAdapter {
    /** The payload size of an SSLRequest: capabilities, max packet size, collation, 23 reserved bytes. */
    public static final int SSL_REQUEST_SIZE = 32;

    private final SslContext sslContext;
    private ByteBuf buffered;

    /** @param sslContext the edge's server TLS context, or null when it offers no TLS */
    public TlsSwitch(SslContext sslContext) {
        this.sslContext = sslContext;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) {
        if (!(msg instanceof ByteBuf in)) {
            ctx.fireChannelRead(msg);
            return;
        }
        if (buffered == null) {
            buffered = in;
        } else {
            buffered = ctx.alloc().compositeBuffer().addComponents(true, buffered, in);
        }
        if (buffered.readableBytes() < 4) return;
        int length = buffered.getUnsignedMediumLE(buffered.readerIndex());
        boolean sslRequest = sslContext != null && length == SSL_REQUEST_SIZE;
        if (sslRequest && buffered.readableBytes() < 4 + length) return;
        if (sslRequest) {
            int capabilities = buffered.getIntLE(buffered.readerIndex() + 4);
            sslRequest = (capabilities & MySqlProtocol.CLIENT_SSL) != 0;
        }
        ByteBuf all = buffered;
        buffered = null;
        if (!sslRequest) {
            ctx.pipeline().remove(this);
            ctx.fireChannelRead(all);
            return;
        }
        ByteBuf request = all.readRetainedSlice(4 + length);
        ByteBuf rest = all.readRetainedSlice(all.readableBytes());
        all.release();
        // the SSLRequest first (the session learns TLS starts), then the TLS handler in this place,
        // then what followed the request, which is the client's TLS handshake
        ctx.fireChannelRead(request);
        SslHandler tls = sslContext.newHandler(ctx.alloc());
        ctx.pipeline().addAfter(ctx.name(), "mysql-tls", tls);
        if (rest.isReadable()) ctx.fireChannelRead(rest);
        else rest.release();
        ctx.pipeline().remove(this);
    }

    @Override
    public void handlerRemoved(ChannelHandlerContext ctx) {
        if (buffered != null) {
            buffered.release();
            buffered = null;
        }
    }
}
