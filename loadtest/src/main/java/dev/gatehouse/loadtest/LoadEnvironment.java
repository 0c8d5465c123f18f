package dev.gatehouse.loadtest;

import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.Closer;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.dev.SelfSignedCertificate;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What a load run measures, each piece in its own process where its CPU time matters: the demo
 * PostgreSQL target (its own server processes), the dev token issuer (in the harness: it serves
 * only the JWKS at each login), a Kafka broker in a JVM of its own ({@link Broker}), the gateway
 * roles in child JVMs as the {@link Layout} spreads them ({@link GatewayProcess}, each with a
 * configuration file of its own), and optionally PgBouncer, the {@link WriteAheadFloor} and a MariaDB target
 * ({@link MariaDbTarget}) with the edge's MySQL listener. Everything lives in one folder and
 * on free ports of 127.0.0.1. {@link #close()} stops every process, also from a shutdown hook
 * (Ctrl-C) and after a failed start.
 */
public final class LoadEnvironment implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(LoadEnvironment.class);
    /** The environment variable the gateway configurations read the target role's password from. */
    private static final String PASSWORD_VARIABLE = "GATEHOUSE_LOADTEST_TARGET_PASSWORD";
    /** The environment variable the gateway configurations read the MariaDB target user's password from. */
    private static final String MYSQL_PASSWORD_VARIABLE = "GATEHOUSE_LOADTEST_MYSQL_PASSWORD";
    /** The edge's catalog connections to the MariaDB target: enforce and observe mode. */
    public static final String MYSQL_ENFORCE_CONNECTION = "demo-mysql";
    public static final String MYSQL_OBSERVE_CONNECTION = "demo-mysql-observe";
    private static final Duration START_TIMEOUT = Duration.ofMinutes(4);

    /**
     * @param dir               the run's folder (data, configurations, logs)
     * @param keep              keep {@code dir} after {@link #close()}; false: remove it
     * @param pgbouncerPoolMode PgBouncer's pool mode, or null for no PgBouncer
     * @param maxClients        the most clients of any run (PgBouncer's pool size)
     * @param edgeJvmOptions    added to the options of the process that runs the edge (GC logging)
     * @param writeAheadFloor   also start the {@link WriteAheadFloor} proxy
     * @param mariaDb           also start a MariaDB target ({@link MariaDbTarget}) and give the edge its MySQL
     *                          listener ({@code edge.mysql}, plaintext allowed) with catalog connections
     *                          {@value #MYSQL_ENFORCE_CONNECTION} (enforce) and {@value #MYSQL_OBSERVE_CONNECTION} (observe)
     */
    public record Settings(Path dir, boolean keep, Layout layout, List<String> jvmOptions, List<String> edgeJvmOptions,
                           String pgbouncerPoolMode, int maxClients, boolean inlineDecisions, boolean writeAheadFloor,
                           boolean mariaDb) {
        /** Without a MariaDB target. */
        public Settings(Path dir, boolean keep, Layout layout, List<String> jvmOptions, List<String> edgeJvmOptions,
                        String pgbouncerPoolMode, int maxClients, boolean inlineDecisions, boolean writeAheadFloor) {
            this(dir, keep, layout, jvmOptions, edgeJvmOptions, pgbouncerPoolMode, maxClients, inlineDecisions, writeAheadFloor,
                    false);
        }

        /** Without the write-ahead floor. */
        public Settings(Path dir, boolean keep, Layout layout, List<String> jvmOptions, List<String> edgeJvmOptions,
                        String pgbouncerPoolMode, int maxClients, boolean inlineDecisions) {
            this(dir, keep, layout, jvmOptions, edgeJvmOptions, pgbouncerPoolMode, maxClients, inlineDecisions, false);
        }

        /** As the gateway ships: a process with the edge and the policy role decides its own edge's commands. */
        public Settings(Path dir, boolean keep, Layout layout, List<String> jvmOptions, List<String> edgeJvmOptions,
                        String pgbouncerPoolMode, int maxClients) {
            this(dir, keep, layout, jvmOptions, edgeJvmOptions, pgbouncerPoolMode, maxClients, true);
        }
    }

    /** A process whose CPU time a run reads; {@code withChildren}: a server whose work is done by child processes. */
    public record Measured(String name, Kind kind, long pid, boolean withChildren) {
        public long ticks() {
            return withChildren ? ProcessCpu.ticksWithChildren(pid) : ProcessCpu.ticks(pid);
        }
    }

    /** What a measured process is, for the report's sums. */
    public enum Kind { GATEWAY, BROKER, PGBOUNCER, FLOOR, POSTGRES, MARIADB }

    private final Settings settings;
    private final Closer closer = new Closer();
    private final Thread shutdownHook = new Thread(this::close, "loadtest-shutdown");
    private boolean closed;
    private DemoTarget target;
    private long postmasterPid;
    private DevTokenIssuer issuer;
    private SelfSignedCertificate.PemFiles tls;
    private Broker broker;
    private final List<GatewayProcess> gateways = new ArrayList<>();
    private int edgePort;
    private int indexerPort;
    private PgBouncer pgbouncer;
    private WriteAheadFloor.Handle floor;
    private MariaDbTarget mariaDb;
    private int mysqlEdgePort;

    private LoadEnvironment(Settings settings) {
        this.settings = settings;
    }

    /** Starts everything; on failure stops what was started and rethrows. */
    public static LoadEnvironment start(Settings settings) throws Exception {
        LoadEnvironment env = new LoadEnvironment(settings);
        Runtime.getRuntime().addShutdownHook(env.shutdownHook);
        try {
            env.doStart();
            return env;
        } catch (Exception | Error e) {
            env.close();
            throw e;
        }
    }

    private void doStart() throws Exception {
        Path dir = settings.dir().toAbsolutePath();
        Files.createDirectories(dir.resolve("logs"));
        progress("starting the demo PostgreSQL target");
        target = closer.add(DemoTarget.start(dir.resolve("demo-postgres"), 0));
        postmasterPid = Long.parseLong(Files.readAllLines(dir.resolve("demo-postgres").resolve("data").resolve("postmaster.pid"))
                .getFirst().strip());
        if (settings.mariaDb()) {
            progress("starting the MariaDB target (MariaDB " + dev.gatehouse.dev.EmbeddedMariaDb.VERSION + ")");
            mariaDb = closer.add(MariaDbTarget.start(dir.resolve("mariadb")));
        }

        Vertx issuerVertx = Vertx.vertx();
        closer.add(() -> issuerVertx.close().await());
        issuer = DevTokenIssuer.load(dir.resolve("issuer"));
        issuer.serve(issuerVertx, "127.0.0.1", 0).await();
        tls = SelfSignedCertificate.ensure(dir.resolve("tls"));

        if (settings.pgbouncerPoolMode() != null) {
            progress("starting PgBouncer (pool_mode " + settings.pgbouncerPoolMode() + ")");
            pgbouncer = closer.add(PgBouncer.start(dir.resolve("pgbouncer"), target.host(), target.port(), DemoTarget.DATABASE,
                    target.role(), target.password(), tls, settings.pgbouncerPoolMode(), settings.maxClients(), Duration.ofSeconds(30)));
        }

        progress("starting the Kafka broker (its own JVM)");
        broker = closer.add(Broker.start(dir, settings.jvmOptions(), START_TIMEOUT));
        if (settings.writeAheadFloor()) {
            progress("starting the write-ahead floor (its own JVM)");
            floor = closer.add(WriteAheadFloor.Handle.start(dir, settings.jvmOptions(), target.host(), target.port(),
                    broker.bootstrapServers(), START_TIMEOUT));
        }

        Path policy = examplePolicy(dir);
        edgePort = Ports.free();
        mysqlEdgePort = settings.mariaDb() ? Ports.free() : -1;
        indexerPort = Ports.free();
        progress("starting the gateway, layout " + settings.layout().label() + ": " + settings.layout().describe());
        // stopped together (in parallel), before the broker they need to shut down cleanly
        closer.add(this::stopGateways);
        for (Set<Role> roles : settings.layout().processes()) {
            String name = Layout.name(roles);
            int observabilityPort = Ports.free();
            Path config = writeConfig(dir, name, observabilityPort, policy);
            List<String> jvmOptions = new ArrayList<>(settings.jvmOptions());
            if (roles.contains(Role.EDGE)) jvmOptions.addAll(settings.edgeJvmOptions());
            Map<String, String> environment = mariaDb == null ? Map.of(PASSWORD_VARIABLE, target.password())
                    : Map.of(PASSWORD_VARIABLE, target.password(), MYSQL_PASSWORD_VARIABLE, mariaDb.password());
            gateways.add(GatewayProcess.start(roles, config, observabilityPort, jvmOptions,
                    dir.resolve("logs").resolve(name + ".log"), environment));
        }
        for (GatewayProcess g : gateways) g.awaitReady(START_TIMEOUT);
        firstLogin();
    }

    /**
     * Logs in through the edge once (JDBC, {@code SELECT 1}), so that the edge has fetched the
     * issuer's keys before anything is measured. Tried three times: on a loaded machine the first
     * fetch from the issuer (in this JVM, still cold) can exceed the edge's 3 s HTTP timeout.
     */
    private void firstLogin() throws InterruptedException, java.sql.SQLException {
        String token = issuer.issue("loadtest-first-login", List.of("dba"), Duration.ofMinutes(10), Map.of());
        String url = "jdbc:postgresql://127.0.0.1:" + edgePort + "/demo?sslmode=disable&connectTimeout=60";
        for (int attempt = 1; ; attempt++) {
            try (java.sql.Connection c = java.sql.DriverManager.getConnection(url, "loadtest-first-login", token);
                 java.sql.Statement s = c.createStatement()) {
                s.execute("SELECT 1");
                return;
            } catch (java.sql.SQLException e) {
                if (attempt == 3) throw e;
                LOGGER.warn("first login through the edge failed (attempt {} of 3), trying again: {}", attempt, e.getMessage());
                Thread.sleep(2000);
            }
        }
    }

    /**
     * The configuration of one gateway process: every process gets the same one (connections,
     * issuer, policy, broker) but for its instance id, data folder and observability port, so the
     * roles find each other only through Kafka, as in a fleet. The target's password is read from
     * the environment ({@value #PASSWORD_VARIABLE}, and the MariaDB target's from
     * {@value #MYSQL_PASSWORD_VARIABLE}), not written to the file. With a MariaDB target the edge also
     * gets its MySQL listener (plaintext allowed, TLS with the same certificate for clients that
     * ask) and two catalog connections with {@code protocol: mysql}. The issuer's keys are
     * fetched once for the whole run (a 12 h cache): a refetch that times out on a loaded machine
     * would fail a run's logins, and key rotation is not what a load run measures.
     */
    private Path writeConfig(Path dir, String name, int observabilityPort, Path policy) throws IOException {
        Path file = dir.resolve("config").resolve(name + ".yaml");
        Files.createDirectories(file.getParent());
        Files.writeString(file, """
                # written by the Gatehouse load harness for the process running %s
                instance-id: loadtest-%s
                data-dir: %s
                kafka:
                  bootstrap-servers: %s
                  partitions: 3
                  replication-factor: 1
                edge:
                  postgres:
                    host: 127.0.0.1
                    port: %d
                    tls: {cert: %s, key: %s}
                    allow-plaintext: true
                %sconnections:
                  - {name: demo, host: %s, port: %d, database: %s, user: %s, password: "${%s}", mode: enforce, labels: {env: demo}}
                  - {name: demo-observe, host: %s, port: %d, database: %s, user: %s, password: "${%s}", mode: observe, labels: {env: demo}}
                %sidentity:
                  jwks-cache-ttl: 12h
                  issuers:
                    - {issuer: %s, jwks-uri: %s, audiences: [%s]}
                policy:
                  file: %s
                  inline-decisions: %s
                observability: {host: 127.0.0.1, port: %d}
                admin: {host: 127.0.0.1, port: 0}
                approval: {host: 127.0.0.1, port: 0}
                indexer: {host: 127.0.0.1, port: %d}
                """.formatted(name, name, yaml(dir.resolve("gateway").resolve(name)), broker.bootstrapServers(), edgePort,
                yaml(tls.certificate()), yaml(tls.privateKey()), mysqlListener(),
                target.host(), target.port(), DemoTarget.DATABASE, target.role(), PASSWORD_VARIABLE,
                target.host(), target.port(), DemoTarget.DATABASE, target.role(), PASSWORD_VARIABLE, mysqlConnections(),
                yaml(issuer.issuerUrl()), yaml(issuer.jwksUri().toString()), DevTokenIssuer.AUDIENCE,
                yaml(policy), settings.inlineDecisions(), observabilityPort, indexerPort));
        Files.setPosixFilePermissions(file, PosixFilePermissions.fromString("rw-------"));
        return file;
    }

    /** The {@code edge.mysql} section (indented under {@code edge:}), or nothing without a MariaDB target. */
    private String mysqlListener() {
        if (mariaDb == null) return "";
        // TLS: the postgres listener's certificate, for clients that ask; a token may come without it
        return """
                  mysql:
                    host: 127.0.0.1
                    port: %d
                    allow-plaintext: true
                """.formatted(mysqlEdgePort);
    }

    /** The catalog connections to the MariaDB target, or nothing without one. */
    private String mysqlConnections() {
        if (mariaDb == null) return "";
        StringBuilder sb = new StringBuilder();
        for (String[] c : List.of(new String[] {MYSQL_ENFORCE_CONNECTION, "enforce"}, new String[] {MYSQL_OBSERVE_CONNECTION, "observe"})) {
            sb.append("  - {name: ").append(c[0]).append(", protocol: mysql, host: ").append(mariaDb.host()).append(", port: ")
                    .append(mariaDb.port()).append(", database: ").append(MariaDbTarget.DATABASE).append(", user: ")
                    .append(MariaDbTarget.USER).append(", password: \"${").append(MYSQL_PASSWORD_VARIABLE).append("}\", mode: ")
                    .append(c[1]).append(", labels: {env: demo}}\n");
        }
        return sb.toString();
    }

    private static String yaml(Object value) {
        return "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** The example policy of the distribution, as {@code gatehouse dev} decides with it. */
    private static Path examplePolicy(Path dir) throws IOException {
        Path file = dir.resolve("policy.yaml");
        try (InputStream in = DemoTarget.class.getResourceAsStream("/policies/example-policy.yaml")) {
            if (in == null) throw new IllegalStateException("the example policy is missing from the class path");
            Files.copy(in, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    private void stopGateways() {
        List<Thread> stopping = gateways.stream().map(g -> Thread.ofPlatform().name("stop-" + g.name()).start(g::close)).toList();
        for (Thread t : stopping) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                gateways.forEach(GatewayProcess::close);
            }
        }
    }

    public DemoTarget target() {
        return target;
    }

    public DevTokenIssuer issuer() {
        return issuer;
    }

    public Broker broker() {
        return broker;
    }

    /** The indexer's query API, {@code http://127.0.0.1:PORT} (served by the process with the indexer role). */
    public String indexerUrl() {
        return "http://127.0.0.1:" + indexerPort;
    }

    public int edgePort() {
        return edgePort;
    }

    /** The write-ahead floor, or null when the run has none. */
    public WriteAheadFloor.Handle floor() {
        return floor;
    }

    /** The self-signed certificate and key the edge's listeners (and PgBouncer) offer TLS with. */
    public SelfSignedCertificate.PemFiles tls() {
        return tls;
    }

    /** The MariaDB target, or null when the run has none. */
    public MariaDbTarget mariaDb() {
        return mariaDb;
    }

    /** The edge's MySQL listener port, or -1 when the run has no MariaDB target. */
    public int mysqlEdgePort() {
        return mysqlEdgePort;
    }

    /** PgBouncer, or null when the run has none. */
    public PgBouncer pgbouncer() {
        return pgbouncer;
    }

    public List<GatewayProcess> gateways() {
        return List.copyOf(gateways);
    }

    /** The gateway process running {@code role}. */
    public GatewayProcess gateway(Role role) {
        return gateways.stream().filter(g -> g.runs(role)).findFirst()
                .orElseThrow(() -> new IllegalStateException("no process runs " + role.label()));
    }

    /** Every process whose CPU a run reads, in report order: gateway processes, broker, PgBouncer, the floor, PostgreSQL, MariaDB. */
    public List<Measured> measured() {
        List<Measured> all = new ArrayList<>();
        for (GatewayProcess g : gateways) all.add(new Measured(g.name(), Kind.GATEWAY, g.pid(), false));
        all.add(new Measured("broker", Kind.BROKER, broker.pid(), false));
        if (pgbouncer != null) all.add(new Measured("pgbouncer", Kind.PGBOUNCER, pgbouncer.pid(), false));
        if (floor != null) all.add(new Measured("floor", Kind.FLOOR, floor.pid(), false));
        all.add(new Measured("postgres", Kind.POSTGRES, postmasterPid, true));
        if (mariaDb != null) all.add(new Measured("mariadbd", Kind.MARIADB, mariaDb.pid(), false));
        return all;
    }

    /** CPU ticks of every {@link #measured()} process now, by name. */
    public Map<String, Long> cpuTicks() {
        Map<String, Long> ticks = new LinkedHashMap<>();
        for (Measured m : measured()) ticks.put(m.name(), m.ticks());
        return ticks;
    }

    /** Fails when a gateway process or the broker ended: a run's figures would be meaningless. */
    public void checkAlive() {
        for (GatewayProcess g : gateways) {
            if (!g.isAlive()) throw new IllegalStateException("gateway process " + g.name() + " ended; its log:\n" + g.logTail(60));
        }
        if (!broker.isAlive()) throw new IllegalStateException("the broker JVM ended");
        if (floor != null && !floor.isAlive()) throw new IllegalStateException("the write-ahead floor's JVM ended");
        if (mariaDb != null && !ProcessHandle.of(mariaDb.pid()).map(ProcessHandle::isAlive).orElse(false)) {
            throw new IllegalStateException("the MariaDB target (mariadbd, pid " + mariaDb.pid() + ") ended");
        }
    }

    private static void deleteRecursively(Path dir) {
        try (var paths = Files.walk(dir)) {
            paths.sorted(java.util.Comparator.reverseOrder()).forEach(p -> {
                try {
                    Files.delete(p);
                } catch (IOException e) {
                    LOGGER.warn("cannot remove {}: {}", p, e.toString());
                }
            });
        } catch (IOException e) {
            LOGGER.warn("cannot remove {}: {}", dir, e.toString());
        }
    }

    private static void progress(String what) {
        System.err.println("loadtest: " + what + " ...");
    }

    /**
     * Stops every process (gateways in parallel, then broker, PgBouncer, issuer, the targets) and removes
     * the folder unless it is to be kept; idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        closer.close();
        if (!settings.keep()) deleteRecursively(settings.dir());
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // closing from the hook itself: the JVM is shutting down
        }
        LOGGER.debug("load environment stopped");
    }
}
