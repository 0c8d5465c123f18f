package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.ListenerBindings;
import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.EdgeListener;
import dev.gatehouse.edge.EdgeMetrics;
import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.edge.RevocationCheck;
import dev.gatehouse.edge.SessionRegistry;
import dev.gatehouse.edge.catalog.ConnectionCatalog;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.session.SessionPorts;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.DecisionPort;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.SessionInfo;
import io.micrometer.core.instrument.MeterRegistry;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.vertx.core.Context;
import io.vertx.core.DeploymentOptions;
import io.vertx.core.Future;
import io.vertx.core.net.NetServer;
import io.vertx.core.VerticleBase;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The MySQL listener of an edge: accepts MySQL and MariaDB clients, runs one {@link MySqlSession}
 * per connection on the shared {@link dev.gatehouse.edge.session.SessionCore}, and ends sessions on
 * kills and revocations. It takes the same listener settings as the PostgreSQL listener
 * ({@link PgEdgeConfig}: address, TLS, limits, event loops) and reaches the catalog's connections
 * whose protocol is {@code mysql}.
 *
 * <p>TLS is the edge's own (a Netty TLS context from the configured PEM certificate and key),
 * switched on exactly after the client's SSLRequest ({@link dev.gatehouse.edge.mysql.codec.TlsSwitch}).
 */
public final class MySqlEdge implements EdgeListener {
    private static final Logger LOGGER = LoggerFactory.getLogger(MySqlEdge.class);
    /** The version string the edge's greeting announces until a target's is known: the pinned target's. */
    public static final String DEFAULT_SERVER_VERSION = "11.4.5-MariaDB-Gatehouse";
    /** Tells apart the random ports of listeners asked for port 0. */
    private static final AtomicInteger RANDOM_PORT_KEYS = new AtomicInteger(1_000_000);

    private final Vertx vertx;
    private final PgEdgeConfig config;
    private final ConnectionCatalog catalog;
    private final MySqlDialect dialect;
    private final String serverVersion;
    private final SessionRegistry<MySqlSession> registry = new SessionRegistry<>();
    private final EdgeMetrics metrics;
    private final NetClient netClient;
    private final SslContext sslContext;
    private final SessionPorts sessionPorts;
    private final AtomicInteger openConnections = new AtomicInteger();
    private final ListenerBindings listeners;
    private volatile RevocationCheck revocations = RevocationCheck.NONE;
    private volatile MaskingProfiles maskingProfiles = MaskingProfiles.NONE;
    private volatile dev.gatehouse.edge.ControlPort control = dev.gatehouse.edge.ControlPort.NONE;
    private final MySqlCatalog tables;
    private final java.util.concurrent.ConcurrentHashMap<String, dev.gatehouse.platform.core.SqlAnalyzer> analyzers =
            new java.util.concurrent.ConcurrentHashMap<>();

    public MySqlEdge(Vertx vertx, PgEdgeConfig config, ConnectionCatalog catalog, Authenticator authenticator,
                     DecisionPort decisions, AuditSink audit, MySqlDialect dialect, MeterRegistry meterRegistry) {
        this(vertx, config, catalog, authenticator, decisions, audit, dialect, meterRegistry, DEFAULT_SERVER_VERSION);
    }

    /** @param serverVersion the version string the edge's greeting announces to clients */
    public MySqlEdge(Vertx vertx, PgEdgeConfig config, ConnectionCatalog catalog, Authenticator authenticator,
                     DecisionPort decisions, AuditSink audit, MySqlDialect dialect, MeterRegistry meterRegistry,
                     String serverVersion) {
        this.vertx = Objects.requireNonNull(vertx, "vertx");
        this.listeners = new ListenerBindings(vertx);
        this.config = Objects.requireNonNull(config, "config");
        this.catalog = Objects.requireNonNull(catalog, "catalog");
        this.dialect = Objects.requireNonNull(dialect, "dialect");
        this.serverVersion = Objects.requireNonNull(serverVersion, "serverVersion");
        this.metrics = new EdgeMetrics(meterRegistry, "mysql", registry::size, openConnections::get);
        this.netClient = vertx.createNetClient(new NetClientOptions().setTcpNoDelay(true).setConnectTimeout(10_000));
        this.sslContext = config.tlsEnabled() ? sslContext(config) : null;
        this.tables = new MySqlCatalog(vertx, netClient, Duration.ofMinutes(1), Duration.ofSeconds(10));
        this.sessionPorts = new SessionPorts(authenticator, decisions, audit, () -> revocations, metrics, config.edgeId(),
                config.decisionDeadline(), () -> Duration.ofSeconds(30), config.authenticationTimeout());
    }

    /**
     * The masking profiles that {@code Mask} decisions name (none by default: such commands are
     * refused). Call before {@link #start()} or at any time to replace them.
     */
    public MySqlEdge useMasking(MaskingProfiles profiles) {
        this.maskingProfiles = Objects.requireNonNull(profiles, "profiles");
        return this;
    }

    MaskingProfiles maskingProfiles() {
        return maskingProfiles;
    }

    /**
     * Where a KILL naming a connection id no session here has goes: the fleet's control channel
     * (none by default: such a KILL is answered as an unknown thread). Call before {@link #start()}.
     */
    public MySqlEdge useControl(dev.gatehouse.edge.ControlPort control) {
        this.control = control == null ? dev.gatehouse.edge.ControlPort.NONE : control;
        return this;
    }

