package dev.gatehouse.deploy.it;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A policy-service instance in its own JVM, as a fleet runs one: {@code gatehouse run --config FILE
 * --roles policy} with the JDK and the class path of this test JVM. Its output goes to
 * {@code DIR/INSTANCE.log}, shown by {@link #logTail} when a test fails.
 */
final class PolicyProcess implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyProcess.class);

    final String instanceId;
    final Path log;
    private final Process process;

    private PolicyProcess(String instanceId, Path log, Process process) {
        this.instanceId = instanceId;
        this.log = log;
        this.process = process;
    }

    /**
     * Writes {@code DIR/INSTANCE.yaml} and starts the process.
     *
     * @param sessionTimeout the {@code policy.session-timeout}, e.g. "6s"
     */
    static PolicyProcess start(Path dir, String instanceId, String bootstrapServers, int partitions, Path policyFile,
                               String sessionTimeout) throws IOException {
        Path config = dir.resolve(instanceId + ".yaml");
        Files.writeString(config, """
                instance-id: %s
                data-dir: %s
                kafka:
                  bootstrap-servers: %s
                  partitions: %d
                  replication-factor: 1
                policy:
                  file: %s
                  session-timeout: %s
                observability:
                  host: 127.0.0.1
                  port: 0
                """.formatted(instanceId, dir.resolve(instanceId), bootstrapServers, partitions, policyFile, sessionTimeout));
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs this test"));
        // failsafe hands the forked JVM a manifest-only jar; the real class path is in this property
        String classPath = System.getProperty("surefire.test.class.path", System.getProperty("java.class.path"));
        Path log = dir.resolve(instanceId + ".log");
        ProcessBuilder pb = new ProcessBuilder(List.of(java, "--enable-native-access=ALL-UNNAMED",
                "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
                "-cp", classPath, "dev.gatehouse.deploy.cli.GatehouseCli",
                "run", "--config", config.toString(), "--roles", "policy"))
                .redirectErrorStream(true)
                .redirectOutput(log.toFile());
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        Process process = pb.start();
        LOGGER.info("policy process started instanceId={} pid={} log={}", instanceId, process.pid(), log);
        return new PolicyProcess(instanceId, log, process);
    }

    /** The consumer client id of this instance's decision service. */
    String clientId() {
        return "gatehouse-policy-" + instanceId;
    }

    boolean isAlive() {
        return process.isAlive();
    }

    /** SIGKILL: no shutdown hook, no LeaveGroup; the group notices only by missed heartbeats. */
    void kill() {
        process.destroyForcibly();
    }

    /** SIGTERM: the shutdown hook closes the runtime, so the consumer leaves the group. */
    void stop() {
        process.destroy();
    }

    /** Waits for the process to end; false if it did not within {@code timeout}. */
    boolean awaitExit(Duration timeout) throws InterruptedException {
        return process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** The last lines of the process's output, for failure messages. */
    String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    @Override
    public void close() throws InterruptedException {
        if (process.isAlive()) {
            process.destroyForcibly();
            process.waitFor(30, TimeUnit.SECONDS);
        }
    }
}
