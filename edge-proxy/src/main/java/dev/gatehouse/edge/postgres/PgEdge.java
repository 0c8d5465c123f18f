package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.ListenerBindings;
import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.ControlPort;
import dev.gatehouse.edge.EdgeListener;
import dev.gatehouse.edge.EdgeMetrics;
import dev.gatehouse.edge.postgres.catalog.TargetCatalog;
import dev.gatehouse.edge.session.SessionPorts;
import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.edge.RevocationCheck;
import dev.gatehouse.edge.SessionRegistry;
import dev.gatehouse.edge.catalog.ConnectionCatalog;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.DecisionPort;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.SessionInfo;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.ServerSSLOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Collectors;

/**
 * The PostgreSQL listener of an edge: accepts clients, runs one {@link PgSession} per
 * connection, and answers cancel and kill requests routed from other edges.
 */
public final class PgEdge implements EdgeListener, PgAdapter.Edge {
    private static final Logger LOGGER = LoggerFactory.getLogger(PgEdge.class);

    private final Vertx vertx;
    private final PgEdgeConfig config;
    private final ConnectionCatalog catalog;
    private final Authenticator authenticator;
    private final DecisionPort decisions;
    private final AuditSink audit;
    private final SqlAnalyzer analyzer;
    private final ControlPort control;
    private final SessionRegistry<PgSession> registry = new SessionRegistry<>();
    private final EdgeMetrics metrics;
    private final NetClient netClient;
    private final ServerSSLOptions sslOptions;
    /** The deployments of the listener's bindings (the first, then the others); empty until started. */
    private final ListenerBindings listeners;
    /** Tells apart the random ports of listeners asked for port 0 (see {@link #start()}). */
    private static final AtomicInteger RANDOM_PORT_KEYS = new AtomicInteger();
    private volatile dev.gatehouse.edge.masking.MaskingProfiles maskingProfiles = dev.gatehouse.edge.masking.MaskingProfiles.NONE;
    private final TargetCatalog targetCatalog;
    private volatile RevocationCheck revocations = RevocationCheck.NONE;
    private volatile java.time.Duration approvalNoticeInterval = DEFAULT_APPROVAL_NOTICE_INTERVAL;
    private final java.util.concurrent.atomic.AtomicInteger openConnections = new java.util.concurrent.atomic.AtomicInteger();
    private final SessionPorts sessionPorts;

    /** How often a client whose command waits for approval is reminded, unless configured. */
    public static final java.time.Duration DEFAULT_APPROVAL_NOTICE_INTERVAL = java.time.Duration.ofSeconds(30);

