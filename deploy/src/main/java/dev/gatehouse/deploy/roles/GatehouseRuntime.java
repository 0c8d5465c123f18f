package dev.gatehouse.deploy.roles;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.edge.catalog.ConnectionCatalog;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.postgres.PgEdge;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.events.ControlCodec;
import dev.gatehouse.platform.identity.TokenRejectedException;
import dev.gatehouse.platform.identity.TokenValidator;
import dev.gatehouse.platform.identity.TrustedIssuer;
import dev.gatehouse.platform.kafka.ControlChannel;
import dev.gatehouse.platform.kafka.DecisionService;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.KafkaAuditSink;
import dev.gatehouse.platform.kafka.KafkaDecisionPort;
import dev.gatehouse.platform.kafka.TopicInitializer;
import dev.gatehouse.platform.kafka.TopicSettings;
import dev.gatehouse.platform.observability.MetricsRegistry;
import dev.gatehouse.platform.observability.ObservabilityServer;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import dev.gatehouse.policy.service.PolicyDecider;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;

/**
 * Starts the roles of one process from its configuration and stops them in reverse order. The
 * only place that knows every module: protocol code and Kafka code meet here, through ports.
 */
public final class GatehouseRuntime implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(GatehouseRuntime.class);

    private final GatehouseConfig config;
    private final Set<Role> roles;
    private final Closer closeables = new Closer();
    private final EventSerde<AuditEvent> auditSerde;
    private final EventSerde<ControlMessage> controlSerde;
    private Vertx vertx;
    private MetricsRegistry metrics;
    private PrometheusMeterRegistry meters;
    private PgEdge edge;
    private int edgePort = -1;
    private int observabilityPort = -1;
    private PolicyDecider decider;
    private KafkaAuditSink sink;

    public GatehouseRuntime(GatehouseConfig config, Set<Role> roles) {
        this.config = config;
        this.roles = Set.copyOf(roles);
        AuditEventCodec codec = new AuditEventCodec();
        ControlCodec control = new ControlCodec();
        this.auditSerde = EventSerde.of(codec::encode, codec::decode);
        this.controlSerde = EventSerde.of(control::encode, control::decode);
    }

    /** Starts every role; on failure, stops what was started and rethrows. */
    public GatehouseRuntime start() {
        try {
            doStart();
            return this;
        } catch (RuntimeException e) {
            close();
            throw e;
        }
    }

    private void doStart() {
        GatehouseConfig.Kafka kafka = config.kafka();
        vertx = Vertx.vertx();
        closeables.add(() -> vertx.close().await());
        metrics = MetricsRegistry.create();
        closeables.add(metrics);
        meters = metrics.registry();

        ObservabilityServer observability = new ObservabilityServer(vertx, config.observability().host(),
                config.observability().port(), metrics);
        observabilityPort = observability.start().await();
        closeables.add(() -> observability.stop().await());

        TopicInitializer.Report report = TopicInitializer.ensure(kafka.bootstrapServers(),
                topics(kafka),
                Duration.ofSeconds(30));
        report.warnings().forEach(w -> LOGGER.warn("topics: {}", w));
        if (!report.created().isEmpty()) LOGGER.info("topics created: {}", report.created());

        sink = new KafkaAuditSink(new KafkaAuditSink.Settings(kafka.bootstrapServers(), dev.gatehouse.platform.kafka.Topics.AUDIT,
                "gatehouse-audit-" + config.instanceId(), kafka.deliveryTimeoutDuration()), auditSerde, meters);
        closeables.add(sink);

        if (roles.contains(Role.POLICY)) startPolicy(kafka, observability);
        if (roles.contains(Role.EDGE)) startEdge(kafka, observability);
        LOGGER.info("gatehouse instance {} running roles {}", config.instanceId(), roles);
    }

    private static List<TopicSettings> topics(GatehouseConfig.Kafka kafka) {
        return TopicSettings.defaults(kafka.partitions(), kafka.replicationFactor().shortValue()).stream()
                .map(t -> t.name().equals(dev.gatehouse.platform.kafka.Topics.AUDIT)
                        ? new TopicSettings(t.name(), t.partitions(), t.replicationFactor(), kafka.auditRetentionDuration(), t.compacted())
                        : t)
                .toList();
    }

    private void startPolicy(GatehouseConfig.Kafka kafka, ObservabilityServer observability) {
        Path file = config.policy().file();
        if (file == null) throw new IllegalArgumentException("policy.file is required for the policy role");
        Policy policy;
        try {
            policy = Policy.load(file);
        } catch (dev.gatehouse.policy.engine.PolicyException e) {
            throw new IllegalArgumentException("policy " + file + " is invalid:\n  " + String.join("\n  ", e.errors()), e);
        } catch (java.io.IOException e) {
            throw new IllegalArgumentException("cannot read policy " + file + ": " + e.getMessage(), e);
        }
        decider = new PolicyDecider(new PolicyEvaluator(policy), config.instanceId());
        LOGGER.info("policy {} version {} loaded from {} ({} rules)", policy.id(), policy.version(), file, policy.rules().size());
        DecisionService service = new DecisionService(DecisionService.Settings.of(kafka.bootstrapServers(), config.instanceId()),
                auditSerde, decider, meters);
        closeables.add(service);
        observability.addReadinessCheck("policy-consumer", service::isRunning);
    }

    private void startEdge(GatehouseConfig.Kafka kafka, ObservabilityServer observability) {
        GatehouseConfig.Postgres pg = config.edge().postgres();
        PgEdgeConfig edgeConfig = new PgEdgeConfig(pg.host(), pg.port(),
                pg.tls() == null ? null : pg.tls().cert(), pg.tls() == null ? null : pg.tls().key(),
                pg.allowPlaintext(), pg.decisionDeadlineDuration(), pg.maxMessageSize(), pg.maxParameterBytes(),
                config.instanceId());
        ConnectionCatalog catalog = new ConnectionCatalog(config.connections().stream().map(c ->
                new TargetConnection(c.name(), c.host(), c.port(), c.database(), c.user(), c.password(), c.tls(),
                        checkedTlsCa(c), TargetConnection.Mode.parse(c.mode()), c.labels())).toList());
        if (catalog.all().isEmpty()) LOGGER.warn("edge: no connections are configured; every client will be refused");

        KafkaDecisionPort decisions = new KafkaDecisionPort(
                KafkaDecisionPort.Settings.of(kafka.bootstrapServers(), config.instanceId()), sink, auditSerde);
        closeables.add(decisions);

        Authenticator authenticator = authenticator(config.identity());
        SqlAnalyzer analyzer = new PgQueryAnalyzer();

        // the control channel's listener needs the edge, which needs the channel: hand over later
        CompletableFuture<PgEdge> edgeRef = new CompletableFuture<>();
        ControlChannel control = new ControlChannel(ControlChannel.Settings.of(kafka.bootstrapServers(), config.instanceId()),
                controlSerde, message -> edgeRef.thenAccept(e -> e.onControl(message)));
        closeables.add(control);

        edge = new PgEdge(vertx, edgeConfig, catalog, authenticator, decisions, sink, analyzer,
                message -> control.publish(message).whenComplete((ok, err) -> {
                    if (err != null) LOGGER.warn("control message not published: {}", err.toString());
                }), meters);
        edgePort = edge.start().await();
        closeables.add(edge);
        edgeRef.complete(edge);
        observability.addReadinessCheck("edge-listener", () -> edgePort > 0);
    }

    /** The connection's TLS CA bundle, checked at start so a wrong path fails here, not at a client's login. */
    private static Path checkedTlsCa(GatehouseConfig.Connection c) {
        Path ca = c.tlsCa();
        if (ca == null) return null;
        try (InputStream in = Files.newInputStream(ca)) {
            if (CertificateFactory.getInstance("X.509").generateCertificates(in).isEmpty()) {
                throw new IllegalArgumentException("connections." + c.name() + ": tls-ca " + ca + " holds no certificate");
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("connections." + c.name() + ": cannot read tls-ca " + ca + " (" + e + ")", e);
        } catch (CertificateException e) {
            throw new IllegalArgumentException("connections." + c.name() + ": tls-ca " + ca
                    + " is not a PEM certificate bundle (" + e.getMessage() + ")", e);
        }
        return ca;
    }

    private Authenticator authenticator(GatehouseConfig.Identity identity) {
        if (identity.issuers().isEmpty()) {
            throw new IllegalArgumentException("identity.issuers: at least one trusted issuer is required for the edge");
        }
        List<TrustedIssuer> issuers = identity.issuers().stream().map(i -> new TrustedIssuer(i.issuer(), i.jwksUri(),
                i.audiences(), TrustedIssuer.algorithms(i.algorithms()),
                dev.gatehouse.deploy.config.Durations.parse("clock-skew", i.clockSkew()), i.groupsClaim())).toList();
        TokenValidator validator = new TokenValidator(issuers);
        // JWKS fetches block: validation runs off the event loop
        ExecutorService pool = Executors.newFixedThreadPool(4, Thread.ofPlatform().name("gatehouse-token-", 0).daemon().factory());
        closeables.add(pool::shutdownNow);
        return token -> validator.validateAsync(token, pool).exceptionallyCompose(err -> {
            Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            if (cause instanceof TokenRejectedException r) {
                boolean badCredential = switch (r.reason()) {
                    case BAD_SIGNATURE, EXPIRED, NOT_YET_VALID, MALFORMED, UNKNOWN_KEY, ALGORITHM_NOT_ALLOWED -> true;
                    default -> false;
                };
                return CompletableFuture.failedFuture(new Authenticator.AuthenticationFailure(r.getMessage(), badCredential));
            }
            return CompletableFuture.failedFuture(cause);
        });
    }

    public int edgePort() {
        return edgePort;
    }

    public int observabilityPort() {
        return observabilityPort;
    }

    public PgEdge edge() {
        return edge;
    }

    public PolicyDecider decider() {
        return decider;
    }

    public PrometheusMeterRegistry meters() {
        return meters;
    }

    public EventSerde<AuditEvent> auditSerde() {
        return auditSerde;
    }

    @Override
    public void close() {
        closeables.close();
    }
}
