package dev.gatehouse.dev;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;

/**
 * A single-node KRaft Kafka (broker and controller in one) running inside this JVM, for
 * development and tests.
 *
 * <p>Data lives under {@code dataDir} and is kept across restarts: the directory is formatted
 * only when it holds no {@code meta.properties} yet, and the cluster id is read back from it
 * afterwards. The client listener binds 127.0.0.1 on the given port, or on a free port chosen at
 * start when the port is 0 ({@link #port()} tells which). The controller listener always takes a
 * free port; it is not for clients.
 *
 * <p>Tuned for one node: internal topics with replication factor 1 and one partition, no
 * initial rebalance delay, small segments and a small log-cleaner buffer, no topic
 * auto-creation (topics are created by {@link TopicInitializer}).
 *
 * <p>Caveat: Kafka calls {@code Exit.halt} on some fatal storage errors, which ends this JVM.
 */
public final class EmbeddedKafka implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(EmbeddedKafka.class);
    private static final int NODE_ID = 1;
    private static final String CONTROLLER_LISTENER = "CONTROLLER";

    private final Path dataDir;
    private final int port;
    private final String clusterId;
    private final Duration startTime;
    private final KafkaRaftServer server;
    private boolean closed;

    private EmbeddedKafka(Path dataDir, int port, String clusterId, Duration startTime, KafkaRaftServer server) {
        this.dataDir = dataDir;
        this.port = port;
        this.clusterId = clusterId;
        this.startTime = startTime;
        this.server = server;
    }

    /**
     * Formats {@code dataDir} if needed and starts the node; returns once the broker is up and
     * unfenced.
     *
     * @param dataDir where logs and metadata live; created when missing
     * @param port    client port on 127.0.0.1, or 0 to pick a free one
     */
    public static EmbeddedKafka start(Path dataDir, int port) {
        return start(dataDir, port, Map.of());
    }

    /** As {@link #start(Path, int)}, with extra broker properties that override the defaults. */
    public static EmbeddedKafka start(Path dataDir, int port, Map<String, String> overrides) {
        Objects.requireNonNull(dataDir, "dataDir");
        Objects.requireNonNull(overrides, "overrides");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, was " + port);
        long started = System.nanoTime();
        Path logDir = dataDir.toAbsolutePath().resolve("kraft");
        try {
            Files.createDirectories(logDir);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot create Kafka data directory " + logDir, e);
        }
        int clientPort = port == 0 ? freePort() : port;
        int controllerPort = freePort();
        Properties props = brokerProperties(logDir, clientPort, controllerPort);
        overrides.forEach(props::setProperty);
        KafkaConfig config = KafkaConfig.fromProps(props, false);

        String clusterId = readClusterId(logDir);
        if (clusterId == null) {
            clusterId = format(config, logDir);
            LOGGER.info("Formatted Kafka storage dir={} clusterId={}", logDir, clusterId);
        }

        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        try {
            server.startup();
        } catch (RuntimeException e) {
            shutdownQuietly(server);
            throw new IllegalStateException("embedded Kafka failed to start on 127.0.0.1:" + clientPort
                    + " (data " + logDir + "): " + e.getMessage(), e);
        }
        Duration took = Duration.ofNanos(System.nanoTime() - started);
        LOGGER.info("Embedded Kafka started bootstrap=127.0.0.1:{} clusterId={} dir={} startMs={}",
                clientPort, clusterId, logDir, took.toMillis());
        return new EmbeddedKafka(dataDir, clientPort, clusterId, took, server);
    }

    private static Properties brokerProperties(Path logDir, int clientPort, int controllerPort) {
        Properties p = new Properties();
        p.setProperty("process.roles", "broker,controller");
        p.setProperty("node.id", Integer.toString(NODE_ID));
        p.setProperty("controller.quorum.voters", NODE_ID + "@127.0.0.1:" + controllerPort);
        p.setProperty("listeners", "PLAINTEXT://127.0.0.1:" + clientPort + "," + CONTROLLER_LISTENER + "://127.0.0.1:" + controllerPort);
        p.setProperty("advertised.listeners", "PLAINTEXT://127.0.0.1:" + clientPort);
        p.setProperty("controller.listener.names", CONTROLLER_LISTENER);
        p.setProperty("inter.broker.listener.name", "PLAINTEXT");
        p.setProperty("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT," + CONTROLLER_LISTENER + ":PLAINTEXT");
        p.setProperty("log.dirs", logDir.toString());
        p.setProperty("metadata.log.dir", logDir.toString());
        // one node: every internal topic with RF 1, few partitions
        p.setProperty("offsets.topic.replication.factor", "1");
        p.setProperty("offsets.topic.num.partitions", "1");
        p.setProperty("transaction.state.log.replication.factor", "1");
        p.setProperty("transaction.state.log.min.isr", "1");
        p.setProperty("transaction.state.log.num.partitions", "1");
        p.setProperty("share.coordinator.state.topic.replication.factor", "1");
        p.setProperty("share.coordinator.state.topic.min.isr", "1");
        p.setProperty("default.replication.factor", "1");
        p.setProperty("min.insync.replicas", "1");
        p.setProperty("num.partitions", "1");
        p.setProperty("auto.create.topics.enable", "false");
        p.setProperty("group.initial.rebalance.delay.ms", "0");
        p.putAll(smallFootprint());
        return p;
    }

    /**
     * Broker settings for a machine shared with many other processes (development, tests, the
     * local fleet): small segments, indexes and cleaner buffer, few threads, requests of at most 16 MiB.
     */
    public static java.util.Map<String, String> smallFootprint() {
        java.util.Map<String, String> p = new java.util.LinkedHashMap<>();
        p.put("log.segment.bytes", Integer.toString(8 * 1024 * 1024));
        p.put("offsets.topic.segment.bytes", Integer.toString(8 * 1024 * 1024));
        p.put("transaction.state.log.segment.bytes", Integer.toString(8 * 1024 * 1024));
        p.put("log.index.size.max.bytes", Integer.toString(1024 * 1024));
        p.put("log.cleaner.dedupe.buffer.size", Integer.toString(4 * 1024 * 1024));
        p.put("num.network.threads", "2");
        p.put("num.io.threads", "2");
        p.put("num.recovery.threads.per.data.dir", "1");
        p.put("background.threads", "2");
        p.put("log.cleaner.threads", "1");
        // a request's size is read before it is: bound what a garbled or foreign connection can make a
        // small heap allocate (Kafka's default is 100 MiB; Gatehouse's producers send at most 1 MiB)
        p.put("socket.request.max.bytes", Integer.toString(16 * 1024 * 1024));
        return p;
    }

    /** The cluster id from {@code meta.properties}, or null when the directory is not formatted. */
    private static String readClusterId(Path logDir) {
        Path meta = logDir.resolve("meta.properties");
        if (!Files.isRegularFile(meta)) return null;
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(meta)) {
            p.load(in);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + meta, e);
        }
        String id = p.getProperty("cluster.id");
        if (id == null || id.isBlank()) throw new IllegalStateException(meta + " has no cluster.id; remove the directory to start afresh");
        return id;
    }

    private static String format(KafkaConfig config, Path logDir) {
        String clusterId = Uuid.randomUuid().toString();
        try {
            new Formatter()
                    .setPrintStream(new PrintStream(PrintStream.nullOutputStream()))
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .setNodeId(NODE_ID)
                    .setClusterId(clusterId)
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .setControllerListenerName(CONTROLLER_LISTENER)
                    .setMetadataLogDirectory(logDir.toString())
                    .setDirectories(List.of(logDir.toString()))
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format Kafka storage in " + logDir + ": " + e.getMessage(), e);
        }
        return clusterId;
    }

    private static int freePort() {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            socket.setReuseAddress(true);
            return socket.getLocalPort();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot find a free port on 127.0.0.1", e);
        }
    }

    private static void shutdownQuietly(KafkaRaftServer server) {
        try {
            server.shutdown();
            server.awaitShutdown();
        } catch (RuntimeException e) {
            LOGGER.warn("Embedded Kafka did not shut down cleanly after a failed start: {}", e.toString());
        }
    }

    /** {@code 127.0.0.1:port}, for {@code bootstrap.servers}. */
    public String bootstrapServers() {
        return "127.0.0.1:" + port;
    }

    /** The client port (the chosen one when started with 0). */
    public int port() {
        return port;
    }

    /** The directory given at start. */
    public Path dataDir() {
        return dataDir;
    }

    public String clusterId() {
        return clusterId;
    }

    /** Wall time of {@link #start}, formatting included. */
    public Duration startTime() {
        return startTime;
    }

    /** Shuts the node down and waits for it; idempotent. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        long t0 = System.nanoTime();
        server.shutdown();
        server.awaitShutdown();
        LOGGER.info("Embedded Kafka stopped bootstrap={} stopMs={}", bootstrapServers(),
                Duration.ofNanos(System.nanoTime() - t0).toMillis());
    }
}
