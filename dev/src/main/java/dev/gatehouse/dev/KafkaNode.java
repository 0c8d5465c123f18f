package dev.gatehouse.dev;

import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

import java.io.InputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Properties;

/**
 * One KRaft node of a multi-node development cluster (broker and controller in one), as the main
 * class of a JVM of its own: {@code gatehouse fleet} runs three of them, a three-voter quorum.
 *
 * <p>{@code java ... dev.gatehouse.dev.KafkaNode SERVER-PROPERTIES CLUSTER-ID}
 *
 * <p>The properties file is a complete KRaft server configuration ({@code node.id},
 * {@code process.roles}, {@code controller.quorum.voters} with every voter, listeners,
 * {@code log.dirs}, ...). On first start the node formats its {@code log.dirs} with the given
 * cluster id (the same for every node: a static quorum, no initial-controllers file); afterwards
 * the existing storage is used as it is, so a restarted node rejoins with its data. Once the broker
 * is registered and unfenced it prints {@value #STARTED} {@code node=ID} on standard output. It
 * stops (shutting the node down cleanly) on SIGTERM; the launcher runs it under a parent watch
 * that ends the JVM when the launcher goes away.
 */
public final class KafkaNode {
    /** The line printed once the node serves. */
    public static final String STARTED = "gatehouse-kafka-node started";

    private KafkaNode() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 2) throw new IllegalArgumentException("usage: KafkaNode SERVER-PROPERTIES CLUSTER-ID");
        Properties props = new Properties();
        try (InputStream in = Files.newInputStream(Path.of(args[0]))) {
            props.load(in);
        }
        String clusterId = args[1];
        KafkaConfig config = KafkaConfig.fromProps(props, false);
        Path logDir = Path.of(props.getProperty("log.dirs"));
        Files.createDirectories(logDir);
        if (!Files.isRegularFile(logDir.resolve("meta.properties"))) format(config, props, logDir, clusterId);
        KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.shutdown();
            server.awaitShutdown();
        }, "kafka-node-shutdown"));
        long t0 = System.nanoTime();
        // returns once the broker has caught up with the metadata log and is unfenced (needs a quorum)
        server.startup();
        System.out.println(STARTED + " node=" + config.nodeId() + " startMs=" + (System.nanoTime() - t0) / 1_000_000);
        System.out.flush();
        server.awaitShutdown();
    }

    private static void format(KafkaConfig config, Properties props, Path logDir, String clusterId) {
        try {
            new Formatter()
                    .setPrintStream(new PrintStream(PrintStream.nullOutputStream()))
                    .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
                    .setNodeId(config.nodeId())
                    .setClusterId(clusterId)
                    .setReleaseVersion(MetadataVersion.latestProduction())
                    .setControllerListenerName(props.getProperty("controller.listener.names"))
                    .setMetadataLogDirectory(logDir.toString())
                    .setDirectories(List.of(logDir.toString()))
                    .run();
        } catch (Exception e) {
            throw new IllegalStateException("cannot format Kafka storage in " + logDir + ": " + e.getMessage(), e);
        }
        System.err.println("kafka-node: formatted " + logDir + " cluster id " + clusterId + " node " + config.nodeId());
    }
}
