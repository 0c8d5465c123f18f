package dev.gatehouse.deploy.dev;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.Closer;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.dev.EmbeddedKafka;
import dev.gatehouse.dev.SelfSignedCertificate;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Everything of {@code gatehouse dev} in one process: an embedded single-node KRaft Kafka, the
 * demo PostgreSQL target, the development token issuer, a self-signed TLS certificate, and every
 * role. State lives under one data directory and survives restarts.
 */
public final class DevEnvironment implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(DevEnvironment.class);
    public static final String STATE_FILE = DevState.STATE_FILE;

    /**
     * Ports and folders; 0 picks a free port.
     *
     * @param mysqlEdgePort   the MySQL listener's port, or -1 for no MySQL listener and no MariaDB demo target
     * @param mysqlTargetPort the MariaDB demo target's port (with a MySQL listener)
     */
    public record Settings(Path dataDir, int edgePort, int kafkaPort, int issuerPort, int targetPort,
                           int observabilityPort, Path policyFile, int adminPort, int mysqlEdgePort, int mysqlTargetPort) {
        /** The default admin API port of {@code gatehouse dev}. */
        public static final int DEFAULT_ADMIN_PORT = 18081;
        /** The default MySQL listener port of {@code gatehouse dev}. */
        public static final int DEFAULT_MYSQL_PORT = 13306;
        /** The default port of the MariaDB demo target. */
        public static final int DEFAULT_MYSQL_TARGET_PORT = 13307;

        /** Settings without the MySQL listener and its MariaDB demo target. */
        public Settings(Path dataDir, int edgePort, int kafkaPort, int issuerPort, int targetPort,
                        int observabilityPort, Path policyFile, int adminPort) {
            this(dataDir, edgePort, kafkaPort, issuerPort, targetPort, observabilityPort, policyFile, adminPort, -1, 0);
        }

        /** Settings with the admin API on a free port, without MySQL. */
        public Settings(Path dataDir, int edgePort, int kafkaPort, int issuerPort, int targetPort,
                        int observabilityPort, Path policyFile) {
            this(dataDir, edgePort, kafkaPort, issuerPort, targetPort, observabilityPort, policyFile, 0);
        }

        public static Settings defaults(Path dataDir) {
            return new Settings(dataDir, 15432, 19092, 18080, 15433, 9464, null, DEFAULT_ADMIN_PORT, DEFAULT_MYSQL_PORT,
                    DEFAULT_MYSQL_TARGET_PORT);
        }

        /** Whether the MySQL listener and the MariaDB demo target run. */
        public boolean mysql() {
            return mysqlEdgePort >= 0;
        }
    }

    /** The subject of the development administrator whose tokens the CLI mints for a local {@code gatehouse dev}. */
    public static final String DEV_ADMIN = DevState.DEV_ADMIN;

    private final Settings settings;
    private final Closer closeables = new Closer();
    private EmbeddedKafka kafka;
    private DemoTarget target;
    private DemoMariaDb mysqlTarget;
    private DevTokenIssuer issuer;
    private GatehouseRuntime runtime;

    public DevEnvironment(Settings settings) {
        this.settings = settings;
    }

    public DevEnvironment start() throws Exception {
        try {
            Path dir = settings.dataDir().toAbsolutePath();
            Files.createDirectories(dir);
            progress("starting Kafka (embedded, single node KRaft, data in " + dir.resolve("kafka") + ")");
            kafka = EmbeddedKafka.start(dir.resolve("kafka"), settings.kafkaPort());
            closeables.add(kafka);

            progress("starting the demo PostgreSQL target (data in " + dir.resolve("demo-postgres") + ")");
            target = DemoTarget.start(dir.resolve("demo-postgres"), settings.targetPort());
            closeables.add(target);

            if (settings.mysql()) {
                progress("starting the demo MariaDB target (MariaDB " + DemoMariaDb.VERSION + ", data in "
                        + dir.resolve("demo-mariadb") + ")");
                mysqlTarget = DemoMariaDb.start(dir.resolve("demo-mariadb"), settings.mysqlTargetPort());
                closeables.add(mysqlTarget);
            }

            progress("starting the development token issuer");
            Vertx issuerVertx = Vertx.vertx();
            closeables.add(() -> issuerVertx.close().await());
            issuer = DevTokenIssuer.load(dir.resolve("issuer"), DevTokenIssuer.defaultIssuerUrl(settings.issuerPort()));
            HttpServer issuerServer = issuer.serve(issuerVertx, "127.0.0.1", settings.issuerPort()).await();
            if (settings.issuerPort() == 0) {
                issuer = DevTokenIssuer.load(dir.resolve("issuer"), DevTokenIssuer.defaultIssuerUrl(issuerServer.actualPort()));
            }

            SelfSignedCertificate.PemFiles tls = SelfSignedCertificate.ensure(dir.resolve("tls"));
            Path policy = settings.policyFile() != null ? settings.policyFile() : examplePolicy(dir);

            List<GatehouseConfig.Connection> connections = new java.util.ArrayList<>(List.of(
                    new GatehouseConfig.Connection("demo", target.host(), target.port(), DemoTarget.DATABASE,
                            target.role(), target.password(), false, null, "enforce", Map.of("env", "demo")),
                    new GatehouseConfig.Connection("scratch", target.host(), target.port(), DemoTarget.SCRATCH,
                            target.role(), target.password(), false, null, "enforce", Map.of("env", "scratch")),
                    new GatehouseConfig.Connection("demo-observe", target.host(), target.port(), DemoTarget.DATABASE,
                            target.role(), target.password(), false, null, "observe", Map.of("env", "demo"))));
            if (mysqlTarget != null) {
                connections.add(new GatehouseConfig.Connection("demo-mysql", mysqlTarget.host(), mysqlTarget.port(),
                        DemoMariaDb.DATABASE, DemoMariaDb.USER, mysqlTarget.password(), false, null, "enforce",
                        Map.of("env", "demo"), null, "mysql"));
            }
            GatehouseConfig.Tls edgeTls = new GatehouseConfig.Tls(tls.certificate(), tls.privateKey());
            GatehouseConfig config = new GatehouseConfig("dev-edge", dir,
                    new GatehouseConfig.Kafka(kafka.bootstrapServers(), 3, 1, null, "5s", Map.of()),
                    new GatehouseConfig.Edge(new GatehouseConfig.Postgres("127.0.0.1", settings.edgePort(), edgeTls, true,
                            "5s", null, null), null, settings.mysql() ? new GatehouseConfig.MySql("127.0.0.1",
                            settings.mysqlEdgePort(), edgeTls, true, null, null, null, null) : null),
                    connections,
                    // the development issuer mints delegation tokens (gatehouse token --actor): it may assert act
                    new GatehouseConfig.Identity(List.of(new GatehouseConfig.Issuer(issuer.issuerUrl(), issuer.jwksUri(),
                            Set.of(DevTokenIssuer.AUDIENCE), null, null, null)
                            .withDelegation(GatehouseConfig.Delegation.acceptingAct()))),
                    new GatehouseConfig.Policy(policy),
                    new GatehouseConfig.Observability("127.0.0.1", settings.observabilityPort()),
                    new GatehouseConfig.Admin("127.0.0.1", settings.adminPort(), null),
                    // the approval service on its default port, or on a free one beside a free admin port (tests)
                    settings.adminPort() == 0 ? new GatehouseConfig.Approval(null, 0, null, null, null) : null,
                    // the indexer on 18082 beside a fixed admin port; on a free port when the admin's is free too (tests)
                    new GatehouseConfig.Indexer(null, null, "127.0.0.1", settings.adminPort() == 0 ? 0 : 18082, null,
                            null, null, null));
            progress("starting the edge and the policy service");
            runtime = new GatehouseRuntime(config, EnumSet.allOf(Role.class)).start();
            closeables.add(runtime);
            writeState(dir);
            return this;
        } catch (Exception e) {
            close();
            throw e;
        }
    }

    /** The example policy, copied out of the distribution so users can read and edit it. */
    private static Path examplePolicy(Path dir) throws IOException {
        Path file = dir.resolve("policy.yaml");
        if (!Files.exists(file)) {
            try (InputStream in = DevEnvironment.class.getResourceAsStream("/policies/example-policy.yaml")) {
                if (in == null) throw new IllegalStateException("the example policy is missing from the distribution");
                Files.copy(in, file);
            }
        }
        return file;
    }

    private void writeState(Path dir) throws IOException {
        Properties p = new Properties();
        p.setProperty("kafka.bootstrap-servers", kafka.bootstrapServers());
        p.setProperty("issuer.url", issuer.issuerUrl());
        p.setProperty("edge.port", String.valueOf(runtime.edgePort()));
        if (runtime.mysqlPort() > 0) p.setProperty("edge.mysql.port", String.valueOf(runtime.mysqlPort()));
        p.setProperty("observability.port", String.valueOf(runtime.observabilityPort()));
        p.setProperty("admin.url", adminUrl());
        p.setProperty("admin.group", GatehouseConfig.Admin.DEFAULT_GROUP);
        if (runtime.indexerPort() > 0) {
            p.setProperty("indexer.url", "http://127.0.0.1:" + runtime.indexerPort());
            p.setProperty("indexer.read-group", runtime.config().indexer().readGroup());
        }
        if (runtime.approvalPort() > 0) p.setProperty("approval.url", approvalUrl());
        try (var out = Files.newBufferedWriter(dir.resolve(STATE_FILE))) {
            p.store(out, "written by gatehouse dev; read by gatehouse token and gatehouse audit tail");
        }
    }

    /** Reads what a running (or last) {@code gatehouse dev} wrote, or empty properties. */
    public static Properties readState(Path dataDir) {
        return DevState.read(dataDir);
    }

    private static void progress(String what) {
        System.err.println("gatehouse dev: " + what + " ...");
    }

    public EmbeddedKafka kafka() {
        return kafka;
    }

    public DemoTarget target() {
        return target;
    }

    /** The admin API's base URL ({@code http://127.0.0.1:PORT}). */
    public String adminUrl() {
        return "http://127.0.0.1:" + runtime.adminPort();
    }

    /** The approval service's base URL ({@code http://127.0.0.1:PORT}; port 18083 by default). */
    public String approvalUrl() {
        return "http://127.0.0.1:" + runtime.approvalPort();
    }

    /** The MariaDB demo target, or null without MySQL. */
    public DemoMariaDb mysqlTarget() {
        return mysqlTarget;
    }

    public DevTokenIssuer issuer() {
        return issuer;
    }

    public GatehouseRuntime runtime() {
        return runtime;
    }

    @Override
    public void close() {
        closeables.close();
    }
}
