package dev.gatehouse.loadtest;

import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.loadtest.LoadtestOptions.Mode;
import dev.gatehouse.loadtest.LoadtestOptions.Workload;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * pgbench side by side, in one run against one target: straight to the demo target, through
 * PgBouncer (the bar for a proxy that records nothing), and through the edge in observe and
 * enforce mode, at each client count. The gateway runs as child JVMs in the chosen {@link Layout},
 * the broker in a JVM of its own ({@link LoadEnvironment}), so that each process's CPU time per
 * command can be read from the kernel's counters, and the broker's request counts per command
 * from the broker itself. Prints a Markdown report ({@link ComparisonReport}), also written to a file.
 *
 * <p>Not a test: it asserts nothing and stops by itself. See loadtest/README.md for how to run it.
 */
public final class PgbenchComparison {
    private static final Logger LOGGER = LoggerFactory.getLogger(PgbenchComparison.class);
    private static final String SUBJECT = "loadtest";

    /** The counters read at both ends of a measured window. */
    record Snapshot(long nanos, Map<String, Long> cpuTicks, MachineCpu.Ticks machine, Map<String, Long> requests,
                    EdgeTimings edge) {
    }

    /**
     * One measured run.
     *
     * @param cpuTicks  CPU ticks per measured process over the window (pgbench's under "pgbench")
     * @param requests  broker requests per type over the window
     * @param edge      the edge process's timers over the window
     * @param lagAtEnd  the indexer's lag when pgbench ended
     * @param drained   how long after pgbench's end the lag was back to 0; null: not within the bound
     * @param settled   whether the lag was 0 before the window began (the warm-up's records indexed)
     * @param windowSeconds pgbench's run and the wait for the indexer: the window the CPU and request counts cover
     * @param machine   the whole machine's busy and stolen shares over the window; null when not known
     */
    record Row(Mode mode, Workload workload, int clients, int threads, Pgbench.Result result, Map<String, Long> cpuTicks,
               Map<String, Long> requests, EdgeTimings edge, IndexerLag.Reading lagAtEnd, Duration drained, boolean settled,
               double windowSeconds, MachineCpu.Share machine) {
        /** SQL statements the run sent (transactions times statements per transaction). */
        long commands() {
            return result.processed() * workload.statements();
        }
    }

    private final LoadtestOptions options;

    public PgbenchComparison(LoadtestOptions options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        RunMain.exit("pgbench-comparison", args, LoadtestOptions::parse, options -> new PgbenchComparison(options).run());
    }

    /** Runs everything; returns 0 when every run was clean, 1 when some run failed, had errors, or the harness failed. */
    public int run() throws Exception {
        String pgbenchVersion = Pgbench.version();
        Path dir = Files.createTempDirectory("gatehouse-loadtest-");
        Instant started = Instant.now();
        String loadBefore = loadAverage();
        progress("data folder " + dir + (options.keep() ? " (kept)" : " (removed at the end)"));
        List<Row> rows = new ArrayList<>();
        List<LoadEnvironment.Measured> processes = new ArrayList<>();
        String failure = null;
        boolean pgbouncer = options.modes().contains(Mode.PGBOUNCER);
        LoadEnvironment.Settings settings = new LoadEnvironment.Settings(dir, options.keep(), options.layout(), options.jvmOptions(), List.of(),
                pgbouncer ? options.poolMode() : null, options.maxClients(), options.inlineDecisions(),
                options.modes().contains(Mode.FLOOR));
        // the environment removes the folder when it stops, also from its shutdown hook
        try (LoadEnvironment env = LoadEnvironment.start(settings);
             IndexerLag lag = new IndexerLag(env.broker().bootstrapServers(), env.gateway(Role.INDEXER))) {
            processes.addAll(env.measured());
            String token = env.issuer().issue(SUBJECT, List.of("dba"), Duration.ofHours(6), Map.of());
            progress("pgbench -i -s " + options.scale() + " through the edge (connection demo) as " + SUBJECT + " (dba)");
            initialize(env, token);
            try {
                warmUpGateway(env, lag, token);
                int total = options.workloads().size() * options.clients().size() * options.modes().size();
                int index = 0;
                for (Workload workload : options.workloads()) {
                    for (int clients : options.clients()) {
                        for (Mode mode : options.modes()) {
                            index++;
                            Row row = measure(env, lag, token, dir, workload, clients, mode, "[" + index + "/" + total + "] ");
                            rows.add(row);
                        }
                    }
                }
            } catch (Exception e) {
                LOGGER.error("the load run stopped: {}", e.toString(), e);
                failure = e.toString();
            }
        }

        String report = new ComparisonReport(options, pgbenchVersion, started, loadBefore, loadAverage(), processes, failure)
                .render(rows);
        System.out.println(report);
        Path out = options.out().toAbsolutePath();
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
        progress("written to " + out);
        return failure == null && rows.stream().allMatch(r -> r.result().clean()) ? 0 : 1;
    }

