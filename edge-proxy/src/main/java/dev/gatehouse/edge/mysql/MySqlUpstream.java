package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.NettySockets;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.mysql.codec.Handshake;
import dev.gatehouse.edge.mysql.codec.MySqlPacket;
import dev.gatehouse.edge.mysql.codec.MySqlProtocol;
import dev.gatehouse.edge.mysql.codec.PacketDecoder;
import io.netty.buffer.ByteBuf;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

import java.nio.charset.StandardCharsets;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The edge's connection to a session's MySQL or MariaDB target: logs in with the connection's own
 * credentials ({@code mysql_native_password}, following an AuthSwitchRequest to it), with the
 * capabilities the client negotiated with the edge minus those the edge never passes on (local
 * files, compression, connection attributes, query attributes; TLS when the connection asks for
 * it, verified), then hands
 * every packet the target sends to the session. Runs on the session's event loop.
 */
final class MySqlUpstream {

    /** What the target said at login. */
    record Ready(Handshake.Greeting greeting, int capabilities, int status) {
    }

    /** Who receives what the target sends once logged in. */
    interface Listener {
        void onTargetPacket(MySqlPacket packet);

        void onTargetReadComplete();

        void onTargetClosed(Throwable cause);
    }

    /** Capabilities a client may carry through to the target (all others are cleared). */
    static final int PASSED_ON = MySqlProtocol.CLIENT_LONG_PASSWORD | MySqlProtocol.CLIENT_FOUND_ROWS
            | MySqlProtocol.CLIENT_LONG_FLAG | MySqlProtocol.CLIENT_INTERACTIVE | MySqlProtocol.CLIENT_TRANSACTIONS
            | MySqlProtocol.CLIENT_MULTI_STATEMENTS | MySqlProtocol.CLIENT_MULTI_RESULTS | MySqlProtocol.CLIENT_PS_MULTI_RESULTS
            | MySqlProtocol.CLIENT_DEPRECATE_EOF | MySqlProtocol.CLIENT_IGNORE_SIGPIPE | MySqlProtocol.CLIENT_RESERVED;
    /** Capabilities whose answers the edge relays as they are, so the target must have them when the client uses them. */
    static final int SHAPE_ANSWERS = MySqlProtocol.CLIENT_DEPRECATE_EOF | MySqlProtocol.CLIENT_MULTI_RESULTS
            | MySqlProtocol.CLIENT_PS_MULTI_RESULTS | MySqlProtocol.CLIENT_MULTI_STATEMENTS;
    private static final int ALWAYS = MySqlProtocol.CLIENT_PROTOCOL_41 | MySqlProtocol.CLIENT_SECURE_CONNECTION
            | MySqlProtocol.CLIENT_PLUGIN_AUTH | MySqlProtocol.CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA
            | MySqlProtocol.CLIENT_CONNECT_WITH_DB;
    private static final int MAX_PACKET = 1 << 30;

    private final Listener session;
    private final TargetConnection target;
    private final NetClient netClient;
    private final int clientCapabilities;
    private final int collation;
    private final CompletableFuture<Ready> ready = new CompletableFuture<>();
    private NetSocket socket;
    private Handshake.Greeting greeting;
    private int capabilities;
    private int nextSequence;
    private boolean loggedIn;
    private boolean closed;

    MySqlUpstream(Listener session, TargetConnection target, NetClient netClient, int clientCapabilities, int collation) {
        this.session = session;
        this.target = target;
        this.netClient = netClient;
        this.clientCapabilities = clientCapabilities;
        this.collation = collation;
    }

    CompletionStage<Ready> connect() {
        netClient.connect(target.port(), target.host()).onComplete(ar -> {
            if (ar.failed()) {
                fail("cannot reach " + target.host() + ":" + target.port() + " (" + ar.cause().getMessage() + ")");
                return;
            }
            socket = ar.result();
            NettySockets.install(socket, "mysql-decoder", new PacketDecoder(MAX_PACKET), this::onObject);
            NettySockets.onReadComplete(socket, v -> {
                if (loggedIn && !closed) session.onTargetReadComplete();
            });
            socket.exceptionHandler(e -> {
                if (!loggedIn) fail("the target connection failed: " + e.getMessage());
                else if (!closed) session.onTargetClosed(e);
            });
            socket.closeHandler(v -> {
                boolean was = closed;
                closed = true;
                if (!loggedIn) fail("the target closed the connection during login");
                else if (!was) session.onTargetClosed(null);
            });
        });
        return ready;
    }

    private void onObject(Object o) {
        if (!(o instanceof MySqlPacket p)) return;
        if (closed) {
            p.release();
            return;
        }
        if (loggedIn) {
            session.onTargetPacket(p);
            return;
        }
        try {
            login(p);
        } catch (RuntimeException e) {
            fail("the target's login answer could not be read: " + e.getMessage());
        } finally {
            p.release();
        }
    }