    dev.gatehouse.edge.ControlPort control() {
        return control;
    }

    Vertx vertx() {
        return vertx;
    }

    /** The targets' tables, as masking needs them. */
    MySqlCatalog tables() {
        return tables;
    }

    private static SslContext sslContext(PgEdgeConfig config) {
        try {
            return SslContextBuilder.forServer(config.tlsCert().toFile(), config.tlsKey().toFile()).build();
        } catch (SSLException | IllegalArgumentException e) {
            throw new IllegalArgumentException("edge: the TLS certificate " + config.tlsCert() + " or key " + config.tlsKey()
                    + " cannot be used for the MySQL listener: " + e.getMessage(), e);
        }
    }

    /**
     * Starts listening, once per event loop on one port (as the PostgreSQL listener does); the
     * future holds the bound port.
     */
    public Future<Integer> start() {
        int port = config.port() == 0 ? -RANDOM_PORT_KEYS.incrementAndGet() : config.port();
        NetServerOptions options = new NetServerOptions().setHost(config.host()).setPort(port).setTcpNoDelay(true);
        AtomicInteger bound = new AtomicInteger();
        return vertx.deployVerticle(() -> new Listener(options, bound), new DeploymentOptions().setInstances(config.eventLoops()))
                .map(id -> {
                    listeners.deployed(id);
                    LOGGER.info("edge={} mysql listener on {}:{} tls={} plaintext-allowed={} event-loops={}", config.edgeId(),
                            config.host(), bound.get(), config.tlsEnabled(), config.allowPlaintext(), config.eventLoops());
                    return bound.get();
                });
    }

    private final class Listener extends VerticleBase {
        private final NetServerOptions options;
        private final AtomicInteger bound;

        Listener(NetServerOptions options, AtomicInteger bound) {
            this.options = options;
            this.bound = bound;
        }

        @Override
        public Future<?> start() {
            var server = vertx.createNetServer(options);
            listeners.bound(server);
            server.connectHandler(socket -> accept(socket, context));
            return server.listen().onSuccess(s -> bound.set(s.actualPort()));
        }
    }

    private void accept(NetSocket socket, Context context) {
        if (openConnections.incrementAndGet() > config.maxConnections()) {
            openConnections.decrementAndGet();
            metrics.connectionRefused();
            LOGGER.warn("edge={} refused a MySQL connection from {}: {} connections open", config.edgeId(),
                    socket.remoteAddress(), config.maxConnections());
            MySqlSession.refuseTooMany(socket);
            return;
        }
        MySqlSession session = new MySqlSession(this, socket, context);
        // a drain (NetServer.shutdown) tells every connection, logged in or not
        socket.shutdownHandler(v -> session.drain(false));
        session.start();
    }

    /** A client connection closed. */
    void connectionClosed() {
        openConnections.decrementAndGet();
    }

    /** A control message from the fleet: an operator's kill, another edge's KILL of a connection id held here. */
    @Override
    public void onControl(ControlMessage message) {
        switch (message) {
            case ControlMessage.KillSession k -> registry.find(k.sessionId()).ifPresent(s -> s.kill(k.reason()));
            case ControlMessage.KillConnection k -> {
                if (config.edgeId().equals(k.fromEdge())) return;
                // only a session of the requester's own identity: connection ids are random, not secret
                registry.forCancel(k.connectionId(), 0).filter(s -> s.identity() != null
                                && s.identity().subject().equals(k.subject()) && s.identity().issuer().equals(k.issuer()))
                        .ifPresent(s -> s.killRouted(k));
            }
            case ControlMessage.CancelQuery c -> { } // PostgreSQL's
        }
    }

    @Override
    public void useRevocations(RevocationCheck check) {
        this.revocations = check == null ? RevocationCheck.NONE : check;
    }

    /** Ends every live session a new revocation covers; returns how many. */
    @Override
    public int enforce(Revocation revocation) {
        int ended = 0;
        for (MySqlSession s : registry.all()) {
            if (revocation.matches(s.identity())) {
                s.kill(revocation.message());
                ended++;
            }
        }
        return ended;
    }

    @Override
    public List<SessionInfo> liveSessions() {
        return registry.all().stream().map(MySqlSession::info).toList();
    }

    @Override
    public void onSessionsChanged(Runnable listener) {
        registry.onChange(listener);
    }

    public int openConnections() {
        return openConnections.get();
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

    PgEdgeConfig config() {
        return config;
    }

    ConnectionCatalog catalog() {
        return catalog;
    }

    MySqlDialect dialect() {
        return dialect;
    }

    String serverVersion() {
        return serverVersion;
    }

    /** The analyser for a target version and lexing modes, made once per pair. */
    dev.gatehouse.platform.core.SqlAnalyzer analyzer(String version, java.util.Set<String> modes) {
        return analyzers.computeIfAbsent(version + "|" + new java.util.TreeSet<>(modes), k -> dialect.analyzer(version, modes));
    }

    SessionRegistry<MySqlSession> registry() {
        return registry;
    }

    NetClient netClient() {
        return netClient;
    }

    SslContext sslContext() {
        return sslContext;
    }

    SessionPorts sessionPorts() {
        return sessionPorts;
    }

    EdgeMetrics metrics() {
        return metrics;
    }
}
