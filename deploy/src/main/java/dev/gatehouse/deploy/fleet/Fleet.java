package dev.gatehouse.deploy.fleet;

import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.dev.DevState;
import dev.gatehouse.deploy.roles.Closer;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.dev.KafkaNode;
import dev.gatehouse.dev.SelfSignedCertificate;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartitionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The fleet's shape on one machine, every member in its own OS process: three Kafka nodes (KRaft,
 * each broker and controller, a three-voter quorum, replication factor 3, {@code min.insync.replicas}
 * 2), two edges behind haproxy, two policy services, the approval service, the indexer with its store
 * on PostgreSQL, and the demo target (PostgreSQL with {@code log_statement=all}). The launcher (this
 * JVM) runs the development token issuer and holds every child's standard input, so no child
 * outlives it (see {@link ParentWatch}). Everything lives under one data directory:
 *
 * <pre>
 * DIR/kafka-N/           server.properties and data of Kafka node N
 * DIR/config/NAME.yaml   the configuration each role process runs with
 * DIR/roles/NAME/        its data-dir
 * DIR/logs/NAME.log      its standard output and error (and postgres.log, haproxy.log)
 * DIR/haproxy/           haproxy.cfg
 * DIR/demo-postgres/     the demo target; its statement log in log/statements.csv
 * DIR/indexer-postgres/  the indexer's store
 * DIR/issuer, DIR/tls    the dev issuer's key, the edges' self-signed certificate
 * </pre>
 *
 * <p>Timeouts are lowered from Kafka's and Gatehouse's defaults so that the fleet gets over the
 * loss of any one process within seconds; each is explained where it is set
 * ({@link #brokerProperties}, {@link #roleConfig}).
 */
public final class Fleet implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(Fleet.class);
    /** Every node is formatted with this cluster id (base64 of "Gatehouse-fleet1"). */
    public static final String CLUSTER_ID = "R2F0ZWhvdXNlLWZsZWV0MQ";
    /** The catalog connection (the dbname clients give) to the demo database, enforce mode. */
    public static final String DATABASE = "demo";
    /** The environment variable the edges' configurations read the demo role's password from. */
    static final String PASSWORD_VARIABLE = "GATEHOUSE_FLEET_TARGET_PASSWORD";
    private static final Duration START_TIMEOUT = Duration.ofMinutes(4);
    private static final List<String> ROLE_JVM = List.of("-Xms32m", "-Xmx256m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError");
    private static final List<String> KAFKA_JVM = List.of("-Xms64m", "-Xmx512m", "-XX:+UseSerialGC", "-XX:+ExitOnOutOfMemoryError");
    private static final List<String> POSTGRES_JVM = List.of("-Xmx96m", "-XX:+UseSerialGC");
    /** What {@code gatehouse run} prints once its roles are started. */
    private static final String ROLES_STARTED = "gatehouse: running roles";
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(1)).build();

    /**
     * @param dataDir      everything the fleet writes (broker logs and data, configurations, process logs)
     * @param postgresPort haproxy's PostgreSQL frontend on 127.0.0.1; 0: {@value #DEFAULT_POSTGRES_PORT}
     */
    public record Settings(Path dataDir, int postgresPort) {
        public static final int DEFAULT_POSTGRES_PORT = 16432;

        public Settings {
            Objects.requireNonNull(dataDir, "dataDir");
            if (postgresPort < 0 || postgresPort > 65535) {
                throw new IllegalArgumentException("the PostgreSQL port must be 0..65535, not " + postgresPort);
            }
            postgresPort = postgresPort == 0 ? DEFAULT_POSTGRES_PORT : postgresPort;
        }
    }

    /** What every role's configuration names: the data directory, brokers, target, issuer, certificate, policy, shared ports. */
    record Wiring(Path dir, String bootstrapServers, int targetPort, String issuerUrl, String jwksUri, Path certificate,
                  Path privateKey, Path policy, int approvalPort, int indexerPort, int storePort) {
    }

    /** A role process to start: its name and its one role. */
    private record RoleSpec(String name, String role) {
    }

    private final Settings settings;
    private final Path dir;
    private final Consumer<String> progress;
    private final Closer closer = new Closer();
    private final Thread shutdownHook = new Thread(this::close, "fleet-shutdown");
    private final Map<String, FleetProcess> processes = new LinkedHashMap<>();
    private final Map<String, Path> configs = new LinkedHashMap<>();
    private final List<FleetProcess> support = new ArrayList<>();
    private boolean closed;
    private String bootstrapServers;
    private int targetPort;
    private int storePort;
    private int approvalPort;
    private int indexerPort;
    private DevTokenIssuer issuer;
    private volatile Admin admin;
    private Duration startTime;

    private Fleet(Settings settings, Consumer<String> progress) {
        this.settings = settings;
        this.dir = settings.dataDir().toAbsolutePath().normalize();
        this.progress = progress;
    }

    /**
     * Starts the whole fleet, each role and broker in its own OS process, and returns once every
     * one is ready and haproxy accepts connections; progress lines go to {@code progress}. On
     * failure it stops what it started and throws.
     *
     * @throws IllegalStateException when haproxy is not installed (naming the package), or a process
     *                               does not start (with the end of its log)
     */
    public static Fleet start(Settings settings, Consumer<String> progress) {
        Path haproxy = HaProxy.binary();
        Fleet fleet = new Fleet(settings, progress);
        Runtime.getRuntime().addShutdownHook(fleet.shutdownHook);
        try {
            fleet.doStart(haproxy);
            return fleet;
        } catch (RuntimeException | Error e) {
            fleet.close();
            throw e;
        } catch (Exception e) {
            fleet.close();
            throw new IllegalStateException("the fleet did not start: " + e.getMessage(), e);
        }
    }

    private void doStart(Path haproxyBinary) throws Exception {
        long t0 = System.nanoTime();
        Path logs = dir.resolve("logs");
        Files.createDirectories(logs);

        // the PostgreSQL servers and the Kafka nodes start side by side: the nodes need each other (a quorum)
        targetPort = freePort();
        storePort = freePort();
        FleetProcess postgres = new FleetProcess("postgres", "postgres", -1,
                FleetProcess.javaCommand(POSTGRES_JVM, FleetPostgresMain.class.getName(),
                        List.of(dir.toString(), String.valueOf(targetPort), String.valueOf(storePort))),
                Map.of(), logs.resolve("postgres.log"), (p, from) -> p.logContains(from, FleetPostgresMain.READY), START_TIMEOUT);
        support.add(postgres);
        closer.add(postgres::stop);
        progress("starting the demo PostgreSQL target and the indexer's PostgreSQL store (one JVM owning both servers)");
        postgres.launch();

        int[] clientPorts = {freePort(), freePort(), freePort()};
        int[] controllerPorts = {freePort(), freePort(), freePort()};
        StringBuilder voters = new StringBuilder();
        StringBuilder bootstrap = new StringBuilder();
        for (int i = 0; i < 3; i++) {
            if (i > 0) {
                voters.append(',');
                bootstrap.append(',');
            }
            voters.append(i + 1).append("@127.0.0.1:").append(controllerPorts[i]);
            bootstrap.append("127.0.0.1:").append(clientPorts[i]);
        }
        bootstrapServers = bootstrap.toString();
        List<FleetProcess> brokers = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            int nodeId = i + 1;
            Path nodeDir = dir.resolve("kafka-" + nodeId);
            Path props = writeProperties(nodeDir.resolve("server.properties"),
                    brokerProperties(nodeId, clientPorts[i], controllerPorts[i], voters.toString(), nodeDir.resolve("data")));
            FleetProcess broker = new FleetProcess("kafka-" + nodeId, "broker", nodeId,
                    FleetProcess.javaCommand(KAFKA_JVM, KafkaNode.class.getName(), List.of(props.toString(), CLUSTER_ID)),
                    Map.of(), logs.resolve("kafka-" + nodeId + ".log"), this::brokerReady, START_TIMEOUT);
            brokers.add(broker);
            processes.put(broker.name(), broker);
        }
        // stopped after the roles (registered first: the closer stops in reverse order)
        closer.add(() -> parallel(brokers, FleetProcess::stop));
        progress("starting Kafka: 3 KRaft nodes (broker and controller each, a 3-voter quorum), data in " + dir);
        brokers.forEach(FleetProcess::launch);

        // meanwhile, in this JVM: the token issuer, the edges' certificate, the policy
        Vertx issuerVertx = Vertx.vertx();
        closer.add(() -> issuerVertx.close().await());
        issuer = DevTokenIssuer.load(dir.resolve("issuer"));
        issuer.serve(issuerVertx, "127.0.0.1", 0).await();
        SelfSignedCertificate.PemFiles tls = SelfSignedCertificate.ensure(dir.resolve("tls"));
        Path policy = examplePolicy(dir);

        postgres.awaitReady();
        progress("PostgreSQL ready in " + millis(postgres.lastStartTime()) + " (demo target :" + targetPort
                + ", indexer store :" + storePort + ")");
        String targetPassword = Files.readString(dir.resolve("demo-postgres").resolve("role-password")).strip();
        for (FleetProcess b : brokers) {
            b.awaitReady();
            progress(b.name() + " ready in " + millis(b.lastStartTime()) + " (pid " + b.pid() + ")");
        }
        admin = closer.add(Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, 5000, AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 10000)));

        // the roles, each in its own JVM
        approvalPort = freePort();
        indexerPort = freePort();
        List<RoleSpec> specs = List.of(new RoleSpec("policy-1", "policy"), new RoleSpec("policy-2", "policy"),
                new RoleSpec("approval-1", "approval"), new RoleSpec("indexer-1", "indexer"),
                new RoleSpec("edge-1", "edge"), new RoleSpec("edge-2", "edge"));
        Wiring wiring = new Wiring(dir, bootstrapServers, targetPort, issuer.issuerUrl(), issuer.jwksUri().toString(),
                tls.certificate(), tls.privateKey(), policy, approvalPort, indexerPort, storePort);
        List<FleetProcess> roles = new ArrayList<>();
        List<HaProxy.Backend> backends = new ArrayList<>();
        for (RoleSpec spec : specs) {
            int observabilityPort = freePort();
            int edgePort = spec.role().equals("edge") ? freePort() : 0;
            if (edgePort > 0) backends.add(new HaProxy.Backend(spec.name(), edgePort, observabilityPort));
            Path config = dir.resolve("config").resolve(spec.name() + ".yaml");
            Files.createDirectories(config.getParent());
            Files.writeString(config, roleConfig(wiring, spec.name(), spec.role(), observabilityPort, edgePort));
            Files.setPosixFilePermissions(config, PosixFilePermissions.fromString("rw-------"));
            configs.put(spec.name(), config);
            FleetProcess p = new FleetProcess(spec.name(), spec.role(), -1,
                    FleetProcess.javaCommand(ROLE_JVM, "dev.gatehouse.deploy.cli.GatehouseCli",
                            List.of("run", "--config", config.toString(), "--roles", spec.role())),
                    spec.role().equals("edge") ? Map.of(PASSWORD_VARIABLE, targetPassword) : Map.of(),
                    logs.resolve(spec.name() + ".log"), (proc, from) -> proc.logContains(from, ROLES_STARTED)
                    && ready(observabilityPort), START_TIMEOUT);
            roles.add(p);
            processes.put(p.name(), p);
        }
        closer.add(() -> parallel(roles, FleetProcess::stop));
        progress("starting the roles, each in its own JVM: " + String.join(", ", specs.stream().map(RoleSpec::name).toList()));
        roles.forEach(FleetProcess::launch);
        for (FleetProcess r : roles) {
            r.awaitReady();
            progress(r.name() + " ready in " + millis(r.lastStartTime()) + " (pid " + r.pid() + ")");
        }

        Path haproxyConfig = HaProxy.writeConfig(dir.resolve("haproxy").resolve("haproxy.cfg"), settings.postgresPort(), backends);
        FleetProcess haproxy = new FleetProcess("haproxy", "load-balancer", -1,
                List.of("bash", "-c", HaProxy.WRAPPER, "haproxy-wrapper", haproxyBinary.toString(), haproxyConfig.toString()),
                Map.of(), logs.resolve("haproxy.log"), (p, from) -> accepts(settings.postgresPort()), START_TIMEOUT);
        support.add(haproxy);
        closer.add(haproxy::stop);
        progress("starting haproxy on 127.0.0.1:" + settings.postgresPort() + " in front of edge-1 and edge-2");
        haproxy.start();
        writeState();
        startTime = Duration.ofNanos(System.nanoTime() - t0);
        progress("the fleet is ready in " + millis(startTime));
    }

    /**
     * A Kafka node's server properties. Timeouts lowered from Kafka's defaults so the loss of a node
     * costs seconds, not half a minute (Gatehouse's write-ahead records wait for {@code acks=all}):
     * <ul>
     *   <li>{@code broker.session.timeout.ms} 4000 (default 9000), {@code broker.heartbeat.interval.ms}
     *       1000 (2000): the controller fences a dead broker, and moves leadership of its partitions
     *       to a replica in the ISR, 4 s after its last heartbeat;</li>
     *   <li>{@code replica.lag.time.max.ms} 5000 (30000): a dead follower leaves the ISR after 5 s, so
     *       {@code acks=all} writes to the partitions it followed wait at most that long;</li>
     *   <li>{@code group.min.session.timeout.ms} 1000 (6000): lets the roles' consumer groups run with
     *       3 s session timeouts ({@code policy.session-timeout}, {@code approval.session-timeout});</li>
     *   <li>{@code group.consumer.min.session.timeout.ms} 3000 (45000), {@code group.consumer.session.timeout.ms}
     *       6000 (45000), heartbeat 1 s: the same for a client using the new consumer protocol (Gatehouse's
     *       groups use the classic one today);</li>
     *   <li>{@code group.initial.rebalance.delay.ms} 0 (3000): a group's first members get partitions at once.</li>
     * </ul>
     * The controller quorum keeps Kafka's defaults ({@code controller.quorum.election.timeout.ms} 1000,
     * {@code controller.quorum.fetch.timeout.ms} 2000): a new active controller within about 2-3 s
     * already, and lower values make a quorum on a busy two-core machine elect needlessly.
     */
    static Map<String, String> brokerProperties(int nodeId, int clientPort, int controllerPort, String voters, Path dataDir) {
        Map<String, String> p = new LinkedHashMap<>();
        p.put("process.roles", "broker,controller");
        p.put("node.id", String.valueOf(nodeId));
        p.put("controller.quorum.voters", voters);
        p.put("listeners", "PLAINTEXT://127.0.0.1:" + clientPort + ",CONTROLLER://127.0.0.1:" + controllerPort);
        p.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + clientPort);
        p.put("controller.listener.names", "CONTROLLER");
        p.put("inter.broker.listener.name", "PLAINTEXT");
        p.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
        p.put("log.dirs", dataDir.toString());
        p.put("metadata.log.dir", dataDir.toString());
        // durability as in production: three replicas, two must acknowledge
        p.put("default.replication.factor", "3");
        p.put("min.insync.replicas", "2");
        p.put("offsets.topic.replication.factor", "3");
        p.put("offsets.topic.num.partitions", "6");
        p.put("transaction.state.log.replication.factor", "3");
        p.put("transaction.state.log.min.isr", "2");
        p.put("transaction.state.log.num.partitions", "3");
        p.put("share.coordinator.state.topic.replication.factor", "3");
        p.put("share.coordinator.state.topic.min.isr", "2");
        p.put("num.partitions", "3");
        p.put("auto.create.topics.enable", "false");
        p.put("unclean.leader.election.enable", "false");
        // failover within seconds (see the method's comment)
        p.put("broker.session.timeout.ms", "4000");
        p.put("broker.heartbeat.interval.ms", "1000");
        p.put("replica.lag.time.max.ms", "5000");
        p.put("group.min.session.timeout.ms", "1000");
        p.put("group.consumer.min.session.timeout.ms", "3000");
        p.put("group.consumer.session.timeout.ms", "6000");
        p.put("group.consumer.min.heartbeat.interval.ms", "1000");
        p.put("group.consumer.heartbeat.interval.ms", "1000");
        p.put("group.initial.rebalance.delay.ms", "0");
        // small footprint: three nodes and six role JVMs share two cores
        p.putAll(dev.gatehouse.dev.EmbeddedKafka.smallFootprint());
        p.put("num.replica.fetchers", "1");
        return p;
    }

    /**
     * The configuration of one role process. Every process gets the same connections, issuer,
     * policy and brokers, and its own instance id, data-dir and ports, so the roles meet only
     * through Kafka, as in a fleet. Lowered from Gatehouse's defaults:
     * <ul>
     *   <li>{@code policy.session-timeout} 3s (6s) and {@code approval.session-timeout} 3s (6s): the
     *       partitions of a killed policy service, or the arbiter role of a killed approval service,
     *       move to the survivor 3 s after its last heartbeat (plus the rebalance), well within the
     *       edges' {@code decision-deadline} (10 s), so the commands waiting on it are decided late
     *       rather than failed;</li>
     *   <li>{@code edge.drain-timeout} 5s (20s): a stopped edge lets commands in flight finish for 5 s
     *       (the fleet is stopped and restarted often);</li>
     *   <li>{@code indexer.abort-grace} 10s (15s);</li>
     *   <li>{@code kafka.properties}: {@code metadata.max.age.ms} 10000 (300000), so clients learn a
     *       restarted broker and moved leaders within 10 s even without an error;
     *       {@code socket.connection.setup.timeout.ms} 2000 (10000) and {@code .max.ms} 5000 (30000):
     *       a connection attempt to a broker that is gone is given up sooner. (Producer request and
     *       delivery timeouts, group session timeouts and reconnect backoff are Gatehouse's own and
     *       may not be set here.)</li>
     * </ul>
     */
    static String roleConfig(Wiring w, String name, String role, int observabilityPort, int edgePort) {
        String edge = !role.equals("edge") ? "" : """
                edge:
                  drain-timeout: 5s
                  postgres:
                    host: 127.0.0.1
                    port: %d
                    tls: {cert: %s, key: %s}
                    allow-plaintext: true
                    decision-deadline: 10s
                """.formatted(edgePort, yaml(w.certificate()), yaml(w.privateKey()));
        String connections = !role.equals("edge") ? "" : """
                connections:
                  - {name: demo, host: 127.0.0.1, port: %1$d, database: %2$s, user: %3$s, password: "${%4$s}", mode: enforce, labels: {env: demo}}
                  - {name: scratch, host: 127.0.0.1, port: %1$d, database: %5$s, user: %3$s, password: "${%4$s}", mode: enforce, labels: {env: scratch}}
                  - {name: demo-observe, host: 127.0.0.1, port: %1$d, database: %2$s, user: %3$s, password: "${%4$s}", mode: observe, labels: {env: demo}}
                """.formatted(w.targetPort(), DemoTarget.DATABASE, DemoTarget.ROLE, PASSWORD_VARIABLE, DemoTarget.SCRATCH);
        return """
                # written by gatehouse fleet for the process %1$s (gatehouse run --roles %2$s)
                instance-id: %1$s
                data-dir: %3$s
                kafka:
                  bootstrap-servers: %4$s
                  partitions: 6
                  replication-factor: 3
                  delivery-timeout: 5s
                  properties:
                    metadata.max.age.ms: "10000"
                    socket.connection.setup.timeout.ms: "2000"
                    socket.connection.setup.timeout.max.ms: "5000"
                %5$s%6$sidentity:
                  issuers:
                    - {issuer: %7$s, jwks-uri: %8$s, audiences: [%9$s]}
                policy:
                  file: %10$s
                  session-timeout: 3s
                observability: {host: 127.0.0.1, port: %11$d}
                approval: {host: 127.0.0.1, port: %12$d, session-timeout: 3s}
                indexer:
                  host: 127.0.0.1
                  port: %13$d
                  abort-grace: 10s
                  store: postgres
                  postgres: {url: "jdbc:postgresql://127.0.0.1:%14$d/%15$s", user: postgres}
                """.formatted(name, role, yaml(w.dir().resolve("roles").resolve(name)), w.bootstrapServers(), edge, connections,
                yaml(w.issuerUrl()), yaml(w.jwksUri()), DevTokenIssuer.AUDIENCE, yaml(w.policy()),
                observabilityPort, w.approvalPort(), w.indexerPort(), w.storePort(), FleetPostgresMain.STORE_DATABASE);
    }

    /** What {@code gatehouse token --data-dir DIR} and {@code gatehouse audit tail} read (as of {@code gatehouse dev}). */
    private void writeState() throws IOException {
        Properties p = new Properties();
        p.setProperty("kafka.bootstrap-servers", bootstrapServers);
        p.setProperty("issuer.url", issuer.issuerUrl());
        p.setProperty("edge.port", String.valueOf(settings.postgresPort()));
        p.setProperty("indexer.url", indexerUrl());
        p.setProperty("indexer.read-group", dev.gatehouse.deploy.config.GatehouseConfig.Indexer.DEFAULT_READ_GROUP);
        p.setProperty("approval.url", approvalUrl());
        try (var out = Files.newBufferedWriter(dir.resolve(DevState.STATE_FILE))) {
            p.store(out, "written by gatehouse fleet; read by gatehouse token --data-dir and gatehouse audit tail");
        }
    }

    /**
     * Whether a broker serves: its node printed {@link KafkaNode#STARTED} (registered and unfenced)
     * and, once the fleet runs (a restart), the controller lists it and it is back in the ISR of every
     * partition it replicates.
     */
    private boolean brokerReady(FleetProcess broker, long logFrom) throws Exception {
        if (!broker.logContains(logFrom, KafkaNode.STARTED)) return false;
        Admin a = admin;
        if (a == null) return true;
        int id = broker.kafkaNodeId();
        boolean registered = a.describeCluster().nodes().get(5, TimeUnit.SECONDS).stream().anyMatch(n -> n.id() == id);
        if (!registered) return false;
        Set<String> topics = a.listTopics(new ListTopicsOptions().listInternal(true)).names().get(5, TimeUnit.SECONDS);
        if (topics.isEmpty()) return true;
        for (TopicDescription t : a.describeTopics(topics).allTopicNames().get(5, TimeUnit.SECONDS).values()) {
            for (TopicPartitionInfo partition : t.partitions()) {
                boolean replica = partition.replicas().stream().anyMatch(n -> n.id() == id);
                boolean inSync = partition.isr().stream().map(Node::id).anyMatch(n -> n == id);
                if (replica && !inSync) return false;
            }
        }
        return true;
    }

    private static boolean ready(int observabilityPort) {
        try {
            HttpResponse<Void> r = HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + observabilityPort + "/health/ready"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.discarding());
            return r.statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    private static Path writeProperties(Path file, Map<String, String> values) throws IOException {
        Files.createDirectories(file.getParent());
        StringBuilder sb = new StringBuilder("# written by gatehouse fleet\n");
        values.forEach((k, v) -> sb.append(k).append('=').append(v.replace("\\", "\\\\")).append('\n'));
        Files.writeString(file, sb.toString());
        return file;
    }

    /** The example policy of the distribution, as {@code gatehouse dev} decides with it. */
    private static Path examplePolicy(Path dir) throws IOException {
        Path file = dir.resolve("policy.yaml");
        try (InputStream in = Fleet.class.getResourceAsStream("/policies/example-policy.yaml")) {
            if (in == null) throw new IllegalStateException("the example policy is missing from the class path");
            Files.copy(in, file, StandardCopyOption.REPLACE_EXISTING);
        }
        return file;
    }

    private static String yaml(Object value) {
        return "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }

    private static void parallel(List<FleetProcess> list, Consumer<FleetProcess> action) {
        List<Thread> threads = list.stream().map(p -> Thread.ofPlatform().name("fleet-" + p.name())
                .start(() -> action.accept(p))).toList();
        for (Thread t : threads) {
            try {
                t.join();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                list.forEach(FleetProcess::kill9);
                return;
            }
        }
    }

    private void progress(String line) {
        LOGGER.info("fleet: {}", line);
        progress.accept(line);
    }

    private static String millis(Duration d) {
        return String.format(java.util.Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    /** The three brokers, {@code 127.0.0.1:P1,127.0.0.1:P2,127.0.0.1:P3}. */
    public String bootstrapServers() {
        return bootstrapServers;
    }

    public String loadBalancerHost() {
        return "127.0.0.1";
    }

    /** haproxy's TCP frontend in front of the two edges' PostgreSQL listeners. */
    public int loadBalancerPostgresPort() {
        return settings.postgresPort();
    }

    /** The demo database as clients name it (the catalog connection {@value #DATABASE}, enforce mode). */
    public String database() {
        return DATABASE;
    }

    /** A token of the fleet's development issuer, valid for one hour. */
    public String token(String subject, Set<String> groups) {
        return issuer.issue(subject, List.copyOf(groups), Duration.ofHours(1), Map.of());
    }

    /**
     * The demo target's own statement log ({@code log_statement=all}), in PostgreSQL's CSV log format
     * ({@code log_destination=csvlog}; one record per message, a statement's record has
     * {@code message} "statement: SQL" or "execute NAME: SQL", with the backend's {@code process_id},
     * {@code user_name} and {@code database_name}; see "Using CSV-Format Log Output" in the
     * PostgreSQL 15 manual). The edges log in as {@code gatehouse_demo}.
     */
    public Path targetStatementLog() {
        return FleetPostgresMain.statementLog(dir);
    }

    /** The demo database, straight to the target (not through an edge), for checks. */
    public String targetJdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + targetPort + "/" + DemoTarget.DATABASE;
    }

    /** The target's superuser (trust on loopback: no password). */
    public String targetUser() {
        return "postgres";
    }

    public String targetPassword() {
        return "";
    }

    public String indexerStoreJdbcUrl() {
        return "jdbc:postgresql://127.0.0.1:" + storePort + "/" + FleetPostgresMain.STORE_DATABASE;
    }

    /** The store's superuser (trust on loopback: no password), as the indexer logs in. */
    public String indexerStoreUser() {
        return "postgres";
    }

    public String indexerStorePassword() {
        return "";
    }

    /** The indexer's API and web console, {@code http://127.0.0.1:PORT}. */
    public String indexerUrl() {
        return "http://127.0.0.1:" + indexerPort;
    }

    /** The approval service's API, {@code http://127.0.0.1:PORT}. */
    public String approvalUrl() {
        return "http://127.0.0.1:" + approvalPort;
    }

    /** The fleet's data directory. */
    public Path dataDir() {
        return dir;
    }

    /** How long {@link #start} took until every process was ready. */
    public Duration startTime() {
        return startTime;
    }

    /** kafka-1..3, edge-1, edge-2, policy-1, policy-2, approval-1, indexer-1 (brokers first). */
    public List<FleetProcess> processes() {
        return List.copyOf(processes.values());
    }

    /** @throws IllegalArgumentException for an unknown name */
    public FleetProcess process(String name) {
        FleetProcess p = processes.get(name);
        if (p == null) throw new IllegalArgumentException("no fleet process " + name + "; there are " + processes.keySet());
        return p;
    }

    /**
     * The processes that serve the fleet without being members: {@code postgres} (the JVM owning both
     * PostgreSQL servers) and {@code haproxy} (its wrapper shell). Their pids, for checks that nothing
     * outlives {@link #close()}.
     */
    public List<FleetProcess> supportProcesses() {
        return List.copyOf(support);
    }

    /** The configuration file a role process runs with (to start another with changes). */
    public Path configOf(String processName) {
        Path p = configs.get(processName);
        if (p == null) throw new IllegalArgumentException("no role process " + processName + "; there are " + configs.keySet());
        return p;
    }

    /** Stops everything: roles (in parallel, gracefully), brokers, haproxy, PostgreSQL, the issuer; idempotent. */
    @Override
    public void close() {
        synchronized (this) {
            if (closed) return;
            closed = true;
        }
        admin = null;
        closer.close();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // closing from the hook itself: the JVM is shutting down
        }
    }
}
