package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.FrontendEncoder;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.UpstreamAuthenticator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
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
final class Upstream implements PgTarget {
    private static final int MAX_BACKEND_FRAME = 1 << 30;

    /** What the target told us while we logged in; relayed to the client. */
    record Ready(Map<String, String> parameterStatus, int processId, int secretKey) {
    }

    /** Who receives what the target sends once logged in: a session, or the masking catalog reader. */
    interface Listener {
        void onUpstreamFrame(BackendFrame frame);

        void onUpstreamReadComplete();

        void onUpstreamClosed(Throwable cause);
    }

    private final Listener session;
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

    Upstream(Listener session, TargetConnection target, Map<String, String> clientParameters) {
        this(session, target, clientParameters, null);
    }

    /** A session's target, reached (and cancelled) through {@code netClient}. */
    Upstream(Listener session, TargetConnection target, Map<String, String> clientParameters, NetClient netClient) {
        this.session = session;
        this.target = target;
        this.parameters = clientParameters;
        this.netClient = netClient;
    }

    private final NetClient netClient;

    @Override
    public CompletionStage<Ready> connect() {
        return connect(netClient);
    }

    @Override
    public void cancel() {
        cancel(netClient);
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

    /**
     * SSLRequest, then the TLS handshake on 'S'. The answer is read raw (the frame decoder comes
     * after TLS): exactly one byte, as anything more would be plaintext injected before the
     * handshake (CVE-2021-23222).
     */
    private void negotiateTls() {
        socket.exceptionHandler(e -> fail("TLS to the target failed: " + describe(e)));
        socket.closeHandler(v -> fail("the target closed the connection before answering the SSLRequest"));
        socket.handler(buf -> {
            socket.handler(null);
            byte answer = buf.length() == 0 ? 0 : buf.getByte(0);
            if (answer == 'S' && buf.length() == 1) {
                socket.closeHandler(null);
                socket.upgradeToSsl(sslOptions(), target.host())
                        .onSuccess(v -> startup())
                        .onFailure(e -> fail("TLS to the target failed: " + describe(e)));
            } else if (answer == 'N') {
                fail("the target refused TLS (it does not accept TLS connections; it answered the SSLRequest with 'N')");
            } else if (answer == 'E') {
                fail("the target refused TLS with an error" + errorMessage(buf));
            } else if (answer == 'S') {
                fail("the target sent unencrypted data after accepting TLS; not proceeding");
            } else {
                fail("the target refused TLS (unexpected answer to the SSLRequest, byte " + (answer & 0xff) + ")");
            }
        });
        socket.write(encoded(new FrontendMessage.SslRequest()));
    }

    private ClientSSLOptions sslOptions() {
        return dev.gatehouse.edge.catalog.TargetTls.options(target);
    }

    private String describe(Throwable e) {
        return dev.gatehouse.edge.catalog.TargetTls.describe(target, e);
    }

    /** ": message (SQLSTATE x)" from an ErrorResponse answering the SSLRequest, if it is complete. */
    private static String errorMessage(Buffer buf) {
        if (buf.length() < 5) return "";
        int length = buf.getInt(1);
        if (length < 4 || length > buf.length() - 1) return "";
        ByteBuf payload = Unpooled.wrappedBuffer(buf.getBytes(5, length + 1));
        try {
            Map<Character, String> fields = BackendFrames.parseErrorOrNotice(payload);
            return ": " + fields.getOrDefault('M', "unknown error") + " (SQLSTATE " + fields.getOrDefault('C', "?") + ")";
        } catch (RuntimeException e) {
            return "";
        }
    }

    private void startup() {
        PgSocketBridge.installBackend(socket, MAX_BACKEND_FRAME, this::onFrame);
        PgSocketBridge.onReadComplete(socket, v -> {
            if (relaying) session.onUpstreamReadComplete();
        });
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
    @Override
    public void write(FrontendMessage m) {
        try {
            socket.write(PgSocketBridge.buffer(FrontendEncoder.encode(ByteBufAllocator.DEFAULT, m)));
        } finally {
            if (m instanceof FrontendMessage.CopyData d) d.release();
        }
    }

    @Override
    public void writeAll(List<FrontendMessage> messages) {
        ByteBuf out = ByteBufAllocator.DEFAULT.buffer();
        for (FrontendMessage m : messages) {
            FrontendEncoder.encode(m, out);
            if (m instanceof FrontendMessage.CopyData d) d.release();
        }
        socket.write(PgSocketBridge.buffer(out));
    }

    private static Buffer encoded(FrontendMessage m) {
        return PgSocketBridge.buffer(FrontendEncoder.encode(ByteBufAllocator.DEFAULT, m));
    }

    @Override
    public void pause() {
        socket.pause();
    }

    @Override
    public void resume() {
        socket.resume();
    }

    /** Cancels the target's running query with the target's own key, on a new connection. */
    void cancel(NetClient client) {
        Buffer request = encoded(new FrontendMessage.CancelRequest(targetProcessId, targetSecretKey));
        client.connect(target.port(), target.host()).onSuccess(s -> {
            if (!target.tls()) {
                s.write(request).onComplete(v -> s.close());
                return;
            }
            // the target's cancel key crosses the network only encrypted, like the session itself
            s.handler(answer -> {
                s.handler(null);
                if (answer.length() == 1 && answer.getByte(0) == 'S') {
                    s.upgradeToSsl(sslOptions(), target.host())
                            .compose(v -> s.write(request))
                            .onComplete(v -> s.close());
                } else {
                    s.close();
                }
            });
            s.write(encoded(new FrontendMessage.SslRequest()));
        });
    }

    @Override
    public void close() {
        closed = true;
        if (socket != null) socket.close();
    }
}
