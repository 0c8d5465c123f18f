package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.FrontendEncoder;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.UpstreamAuthenticator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetSocket;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The edge's connection to a session's target: logs in with the connection's own credentials
 * (trust, cleartext, md5, SCRAM-SHA-256), optionally over TLS, then relays frames to the session.
 */
final class Upstream {
    private static final int MAX_BACKEND_FRAME = 1 << 30;

    /** What the target told us while we logged in; relayed to the client. */
    record Ready(Map<String, String> parameterStatus, int processId, int secretKey) {
    }

    private final PgSession session;
    private final TargetConnection target;
    private final Map<String, String> parameters;
    private final CompletableFuture<Ready> ready = new CompletableFuture<>();
    private final Map<String, String> parameterStatus = new LinkedHashMap<>();
    private UpstreamAuthenticator authenticator;
    private NetSocket socket;
    private int targetProcessId;
    private int targetSecretKey;
    private boolean relaying;
    private boolean closed;

    Upstream(PgSession session, TargetConnection target, Map<String, String> clientParameters) {
        this.session = session;
        this.target = target;
        this.parameters = clientParameters;
    }

    CompletionStage<Ready> connect(NetClient client) {
        client.connect(target.port(), target.host()).onComplete(ar -> {
            if (ar.failed()) {
                ready.completeExceptionally(new IllegalStateException("cannot reach " + target.host() + ":" + target.port()
                        + " (" + ar.cause().getMessage() + ")"));
                return;
            }
            socket = ar.result();
            if (target.tls()) {
                negotiateTls();
            } else {
                startup();
            }
        });
        return ready;
    }

    private void negotiateTls() {
        socket.handler(buf -> {
            socket.handler(null);
            if (buf.length() != 1 || buf.getByte(0) != 'S') {
                fail("the target refused TLS");
                return;
            }
            socket.upgradeToSsl(new ClientSSLOptions().setHostnameVerificationAlgorithm("HTTPS"), target.host())
                    .onSuccess(v -> startup())
                    .onFailure(e -> fail("TLS to the target failed: " + e.getMessage()));
        });
        socket.write(Buffer.buffer().appendInt(8).appendInt(80877103));
    }

    private void startup() {
        PgSocketBridge.installBackend(socket, MAX_BACKEND_FRAME, this::onFrame);
        socket.exceptionHandler(e -> {
            if (!ready.isDone()) fail(e.getMessage());
            else session.onUpstreamClosed(e);
        });
        socket.closeHandler(v -> {
            if (closed) return;
            closed = true;
            if (!ready.isDone()) fail("the target closed the connection during login");
            else session.onUpstreamClosed(null);
        });
        authenticator = new UpstreamAuthenticator(target.user(), target.password());
        LinkedHashMap<String, String> startup = new LinkedHashMap<>();
        startup.put("user", target.user());
        startup.put("database", target.database());
        parameters.forEach(startup::putIfAbsent);
        write(new FrontendMessage.StartupMessage(196608, startup));
    }

    private void onFrame(Object msg) {
        BackendFrame frame = (BackendFrame) msg;
        if (relaying) {
            session.onUpstreamFrame(frame);
            return;
        }
        try {
            switch (frame.type()) {
                case 'R' -> {
                    Optional<FrontendMessage> reply = authenticator.onAuthentication(BackendFrames.parseAuthentication(frame));
                    reply.ifPresent(this::write);
                }
                case 'S' -> {
                    Map.Entry<String, String> kv = BackendFrames.parseParameterStatus(frame.payload());
                    parameterStatus.put(kv.getKey(), kv.getValue());
                }
                case 'K' -> {
                    var key = BackendFrames.parseBackendKeyData(frame.payload());
                    targetProcessId = key.processId();
                    targetSecretKey = key.secretKey();
                }
                case 'E' -> {
                    Map<Character, String> fields = BackendFrames.parseErrorOrNotice(frame.payload());
                    fail("the target refused the login: " + fields.getOrDefault('M', "unknown error")
                            + " (SQLSTATE " + fields.getOrDefault('C', "?") + ")");
                }
                case 'Z' -> {
                    relaying = true;
                    ready.complete(new Ready(parameterStatus, targetProcessId, targetSecretKey));
                }
                default -> { }
            }
        } catch (RuntimeException e) {
            fail(e.getMessage());
        } finally {
            frame.release();
        }
    }

    private void fail(String message) {
        if (ready.completeExceptionally(new IllegalStateException(message))) {
            close();
        }
    }

    /** Writes one message to the target; a CopyData's buffer is released here (the encoder copies it). */
    void write(FrontendMessage m) {
        try {
            socket.write(PgSocketBridge.buffer(FrontendEncoder.encode(m, ByteBufAllocator.DEFAULT)));
        } finally {
            if (m instanceof FrontendMessage.CopyData d) d.release();
        }
    }

    void writeAll(List<FrontendMessage> messages) {
        ByteBuf out = ByteBufAllocator.DEFAULT.buffer();
        for (FrontendMessage m : messages) {
            FrontendEncoder.encode(m, out);
            if (m instanceof FrontendMessage.CopyData d) d.release();
        }
        socket.write(PgSocketBridge.buffer(out));
    }

    void pause() {
        socket.pause();
    }

    void resume() {
        socket.resume();
    }

    /** Cancels the target's running query with the target's own key, on a new connection. */
    void cancel(NetClient client) {
        client.connect(target.port(), target.host()).onSuccess(s -> {
            Buffer b = Buffer.buffer().appendInt(16).appendInt(80877102).appendInt(targetProcessId).appendInt(targetSecretKey);
            s.write(b).onComplete(v -> s.close());
        });
    }

    void close() {
        closed = true;
        if (socket != null) socket.close();
    }
}
