package dev.gatehouse.edge.postgres.codec;

import dev.gatehouse.edge.postgres.codec.FrontendMessage.Bind;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CancelRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CopyData;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CopyDone;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.CopyFail;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Describe;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Execute;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Parse;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.PasswordMessage;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Query;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.SslRequest;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.StartupMessage;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Sync;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.Terminate;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.util.ReferenceCountUtil;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.stream.Stream;

import static dev.gatehouse.edge.postgres.codec.Wire.bytes;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FrontendDecoderTest {

    private static final int LIMIT = 1024 * 1024;

    // ------------------------------------------------------------------ realistic client sequences

    /** psql 15: startup, cleartext password (the token), a simple query, terminate. */
    static byte[] psqlSession() {
        return bytes()
                .packet(bytes().int32(196608)
                        .cstring("user").cstring("alice")
                        .cstring("database").cstring("app")
                        .cstring("application_name").cstring("psql")
                        .cstring("client_encoding").cstring("UTF8")
                        .int8(0))
                .message('p', bytes().cstring("eyJhbGciOiJSUzI1NiJ9.token"))
                .message('Q', bytes().cstring("select id, name from users where id = 1;"))
                .message('X', bytes())
                .toArray();
    }

    static List<FrontendMessage> psqlMessages() {
        LinkedHashMap<String, String> params = new LinkedHashMap<>();
        params.put("user", "alice");
        params.put("database", "app");
        params.put("application_name", "psql");
        params.put("client_encoding", "UTF8");
        return List.of(new StartupMessage(196608, params),
                PasswordMessage.cleartext("eyJhbGciOiJSUzI1NiJ9.token"),
                new Query("select id, name from users where id = 1;"),
                new FrontendMessage.Terminate());
    }

    /** pgjdbc: startup, then Parse/Bind/Describe/Execute/Sync with binary int4, a NULL and bytea. */
    static byte[] jdbcSession() {
        return bytes()
                .packet(bytes().int32(196608)
                        .cstring("user").cstring("ci-bot")
                        .cstring("database").cstring("orders")
                        .cstring("client_encoding").cstring("UTF8")
                        .cstring("DateStyle").cstring("ISO")
                        .cstring("TimeZone").cstring("UTC")
                        .cstring("extra_float_digits").cstring("2")
                        .int8(0))
                .message('P', bytes().cstring("").cstring("INSERT INTO t (a, b, c) VALUES ($1, $2, $3)")
                        .int16(3).int32(23).int32(25).int32(17))
                .message('B', bytes().cstring("").cstring("")
                        .int16(3).int16(1).int16(0).int16(1)
                        .int16(3).int32(4).int32(42).int32(-1).int32(3).int8(0xde).int8(0xad).int8(0x00)
                        .int16(1).int16(0))
                .message('D', bytes().int8('P').cstring(""))
                .message('E', bytes().cstring("").int32(0))
                .message('S', bytes())
                .toArray();
    }

    static List<FrontendMessage> jdbcMessages() {
        LinkedHashMap<String, String> params = new LinkedHashMap<>();
        params.put("user", "ci-bot");
        params.put("database", "orders");
        params.put("client_encoding", "UTF8");
        params.put("DateStyle", "ISO");
        params.put("TimeZone", "UTC");
        params.put("extra_float_digits", "2");
        return List.of(new StartupMessage(196608, params),
                new Parse("", "INSERT INTO t (a, b, c) VALUES ($1, $2, $3)", new int[] {23, 25, 17}),
                new Bind("", "", new short[] {1, 0, 1},
                        Arrays.asList(new byte[] {0, 0, 0, 42}, null, new byte[] {(byte) 0xde, (byte) 0xad, 0}),
                        new short[] {0}),
                new Describe((byte) 'P', ""),
                new Execute("", 0),
                new Sync());
    }

    /** SSLRequest alone (the TLS handshake follows in a separate read). */
    static byte[] sslRequest() {
        return Wire.hex("00000008 04d2162f");
    }

    /** COPY FROM STDIN as psql's \copy sends it, then a second COPY aborted by CopyFail. */
    static byte[] copySession() {
        byte[] startup = bytes().packet(bytes().int32(196608).cstring("user").cstring("loader").int8(0)).toArray();
        return bytes().raw(startup)
                .message('Q', bytes().cstring("COPY items (id, name) FROM STDIN"))
                .message('d', bytes().raw("1\tapple\n2\tpear\n".getBytes(StandardCharsets.UTF_8)))
                .message('d', bytes().raw("3\tfig\n".getBytes(StandardCharsets.UTF_8)))
                .message('c', bytes())
                .message('Q', bytes().cstring("COPY items FROM STDIN"))
                .message('f', bytes().cstring("aborted by user"))
                .toArray();
    }

    static List<FrontendMessage> copyMessages() {
        LinkedHashMap<String, String> params = new LinkedHashMap<>();
        params.put("user", "loader");
        return List.of(new StartupMessage(196608, params),
                new Query("COPY items (id, name) FROM STDIN"),
                new CopyData(Unpooled.copiedBuffer("1\tapple\n2\tpear\n", StandardCharsets.UTF_8)),
                new CopyData(Unpooled.copiedBuffer("3\tfig\n", StandardCharsets.UTF_8)),
                new CopyDone(),
                new Query("COPY items FROM STDIN"),
                new CopyFail("aborted by user"));
    }

    static Stream<Arguments> sessions() {
        return Stream.of(
                Arguments.of("psql", psqlSession(), psqlMessages()),
                Arguments.of("pgjdbc extended", jdbcSession(), jdbcMessages()),
                Arguments.of("copy", copySession(), copyMessages()),
                Arguments.of("ssl request", sslRequest(), List.of(new SslRequest())),
                Arguments.of("cancel", Wire.hex("00000010 04d2162e 00003039 deadbeef"),
                        List.of(new CancelRequest(12345, 0xdeadbeef))));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sessions")
    void decodesTheSameMessagesWhereverTheInputIsSplit(String name, byte[] input, List<FrontendMessage> expected) {
        try {
            for (int k = 0; k <= input.length; k++) {
                // Given
                EmbeddedChannel channel = new EmbeddedChannel(new FrontendDecoder(LIMIT));
                ByteBuf first = Unpooled.wrappedBuffer(input, 0, k);
                ByteBuf rest = Unpooled.wrappedBuffer(input, k, input.length - k);

                // When
                channel.writeInbound(first);
                channel.writeInbound(rest);
                List<Object> decoded = drain(channel);

                // Then
                assertThat(decoded).as("split after %d bytes", k).isEqualTo(expected);
                decoded.forEach(ReferenceCountUtil::release);
                if (k > 0) { // an empty wrapped buffer is the shared EMPTY_BUFFER, never released
                    assertThat(first.refCnt()).as("first part released").isZero();
                }
                if (k < input.length) {
                    assertThat(rest.refCnt()).as("rest released").isZero();
                }
                assertThat(channel.finishAndReleaseAll()).isFalse();
            }
        } finally {
            expected.forEach(ReferenceCountUtil::release);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("sessions")
    void decodesInputFedOneByteAtATime(String name, byte[] input, List<FrontendMessage> expected) {
        // Given
        EmbeddedChannel channel = new EmbeddedChannel(new FrontendDecoder(LIMIT));

        // When
        for (byte b : input) {
            channel.writeInbound(Unpooled.wrappedBuffer(new byte[] {b}));
        }
        List<Object> decoded = drain(channel);

        // Then
        assertThat(decoded).isEqualTo(expected);
        decoded.forEach(ReferenceCountUtil::release);
        expected.forEach(ReferenceCountUtil::release);
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void copyDataIsARetainedSliceTheReceiverReleases() {
        // Given
        EmbeddedChannel channel = new EmbeddedChannel(new FrontendDecoder(LIMIT));
        ByteBuf input = Unpooled.wrappedBuffer(copySession());

        // When
        channel.writeInbound(input);
        List<Object> decoded = drain(channel);

        // Then
        CopyData data = (CopyData) decoded.get(2);
        assertThat(data.refCnt()).isPositive(); // shared with the other slice of the same input
        assertThat(data.data().toString(StandardCharsets.UTF_8)).isEqualTo("1\tapple\n2\tpear\n");
        decoded.forEach(ReferenceCountUtil::release);
        assertThat(input.refCnt()).isZero();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void staysInStartupPhaseAfterSslRequest() {
        // Given
        FrontendDecoder decoder = new FrontendDecoder(LIMIT);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.writeInbound(Unpooled.wrappedBuffer(sslRequest()));
        Object ssl = channel.readInbound();

        // When (after TLS the client sends its StartupMessage)
        channel.writeInbound(Unpooled.wrappedBuffer(psqlSession()));

        // Then
        assertThat(ssl).isEqualTo(new SslRequest());
        assertThat(drain(channel)).isEqualTo(psqlMessages());
        assertThat(decoder.isStartupComplete()).isTrue();
        channel.finishAndReleaseAll();
    }

    // ------------------------------------------------------------------ malformed input

    static Stream<Arguments> malformed() {
        byte[] startup = bytes().packet(bytes().int32(196608).cstring("user").cstring("u").int8(0)).toArray();
        return Stream.of(
                Arguments.of("HTTP request instead of startup",
                        "GET / HTTP/1.1\r\nHost: db\r\n\r\n".getBytes(StandardCharsets.US_ASCII),
                        "got text starting with \"GET \" (an HTTP request"),
                Arguments.of("TLS ClientHello instead of startup",
                        Wire.hex("16030102000100 01fc0303"),
                        "TLS ClientHello"),
                Arguments.of("startup length too small", Wire.hex("00000004"),
                        "invalid startup packet length 4"),
                Arguments.of("protocol 2.0", bytes().packet(bytes().int32(0x00020000).cstring("user").cstring("u").int8(0)).toArray(),
                        "unsupported frontend protocol 2.0"),
                Arguments.of("startup parameter without NUL", bytes().packet(bytes().int32(196608).raw("user".getBytes())).toArray(),
                        "StartupMessage field 'parameter name' has no NUL terminator"),
                Arguments.of("startup bytes after the terminator",
                        bytes().packet(bytes().int32(196608).cstring("user").cstring("u").int8(0).int8(7)).toArray(),
                        "StartupMessage has 1 unexpected trailing bytes"),
                Arguments.of("duplicate startup parameter",
                        bytes().packet(bytes().int32(196608).cstring("user").cstring("u").cstring("user").cstring("v").int8(0)).toArray(),
                        "repeats parameter 'user'"),
                Arguments.of("data smuggled behind SSLRequest",
                        bytes().raw(sslRequest()).raw(startup).toArray(),
                        "unencrypted data after SSLRequest"),
                Arguments.of("cancel request of protocol 3.2 length",
                        Wire.hex("00000014 04d2162e 00003039 deadbeef 01020304"),
                        "CancelRequest is 20 bytes long"),
                Arguments.of("unknown message type", bytes().raw(startup).message('Y', bytes()).toArray(),
                        "unknown frontend message type 'Y'"),
                Arguments.of("length below 4", bytes().raw(startup).int8('Q').int32(3).toArray(),
                        "message 'Q' declares length 3, less than the 4 bytes"),
                Arguments.of("query without NUL", bytes().raw(startup).message('Q', bytes().raw("select 1".getBytes())).toArray(),
                        "message 'Q' field 'query' has no NUL terminator"),
                Arguments.of("trailing bytes", bytes().raw(startup).message('S', bytes().int8(1)).toArray(),
                        "message 'S' has 1 unexpected trailing bytes"),
                Arguments.of("execute truncated", bytes().raw(startup).message('E', bytes().cstring("").int16(0)).toArray(),
                        "message 'E' is truncated: field 'max rows' needs 4 bytes but only 2 remain"),
                Arguments.of("bind value running past the frame",
                        bytes().raw(startup).message('B', bytes().cstring("").cstring("").int16(0).int16(1).int32(100).int32(1)).toArray(),
                        "field 'parameter 1' needs 100 bytes but only 4 remain"),
                Arguments.of("bind format count mismatch",
                        bytes().raw(startup).message('B', bytes().cstring("").cstring("").int16(2).int16(0).int16(0)
                                .int16(3).int32(-1).int32(-1).int32(-1).int16(0)).toArray(),
                        "has 2 parameter formats but 3 parameters"),
                Arguments.of("bind invalid format code",
                        bytes().raw(startup).message('B', bytes().cstring("").cstring("").int16(1).int16(7).int16(0).int16(0)).toArray(),
                        "invalid parameter format 0 code 7"),
                Arguments.of("bind negative value length",
                        bytes().raw(startup).message('B', bytes().cstring("").cstring("").int16(0).int16(1).int32(-2).int16(0)).toArray(),
                        "invalid length -2 for field 'parameter 1'"),
                Arguments.of("describe of unknown kind", bytes().raw(startup).message('D', bytes().int8('X').cstring("")).toArray(),
                        "Describe target must be 'S' (statement) or 'P' (portal), got 'X'"),
                Arguments.of("invalid UTF-8", bytes().raw(startup).message('Q', bytes().int8(0xc3).int8(0x28).int8(0)).toArray(),
                        "is not valid UTF-8"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("malformed")
    void rejectsMalformedInputWithAnActionableMessage(String name, byte[] input, String expectedMessage) {
        // Given
        EmbeddedChannel channel = new EmbeddedChannel(new FrontendDecoder(LIMIT));
        ByteBuf buf = Unpooled.wrappedBuffer(input);

        // When / Then
        assertThatThrownBy(() -> channel.writeInbound(buf))
                .isInstanceOf(PgProtocolException.class)
                .hasMessageContaining(expectedMessage);
        assertThat(buf.refCnt()).isZero();
        channel.finishAndReleaseAll();
    }

    @Test
    void rejectsAnOversizeMessageFromItsHeaderAlone() {
        // Given
        FrontendDecoder decoder = new FrontendDecoder(LIMIT);
        EmbeddedChannel channel = new EmbeddedChannel(decoder);
        channel.writeInbound(Unpooled.wrappedBuffer(
                bytes().packet(bytes().int32(196608).cstring("user").cstring("u").int8(0)).toArray()));
        drain(channel);
        ByteBuf header = Unpooled.wrappedBuffer(bytes().int8('Q').int32(1 << 30).toArray());

        // When / Then
        assertThatThrownBy(() -> channel.writeInbound(header))
                .isInstanceOf(PgProtocolException.class)
                .hasMessage("message 'Q' declares 1073741824 bytes, over the 1048576-byte limit");
        assertThat(decoder.isFailed()).isTrue();
        channel.finishAndReleaseAll();
    }

    @Test
    void appliesTheSeparateCopyDataLimit() {
        // Given
        EmbeddedChannel channel = new EmbeddedChannel(new FrontendDecoder(64, 1024));
        byte[] startup = bytes().packet(bytes().int32(196608).cstring("user").cstring("u").int8(0)).toArray();
        channel.writeInbound(Unpooled.wrappedBuffer(startup));
        drain(channel);

        // When
        channel.writeInbound(Unpooled.wrappedBuffer(bytes().message('d', bytes().raw(new byte[500])).toArray()));
        List<Object> copy = drain(channel);

        // Then
        assertThat(copy).hasSize(1);
        copy.forEach(ReferenceCountUtil::release);
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.wrappedBuffer(bytes().int8('d').int32(2000).toArray())))
                .hasMessage("message 'd' declares 2000 bytes, over the 1024-byte limit");
        channel.finishAndReleaseAll();
    }

    @Test
    void discardsEverythingAfterAViolation() {
        // Given
        EmbeddedChannel channel = new EmbeddedChannel(new FrontendDecoder(LIMIT));
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.wrappedBuffer("GET / HTTP/1.1\r\n".getBytes())))
                .isInstanceOf(PgProtocolException.class);
        ByteBuf valid = Unpooled.wrappedBuffer(psqlSession());

        // When
        channel.writeInbound(valid);

        // Then
        assertThat(drain(channel)).isEmpty();
        assertThat(valid.refCnt()).isZero();
        assertThat(channel.finishAndReleaseAll()).isFalse();
    }

    @Test
    void rejectsInputAfterACancelRequest() {
        // Given
        EmbeddedChannel channel = new EmbeddedChannel(new FrontendDecoder(LIMIT));
        byte[] input = bytes().raw(Wire.hex("00000010 04d2162e 00003039 deadbeef")).raw(psqlSession()).toArray();

        // When / Then
        assertThatThrownBy(() -> channel.writeInbound(Unpooled.wrappedBuffer(input)))
                .hasMessageContaining("after a CancelRequest");
        assertThat((Object) channel.readInbound()).isEqualTo(new CancelRequest(12345, 0xdeadbeef));
        channel.finishAndReleaseAll();
    }

    @Test
    void readsCleartextPasswordAndKeepsSaslBytesRaw() {
        // Given
        PasswordMessage password = PasswordMessage.cleartext("s3cret");
        PasswordMessage sasl = PasswordMessage.saslInitialResponse("SCRAM-SHA-256", "n,,n=*,r=abc".getBytes());

        // When
        String cleartext = password.asCleartext();

        // Then
        assertThat(cleartext).isEqualTo("s3cret");
        assertThat(password.toString()).doesNotContain("s3cret");
        assertThat(sasl.data()).isEqualTo(bytes().cstring("SCRAM-SHA-256").int32(12).raw("n,,n=*,r=abc".getBytes()).toArray());
        assertThatThrownBy(sasl::asCleartext).isInstanceOf(PgProtocolException.class);
    }

    static List<Object> drain(EmbeddedChannel channel) {
        List<Object> out = new ArrayList<>();
        Object m;
        while ((m = channel.readInbound()) != null) {
            out.add(m);
        }
        return out;
    }
}
