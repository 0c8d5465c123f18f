package dev.gatehouse.edge.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.DecoderException;
import io.netty.handler.codec.TooLongFrameException;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The MySQL packet framing and the connection-phase packets. */
class PacketCodecTest {

    @Test
    void aPayloadOf16MiBOrMoreTravelsAsFragmentsAndIsJoinedBackWithItsSequence() {
        int size = MySqlProtocol.MAX_PACKET_PAYLOAD * 2 + 10;
        ByteBuf payload = Unpooled.buffer(size);
        for (int i = 0; i < size; i++) payload.writeByte(i * 31);
        ByteBuf wire = MySqlPacket.encode(ByteBufAllocator.DEFAULT, 7, payload.retainedDuplicate());
        assertThat(wire.readableBytes()).isEqualTo(size + 3 * 4);

        EmbeddedChannel channel = new EmbeddedChannel(new PacketDecoder(64 << 20));
        // delivered in awkward slices, as TCP may
        while (wire.isReadable()) channel.writeInbound(wire.readRetainedSlice(Math.min(wire.readableBytes(), 1_000_003)));
        wire.release();
        MySqlPacket p = channel.readInbound();
        assertThat(p.sequence()).isEqualTo(7);
        assertThat(p.fragments()).isEqualTo(3);
        assertThat(p.nextSequence()).isEqualTo(10);
        assertThat(p.payload()).isEqualTo(payload);
        p.release();
        payload.release();
        assertThat((Object) channel.readInbound()).isNull();
        channel.finishAndReleaseAll();
    }

    @Test
    void anExactMultipleOf16MiBEndsWithAnEmptyPacket() {
        ByteBuf payload = Unpooled.buffer(MySqlProtocol.MAX_PACKET_PAYLOAD).writeZero(MySqlProtocol.MAX_PACKET_PAYLOAD);
        ByteBuf wire = MySqlPacket.encode(ByteBufAllocator.DEFAULT, 0, payload);
        assertThat(wire.readableBytes()).isEqualTo(MySqlProtocol.MAX_PACKET_PAYLOAD + 8);
        EmbeddedChannel channel = new EmbeddedChannel(new PacketDecoder(64 << 20));
        channel.writeInbound(wire);
        MySqlPacket p = channel.readInbound();
        assertThat(p.size()).isEqualTo(MySqlProtocol.MAX_PACKET_PAYLOAD);
        assertThat(p.fragments()).isEqualTo(2);
        p.release();
        channel.finishAndReleaseAll();
    }

    @Test
    void aPacketOverTheLimitIsRefusedBeforeItIsBuffered() {
        EmbeddedChannel channel = new EmbeddedChannel(new PacketDecoder(1024));
        ByteBuf header = Unpooled.buffer().writeMediumLE(2048).writeByte(0);
        assertThatThrownBy(() -> channel.writeInbound(header)).isInstanceOf(TooLongFrameException.class);
        channel.releaseInbound();
    }

    @Test
    void aContinuationOutOfSequenceIsAProtocolError() {
        EmbeddedChannel channel = new EmbeddedChannel(new PacketDecoder(64 << 20));
        ByteBuf wire = Unpooled.buffer();
        wire.writeMediumLE(MySqlProtocol.MAX_PACKET_PAYLOAD).writeByte(0).writeZero(MySqlProtocol.MAX_PACKET_PAYLOAD);
        wire.writeMediumLE(1).writeByte(5).writeByte(1);
        assertThatThrownBy(() -> channel.writeInbound(wire)).isInstanceOf(DecoderException.class)
                .hasMessageContaining("out of order");
        channel.releaseInbound();
    }

