package dev.gatehouse.deploy.roles;

import dev.gatehouse.platform.identity.BearerAuth;
import dev.gatehouse.deploy.config.Durations;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.edge.catalog.ConnectionCatalog;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.EdgeListener;
import dev.gatehouse.edge.mysql.MySqlEdge;
import dev.gatehouse.edge.postgres.PgEdge;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.events.ControlCodec;
import dev.gatehouse.platform.identity.TokenRejectedException;
import dev.gatehouse.platform.identity.ClaimMapping;
import dev.gatehouse.platform.identity.IssuerKind;
import dev.gatehouse.platform.identity.TokenValidator;
import dev.gatehouse.platform.identity.TrustedIssuer;
import dev.gatehouse.platform.kafka.ControlChannel;
import dev.gatehouse.platform.kafka.DecisionService;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.KafkaAuditSink;
import dev.gatehouse.platform.core.DecisionPort;
import dev.gatehouse.platform.kafka.InlineDecisionPort;
import dev.gatehouse.platform.kafka.KafkaDecisionPort;
import dev.gatehouse.platform.kafka.PolicyLog;
import dev.gatehouse.platform.kafka.Topics;
import dev.gatehouse.platform.kafka.TopicInitializer;
import dev.gatehouse.platform.kafka.TopicSettings;
import dev.gatehouse.platform.observability.MetricsRegistry;
import dev.gatehouse.platform.observability.ObservabilityServer;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import dev.gatehouse.policy.service.PolicyActivator;
import dev.gatehouse.policy.service.PolicyDecider;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import dev.gatehouse.policy.sql.mysql.MySqlAnalyzer;
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
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.UnaryOperator;

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
    private MySqlEdge mysqlEdge;
    private int mysqlPort = -1;
    private int observabilityPort = -1;
    private PolicyDecider decider;
    private KafkaAuditSink sink;
    private dev.gatehouse.platform.kafka.RevocationLog revocations;
    private int adminPort = -1;
    private volatile IndexerRole.Started indexer;
    private BearerAuth.Validator indexerValidator;
    private Authenticator authenticator;
    private int stoppedIndexerPort;
    private volatile dev.gatehouse.approval.ApprovalService approval;
    /** Where secrets named by the configuration are read (Slack's token and signing secret). */
    private final java.util.function.Function<String, String> env;
    private dev.gatehouse.approval.slack.SlackApprovalPlugin slackPlugin;
    private int stoppedApprovalPort = -1;
    private UnaryOperator<AuditSink> decisionAppends = UnaryOperator.identity();
    private volatile boolean draining;

    public GatehouseRuntime(GatehouseConfig config, Set<Role> roles) {
        this(config, roles, System::getenv);
    }

    /**
     * A runtime reading the secrets its configuration names from {@code env} (normally the process
     * environment).
     */
    public GatehouseRuntime(GatehouseConfig config, Set<Role> roles, java.util.function.Function<String, String> env) {
        this.env = java.util.Objects.requireNonNull(env, "env");
        this.config = config;
        this.roles = Set.copyOf(roles);
        AuditEventCodec codec = new AuditEventCodec();
        ControlCodec control = new ControlCodec();
        this.auditSerde = EventSerde.of(codec::encode, codec::decode);
        this.controlSerde = EventSerde.of(control::encode, control::decode);
    }

    /**
     * Decorates the audit sink the edge's decision port appends its requests through
     * (CommandReceived, SessionRequested), and only that one: for fault injection in tests, which
     * delay or fail the acknowledgements the port sees. Call before {@link #start()}.
     */
    public GatehouseRuntime decoratingDecisionAppends(UnaryOperator<AuditSink> decorator) {
        this.decisionAppends = java.util.Objects.requireNonNull(decorator, "decorator");
        return this;
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
        observability.addReadinessProblem("shutdown", () -> draining ? "the process is shutting down" : null);

        // kafka.properties (TLS, SASL) for every Kafka client this runtime creates, until it closes
        closeables.add(dev.gatehouse.platform.kafka.KafkaClients.register(kafka.bootstrapServers(), kafka.properties()));
        if (kafka.provisionTopics()) {
            TopicInitializer.Report report = TopicInitializer.ensure(kafka.bootstrapServers(),
                    topics(kafka),
                    Duration.ofSeconds(30));
            report.warnings().forEach(w -> LOGGER.warn("topics: {}", w));
            if (!report.created().isEmpty()) LOGGER.info("topics created: {}", report.created());
        } else {
            TopicInitializer.requireExisting(kafka.bootstrapServers(), topics(kafka), Duration.ofSeconds(30));
        }

        sink = new KafkaAuditSink(new KafkaAuditSink.Settings(kafka.bootstrapServers(), dev.gatehouse.platform.kafka.Topics.AUDIT,
                "gatehouse-audit-" + config.instanceId(), kafka.deliveryTimeoutDuration()), auditSerde, meters);
        closeables.add(sink);

        if (roles.contains(Role.EDGE) || roles.contains(Role.ADMIN)) {
            revocations = closeables.add(new dev.gatehouse.platform.kafka.RevocationLog(
                    dev.gatehouse.platform.kafka.RevocationLog.Settings.of(kafka.bootstrapServers(), config.instanceId())));
            LoopHealth.watch(observability, meters, "revocations", revocations::health);
        }
        if (roles.contains(Role.POLICY)) startPolicy(kafka, observability);
        if (roles.contains(Role.EDGE)) startEdge(kafka, observability);
        if (roles.contains(Role.ADMIN)) startAdmin(kafka, observability);
        if (roles.contains(Role.APPROVAL)) startApproval(kafka, observability);
        if (roles.contains(Role.INDEXER)) {
            indexerValidator = bearerTokens();
            indexer = IndexerRole.start(config, config.indexer().port(), kafka.bootstrapServers(), vertx, meters,
                    auditSerde, indexerValidator, this::approvalUrl);
            closeables.add(this::stopIndexer);
            observability.addReadinessCheck("indexer-projector", () -> {
                IndexerRole.Started running = indexer;
                return running != null && running.projector().isRunning();
            });
            LoopHealth.watch(observability, meters, "indexer-sessions", () -> {
                IndexerRole.Started running = indexer;
                return running == null ? null : running.directory().health();
            });
        }
        LOGGER.info("gatehouse instance {} running roles {}", config.instanceId(), roles);
    }

    /** The topics of this configuration: the defaults, with {@code kafka.audit-retention} on the audit log. */
    public static List<TopicSettings> topics(GatehouseConfig.Kafka kafka) {
        return TopicSettings.defaults(kafka.partitions(), kafka.replicationFactor().shortValue()).stream()
                .map(t -> t.name().equals(dev.gatehouse.platform.kafka.Topics.AUDIT)
                        ? new TopicSettings(t.name(), t.partitions(), t.replicationFactor(), kafka.auditRetentionDuration(), t.compacted())
                        : t)
                .toList();
    }

    private void startPolicy(GatehouseConfig.Kafka kafka, ObservabilityServer observability) {
        PolicyLog.State log = initialPolicyLog(kafka.bootstrapServers(), config.policy().file());
        PolicyLog.State loadable = PolicyActivator.fold(log.entries());
        if (loadable.active().isEmpty()) {
            PolicyLog.Entry newest = log.active().orElseThrow();
            throw new IllegalStateException("no applied policy version loads on this instance, so it cannot decide (newest: "
                    + newest.policyId() + " version " + newest.version() + ", applied by " + newest.appliedBy()
                    + "); check with: gatehouse policy show " + newest.version() + " > p.yaml && gatehouse policy validate p.yaml,"
                    + " then apply a valid version with: gatehouse policy apply FILE");
        }
        PolicyLog.Entry current = loadable.active().get();
        Policy policy;
        try {
            policy = Policy.parse(current.document(), Topics.POLICIES + "@" + current.offset());
        } catch (dev.gatehouse.policy.engine.PolicyException e) {
            throw new IllegalStateException("policy version " + current.version() + " loaded once and not again", e);
        }
        decider = new PolicyDecider(new PolicyEvaluator(policy), config.instanceId(), config.policy().zone());
        // require_approval: requests (and deferred redemptions) go through gatehouse.approvals
        var approvalLog = closeables.add(new dev.gatehouse.policy.approval.KafkaApprovalLog(
                dev.gatehouse.policy.approval.KafkaApprovalLog.Settings.of(kafka.bootstrapServers(), config.instanceId()),
                auditSerde));
        decider.useApprovals(new dev.gatehouse.policy.approval.ApprovalRequests(approvalLog,
                dev.gatehouse.policy.approval.ApprovalFingerprint.withLibPgQueryIfAvailable(), approvalRequestSettings(),
                config.instanceId()));
        LoopHealth.watch(observability, meters, "policy-approvals", approvalLog::health);
        PolicyActivator activator = new PolicyActivator(decider, config.instanceId(), sink, meters);
        activator.acceptAll(log.entries());
        long next = log.entries().isEmpty() ? 0 : log.entries().getLast().offset() + 1;
        var follower = closeables.add(PolicyLog.follow(kafka.bootstrapServers(), "gatehouse-policy-follower-"
                + config.instanceId(), Duration.ofSeconds(30), next, activator));
        LoopHealth.watch(observability, meters, "policy-follower", follower::health);
        LOGGER.info("policy {} version {} active ({} rules, applied by {} at {})", policy.id(), policy.version(),
                policy.rules().size(), current.appliedBy(), current.appliedAt());
        DecisionService service = new DecisionService(DecisionService.Settings.of(kafka.bootstrapServers(), config.instanceId())
                .withSessionTimeout(config.policy().sessionTimeoutDuration()),
                auditSerde, decider, meters);
        closeables.add(service);
        observability.addReadinessCheck("policy-consumer", service::isRunning);
    }

    /** Channel, default expiry and deferred validity of approval requests (the {@code approval} section). */
    private dev.gatehouse.policy.approval.ApprovalRequests.Settings approvalRequestSettings() {
        GatehouseConfig.Approval approval = config.approval();
        String channel = approval.slack() == null ? null : approval.slack().channel();
        return new dev.gatehouse.policy.approval.ApprovalRequests.Settings(channel, approval.defaultExpiryDuration(),
                approval.deferredValidityDuration());
    }

    /**
     * The policy log as this instance starts. When no version was ever applied, {@code policy.file}
     * becomes the first one; when one was, the log wins and a different {@code policy.file} is only
     * reported (policies change through {@code gatehouse policy apply}, never by restarting).
     */
    private PolicyLog.State initialPolicyLog(String bootstrapServers, Path file) {
        PolicyLog.State log = PolicyLog.read(bootstrapServers, Duration.ofSeconds(30));
        if (log.active().isPresent()) {
            if (file != null) {
                String text = readPolicyFile(file);
                if (!PolicyLog.sha256(text).equals(log.active().get().sha256())) {
                    LOGGER.warn("policy.file {} differs from the active policy version {} (applied by {}); the applied "
                            + "version stays in force; change it with: gatehouse policy apply {}", file,
                            log.active().get().version(), log.active().get().appliedBy(), file);
                }
            }
            return log;
        }
        if (file == null) {
            throw new IllegalArgumentException("no policy has been applied yet and policy.file is not set: set policy.file"
                    + " (the first version) or run: gatehouse policy apply FILE");
        }
        String text = readPolicyFile(file);
        Policy policy;
        try {
            policy = Policy.parse(text, file.toString());
        } catch (dev.gatehouse.policy.engine.PolicyException e) {
            throw new IllegalArgumentException("policy " + file + " is invalid:\n  " + String.join("\n  ", e.errors()), e);
        }
        PolicyLog.publish(bootstrapServers, PolicyLog.Entry.of(PolicyLog.Kind.ACTIVE, policy.id(), policy.version(), text,
                "gatehouse instance " + config.instanceId() + " (initial policy from " + file.getFileName() + ")"),
                Duration.ofSeconds(30));
        return PolicyLog.read(bootstrapServers, Duration.ofSeconds(30));
    }

    private static String readPolicyFile(Path file) {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read policy.file " + file + ": " + e.getMessage(), e);
        }
    }

    private void startEdge(GatehouseConfig.Kafka kafka, ObservabilityServer observability) {
        GatehouseConfig.Postgres pg = config.edge().postgres();
        PgEdgeConfig edgeConfig = new PgEdgeConfig(pg.host(), pg.port(),
                pg.tls() == null ? null : pg.tls().cert(), pg.tls() == null ? null : pg.tls().key(),
                pg.allowPlaintext(), pg.decisionDeadlineDuration(), pg.maxMessageSize(), pg.maxParameterBytes(),
                config.instanceId(), pg.authenticationTimeoutDuration(), pg.maxConnections(), pg.eventLoops());
        ConnectionCatalog catalog = new ConnectionCatalog(config.connections().stream().map(c ->
                new TargetConnection(c.name(), c.host(), c.port(), c.database(), c.user(), c.password(), c.tls(),
                        checkedTlsCa(c), TargetConnection.Mode.parse(c.mode()), c.labels(),
                        (c.resultCapture() != null ? c.resultCapture() : pg.resultCapture()).limits(), c.protocol())).toList());
        if (catalog.all().isEmpty()) LOGGER.warn("edge: no connections are configured; every client will be refused");

        KafkaDecisionPort decisions = new KafkaDecisionPort(
                KafkaDecisionPort.Settings.of(kafka.bootstrapServers(), config.instanceId()), decisionAppends.apply(sink),
                auditSerde);
        closeables.add(decisions);
        // the policy role of this process decides its own edge's commands (policy.inline-decisions)
        DecisionPort edgeDecisions = decider != null && config.policy().inlineDecisions()
                ? new InlineDecisionPort(decisions, sink, decider::decideInline, config.instanceId()) : decisions;
        if (edgeDecisions != decisions) LOGGER.info("edge: this process's policy decides the edge's commands (policy.inline-decisions)");

        Authenticator authenticator = authenticator();
        SqlAnalyzer analyzer = new PgQueryAnalyzer();

        // the control channel's listener needs the edge, which needs the channel: hand over later
        CompletableFuture<List<EdgeListener>> edgeRef = new CompletableFuture<>();
        ControlChannel control = new ControlChannel(ControlChannel.Settings.of(kafka.bootstrapServers(), config.instanceId()),
                controlSerde, message -> edgeRef.thenAccept(listeners -> listeners.forEach(e -> e.onControl(message))));
        closeables.add(control);

        edge = new PgEdge(vertx, edgeConfig, catalog, authenticator, edgeDecisions, sink, analyzer,
                message -> control.publish(message).whenComplete((ok, err) -> {
                    if (err != null) LOGGER.warn("control message not published: {}", err.toString());
                }), meters);
        List<EdgeListener> listeners = new java.util.ArrayList<>(List.of(edge));
        GatehouseConfig.MySql my = config.edge().mysql();
        if (my != null) {
            GatehouseConfig.Tls tls = my.tls() != null ? my.tls() : pg.tls();
            PgEdgeConfig mysqlConfig = new PgEdgeConfig(my.host(), my.port(), tls == null ? null : tls.cert(),
                    tls == null ? null : tls.key(), my.allowPlaintext(), pg.decisionDeadlineDuration(), my.maxPacketSize(),
                    pg.maxParameterBytes(), config.instanceId(), pg.authenticationTimeoutDuration(), my.maxConnections(),
                    my.eventLoops());
            mysqlEdge = new MySqlEdge(vertx, mysqlConfig, catalog, authenticator, edgeDecisions, sink,
                    (version, modes) -> MySqlAnalyzer.mariaDb(version).withSqlMode(modes), meters, my.serverVersion());
            mysqlEdge.useControl(message -> control.publish(message).whenComplete((ok, err) -> {
                if (err != null) LOGGER.warn("control message not published: {}", err.toString());
            }));
            listeners.add(mysqlEdge);
        } else if (!catalog.names(TargetConnection.MYSQL).isEmpty()) {
            LOGGER.warn("edge: connections {} are MySQL connections, but edge.mysql is not configured: no client can reach them",
                    catalog.names(TargetConnection.MYSQL));
        }
        FleetWiring.attach(listeners, revocations, kafka.bootstrapServers(), config.instanceId(), closeables);
        edge.useMasking(config.edge().masking().profiles());
        if (mysqlEdge != null) mysqlEdge.useMasking(config.edge().masking().profiles());
        edge.useApprovalNoticeInterval(pg.approvalNoticeIntervalDuration());
        edgePort = edge.start().await();
        closeables.add(edge);
        if (mysqlEdge != null) {
            mysqlPort = mysqlEdge.start().await();
            closeables.add(mysqlEdge);
        }
        edgeRef.complete(List.copyOf(listeners));
        observability.addReadinessCheck("edge-listener", () -> edgePort > 0);
        if (mysqlEdge != null) observability.addReadinessCheck("edge-mysql-listener", () -> mysqlPort > 0);
        observability.addReadinessCheck("edge-decisions", decisions::isRunning);
        LoopHealth.watch(observability, meters, "edge-control", control::health);
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

    /**
     * Bearer tokens of the HTTP APIs (admin, approvals, indexer), validated as the edge validates a
     * client's token; its refusal reasons are safe to show.
     */
    private BearerAuth.Validator bearerTokens() {
        Authenticator authenticator = authenticator();
        return token -> authenticator.authenticate(token).exceptionallyCompose(err -> {
            Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
            return CompletableFuture.failedFuture(cause instanceof Authenticator.AuthenticationFailure f
                    ? BearerAuth.Refused.invalidToken(f.getMessage()) : cause);
        });
    }

    /**
     * The one token validator of this process (its JWKS cache and worker threads), shared by the
     * edge and the HTTP APIs; made on first use.
     */
    private synchronized Authenticator authenticator() {
        if (authenticator == null) authenticator = newAuthenticator(config.identity());
        return authenticator;
    }

    private Authenticator newAuthenticator(GatehouseConfig.Identity identity) {
        if (identity.issuers().isEmpty()) {
            throw new IllegalArgumentException("identity.issuers: at least one trusted issuer is required (the edge and the HTTP APIs validate tokens against them)");
        }
        List<TrustedIssuer> issuers = identity.issuers().stream().map(GatehouseRuntime::trustedIssuer).toList();
        TokenValidator validator = new TokenValidator(issuers, new TokenValidator.JwksSettings(
                TokenValidator.JwksSettings.DEFAULT.httpTimeout(),
                Durations.parse("identity.jwks-cache-ttl", identity.jwksCacheTtl()),
                Durations.parse("identity.jwks-min-refresh-interval", identity.jwksMinRefreshInterval())));
        Duration grace = Durations.parse("identity.session-expiry-grace", identity.sessionExpiryGrace());
        // JWKS fetches block: validation runs off the event loop
        ExecutorService pool = Executors.newFixedThreadPool(4, Thread.ofPlatform().name("gatehouse-token-", 0).daemon().factory());
        closeables.add(pool::shutdownNow);
        return new Authenticator() {
            @Override
            public CompletionStage<dev.gatehouse.platform.core.Identity> authenticate(String token) {
                return validator.validateAsync(token, pool).exceptionallyCompose(err -> {
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

            @Override
            public Optional<Instant> sessionDeadline(dev.gatehouse.platform.core.Identity id) {
                return TokenValidator.expiry(id).map(exp -> exp.plus(grace));
            }
        };
    }

    private static TrustedIssuer trustedIssuer(GatehouseConfig.Issuer i) {
        IssuerKind kind = IssuerKind.parse(i.kind());
        ClaimMapping mapping = ClaimMapping.of(kind, i.subjectClaim(), i.groupsClaim(), i.rolesClaims(),
                i.groupPaths() == null ? null : ClaimMapping.GroupPaths.parse(i.groupPaths(), null));
        return new TrustedIssuer(i.issuer(), i.jwksUri(), i.audiences(), TrustedIssuer.algorithms(i.algorithms()),
                Durations.parse("identity.issuers.clock-skew", i.clockSkew()), kind, mapping, i.delegation().trust());
    }

    /** The admin API (revocations, sessions); add route groups here with {@code .add(...)}. */
    private void startAdmin(GatehouseConfig.Kafka kafka, ObservabilityServer observability) {
        GatehouseConfig.Admin settings = config.admin();
        var directory = closeables.add(new dev.gatehouse.platform.kafka.SessionDirectory(kafka.bootstrapServers(),
                config.instanceId(), dev.gatehouse.platform.kafka.Topics.SESSIONS, Duration.ofSeconds(30)));
        LoopHealth.watch(observability, meters, "admin-sessions", directory::health);
        var admin = new dev.gatehouse.deploy.admin.AdminServer(vertx, settings.host(), settings.port(),
                new BearerAuth("gatehouse-admin", bearerTokens(), settings.group()))
                .add(new dev.gatehouse.deploy.admin.RevocationRoutes(revocations, sink, config.instanceId(), directory::edges))
                .add(new dev.gatehouse.deploy.admin.SessionRoutes(directory))
                .add(closeables.add(new dev.gatehouse.deploy.admin.PolicyRoutes(kafka.bootstrapServers())));
        adminPort = admin.start().await();
        closeables.add(() -> admin.stop().await());
    }

    private void startApproval(GatehouseConfig.Kafka kafka, ObservabilityServer observability) {
        startApprovalService(kafka, config.approval().port());
        LoopHealth.watch(observability, meters, "approval-log", () -> {
            dev.gatehouse.approval.ApprovalService running = approval;
            return running == null ? null : running.log().health();
        });
        LoopHealth.watch(observability, meters, "approval-arbiter", () -> {
            dev.gatehouse.approval.ApprovalService running = approval;
            return running == null ? null : running.arbiter().health();
        });
    }

    /**
     * Stops this process's approval service and starts a new instance on the same port, as a restart
     * of the process would: the new instance rebuilds its state from the approvals log, takes over as
     * arbiter and re-arms the expiry timers of pending approvals.
     */
    public synchronized void restartApproval() {
        dev.gatehouse.approval.ApprovalService running = approval;
        if (running == null && stoppedApprovalPort < 0) {
            throw new IllegalStateException("this instance does not run the approval role");
        }
        int port = running == null ? stoppedApprovalPort : running.port();
        if (running != null) stopApproval();
        LOGGER.info("approval service stopped (port {} released); starting a new instance", port);
        stoppedApprovalPort = -1;
        startApprovalService(config.kafka(), port);
    }

    /**
     * Stops this process's approval service (a standby elsewhere takes over as arbiter), as a crash
     * of the process would; {@link #restartApproval()} starts it again on the same port.
     */
    public synchronized void stopApproval() {
        dev.gatehouse.approval.ApprovalService running = approval;
        if (running == null) return;
        stoppedApprovalPort = running.port();
        approval = null;
        running.close();
        if (slackPlugin != null) {
            slackPlugin.close();
            slackPlugin = null;
        }
        LOGGER.info("approval service stopped port={}", stoppedApprovalPort);
    }

    /** The approval service: its fold, arbiter and HTTP server (REST API, plugins' routes). */
    private void startApprovalService(GatehouseConfig.Kafka kafka, int port) {
        GatehouseConfig.Approval settings = config.approval();
        BearerAuth.Validator auth = bearerTokens();
        approval = closeables.add(dev.gatehouse.approval.ApprovalService.start(
                new dev.gatehouse.approval.ApprovalService.Settings(kafka.bootstrapServers(), config.instanceId(),
                        settings.host(), port, settings.sessionTimeoutDuration(),
                        settings.deferredValidityDuration()),
                auditSerde, vertx, auth, approvalPlugins(), java.time.Clock.systemUTC()));
    }

    /** Extensions of the approval service (the Slack integration, when configured). */
    private List<dev.gatehouse.approval.ApprovalPlugin> approvalPlugins() {
        dev.gatehouse.approval.slack.SlackConfig slack = config.approval().slack();
        if (slack == null) {
            LOGGER.info("approval.slack is not configured; approvals go through the REST API, the CLI and the console");
            return List.of();
        }
        slackPlugin = closeables.add(new dev.gatehouse.approval.slack.SlackApprovalPlugin(slack.settings(env), sink, meters));
        return List.of(slackPlugin);
    }

    /** The approval service's HTTP port, or -1 without the approval role. */
    public int approvalPort() {
        return approval == null ? -1 : approval.port();
    }

    /**
     * Where the console's approvals page finds the approval service: this process's when it runs the
     * approval role, else the {@code approval} section's host and port.
     */
    private java.net.URI approvalUrl() {
        int port = approvalPort();
        GatehouseConfig.Approval settings = config.approval();
        if (port <= 0) port = settings.port() == null ? 0 : settings.port();
        if (port <= 0) return null;
        String host = settings.host() == null || settings.host().equals("0.0.0.0") ? "127.0.0.1" : settings.host();
        return java.net.URI.create("http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port);
    }

    /** The approval service, or null without the approval role. */
    public dev.gatehouse.approval.ApprovalService approval() {
        return approval;
    }

    /** The indexer API's port, or -1 without the indexer role. */
    public int indexerPort() {
        return indexer == null ? -1 : indexer.port();
    }

    /** The indexer's timeline store, or null without the indexer role. */
    public dev.gatehouse.indexer.store.TimelineStore indexerStore() {
        return indexer == null ? null : indexer.store();
    }

    /** The indexer's projector (its lag, counters), or null without the indexer role or while it is stopped. */
    public dev.gatehouse.indexer.projection.AuditProjector indexerProjector() {
        IndexerRole.Started running = indexer;
        return running == null ? null : running.projector();
    }

    /**
     * Stops the indexer role (API, OCSF exporter, projector, store) and leaves the other roles running;
     * does nothing when it is not running. With {@link #startIndexer()} an operator (or a test) can
     * drop the embedded store in between and have it rebuilt from the log.
     */
    public synchronized void stopIndexer() {
        IndexerRole.Started running = indexer;
        if (running == null) return;
        indexer = null;
        running.close();
        LOGGER.info("indexer stopped (port {} released)", running.port());
        stoppedIndexerPort = running.port();
    }

    /** Starts the indexer role again after {@link #stopIndexer()}, on the port it had, so its URL stays valid. */
    public synchronized void startIndexer() {
        if (!roles.contains(Role.INDEXER)) throw new IllegalStateException("this instance does not run the indexer role");
        if (indexer != null) throw new IllegalStateException("the indexer is already running on port " + indexer.port());
        indexer = IndexerRole.start(config, stoppedIndexerPort, config.kafka().bootstrapServers(), vertx, meters,
                auditSerde, indexerValidator, this::approvalUrl);
    }

    /** The fleet's revocations as this process follows them, or null without the edge and admin roles. */
    public dev.gatehouse.platform.kafka.RevocationLog revocations() {
        return revocations;
    }

    /** The admin API's port, or -1 without the admin role. */
    public int adminPort() {
        return adminPort;
    }

    public GatehouseConfig config() {
        return config;
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

    /** The MySQL listener's port, or -1 without one. */
    public int mysqlPort() {
        return mysqlPort;
    }

    /** The MySQL listener, or null without one. */
    public MySqlEdge mysqlEdge() {
        return mysqlEdge;
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

    /**
     * Graceful shutdown, before {@link #close()} (on SIGTERM): the process reports not ready, and the
     * edge stops taking connections and ends each session with the target's own shutdown error
     * (PostgreSQL 57P01, MySQL 1053) as soon as its command in flight completes; sessions still busy
     * after {@code edge.drain-timeout} are ended then. Returns at once without the edge role.
     */
    public void drain() {
        draining = true;
        java.util.List<EdgeListener> listeners = new java.util.ArrayList<>();
        if (edge != null) listeners.add(edge);
        if (mysqlEdge != null) listeners.add(mysqlEdge);
        if (listeners.isEmpty()) return;
        Duration timeout = config.edge().drainTimeoutDuration();
        long started = System.nanoTime();
        LOGGER.info("draining the edge: no new connections; sessions end as their commands complete (at most {})", timeout);
        java.util.List<CompletableFuture<Integer>> drains = listeners.stream()
                .map(l -> CompletableFuture.supplyAsync(() -> l.drain(timeout),
                        r -> Thread.ofPlatform().name("gatehouse-drain").start(r)))
                .toList();
        int cut = drains.stream().mapToInt(CompletableFuture::join).sum();
        LOGGER.info("edge drained in {} ms; {} sessions ended with a command in flight", (System.nanoTime() - started) / 1_000_000, cut);
    }

    @Override
    public void close() {
        closeables.close();
    }
}
