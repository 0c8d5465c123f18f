package dev.gatehouse.edge.mysql.codec;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The connection phase's packets: the server's greeting (Protocol::HandshakeV10), the client's
 * answer (Protocol::HandshakeResponse41, or the SSLRequest that precedes it under TLS), the
 * AuthSwitchRequest, and {@code mysql_native_password}'s scramble.
 */
public final class Handshake {
    private Handshake() {
    }

    public static final String NATIVE_PASSWORD = "mysql_native_password";
    public static final String CLEAR_PASSWORD = "mysql_clear_password";
    /** Length of the nonce ("scramble") a greeting carries. */
    public static final int SCRAMBLE_LENGTH = 20;

    /**
     * The server's greeting.
     *
     * @param serverVersion  the version string (a MariaDB server: "11.4.5-MariaDB")
     * @param connectionId   the connection id the client sees (and would name in KILL)
     * @param scramble       the 20-byte nonce
     * @param capabilities   the capability flags offered
     * @param collation      the server's default collation id
     * @param status         the server status flags
     * @param authPlugin     the authentication method the server starts with
     */
    public record Greeting(String serverVersion, long connectionId, byte[] scramble, int capabilities, int collation,
                           int status, String authPlugin) {

        public ByteBuf encode(ByteBufAllocator alloc) {
            ByteBuf b = alloc.buffer(128);
            b.writeByte(10);
            MySqlProtocol.writeNulString(b, serverVersion);
            b.writeIntLE((int) connectionId);
            b.writeBytes(scramble, 0, 8);
            b.writeByte(0);
            b.writeShortLE(capabilities & 0xFFFF);
            b.writeByte(collation);
            b.writeShortLE(status);
            b.writeShortLE(capabilities >>> 16);
            b.writeByte(scramble.length + 1);
            b.writeZero(10);
            b.writeBytes(scramble, 8, scramble.length - 8);
            b.writeByte(0);
            MySqlProtocol.writeNulString(b, authPlugin);
            return b;
        }

        /** Reads a target's greeting. */
        public static Greeting read(ByteBuf payload) {
            ByteBuf b = payload.duplicate();
            int protocol = b.readUnsignedByte();
            if (protocol != 10) throw new IllegalArgumentException("not a protocol 10 handshake (" + protocol + ")");
            String version = MySqlProtocol.readNulString(b);
            long connectionId = b.readUnsignedIntLE();
            byte[] part1 = new byte[8];
            b.readBytes(part1);
            b.skipBytes(1);
            int capabilities = b.readUnsignedShortLE();
            int collation = 0;
            int status = 0;
            int authDataLength = 0;
            byte[] scramble = part1;
            String plugin = NATIVE_PASSWORD;
            if (b.isReadable()) {
                collation = b.readUnsignedByte();
                status = b.readUnsignedShortLE();
                capabilities |= b.readUnsignedShortLE() << 16;
                authDataLength = b.readUnsignedByte();
                b.skipBytes(10);
                if ((capabilities & MySqlProtocol.CLIENT_SECURE_CONNECTION) != 0) {
                    int n = Math.max(13, authDataLength - 8);
                    byte[] part2 = new byte[Math.min(n, b.readableBytes())];
                    b.readBytes(part2);
                    int used = part2.length > 0 && part2[part2.length - 1] == 0 ? part2.length - 1 : part2.length;
                    scramble = new byte[8 + used];
                    System.arraycopy(part1, 0, scramble, 0, 8);
                    System.arraycopy(part2, 0, scramble, 8, used);
                }
                if ((capabilities & MySqlProtocol.CLIENT_PLUGIN_AUTH) != 0 && b.isReadable()) {
                    plugin = MySqlProtocol.readNulString(b);
                }
            }
            return new Greeting(version, connectionId, scramble, capabilities, collation, status, plugin);
        }
    }

