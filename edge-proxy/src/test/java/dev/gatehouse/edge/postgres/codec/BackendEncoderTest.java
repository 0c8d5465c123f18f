package dev.gatehouse.edge.postgres.codec;

import dev.gatehouse.edge.postgres.codec.BackendMessage.AuthenticationCleartextPassword;
import dev.gatehouse.edge.postgres.codec.BackendMessage.AuthenticationOk;
import dev.gatehouse.edge.postgres.codec.BackendMessage.BackendKeyData;
import dev.gatehouse.edge.postgres.codec.BackendMessage.CommandComplete;
import dev.gatehouse.edge.postgres.codec.BackendMessage.EmptyQueryResponse;
import dev.gatehouse.edge.postgres.codec.BackendMessage.ErrorResponse;
import dev.gatehouse.edge.postgres.codec.BackendMessage.ParameterStatus;
import dev.gatehouse.edge.postgres.codec.BackendMessage.RawFrame;
import dev.gatehouse.edge.postgres.codec.BackendMessage.ReadyForQuery;
import dev.gatehouse.edge.postgres.codec.BackendMessage.SslResponse;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class BackendEncoderTest {

    private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

    @Test
    void encodesFixedMessagesAsInTheProtocolDocs() {
        // When / Then
        assertThat(hexOf(new AuthenticationOk())).isEqualTo("520000000800000000");
        assertThat(hexOf(new AuthenticationCleartextPassword())).isEqualTo("520000000800000003");
        assertThat(hexOf(new BackendKeyData(1234, -1))).isEqualTo("4b0000000c000004d2ffffffff");
        assertThat(hexOf(ReadyForQuery.IDLE)).isEqualTo("5a0000000549");
        assertThat(hexOf(new ReadyForQuery((byte) 'E'))).isEqualTo("5a0000000545");
        assertThat(hexOf(new EmptyQueryResponse())).isEqualTo("4900000004");
        assertThat(hexOf(new SslResponse((byte) 'N'))).isEqualTo("4e");
    }

    @Test
    void encodesStringMessagesByteExact() {
        // When / Then: 'C', Int32 13, "SELECT 1\0"
        assertThat(hexOf(new CommandComplete("SELECT 1"))).isEqualTo("430000000d53454c454354203100");
        // 'S', Int32 4 + "TimeZone\0" (9) + "UTC\0" (4) = 17
        assertThat(hexOf(new ParameterStatus("TimeZone", "UTC")))
                .isEqualTo("5300000011" + "54696d655a6f6e6500" + "55544300");
    }

    @Test
    void encodesErrorResponseFieldsInOrder() {
        // Given
        ErrorResponse error = ErrorResponse.error(PgProtocol.INSUFFICIENT_PRIVILEGE, "denied");

        // When
        String hex = hexOf(error);

        // Then: 'E', len 4 + "SERROR\0" 7 + "VERROR\0" 7 + "C42501\0" 7 + "Mdenied\0" 8 + 0 = 34
        assertThat(hex).isEqualTo("4500000022" + "534552524f5200" + "564552524f5200" + "433432353031" + "00"
                + "4d64656e69656400" + "00");
    }

    @Test
    void errorResponseRequiresSeverityCodeAndMessage() {
        // When / Then
        assertThatThrownBy(() -> new ErrorResponse(java.util.Map.of('M', "x")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("needs field 'S'");
    }

    @Test
    void pipelineWritesRawFramesThroughWithoutCopying() {
        // Given
        EmbeddedChannel channel = new EmbeddedChannel(new BackendEncoder());
        ByteBuf frame = Unpooled.wrappedBuffer(Wire.hex("5a0000000549"));

        // When
        channel.writeOutbound(new RawFrame(frame), ErrorResponse.fatal(PgProtocol.ADMIN_SHUTDOWN, "bye"));
        ByteBuf first = channel.readOutbound();
        ByteBuf second = channel.readOutbound();

        // Then
        assertThat(first).isSameAs(frame);
        assertThat(second.getByte(0)).isEqualTo((byte) 'E');
        first.release();
        second.release();
        assertThat(frame.refCnt()).isZero();
        assertThat(channel.finish()).isFalse();
    }

    @Test
    void encodeAllConcatenatesMessages() {
        // When
        ByteBuf buf = BackendEncoder.encodeAll(ALLOC, new CommandComplete("SELECT 1"), ReadyForQuery.IDLE);

        // Then
        assertThat(ByteBufUtil.hexDump(buf)).isEqualTo("430000000d53454c454354203100" + "5a0000000549");
        buf.release();
    }

    private static String hexOf(BackendMessage m) {
        ByteBuf buf = m.encode(ALLOC);
        try {
            return ByteBufUtil.hexDump(buf);
        } finally {
            buf.release();
        }
    }
}
