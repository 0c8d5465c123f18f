package dev.gatehouse.edge.postgres.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.OptionalLong;

import static dev.gatehouse.edge.postgres.codec.Wire.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendFrameDecoderTest {

    /** What PostgreSQL answers to a trust login followed by SELECT 1. */
    static byte[] loginAndSelect() {
        return bytes()
                .message('R', bytes().int32(0))
                .message('S', bytes().cstring("server_version").cstring("15.15"))
                .message('K', bytes().int32(4242).int32(0x01020304))
                .message('Z', bytes().int8('I'))
                .message('T', bytes().int16(1).cstring("?column?").int32(0).int16(0).int32(23).int16(4).int32(-1).int16(0))
                .message('D', bytes().int16(2).int32(1).raw("1".getBytes()).int32(-1))
                .message('C', bytes().cstring("SELECT 1"))
                .message('Z', bytes().int8('I'))
                .toArray();
    }

    @Test
    void framesTheSameWhereverTheInputIsSplit() {
        byte[] input = loginAndSelect();
        for (int k = 0; k <= input.length; k++) {
            // Given
            EmbeddedChannel channel = new EmbeddedChannel(new BackendFrameDecoder(1 << 20));

            // When
            channel.writeInbound(Unpooled.wrappedBuffer(input, 0, k), Unpooled.wrappedBuffer(input, k, input.length - k));
            List<Object> frames = FrontendDecoderTest.drain(channel);

            // Then: the frames concatenated are the input, byte-identical
            ByteBuf relayed = Unpooled.buffer();
            for (Object f : frames) {
                relayed.writeBytes(((BackendFrame) f).frame().duplicate());
            }
            assertThat(ByteBufUtil.getBytes(relayed)).as("split after %d", k).isEqualTo(input);
            assertThat(frames).extracting(f -> (char) ((BackendFrame) f).type())
                    .containsExactly('R', 'S', 'K', 'Z', 'T', 'D', 'C', 'Z');
            relayed.release();
            frames.forEach(ReferenceCountUtil::release);
            assertThat(channel.finishAndReleaseAll()).isFalse();
        }
    }

    @Test
    void keepsItsBufferSmallWhileALongResultStreamsThrough() {
        // Given: a result of 100-byte DataRows arriving in reads of 8191 bytes, so that almost every
        // read ends inside a frame; like the edge, the frames of a read are released only after the
        // read is complete (when the edge has flushed them to the client)
        BackendFrameDecoder decoder = new BackendFrameDecoder(1 << 20);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        byte[] row = bytes().message('D', bytes().int16(1).int32(89).raw(new byte[89])).toArray();
        assertThat(row).hasSize(100);
        byte[] stream = new byte[8191 * 100];
        for (int i = 0; i < stream.length; i += row.length) System.arraycopy(row, 0, stream, i, row.length);
        long frames = 0;
        int largest = 0;

        // When: 64 MiB stream through
        for (int read = 0; read < 8192; read++) {
            int from = (read % 100) * 8191;
            channel.writeInbound(Unpooled.copiedBuffer(stream, from, 8191));
            for (Object f = channel.readInbound(); f != null; f = channel.readInbound()) {
                assertThat(((BackendFrame) f).frame().readableBytes()).isEqualTo(100);
                ReferenceCountUtil.release(f);
                frames++;
            }
            largest = Math.max(largest, decoder.bufferedCapacity());
        }

        // Then: every row framed, and the decoder's buffer never held more than a few reads
        assertThat(frames).isEqualTo(8192L * 8191 / 100);
        assertThat(largest).as("largest buffer between reads, bytes").isLessThan(64 * 1024);
        channel.finishAndReleaseAll();
    }

    @Test
    void parsesTheFramesTheEdgeInspects() {
        // Given
        EmbeddedChannel channel = new EmbeddedChannel(new BackendFrameDecoder(1 << 20));
        channel.writeInbound(Unpooled.wrappedBuffer(loginAndSelect()));
        List<Object> frames = FrontendDecoderTest.drain(channel);

        // When
        BackendFrames.Authentication auth = BackendFrames.parseAuthentication((BackendFrame) frames.get(0));
        BackendMessage.ParameterStatus status = BackendFrames.parseParameterStatus((BackendFrame) frames.get(1));
        BackendMessage.BackendKeyData key = BackendFrames.parseBackendKeyData((BackendFrame) frames.get(2));
        byte tx = BackendFrames.parseReadyForQuery((BackendFrame) frames.get(3));
        List<byte[]> row = BackendFrames.parseDataRow((BackendFrame) frames.get(5));
        String tag = BackendFrames.parseCommandComplete(((BackendFrame) frames.get(6)).payload());

        // Then
        assertThat(auth.code()).isEqualTo(PgProtocol.AUTH_OK);
        assertThat(status).isEqualTo(new BackendMessage.ParameterStatus("server_version", "15.15"));
        assertThat(key).isEqualTo(new BackendMessage.BackendKeyData(4242, 0x01020304));
        assertThat(tx).isEqualTo((byte) 'I');
        assertThat(row).hasSize(2);
        assertThat(row.get(0)).isEqualTo("1".getBytes());
        assertThat(row.get(1)).isNull();
        assertThat(tag).isEqualTo("SELECT 1");
        assertThat(((BackendFrame) frames.get(6)).payload().readerIndex()).isZero();
        assertThatThrownBy(() -> BackendFrames.parseReadyForQuery((BackendFrame) frames.get(6)))
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("expected target message 'Z' but got 'C'");
        frames.forEach(ReferenceCountUtil::release);
        channel.finishAndReleaseAll();
    }

    @Test
    void parsesErrorFieldsAndSaslMechanisms() {
        // Given
        byte[] input = bytes()
                .message('R', bytes().int32(10).cstring("SCRAM-SHA-256-PLUS").cstring("SCRAM-SHA-256").int8(0))
                .message('E', bytes().int8('S').cstring("FATAL").int8('C').cstring("28P01")
                        .int8('M').cstring("password authentication failed for user \"x\"").int8(0))
                .toArray();
        EmbeddedChannel channel = new EmbeddedChannel(new BackendFrameDecoder(1 << 20));
        channel.writeInbound(Unpooled.wrappedBuffer(input));
        BackendFrame sasl = channel.readInbound();
        BackendFrame error = channel.readInbound();

        // When
        List<String> mechanisms = BackendFrames.parseAuthentication(sasl).saslMechanisms();
        Map<Character, String> fields = BackendFrames.parseErrorOrNotice(error);

        // Then
        assertThat(mechanisms).containsExactly("SCRAM-SHA-256-PLUS", "SCRAM-SHA-256");
        assertThat(fields).containsExactly(Map.entry('S', "FATAL"), Map.entry('C', "28P01"),
                Map.entry('M', "password authentication failed for user \"x\""));
        sasl.release();
        error.release();
        channel.finishAndReleaseAll();
    }

    @Test
    void extractsRowCountsFromCommandTags() {
        assertThat(BackendFrames.rowCount("INSERT 0 5")).isEqualTo(OptionalLong.of(5));
        assertThat(BackendFrames.rowCount("SELECT 10")).isEqualTo(OptionalLong.of(10));
        assertThat(BackendFrames.rowCount("UPDATE 3")).isEqualTo(OptionalLong.of(3));
        assertThat(BackendFrames.rowCount("DELETE 0")).isEqualTo(OptionalLong.of(0));
        assertThat(BackendFrames.rowCount("COPY 100")).isEqualTo(OptionalLong.of(100));
        assertThat(BackendFrames.rowCount("MERGE 2")).isEqualTo(OptionalLong.of(2));
        assertThat(BackendFrames.rowCount("CREATE TABLE")).isEmpty();
        assertThat(BackendFrames.rowCount("SELECT")).isEmpty();
        assertThat(BackendFrames.rowsOf("BEGIN")).isZero();
        assertThat(BackendFrames.commandName("INSERT 0 5")).isEqualTo("INSERT");
        assertThat(BackendFrames.commandName("CREATE TABLE")).isEqualTo("CREATE TABLE");
    }

    @Test
    void rejectsAnOversizeFrameFromItsHeaderAlone() {
        // Given
        BackendFrameDecoder decoder = new BackendFrameDecoder(1 << 20);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);

        // When / Then
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.wrappedBuffer(bytes().int8('D').int32(1 << 30).toArray())))
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("target message 'D' declares 1073741824 bytes, over the 1048576-byte limit");
        assertThat(decoder.isFailed()).isTrue();
        channel.writeInbound(Unpooled.wrappedBuffer(loginAndSelect()));
        assertThat((Object) channel.readInbound()).isNull();
        channel.finishAndReleaseAll();
    }

    @Test
    void decodesTheSingleByteSslAnswerWhenAsked() {
        // Given
        BackendFrameDecoder decoder = new BackendFrameDecoder(1 << 20);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        decoder.expectSslResponse();

        // When
        channel.writeInbound(Unpooled.wrappedBuffer(bytes().int8('N').raw(loginAndSelect()).toArray()));
        List<Object> out = FrontendDecoderTest.drain(channel);

        // Then
        assertThat(out.getFirst()).isEqualTo(new BackendMessage.SslResponse((byte) 'N'));
        assertThat(out).hasSize(9);
        out.forEach(ReferenceCountUtil::release);
        channel.finishAndReleaseAll();
    }

    @Test
    void rejectsPlaintextInjectedAfterSslAccepted() {
        // Given
        BackendFrameDecoder decoder = new BackendFrameDecoder(1 << 20);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        decoder.expectSslResponse();

        // When / Then
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.wrappedBuffer(bytes().int8('S').raw(loginAndSelect()).toArray())))
                .isInstanceOf(PgProtocolException.class)
                .hasMessageContaining("unencrypted data after accepting SSL");
        channel.finishAndReleaseAll();
    }
}