    public PgEdge(Vertx vertx, PgEdgeConfig config, ConnectionCatalog catalog, Authenticator authenticator,
                  DecisionPort decisions, AuditSink audit, SqlAnalyzer analyzer, ControlPort control,
                  MeterRegistry meterRegistry) {
        this.vertx = Objects.requireNonNull(vertx);
        this.listeners = new ListenerBindings(vertx);
        this.config = Objects.requireNonNull(config);
        this.catalog = Objects.requireNonNull(catalog);
        this.authenticator = Objects.requireNonNull(authenticator);
        this.decisions = Objects.requireNonNull(decisions);
        this.audit = Objects.requireNonNull(audit);
        this.analyzer = Objects.requireNonNull(analyzer);
        this.control = control == null ? ControlPort.NONE : control;
        this.metrics = new EdgeMetrics(meterRegistry, "postgres", registry::size, openConnections::get);
        this.netClient = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true).setConnectTimeout(10_000));
        this.targetCatalog = new TargetCatalog(netClient, java.time.Duration.ofMinutes(1), java.time.Duration.ofSeconds(10));
        this.sslOptions = config.tlsEnabled()
                ? new ServerSSLOptions().setKeyCertOptions(new PemKeyCertOptions()
                .setCertPath(config.tlsCert().toString()).setKeyPath(config.tlsKey().toString()))
                : null;
        this.sessionPorts = new SessionPorts(authenticator, decisions, audit, () -> revocations, metrics, config.edgeId(),
                config.decisionDeadline(), () -> approvalNoticeInterval, config.authenticationTimeout());
    }

    /**
     * The masking profiles that {@code Mask} decisions name (none by default: such commands are
     * refused). Call before {@link #start()} or at any time to replace them.
     */
    public PgEdge useMasking(dev.gatehouse.edge.masking.MaskingProfiles profiles) {
        this.maskingProfiles = Objects.requireNonNull(profiles, "profiles");
        if (!profiles.names().isEmpty()) {
            LOGGER.info("edge={} masking profiles: {}", config.edgeId(), new java.util.TreeSet<>(profiles.names()));
        }
        return this;
    }

    /**
     * How often a client whose command is held for approval gets a NoticeResponse saying it still
     * waits ({@code edge.postgres.approval-notice-interval}, default 30s).
     */
    public PgEdge useApprovalNoticeInterval(java.time.Duration interval) {
        Objects.requireNonNull(interval, "interval");
        if (interval.toMillis() < 1) throw new IllegalArgumentException("approval notice interval must be positive: " + interval);
        this.approvalNoticeInterval = interval;
        return this;
    }

    /** A client connection closed: it no longer counts against the limit. */
    void connectionClosed() {
        openConnections.decrementAndGet();
    }

    /** Client connections open now (authenticated or not). */
    public int openConnections() {
        return openConnections.get();
    }

    SessionPorts sessionPorts() {
        return sessionPorts;
    }

    /**
     * Starts listening; the future holds the bound port. The listener is bound once per event loop
     * ({@link PgEdgeConfig#eventLoops()}) on the same port: the first binding opens the port, the
     * others join it, Vert.x hands new connections to the bindings in turn, and each session lives
     * on the event loop of the binding that accepted it (its socket, its connection to the target,
     * its timers). Port 0 picks one free port that every binding shares.
     */
    public Future<Integer> start() {
        // a negative port asks Vert.x for one random port shared by the servers that name the same negative
        // number: one of its own per listener, so that two listeners of one Vert.x never share a port
        int port = config.port() == 0 ? -RANDOM_PORT_KEYS.incrementAndGet() : config.port();
        NetServerOptions options = new NetServerOptions().setHost(config.host()).setPort(port).setTcpNoDelay(true);
        AtomicInteger bound = new AtomicInteger();
        AtomicReference<NetServer> opener = new AtomicReference<>();
        // TLS is negotiated per connection after SSLRequest (see PgSession), not from the first byte
        return vertx.deployVerticle(() -> new Listener(options, bound, opener), new DeploymentOptions()).compose(first -> {
            listeners.deployed(first);
            int joining = config.eventLoops() - 1;
            if (joining == 0) return Future.succeededFuture(1);
            if (!SharedPortTls.available(opener.get())) {
                LOGGER.warn("edge={} postgres listener stays on one event loop (edge.postgres.event-loops={}): this Vert.x"
                        + " cannot share the listener's TLS context between event loops", config.edgeId(), config.eventLoops());
                return Future.succeededFuture(1);
            }
            return vertx.deployVerticle(() -> new Listener(options, bound, opener), new DeploymentOptions().setInstances(joining))
                    .map(others -> {
                        listeners.deployed(others);
                        return joining + 1;
                    });
        }).map(loops -> {
            LOGGER.info("edge={} postgres listener on {}:{} tls={} plaintext-allowed={} event-loops={}", config.edgeId(),
                    config.host(), bound.get(), config.tlsEnabled(), config.allowPlaintext(), loops);
            return bound.get();
        });
    }

    /** One binding of the listener, on the event loop Vert.x gave this instance. */
    private final class Listener extends VerticleBase {
        private final NetServerOptions options;
        private final AtomicInteger bound;
        private final AtomicReference<NetServer> opener;

        Listener(NetServerOptions options, AtomicInteger bound, AtomicReference<NetServer> opener) {
            this.options = options;
            this.bound = bound;
            this.opener = opener;
        }

        @Override
        public Future<?> start() {
            NetServer server = vertx.createNetServer(options);
            listeners.bound(server);
            if (!opener.compareAndSet(null, server)) SharedPortTls.adopt(server, opener.get());
            server.connectHandler(socket -> accept(socket, context));
            return server.listen().onSuccess(s -> bound.set(s.actualPort()));
        }
    }

    private void accept(NetSocket socket, Context context) {
        if (openConnections.incrementAndGet() > config.maxConnections()) {
            openConnections.decrementAndGet();
            metrics.connectionRefused();
            LOGGER.warn("edge={} refused a connection from {}: {} connections open (edge.postgres.max-connections)",
                    config.edgeId(), socket.remoteAddress(), config.maxConnections());
            PgSession.refuseTooMany(socket);
            return;
        }
        PgSession session = new PgSession(this, socket, context);
        // a drain (NetServer.shutdown) tells every connection, logged in or not
        socket.shutdownHandler(v -> session.drain(false));
        session.start();
    }

    /** How many live sessions each event loop serves, by the loop's thread name. */
    public Map<String, Long> sessionsByEventLoop() {
        return registry.all().stream().collect(Collectors.groupingBy(PgSession::eventLoop, TreeMap::new, Collectors.counting()));
    }

    /** A CancelRequest that arrived here: act on it locally, or route it to the fleet. */
    void cancel(int processId, int secretKey, String clientAddress) {
        var local = registry.forCancel(processId, secretKey);
        if (local.isPresent()) {
            local.get().cancel();
            audit.append(new AuditEvent.CancelRequested(EventHeader.now(local.get().sessionId(), "edge", config.edgeId()),
                    clientAddress, true));
        } else {
            control.publish(new ControlMessage.CancelQuery(processId, secretKey, config.edgeId()));
        }
    }

    /** A control message from the fleet (another edge's cancel, an operator's kill). */
    public void onControl(ControlMessage message) {
        switch (message) {
            case ControlMessage.CancelQuery c -> {
                if (config.edgeId().equals(c.fromEdge())) return;
                registry.forCancel(c.processId(), c.secretKey()).ifPresent(s -> {
                    s.cancel();
                    audit.append(new AuditEvent.CancelRequested(EventHeader.now(s.sessionId(), "edge", config.edgeId()),
                            "routed from edge " + c.fromEdge(), true));
                });
            }
            case ControlMessage.KillSession k -> registry.find(k.sessionId()).ifPresent(s -> s.kill(k.reason()));
            case ControlMessage.KillConnection k -> { } // MySQL's
        }
    }

    /**
     * The revocations consulted at each login; set before {@link #start()}. Sessions a new
     * revocation covers are ended by {@link #enforce(Revocation)}.
     */
    public void useRevocations(RevocationCheck check) {
        this.revocations = check == null ? RevocationCheck.NONE : check;
    }

    /**
     * A revocation came into force: ends every live session here whose identity it covers, with
     * a FATAL 57P01 naming the revocation. Called on any thread.
     *
     * @return how many sessions it ended
     */
    public int enforce(Revocation revocation) {
        int ended = 0;
        for (PgSession s : registry.all()) {
            if (revocation.matches(s.identity())) {
                LOGGER.info("edge={} session={} ended by revocation={} selector={}", config.edgeId(), s.sessionId(),
                        revocation.id(), revocation.selector());
                s.kill(revocation.message());
                ended++;
            }
        }
        return ended;
    }

    /** The live sessions of this edge, for the fleet's session directory. */
    public List<SessionInfo> liveSessions() {
        return registry.all().stream().map(PgSession::info).toList();
    }

    /** Called after a session opened or closed here (on that session's thread); must be quick. */
    public void onSessionsChanged(Runnable listener) {
        registry.onChange(listener);
    }

    @Override
    public int drain(java.time.Duration timeout) {
        return listeners.drain(timeout, registry);
    }

    @Override
    public void close() {
        listeners.stop();
        registry.all().forEach(s -> s.kill("the edge is shutting down"));
        netClient.close();
    }

    RevocationCheck revocations() {
        return revocations;
    }

    @Override
    public PgEdgeConfig config() {
        return config;
    }

    @Override
    public ConnectionCatalog catalog() {
        return catalog;
    }

    Authenticator authenticator() {
        return authenticator;
    }

    DecisionPort decisions() {
        return decisions;
    }

    AuditSink audit() {
        return audit;
    }

    @Override
    public SqlAnalyzer analyzer() {
        return analyzer;
    }

    SessionRegistry<PgSession> registry() {
        return registry;
    }

    EdgeMetrics metrics() {
        return metrics;
    }

    @Override
    public NetClient netClient() {
        return netClient;
    }

    @Override
    public dev.gatehouse.edge.masking.MaskingProfiles maskingProfiles() {
        return maskingProfiles;
    }

    @Override
    public TargetCatalog targetCatalog() {
        return targetCatalog;
    }

    ServerSSLOptions serverSslOptions() {
        return sslOptions;
    }
}