    private void login(MySqlPacket p) {
        nextSequence = p.nextSequence();
        if (greeting == null) {
            if (p.header() == MySqlProtocol.ERR) {
                fail("the target refused the connection: " + MySqlProtocol.Error.read(p.payload()).message());
                return;
            }
            greeting = Handshake.Greeting.read(p.payload());
            int wanted = (clientCapabilities & PASSED_ON) | ALWAYS;
            int missing = (clientCapabilities & SHAPE_ANSWERS) & ~greeting.capabilities();
            if (missing != 0) {
                fail("the target lacks capabilities the client uses (0x" + Integer.toHexString(missing) + ")");
                return;
            }
            capabilities = wanted & (greeting.capabilities() | ALWAYS);
            if (target.tls()) {
                startTls();
                return;
            }
            sendResponse();
            return;
        }
        switch (p.header()) {
            case MySqlProtocol.OK -> {
                loggedIn = true;
                socket.exceptionHandler(e -> {
                    if (!closed) session.onTargetClosed(e);
                });
                ready.complete(new Ready(greeting, capabilities, MySqlProtocol.Ok.read(p.payload()).status()));
            }
            case MySqlProtocol.ERR -> fail("the target refused the login of connection " + target.name() + ": "
                    + MySqlProtocol.Error.read(p.payload()).message());
            case MySqlProtocol.EOF -> {
                Handshake.AuthSwitch sw = Handshake.AuthSwitch.read(p.payload());
                if (!Handshake.NATIVE_PASSWORD.equals(sw.plugin())) {
                    fail("the target asks for authentication method " + sw.plugin() + "; Gatehouse logs in to MySQL targets"
                            + " with mysql_native_password (create the connection's user with it)");
                    return;
                }
                write(wrap(Handshake.nativePassword(target.password(), sw.data())));
            }
            default -> fail("the target asks for more authentication data (method " + greeting.authPlugin()
                    + "); Gatehouse logs in to MySQL targets with mysql_native_password");
        }
    }

    /**
     * TLS towards the target (the connection's {@code tls: true}): an SSLRequest (the first 32
     * bytes of a handshake response, CLIENT_SSL set), the TLS handshake with the target's
     * certificate verified for its host, then the login inside TLS. A target that does not offer
     * TLS is refused, never logged into in clear.
     */
    private void startTls() {
        if ((greeting.capabilities() & MySqlProtocol.CLIENT_SSL) == 0) {
            fail("the target does not offer TLS, and connection " + target.name() + " has tls: true");
            return;
        }
        capabilities |= MySqlProtocol.CLIENT_SSL;
        ByteBuf request = NettySockets.alloc(socket).buffer(32).writeIntLE(capabilities).writeIntLE(MAX_PACKET)
                .writeByte(collation).writeZero(23);
        NettySockets.writeNoFlush(socket, MySqlPacket.encode(NettySockets.alloc(socket), nextSequence, request));
        NettySockets.flush(socket);
        nextSequence++;
        socket.upgradeToSsl(dev.gatehouse.edge.catalog.TargetTls.options(target), target.host())
                .onSuccess(v -> sendResponse())
                .onFailure(e -> fail("TLS to the target failed: " + dev.gatehouse.edge.catalog.TargetTls.describe(target, e)));
    }

    private void sendResponse() {
        byte[] auth = Handshake.NATIVE_PASSWORD.equals(greeting.authPlugin())
                ? Handshake.nativePassword(target.password(), greeting.scramble()) : new byte[0];
        var response = new Handshake.Response(capabilities, MAX_PACKET, collation, target.user(), auth,
                target.database(), Handshake.NATIVE_PASSWORD, java.util.Map.of());
        write(response.encode(NettySockets.alloc(socket)));
    }

    private ByteBuf wrap(byte[] bytes) {
        return NettySockets.alloc(socket).buffer(bytes.length).writeBytes(bytes);
    }

    private void write(ByteBuf payload) {
        NettySockets.writeNoFlush(socket, MySqlPacket.encode(NettySockets.alloc(socket), nextSequence, payload));
        NettySockets.flush(socket);
    }

    private void fail(String why) {
        if (ready.completeExceptionally(new IllegalStateException(why)) && socket != null) {
            closed = true;
            socket.close();
        }
    }

    /** Sends a command packet (sequence id 0) and flushes. Takes over {@code payload}. */
    void command(ByteBuf payload) {
        if (closed) {
            payload.release();
            return;
        }
        NettySockets.writeNoFlush(socket, MySqlPacket.encode(NettySockets.alloc(socket), 0, payload));
        NettySockets.flush(socket);
    }

    /** Sends {@code payload} as the packet with sequence id {@code sequence} (an answer within a command). */
    void packet(int sequence, ByteBuf payload) {
        if (closed) {
            payload.release();
            return;
        }
        NettySockets.writeNoFlush(socket, MySqlPacket.encode(NettySockets.alloc(socket), sequence, payload));
        NettySockets.flush(socket);
    }

    /** A COM_QUERY of {@code sql} (the edge's own statement, such as the ROLLBACK after a denial). */
    void query(String sql) {
        byte[] text = sql.getBytes(StandardCharsets.UTF_8);
        command(NettySockets.alloc(socket).buffer(1 + text.length).writeByte(MySqlProtocol.COM_QUERY).writeBytes(text));
    }

    void pause() {
        if (socket != null) socket.pause();
    }

    void resume() {
        if (socket != null) socket.resume();
    }

    /** The target's own id for this connection (what its logs and processlist show). */
    long targetConnectionId() {
        return greeting == null ? -1 : greeting.connectionId();
    }

    void close() {
        if (closed) return;
        closed = true;
        if (socket != null) {
            socket.resume(); // packets Vert.x holds for a paused socket reach onObject, which releases them once closed
            if (loggedIn) {
                NettySockets.writeNoFlush(socket, MySqlPacket.encode(NettySockets.alloc(socket), 0,
                        NettySockets.alloc(socket).buffer(1).writeByte(MySqlProtocol.COM_QUIT)));
                NettySockets.flush(socket);
            }
            socket.close();
        }
    }
}