    @Property(tries = 200)
    void smallPacketsRoundTripWhateverTheSplit(@ForAll @IntRange(max = 3000) int size, @ForAll @IntRange(min = 1, max = 97) int chunk,
                                               @ForAll @IntRange(max = 255) int sequence) {
        ByteBuf payload = Unpooled.buffer(size);
        for (int i = 0; i < size; i++) payload.writeByte(i ^ size);
        ByteBuf wire = MySqlPacket.encode(ByteBufAllocator.DEFAULT, sequence, payload.retainedDuplicate());
        EmbeddedChannel channel = new EmbeddedChannel(new PacketDecoder(1 << 20));
        while (wire.isReadable()) channel.writeInbound(wire.readRetainedSlice(Math.min(chunk, wire.readableBytes())));
        wire.release();
        MySqlPacket p = channel.readInbound();
        assertThat(p.sequence()).isEqualTo(sequence);
        assertThat(p.payload()).isEqualTo(payload);
        p.release();
        payload.release();
        channel.finishAndReleaseAll();
    }

    @Test
    void aGreetingReadsBackAsWritten() {
        byte[] scramble = "abcdefghijklmnopqrst".getBytes(StandardCharsets.US_ASCII);
        var greeting = new Handshake.Greeting("11.4.5-MariaDB-Gatehouse", 42, scramble, 0x81FFF7DF, 45, 2,
                Handshake.NATIVE_PASSWORD);
        ByteBuf b = greeting.encode(ByteBufAllocator.DEFAULT);
        var read = Handshake.Greeting.read(b);
        b.release();
        assertThat(read.serverVersion()).isEqualTo("11.4.5-MariaDB-Gatehouse");
        assertThat(read.connectionId()).isEqualTo(42);
        assertThat(read.scramble()).isEqualTo(scramble);
        assertThat(read.capabilities()).isEqualTo(0x81FFF7DF);
        assertThat(read.authPlugin()).isEqualTo(Handshake.NATIVE_PASSWORD);
    }

    @Test
    void aHandshakeResponseReadsBackWithDatabasePluginAndAttributes() {
        int caps = MySqlProtocol.CLIENT_PROTOCOL_41 | MySqlProtocol.CLIENT_SECURE_CONNECTION | MySqlProtocol.CLIENT_PLUGIN_AUTH
                | MySqlProtocol.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | MySqlProtocol.CLIENT_CONNECT_WITH_DB;
        var response = new Handshake.Response(caps, 1 << 24, 45, "alice", new byte[] {1, 2, 3}, "shop",
                Handshake.CLEAR_PASSWORD, Map.of());
        ByteBuf b = response.encode(ByteBufAllocator.DEFAULT);
        var read = Handshake.Response.read(b);
        b.release();
        assertThat(read.user()).isEqualTo("alice");
        assertThat(read.database()).isEqualTo("shop");
        assertThat(read.authPlugin()).isEqualTo(Handshake.CLEAR_PASSWORD);
        assertThat(read.authResponse()).containsExactly(1, 2, 3);
        assertThat(read.toString()).doesNotContain("1, 2, 3");
    }

    @Test
    void malformedHandshakeResponsesAreRefusedNotMisread() {
        ByteBuf shortOne = Unpooled.buffer().writeIntLE(MySqlProtocol.CLIENT_PROTOCOL_41).writeZero(10);
        assertThatThrownBy(() -> Handshake.Response.read(shortOne)).isInstanceOf(IllegalArgumentException.class);
        // an authentication length that runs past the packet
        ByteBuf overrun = Unpooled.buffer().writeIntLE(MySqlProtocol.CLIENT_PROTOCOL_41 | MySqlProtocol.CLIENT_SECURE_CONNECTION)
                .writeIntLE(0).writeByte(45).writeZero(23).writeBytes("bob\0".getBytes(StandardCharsets.US_ASCII)).writeByte(200);
        assertThatThrownBy(() -> Handshake.Response.read(overrun)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void anErrPacketCarriesNumberStateAndMessage() {
        ByteBuf b = MySqlProtocol.errPacket(ByteBufAllocator.DEFAULT, 1227, "42000", "gatehouse: denied");
        var e = MySqlProtocol.Error.read(b);
        b.release();
        assertThat(e.number()).isEqualTo(1227);
        assertThat(e.sqlState()).isEqualTo("42000");
        assertThat(e.message()).isEqualTo("gatehouse: denied");
    }
}
