package dev.gatehouse.loadtest;

import dev.gatehouse.deploy.roles.Role;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * One gateway JVM of a load run, started as a fleet member is:
 * {@code gatehouse run --config FILE --roles ROLES} ({@code GatehouseCli}), with its own
 * {@code observability.port} so that its {@code /metrics} and CPU time are its own.
 */
public final class GatewayProcess implements AutoCloseable {
    /** What {@code gatehouse run} prints once its roles are started. */
    static final String STARTED = "gatehouse: running roles";

    private final String name;
    private final Set<Role> roles;
    private final int observabilityPort;
    private final ChildJvm jvm;
    private final Path log;

    private GatewayProcess(String name, Set<Role> roles, int observabilityPort, ChildJvm jvm, Path log) {
        this.name = name;
        this.roles = Set.copyOf(roles);
        this.observabilityPort = observabilityPort;
        this.jvm = jvm;
        this.log = log;
    }

    /**
     * Starts the process; returns at once (see {@link #awaitReady}).
     *
     * @param config      its configuration file, whose {@code observability.port} is {@code observabilityPort}
     * @param environment the variables its configuration's placeholders name
     */
    static GatewayProcess start(Set<Role> roles, Path config, int observabilityPort, List<String> jvmOptions, Path log,
                                Map<String, String> environment) throws IOException {
        String name = Layout.name(roles);
        String roleList = String.join(",", roles.stream().sorted().map(Role::label).toList());
        ChildJvm jvm = ChildJvm.start(name, jvmOptions, "dev.gatehouse.deploy.cli.GatehouseCli",
                List.of("run", "--config", config.toString(), "--roles", roleList), log, true, false, environment);
        return new GatewayProcess(name, roles, observabilityPort, jvm, log);
    }

    /**
     * Waits until {@code gatehouse run} has said that its roles run (its line {@value #STARTED}, printed
     * once every role has started) and {@code /health/ready} answers 200; fails with the log's tail if
     * the process ends or time runs out. Readiness alone is not enough: the endpoint answers before
     * the roles have registered their checks.
     */
    void awaitReady(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!started() || !PrometheusText.ready(observabilityPort)) {
            if (!jvm.isAlive()) {
                throw new IllegalStateException("gateway process " + name + " ended during start; its log:\n" + jvm.logTail(60));
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("gateway process " + name + " not ready within " + timeout.toSeconds()
                        + " s; its log:\n" + jvm.logTail(60));
            }
            Thread.sleep(250);
        }
    }

    private boolean started() {
        try {
            return Files.readString(log, StandardCharsets.ISO_8859_1).contains(STARTED);
        } catch (IOException e) {
            return false;
        }
    }

    public String name() {
        return name;
    }

    public boolean runs(Role role) {
        return roles.contains(role);
    }

    public long pid() {
        return jvm.pid();
    }

    public int observabilityPort() {
        return observabilityPort;
    }

    public boolean isAlive() {
        return jvm.isAlive();
    }

    /** A scrape of its {@code /metrics}. */
    public PrometheusText metrics() throws IOException, InterruptedException {
        return PrometheusText.scrape(observabilityPort);
    }

    String logTail(int lines) {
        return jvm.logTail(lines);
    }

    @Override
    public void close() {
        jvm.close();
    }
}
