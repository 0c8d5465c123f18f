package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.VertxScheduler;
import dev.gatehouse.edge.SessionRegistry;
import dev.gatehouse.edge.postgres.codec.BackendMessage;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.session.SessionCore;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.revocation.SessionInfo;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One client connection of the PostgreSQL listener: the socket glue between a Vert.x
 * {@link NetSocket} and the session ({@link SessionCore} driven by a {@link PgAdapter}). It owns
 * what belongs to the transport: TLS negotiation (SSLRequest), refusing GSSAPI encryption,
 * CancelRequests arriving on a fresh connection, writing and relaying frames, back-pressure.
 * Everything runs on the connection's event loop.
 */
final class PgSession implements SessionRegistry.LiveSession, PgClient {
    private static final Logger LOGGER = LoggerFactory.getLogger(PgSession.class);

    private final PgEdge edge;
    private final NetSocket socket;
    private final Context context;
    private final String eventLoop;
    private final String address;
    private final int processId;
    private final int secretKey;
    private final SessionCore core;
    private final PgAdapter adapter;
    private boolean tls;
    private boolean startupSeen;
    private boolean closed;

    PgSession(PgEdge edge, NetSocket socket, Context context) {
        this.edge = edge;
        this.socket = socket;
        this.context = context;
        this.eventLoop = Thread.currentThread().getName();
        this.address = String.valueOf(socket.remoteAddress());
        this.processId = edge.registry().newProcessId();
        this.secretKey = edge.registry().newSecretKey();
        VertxScheduler scheduler = new VertxScheduler(context);
        this.adapter = new PgAdapter(edge, this, scheduler);
        this.core = new SessionCore(edge.sessionPorts(), scheduler, adapter, SessionId.random(), address, ip());
        adapter.attach(core);
    }

    void start() {
        PgSocketBridge.installFrontend(socket, edge.config().maxMessageSize(), this::onMessage);
        PgSocketBridge.onWritable(socket, adapter::onClientWritable);
        socket.exceptionHandler(this::onError);
        socket.closeHandler(v -> {
            closed = true;
            edge.connectionClosed();
            adapter.onClientClosed();
        });
        core.start();
    }

    @Override
    public SessionId sessionId() {
        return core.sessionId();
    }

    @Override
    public int processId() {
        return processId;
    }

    @Override
    public int secretKey() {
        return secretKey;
    }

    /** The authenticated identity (null before authentication). */
    dev.gatehouse.platform.core.Identity identity() {
        return core.identity();
    }

    /** The name of the event loop thread this session lives on. */
    String eventLoop() {
        return eventLoop;
    }

    /** This session as the fleet's session directory lists it; only for registered (opened) sessions. */
    SessionInfo info() {
        return core.info();
    }

    @Override
    public void cancel() {
        context.runOnContext(v -> core.cancel());
    }

    @Override
    public void kill(String reason) {
        context.runOnContext(v -> core.kill(reason));
    }

    @Override
    public void drain(boolean now) {
        context.runOnContext(v -> core.drain(now));
    }

    // ---------------------------------------------------------------- client input

    private void onMessage(Object msg) {
        if (!(msg instanceof FrontendMessage m)) {
            LOGGER.warn("session={} unexpected object from client pipeline: {}", core.sessionId(), msg.getClass().getName());
            return;
        }
        if (!startupSeen) {
            switch (m) {
                case FrontendMessage.SslRequest r -> {
                    startTls();
                    return;
                }
                case FrontendMessage.GssEncRequest r -> {
                    socket.write(encode(new BackendMessage.SslResponse((byte) 'N')));
                    return;
                }
                case FrontendMessage.CancelRequest c -> {
                    edge.cancel(c.processId(), c.secretKey(), address);
                    core.close(null);
                    return;
                }
                case FrontendMessage.StartupMessage s -> startupSeen = true;
                default -> { }
            }
        }
        adapter.onClientMessage(m);
    }

    /**
     * SSLRequest: the 'S' goes out through upgradeToSsl, which installs the TLS handler as soon as
     * it is written (written first, the client's ClientHello could reach the decoder while the TLS
     * context is still being resolved).
     */
    private void startTls() {
        if (!edge.config().tlsEnabled() || tls) {
            socket.write(encode(new BackendMessage.SslResponse((byte) 'N')));
            return;
        }
        Buffer accept = encode(new BackendMessage.SslResponse((byte) 'S'));
        socket.upgradeToSsl(edge.serverSslOptions(), accept).onComplete(ar -> {
            if (ar.succeeded()) {
                tls = true;
            } else {
                LOGGER.info("session={} client={} TLS handshake failed: {}", core.sessionId(), address, ar.cause().getMessage());
                core.violation("postgres", "TLS handshake failed: " + ar.cause().getMessage());
            }
        });
    }

    private void onError(Throwable t) {
        Throwable cause = t;
        while ((cause instanceof java.util.concurrent.CompletionException) && cause.getCause() != null) cause = cause.getCause();
        if (cause instanceof io.netty.handler.codec.DecoderException) {
            core.violation("postgres", cause.getMessage() == null ? cause.toString() : cause.getMessage());
        } else {
            LOGGER.debug("session={} client error: {}", core.sessionId(), cause.toString());
            core.close(core.state().beforeOpen() ? null : "client connection error: " + cause.getMessage());
        }
    }

    /** Refuses a connection over the edge's limit before reading anything (PostgreSQL's answer to too many clients). */
    static void refuseTooMany(NetSocket socket) {
        socket.write(encode(BackendMessage.ErrorResponse.fatal("53300", "sorry, too many clients already",
                "Gatehouse: this edge has as many connections as edge.postgres.max-connections allows")))
                .onComplete(v -> socket.close());
    }

    // ---------------------------------------------------------------- PgClient

    @Override
    public void write(BackendMessage message) {
        if (!closed) socket.write(encode(message));
    }

    @Override
    public void relay(ByteBuf frame) {
        PgSocketBridge.writeNoFlush(socket, frame); // hands the frame over: released once written
    }

    @Override
    public void flush() {
        PgSocketBridge.flush(socket);
    }

    @Override
    public boolean writeQueueFull() {
        return PgSocketBridge.writeQueueFull(socket);
    }

    @Override
    public void pause() {
        socket.pause();
    }

    @Override
    public void resume() {
        socket.resume();
    }

    @Override
    public void close() {
        socket.close();
    }

    @Override
    public boolean tls() {
        return tls;
    }

    @Override
    public String address() {
        return address;
    }

    @Override
    public String ip() {
        var remote = socket.remoteAddress();
        return remote == null ? null : remote.hostAddress();
    }

    @Override
    public void register() {
        edge.registry().add(this);
    }

    @Override
    public void unregister() {
        edge.registry().remove(this);
    }

    static Buffer encode(BackendMessage m) {
        return PgSocketBridge.buffer(m.encode(ByteBufAllocator.DEFAULT));
    }
}