    /**
     * The client's answer to the greeting.
     *
     * @param capabilities  the capability flags the client uses
     * @param maxPacketSize the largest packet it accepts
     * @param collation     its collation id (the connection's character set)
     * @param user          the user name
     * @param authResponse  what its authentication method computed
     * @param database      the database it asked for, or null
     * @param authPlugin    the method it used, or null
     * @param attributes    its connection attributes (program name, driver, ...)
     */
    public record Response(int capabilities, int maxPacketSize, int collation, String user, byte[] authResponse,
                           String database, String authPlugin, Map<String, String> attributes) {

        /** Whether an answer's payload is an SSLRequest: just the first 32 bytes, with CLIENT_SSL. */
        public static boolean isSslRequest(ByteBuf payload) {
            return payload.readableBytes() == TlsSwitch.SSL_REQUEST_SIZE
                    && (payload.getIntLE(payload.readerIndex()) & MySqlProtocol.CLIENT_SSL) != 0;
        }

        /** Reads a client's HandshakeResponse41; throws IllegalArgumentException on a malformed one. */
        public static Response read(ByteBuf payload) {
            try {
                return readUnchecked(payload);
            } catch (IndexOutOfBoundsException e) {
                throw new IllegalArgumentException("handshake response ends early", e);
            }
        }

        private static Response readUnchecked(ByteBuf payload) {
            ByteBuf b = payload.duplicate();
            if (b.readableBytes() < 32) throw new IllegalArgumentException("handshake response too short");
            int capabilities = b.readIntLE();
            if ((capabilities & MySqlProtocol.CLIENT_PROTOCOL_41) == 0) {
                throw new IllegalArgumentException("the client does not speak protocol 4.1");
            }
            int maxPacket = b.readIntLE();
            int collation = b.readUnsignedByte();
            b.skipBytes(23);
            String user = MySqlProtocol.readNulString(b);
            byte[] auth;
            if ((capabilities & MySqlProtocol.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
                auth = MySqlProtocol.readLenencBytes(b);
            } else if ((capabilities & MySqlProtocol.CLIENT_SECURE_CONNECTION) != 0) {
                int n = b.readUnsignedByte();
                if (n > b.readableBytes()) throw new IllegalArgumentException("authentication data runs past the packet");
                auth = new byte[n];
                b.readBytes(auth);
            } else {
                auth = MySqlProtocol.readNulBytes(b);
            }
            String database = null;
            if ((capabilities & MySqlProtocol.CLIENT_CONNECT_WITH_DB) != 0 && b.isReadable()) {
                database = MySqlProtocol.readNulString(b);
            }
            String plugin = null;
            if ((capabilities & MySqlProtocol.CLIENT_PLUGIN_AUTH) != 0 && b.isReadable()) {
                plugin = MySqlProtocol.readNulString(b);
            }
            Map<String, String> attributes = new LinkedHashMap<>();
            if ((capabilities & MySqlProtocol.CLIENT_CONNECT_ATTRS) != 0 && b.isReadable()) {
                long total = MySqlProtocol.readLenenc(b);
                if (total < 0 || total > b.readableBytes()) throw new IllegalArgumentException("connection attributes run past the packet");
                ByteBuf attrs = b.readSlice((int) total);
                while (attrs.isReadable()) {
                    byte[] key = MySqlProtocol.readLenencBytes(attrs);
                    byte[] value = MySqlProtocol.readLenencBytes(attrs);
                    if (key == null) continue;
                    attributes.put(new String(key, StandardCharsets.UTF_8),
                            value == null ? null : new String(value, StandardCharsets.UTF_8));
                }
            }
            return new Response(capabilities, maxPacket, collation, user, auth == null ? new byte[0] : auth, database, plugin,
                    attributes);
        }

        /** Writes it (the edge's login to a target). */
        public ByteBuf encode(ByteBufAllocator alloc) {
            ByteBuf b = alloc.buffer(128);
            b.writeIntLE(capabilities);
            b.writeIntLE(maxPacketSize);
            b.writeByte(collation);
            b.writeZero(23);
            MySqlProtocol.writeNulString(b, user);
            if ((capabilities & MySqlProtocol.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) != 0) {
                MySqlProtocol.writeLenencBytes(b, authResponse);
            } else {
                b.writeByte(authResponse.length);
                b.writeBytes(authResponse);
            }
            if ((capabilities & MySqlProtocol.CLIENT_CONNECT_WITH_DB) != 0) {
                MySqlProtocol.writeNulString(b, database == null ? "" : database);
            }
            if ((capabilities & MySqlProtocol.CLIENT_PLUGIN_AUTH) != 0) {
                MySqlProtocol.writeNulString(b, authPlugin == null ? NATIVE_PASSWORD : authPlugin);
            }
            return b;
        }

        @Override
        public String toString() {
            return "Response[user=" + user + ", database=" + database + ", plugin=" + authPlugin + ", auth=<redacted>]";
        }
    }

    /** An AuthSwitchRequest payload: 0xFE, the method's name, its data. */
    public static ByteBuf authSwitch(ByteBufAllocator alloc, String plugin, byte[] data) {
        ByteBuf b = alloc.buffer(2 + plugin.length() + data.length + 1);
        b.writeByte(MySqlProtocol.EOF);
        MySqlProtocol.writeNulString(b, plugin);
        b.writeBytes(data);
        if (NATIVE_PASSWORD.equals(plugin)) b.writeByte(0);
        return b;
    }

    /** What an AuthSwitchRequest asks for: the method and its nonce. */
    public record AuthSwitch(String plugin, byte[] data) {
        public static AuthSwitch read(ByteBuf payload) {
            ByteBuf b = payload.duplicate();
            b.skipBytes(1);
            String plugin = MySqlProtocol.readNulString(b);
            byte[] data = new byte[b.readableBytes()];
            b.readBytes(data);
            if (data.length > 0 && data[data.length - 1] == 0) data = Arrays.copyOf(data, data.length - 1);
            return new AuthSwitch(plugin, data);
        }
    }

    /**
     * {@code mysql_native_password}: SHA1(password) XOR SHA1(scramble + SHA1(SHA1(password))); an
     * empty password answers with nothing.
     */
    public static byte[] nativePassword(String password, byte[] scramble) {
        if (password == null || password.isEmpty()) return new byte[0];
        try {
            MessageDigest sha1 = MessageDigest.getInstance("SHA-1");
            byte[] stage1 = sha1.digest(password.getBytes(StandardCharsets.UTF_8));
            byte[] stage2 = sha1.digest(stage1);
            sha1.update(scramble, 0, Math.min(SCRAMBLE_LENGTH, scramble.length));
            sha1.update(stage2);
            byte[] out = sha1.digest();
            for (int i = 0; i < out.length; i++) out[i] ^= stage1[i];
            return out;
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-1 is not available", e);
        }
    }
}
