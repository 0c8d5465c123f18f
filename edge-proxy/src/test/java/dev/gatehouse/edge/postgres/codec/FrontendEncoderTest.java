package dev.gatehouse.edge.postgres.codec;

import dev.gatehouse.edge.postgres.codec.FrontendMessage.Bind;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CancelRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Close;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CopyData;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CopyDone;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CopyFail;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Describe;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Execute;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Flush;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.FunctionCall;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.GssEncRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Parse;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.PasswordMessage;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Query;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.SslRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.StartupMessage;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Sync;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Terminate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

class FrontendEncoderTest {

    private static final UnpooledByteBufAllocator ALLOC = new UnpooledByteBufAllocator(false);

    @Test
    void encodesSslRequestAsInTheProtocolDocs() {
        // When
        String hex = hexOf(new SslRequest());

        // Then (Int32 8, Int32 80877103 = 0x04d2162f)
        assertThat(hex).isEqualTo("0000000804d2162f");
    }

    @Test
    void encodesStartupMessageByteExact() {
        // Given
        LinkedHashMap<String, String> params = new LinkedHashMap<>();
        params.put("user", "u");
        params.put("database", "d");

        // When
        String hex = hexOf(new StartupMessage(PgProtocol.PROTOCOL_VERSION_3_0, params));

        // Then: length 27 = 4 + 4 + "user\0u\0" (7) + "database\0d\0" (11) + terminator (1) = 27
        assertThat(hex).isEqualTo("0000001b" + "00030000" + "7573657200" + "7500" + "646174616261736500" + "6400" + "00");
    }

    @Test
    void encodesSimpleQueryAndSyncByteExact() {
        // When / Then: 'Q', Int32 13, "SELECT 1\0"
        assertThat(hexOf(new Query("SELECT 1"))).isEqualTo("510000000d53454c454354203100");
        assertThat(hexOf(new Sync())).isEqualTo("5300000004");
        assertThat(hexOf(new Terminate())).isEqualTo("5800000004");
        assertThat(hexOf(new Execute("", 0))).isEqualTo("45000000090000000000");
    }

    @Test
    void encodesBindWithNullAndBinaryParameter() {
        // Given
        Bind bind = new Bind("p", "s", new short[] {1}, Arrays.asList(new byte[] {0, 0, 0, 7}, null), new short[] {});

        // When
        String hex = hexOf(bind);

        // Then: 'B' len 28, "p\0", "s\0", 1 format [1], 2 params: len 4 + 00000007, len -1, 0 result formats
        assertThat(hex).isEqualTo("420000001c" + "7000" + "7300" + "0001" + "0001" + "0002"
                + "00000004" + "00000007" + "ffffffff" + "0000");
    }

    @Test
    void encodesSaslInitialResponse() {
        // Given
        PasswordMessage m = PasswordMessage.saslInitialResponse("SCRAM-SHA-256", "n,,n=*,r=x".getBytes(StandardCharsets.UTF_8));

        // When
        String hex = hexOf(m);

        // Then: 'p', length 4 + 14 + 4 + 10 = 32
        assertThat(hex).isEqualTo("7000000020" + ByteBufUtil.hexDump("SCRAM-SHA-256".getBytes()) + "00"
                + "0000000a" + ByteBufUtil.hexDump("n,,n=*,r=x".getBytes()));
    }

    static Stream<FrontendMessage> everyMessageType() {
        LinkedHashMap<String, String> params = new LinkedHashMap<>();
        params.put("user", "alice");
        params.put("database", "app");
        params.put("application_name", "gatehouse ✓");
        return Stream.of(
                new StartupMessage(PgProtocol.PROTOCOL_VERSION_3_0, params),
                PasswordMessage.cleartext("pw"),
                PasswordMessage.saslResponse("c=biws,r=abc,p=xyz".getBytes()),
                new Query("select 'ünïcode'"),
                new Parse("s1", "select $1::int", new int[] {23}),
                new Parse("", "select 1", new int[0]),
                new Bind("", "s1", new short[] {1, 0}, Arrays.asList(new byte[] {1, 2}, null), new short[] {1}),
                new Bind("portal", "", new short[0], List.of(), new short[0]),
                new Describe((byte) 'S', "s1"),
                new Describe((byte) 'P', ""),
                new Execute("portal", 100),
                new Close((byte) 'S', "s1"),
                new Close((byte) 'P', "portal"),
                new Sync(),
                new Flush(),
                new CopyData(Unpooled.wrappedBuffer(new byte[] {9, 8, 7})),
                new CopyDone(),
                new CopyFail("nope"),
                new FunctionCall(1598, new short[] {0}, Arrays.asList("x".getBytes(), null), (short) 1),
                new Terminate());
    }

    @ParameterizedTest
    @MethodSource("everyMessageType")
    void decodeOfEncodeIsTheIdentity(FrontendMessage message) {
        // Given: a decoder past its startup phase unless the message is a startup message
        EmbeddedChannel channel = new EmbeddedChannel(new FrontendDecoder(1 << 20));
        if (!(message instanceof StartupMessage)) {
            channel.writeInbound(FrontendEncoder.encode(ALLOC, new StartupMessage(196608, new LinkedHashMap<>())));
            assertThat((Object) channel.readInbound()).isInstanceOf(StartupMessage.class);
        }

        // When
        channel.writeInbound(FrontendEncoder.encode(ALLOC, message));
        Object decoded = channel.readInbound();

        // Then
        assertThat(decoded).isEqualTo(message);
        ReferenceCountUtil.release(decoded);
        ReferenceCountUtil.release(message);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void startupPacketsRoundTripInTheStartupPhase() {
        for (FrontendMessage m : List.of(new SslRequest(), new GssEncRequest(), new CancelRequest(7, -3))) {
            // Given
            EmbeddedChannel channel = new EmbeddedChannel(new FrontendDecoder(1 << 20));

            // When
            channel.writeInbound(FrontendEncoder.encode(ALLOC, m));

            // Then
            assertThat((Object) channel.readInbound()).isEqualTo(m);
            channel.finishAndReleaseAll();
        }
    }

    @Test
    void pipelineEncoderReleasesCopyData() {
        // Given
        EmbeddedChannel channel = new EmbeddedChannel(new FrontendEncoder());
        CopyData data = new CopyData(Unpooled.wrappedBuffer(new byte[] {1, 2, 3}));

        // When
        channel.writeOutbound(data);
        ByteBuf out = channel.readOutbound();

        // Then
        assertThat(ByteBufUtil.hexDump(out)).isEqualTo("640000000701" + "0203");
        assertThat(data.refCnt()).isZero();
        out.release();
        assertThat(channel.finish()).isFalse();
    }

    private static String hexOf(FrontendMessage m) {
        ByteBuf buf = FrontendEncoder.encode(ALLOC, m);
        try {
            return ByteBufUtil.hexDump(buf);
        } finally {
            buf.release();
        }
    }
}
