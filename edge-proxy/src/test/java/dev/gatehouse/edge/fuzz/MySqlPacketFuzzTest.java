package dev.gatehouse.edge.fuzz;

import dev.gatehouse.edge.mysql.codec.Handshake;
import dev.gatehouse.edge.mysql.codec.MySqlPacket;
import dev.gatehouse.edge.mysql.codec.PacketDecoder;
import dev.gatehouse.edge.mysql.codec.TlsSwitch;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;

import java.io.ByteArrayOutputStream;
import java.util.Arrays;

/**
 * Fuzzes what the MySQL listener reads from a client before anything else sees it: the TLS switch
 * (without a TLS context: it passes everything on), the packet decoder, and the handshake
 * response reader, in an {@link EmbeddedChannel} as the edge's pipeline runs them.
 *
 * <p>An input is three setting bytes, then the bytes from the client: the largest packet accepted
 * (1 KiB times 1 + the first byte), the read size (0: one read; n: reads of n bytes), and a
 * parameter count with which every packet after the first is also read as a COM_STMT_EXECUTE.
 *
 * <p>What must hold for every input:
 * <ul>
 *   <li>the decoder fails only with a {@link DecoderException} (a packet too large, a continuation
 *       out of sequence), the handshake reader and the COM_STMT_EXECUTE reader only with an
 *       {@link IllegalArgumentException};</li>
 *   <li>every decoded packet re-frames ({@link MySqlPacket#encode}) to exactly the client's bytes, in
 *       order, up to where decoding stopped: nothing is misread into another packet;</li>
 *   <li>every buffer is released; no input hangs.</li>
 * </ul>
 */
class MySqlPacketFuzzTest extends FuzzTarget {

    @Override
    protected void fuzzOne(FuzzInput input, ByteBufAllocator alloc) throws Exception {
        int maxPacket = 1024 * (1 + input.setting());
        int readSize = input.setting();
        int params = input.setting() % 32;
        byte[] payload = input.payload();
        EmbeddedChannel channel = new EmbeddedChannel();
        channel.config().setAllocator(alloc);
        channel.pipeline().addLast("mysql-tls-switch", new TlsSwitch(null));
        channel.pipeline().addLast("mysql-decoder", new PacketDecoder(maxPacket));
        ByteArrayOutputStream reframed = new ByteArrayOutputStream();
        boolean failed = false;
        try {
            for (byte[] read : FuzzInput.reads(payload, readSize)) {
                ByteBuf in = alloc.buffer(read.length).writeBytes(read);
                try {
                    channel.writeInbound(in);
                } catch (DecoderException e) {
                    failed = true;
                    break;
                }
                drain(channel, alloc, reframed, params);
            }
            drain(channel, alloc, reframed, params);
        } finally {
            channel.finishAndReleaseAll();
        }
        byte[] out = reframed.toByteArray();
        if (!Arrays.equals(out, Arrays.copyOf(payload, Math.min(out.length, payload.length))) || out.length > payload.length) {
            throw new AssertionError("the decoded packets are not the client's bytes (failed=" + failed + ")");
        }
    }

    private static void drain(EmbeddedChannel channel, ByteBufAllocator alloc, ByteArrayOutputStream reframed, int params) {
        Object o;
        boolean first = reframed.size() == 0;
        while ((o = channel.readInbound()) != null) {
            MySqlPacket p = (MySqlPacket) o;
            try {
                if (first) {
                    try {
                        if (!Handshake.Response.isSslRequest(p.payload())) Handshake.Response.read(p.payload());
                    } catch (IllegalArgumentException expected) {
                        // a malformed handshake response is refused, never misread
                    }
                    first = false;
                } else if (p.size() >= 5) {
                    try {
                        var execute = dev.gatehouse.edge.mysql.codec.StmtExecute.read(p.payload(), params, null,
                                java.nio.charset.StandardCharsets.UTF_8, 64);
                        if (execute.parameters().size() != params) throw new AssertionError("parameters lost");
                    } catch (IllegalArgumentException expected) {
                        // a malformed execute is refused, never misread
                    }
                }
                ByteBuf wire = MySqlPacket.encode(alloc, p.sequence(), p.payload().retain());
                reframed.writeBytes(ByteBufUtil.getBytes(wire));
                wire.release();
            } finally {
                p.release();
            }
        }
    }
}