    /** {@code pgbench -i} through the edge (the environment has logged in once, so the edge has the issuer's keys). */
    private void initialize(LoadEnvironment env, String token) throws IOException, InterruptedException {
        new Pgbench(endpoint(env, Mode.ENFORCE, token), "  pgbench -i | ").initialize(options.scale(), Duration.ofMinutes(10));
    }

    /**
     * pgbench through the edge before the first run, unmeasured (see
     * {@link LoadtestOptions#gatewayWarmupSeconds()}): each workload in enforce then observe mode at
     * the most clients, the time split evenly, then as long through the write-ahead floor when the
     * run has it; then the indexer's lag back to 0.
     */
    private void warmUpGateway(LoadEnvironment env, IndexerLag lag, String token) throws Exception {
        List<Mode> gatewayModes = options.modes().stream().filter(Mode::throughEdge).distinct().toList();
        if (options.gatewayWarmupSeconds() == 0 || gatewayModes.isEmpty()) return;
        int clients = options.maxClients();
        int each = Math.max(1, options.gatewayWarmupSeconds() / (gatewayModes.size() * options.workloads().size()));
        // the floor's JVM gets as long as each gateway mode, so that none is measured while its JIT compiler still works
        List<Mode> warmed = Stream.of(Mode.ENFORCE, Mode.OBSERVE, Mode.FLOOR).filter(options.modes()::contains).toList();
        for (Workload workload : options.workloads()) {
            for (Mode mode : warmed) {
                progress("warming up the gateway: " + workload.label() + " " + mode.label() + " " + clients + " clients for "
                        + each + " s (not measured)");
                Pgbench.Result warm = new Pgbench(endpoint(env, mode, token), "  gateway warm-up | ")
                        .run(workload.args(), each, clients, options.threadsFor(clients), null);
                if (!warm.clean()) LOGGER.warn("gateway warm-up ({} {}) was not clean: exit={} failed={} errors={}",
                        workload.label(), mode.label(), warm.exitCode(), warm.failed(), warm.errors());
            }
        }
        resetTables(env);
        if (lag.awaitZero(Duration.ofSeconds(options.lagTimeoutSeconds())) == null) {
            progress("  the indexer's lag did not return to 0 within " + options.lagTimeoutSeconds() + " s after the gateway warm-up");
        }
    }

    private Row measure(LoadEnvironment env, IndexerLag lag, String token, Path dir, Workload workload, int clients, Mode mode,
                        String step) throws Exception {
        int threads = options.threadsFor(clients);
        String what = workload.label() + " " + mode.label() + " " + clients + " clients";
        Pgbench pgbench = new Pgbench(endpoint(env, mode, token), "  " + mode.label() + "/" + workload.label() + "/" + clients + " | ");
        Duration lagBound = Duration.ofSeconds(options.lagTimeoutSeconds());
        resetTables(env);
        if (options.warmupSeconds() > 0) {
            progress(step + "warming up " + what + " for " + options.warmupSeconds() + " s (not measured)");
            Pgbench.Result warm = pgbench.run(workload.args(), options.warmupSeconds(), clients, threads, null);
            if (!warm.clean()) LOGGER.warn("warm-up of {} was not clean: exit={} failed={} errors={}", what, warm.exitCode(),
                    warm.failed(), warm.errors());
            resetTables(env);
        }
        // the warm-up's records indexed before the window opens, so that the window counts only its own work
        boolean settled = lag.awaitZero(lagBound) != null;
        if (!settled) progress("  the indexer's lag did not return to 0 within " + lagBound.toSeconds() + " s before the run");
        env.checkAlive();
        progress(step + what + " for " + options.durationSeconds() + " s (pgbench -c " + clients + " -j " + threads + ")");
        Path logDir = dir.resolve("pgbench-logs").resolve(mode.label() + "-" + workload.label() + "-" + clients);
        Snapshot before = snapshot(env, true);
        Pgbench.Result result = pgbench.run(workload.args(), options.durationSeconds(), clients, threads, logDir);
        IndexerLag.Reading atEnd = lag.read();
        Duration drained = atEnd.zero() ? Duration.ZERO : lag.awaitZero(lagBound);
        Snapshot after = snapshot(env, false);
        env.checkAlive();

        Map<String, Long> cpu = difference(after.cpuTicks(), before.cpuTicks());
        cpu.put("pgbench", result.cpuTicks());
        EdgeTimings edge = mode.throughEdge() ? after.edge().since(before.edge()) : null;
        Row row = new Row(mode, workload, clients, threads, result, cpu, difference(after.requests(), before.requests()), edge,
                atEnd, drained, settled, (after.nanos() - before.nanos()) / 1e9,
                after.machine() == null || before.machine() == null ? null : after.machine().since(before.machine()));
        progress(String.format(Locale.ROOT, "  -> %.1f tps, p50 %.2f ms, p99 %.2f ms, %d failed, exit %d; indexer lag at end %s, %s",
                result.tps(), result.latency().p50Micros() / 1000.0, result.latency().p99Micros() / 1000.0, result.failed(),
                result.exitCode(), atEnd, drained == null ? "not back to 0 within " + lagBound.toSeconds() + " s"
                        : String.format(Locale.ROOT, "back to 0 after %.1f s", drained.toMillis() / 1000.0)));
        return row;
    }

