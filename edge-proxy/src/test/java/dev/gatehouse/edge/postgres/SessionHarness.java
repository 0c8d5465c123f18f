package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.VertxScheduler;
import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.EdgeMetrics;
import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.edge.RevocationCheck;
import dev.gatehouse.edge.catalog.ConnectionCatalog;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.postgres.catalog.TargetCatalog;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.edge.session.SessionCore;
import dev.gatehouse.edge.session.SessionPorts;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.testsupport.InMemoryDecisionPort;
import dev.gatehouse.testsupport.LoggingPostgres;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.Context;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A PostgreSQL session through the session core and its adapter, without a client socket: the
 * test hands decoded client messages in and reads what the client would receive; the target is a
 * real PostgreSQL reached through the edge's own {@link Upstream}, and decisions come from an
 * {@link InMemoryDecisionPort}.
 */
final class SessionHarness implements AutoCloseable {

    /** One message the client received: its type and its payload. */
    record Received(byte type, byte[] payload) {
        char status() {
            return (char) payload[0];
        }

        /** The fields of an ErrorResponse or NoticeResponse. */
        Map<Character, String> fields() {
            Map<Character, String> fields = new LinkedHashMap<>();
            int i = 0;
            while (i < payload.length && payload[i] != 0) {
                char code = (char) payload[i++];
                int end = i;
                while (payload[end] != 0) end++;
                fields.put(code, new String(payload, i, end - i, StandardCharsets.UTF_8));
                i = end + 1;
            }
            return fields;
        }

        @Override
        public String toString() {
            return type == PgProtocol.BE_ERROR_RESPONSE || type == PgProtocol.BE_NOTICE_RESPONSE
                    ? (char) type + fields().toString() : String.valueOf((char) type);
        }
    }

    /** The client side, in memory: what it receives is kept in {@link #received}. */
    private final class Client extends InMemoryPgClient {
        Client() {
            super(ByteBufAllocator.DEFAULT);
        }

        @Override
        void receive(ByteBuf frame) {
            try {
                byte type = frame.getByte(frame.readerIndex());
                byte[] payload = new byte[frame.readableBytes() - 5];
                frame.getBytes(frame.readerIndex() + 5, payload);
                received.add(new Received(type, payload));
            } finally {
                frame.release();
            }
        }

        @Override
        public void close() {
            super.close();
            SessionHarness.this.closed.complete(null);
        }
    }

    private static final Identity IDENTITY = new Identity("tester", "https://issuer.test", List.of("dba"), List.of(), Map.of(), null);

    private final Context context;
    private final PgAdapter adapter;
    private final SessionCore core;
    final InMemoryDecisionPort log;
    final LinkedBlockingQueue<Received> received = new LinkedBlockingQueue<>();
    final CompletableFuture<Void> closed = new CompletableFuture<>();

    /** The edge's pieces a session uses, shared by the sessions of a test class. */
    record Edge(Vertx vertx, NetClient netClient, SqlAnalyzer analyzer, TargetConnection target,
                TargetCatalog targetCatalog)
            implements PgAdapter.Edge {
        static Edge on(Vertx vertx, SqlAnalyzer analyzer, LoggingPostgres postgres) {
            NetClient client = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true).setConnectTimeout(10_000));
            TargetConnection target = new TargetConnection("target", postgres.host(), postgres.port(), LoggingPostgres.DATABASE,
                    LoggingPostgres.ROLE, "", false, null, TargetConnection.Mode.ENFORCE, Map.of("env", "test"));
            return new Edge(vertx, client, analyzer, target,
                    new TargetCatalog(client, Duration.ofMinutes(1), Duration.ofSeconds(10)));
        }

        @Override
        public PgEdgeConfig config() {
            return new PgEdgeConfig("127.0.0.1", 0, null, null, true, Duration.ofSeconds(5), 1 << 20, 1024, "edge-test");
        }

        @Override
        public ConnectionCatalog catalog() {
            return new ConnectionCatalog(List.of(target));
        }

        @Override
        public MaskingProfiles maskingProfiles() {
            return MaskingProfiles.NONE;
        }
    }

    SessionHarness(Edge edge, InMemoryDecisionPort log) {
        this.log = log;
        this.context = edge.vertx().getOrCreateContext();
        VertxScheduler scheduler = new VertxScheduler(context);
        Authenticator authenticator = token -> CompletableFuture.completedFuture(IDENTITY);
        SessionPorts ports = new SessionPorts(authenticator, log, log, () -> RevocationCheck.NONE,
                new EdgeMetrics(new SimpleMeterRegistry(), "postgres", () -> 0, () -> 0), "edge-test", Duration.ofSeconds(5),
                () -> Duration.ofSeconds(30), Duration.ofSeconds(60));
        this.adapter = new PgAdapter(edge, new Client(), scheduler);
        this.core = new SessionCore(ports, scheduler, adapter, SessionId.random(), "127.0.0.1:1", "127.0.0.1");
        adapter.attach(core);
    }

    /** Logs in as the target's role and waits for the first ReadyForQuery. */
    SessionHarness open() throws InterruptedException {
        LinkedHashMap<String, String> startup = new LinkedHashMap<>();
        startup.put("user", "tester");
        startup.put("database", "target");
        send(new FrontendMessage.StartupMessage(PgProtocol.PROTOCOL_VERSION_3_0, startup),
                FrontendMessage.PasswordMessage.cleartext("token"));
        context.runOnContext(v -> core.start());
        Received ready = awaitReady();
        if (ready == null) throw new IllegalStateException("the session did not open: " + received);
        return this;
    }

    /** Hands messages to the session, in order, on its event loop. */
    void send(FrontendMessage... messages) {
        send(List.of(messages));
    }

    void send(List<FrontendMessage> messages) {
        context.runOnContext(v -> messages.forEach(adapter::onClientMessage));
    }

    /** Waits for the next ReadyForQuery (the messages before it are kept in {@link #answers()}); null on timeout. */
    Received awaitReady() throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (true) {
            long left = deadline - System.nanoTime();
            if (left <= 0) return null;
            Received r = received.poll(left, TimeUnit.NANOSECONDS);
            if (r == null) return null;
            answers.add(r);
            if (r.type() == PgProtocol.BE_READY_FOR_QUERY) return r;
        }
    }

    private final List<Received> answers = new ArrayList<>();

    /** Everything the client received so far (what {@link #awaitReady()} consumed). */
    List<Received> answers() {
        return answers;
    }

    /** The target's process id for this session, as SessionOpened records it. */
    int targetPid() {
        return log.events(AuditEvent.SessionOpened.class).getFirst().targetProcessId();
    }

    /** The edge's model of the session (read on the event loop). */
    <T> T onLoop(java.util.function.Function<PgAdapter, T> read) throws Exception {
        CompletableFuture<T> result = new CompletableFuture<>();
        context.runOnContext(v -> result.complete(read.apply(adapter)));
        return result.get(10, TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        send(new FrontendMessage.Terminate());
        closed.get(10, TimeUnit.SECONDS);
    }
}