    /**
     * The counters of every process. At the start the CPU ticks are read last and at the end
     * first, so that reading the other counters falls outside the window.
     */
    private static Snapshot snapshot(LoadEnvironment env, boolean start) throws IOException, InterruptedException {
        Map<String, Long> ticks = start ? null : env.cpuTicks();
        MachineCpu.Ticks machine = start ? null : MachineCpu.now();
        long nanos = System.nanoTime();
        Map<String, Long> requests = env.broker().requestCounts();
        EdgeTimings edge = EdgeTimings.of(env.gateway(Role.EDGE).metrics());
        if (start) {
            ticks = env.cpuTicks();
            machine = MachineCpu.now();
            nanos = System.nanoTime();
        }
        return new Snapshot(nanos, ticks, machine, requests, edge);
    }

    private static Map<String, Long> difference(Map<String, Long> after, Map<String, Long> before) {
        Map<String, Long> d = new java.util.LinkedHashMap<>();
        after.forEach((k, v) -> d.put(k, v < 0 || before.getOrDefault(k, 0L) < 0 ? -1 : v - before.getOrDefault(k, 0L)));
        return d;
    }

    private Pgbench.Endpoint endpoint(LoadEnvironment env, Mode mode, String token) {
        DemoTarget target = env.target();
        return switch (mode) {
            case DIRECT -> new Pgbench.Endpoint(target.host(), target.port(), target.role(), DemoTarget.DATABASE,
                    target.password(), options.sslmode());
            case PGBOUNCER -> new Pgbench.Endpoint("127.0.0.1", env.pgbouncer().port(), target.role(), DemoTarget.DATABASE,
                    target.password(), options.sslmode());
            case FLOOR -> new Pgbench.Endpoint("127.0.0.1", env.floor().port(), target.role(), DemoTarget.DATABASE,
                    target.password(), options.sslmode());
            case OBSERVE, ENFORCE -> new Pgbench.Endpoint("127.0.0.1", env.edgePort(), SUBJECT, mode.connection(), token,
                    options.sslmode());
        };
    }

    /** What pgbench does before a run without -n, done directly as the superuser so no mode pays for it. */
    private static void resetTables(LoadEnvironment env) throws SQLException {
        try (Connection c = DriverManager.getConnection(env.target().superuserJdbcUrl(DemoTarget.DATABASE));
             Statement s = c.createStatement()) {
            s.execute("VACUUM pgbench_branches");
            s.execute("VACUUM pgbench_tellers");
            s.execute("TRUNCATE pgbench_history");
            s.execute("VACUUM ANALYZE pgbench_accounts");
            s.execute("CHECKPOINT");
        }
    }

    /** The 1, 5 and 15 minute load averages (Linux), so a reader can tell a busy machine from a slow system. */
    static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split(" ");
            return f[0] + " / " + f[1] + " / " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static void progress(String what) {
        System.err.println("pgbench-comparison: " + what);
    }
}
