package dev.gatehouse.loadtest;

import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.loadtest.SysbenchOptions.Mode;
import dev.gatehouse.loadtest.SysbenchOptions.Workload;
import dev.gatehouse.dev.SelfSignedCertificate;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * sysbench side by side against a MariaDB target, in one run: straight to MariaDB, and through the
 * edge's MySQL listener in observe and enforce mode, at each client count. The same machinery as
 * {@link PgbenchComparison}: the gateway runs as child JVMs in the chosen {@link Layout}, the broker
 * in a JVM of its own, the MariaDB target ({@link MariaDbTarget}) as its own {@code mariadbd}
 * ({@link LoadEnvironment}), so that each process's CPU time per transaction can be read from the
 * kernel's counters. sysbench's own {@code prepare} fills the tables directly on the target (not
 * through the edge) before anything runs; every run sends its statements as text
 * ({@code --db-ps-mode=disable}, written when the edge still refused server-side prepared statements),
 * and direct does the same work. Prints a Markdown report ({@link SysbenchReport}), also written to a file.
 *
 * <p>Not a test: it asserts nothing and stops by itself. See loadtest/README.md for how to run it.
 */
public final class SysbenchComparison {
    private static final Logger LOGGER = LoggerFactory.getLogger(SysbenchComparison.class);
    /** The token's subject: through the edge sysbench logs in as this user name, with the token as password. */
    static final String SUBJECT = "loadtest";
    private static final String[] EDGE_PROTOCOL = {"protocol", "mysql"};

    /** The edge's MySQL command counters by verdict that mean a client saw an error. */
    record EdgeErrors(long denied, long failedClosed, long refused) {
        static EdgeErrors of(PrometheusText m) {
            return new EdgeErrors(count(m, "deny"), count(m, "failed_closed"), count(m, "refused"));
        }

        private static long count(PrometheusText m, String verdict) {
            return Math.round(m.sum("gatehouse_edge_commands_total", EDGE_PROTOCOL[0], EDGE_PROTOCOL[1], "verdict", verdict));
        }

        EdgeErrors since(EdgeErrors before) {
            return new EdgeErrors(denied - before.denied, failedClosed - before.failedClosed, refused - before.refused);
        }

        long total() {
            return denied + failedClosed + refused;
        }
    }

    /** The counters read at both ends of a measured window. */
    record Snapshot(long nanos, Map<String, Long> cpuTicks, MachineCpu.Ticks machine, Map<String, Long> requests,
                    EdgeTimings edge, EdgeErrors edgeErrors) {
    }

    /**
     * One measured run.
     *
     * @param cpuTicks      CPU ticks per measured process over the window (sysbench's under "sysbench")
     * @param requests      broker requests per type over the window
     * @param edge          the edge process's timers over the window (null when not through the edge)
     * @param edgeErrors    the edge's MySQL commands denied, failed closed or refused over the window (null likewise)
     * @param lagAtEnd      the indexer's lag when sysbench ended
     * @param drained       how long after sysbench's end the lag was back to 0; null: not within the bound
     * @param settled       whether the lag was 0 before the window began
     * @param windowSeconds sysbench's run and the wait for the indexer: the window the CPU and request counts cover
     * @param machine       the whole machine's busy and stolen shares over the window; null when not known
     */
    record Row(Mode mode, Workload workload, int clients, Sysbench.Result result, Map<String, Long> cpuTicks,
               Map<String, Long> requests, EdgeTimings edge, EdgeErrors edgeErrors, IndexerLag.Reading lagAtEnd,
               Duration drained, boolean settled, double windowSeconds, MachineCpu.Share machine) {
        long transactions() {
            return result.output().transactions();
        }

        long queries() {
            return result.output().queries();
        }

        /** sysbench's run was clean and the edge counted no error of its own. */
        boolean clean() {
            return result.clean() && (edgeErrors == null || edgeErrors.total() == 0);
        }
    }

    private final SysbenchOptions options;
    /** With {@code mysql-ssl}: the folder sysbench runs in for TLS to the edge (see {@link Sysbench.Endpoint}). */
    private Path edgeTls;

    public SysbenchComparison(SysbenchOptions options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        RunMain.exit("sysbench-comparison", args, SysbenchOptions::parse, options -> new SysbenchComparison(options).run());
    }

    /** Runs everything; returns 0 when every run was clean, 1 when some run failed, had errors, or the harness failed. */
    public int run() throws Exception {
        String sysbenchVersion = Sysbench.version();
        Path dir = Files.createTempDirectory("gatehouse-loadtest-");
        Instant started = Instant.now();
        String loadBefore = PgbenchComparison.loadAverage();
        progress("data folder " + dir + (options.keep() ? " (kept)" : " (removed at the end)"));
        List<Row> rows = new ArrayList<>();
        List<LoadEnvironment.Measured> processes = new ArrayList<>();
        String failure = null;
        LoadEnvironment.Settings settings = new LoadEnvironment.Settings(dir, options.keep(), options.layout(), options.jvmOptions(),
                List.of(), null, options.maxClients(), options.inlineDecisions(), false, true);
        try (LoadEnvironment env = LoadEnvironment.start(settings);
             IndexerLag lag = new IndexerLag(env.broker().bootstrapServers(), env.gateway(Role.INDEXER))) {
            processes.addAll(env.measured());
            String token = env.issuer().issue(SUBJECT, List.of("dba"), Duration.ofHours(6), Map.of());
            try {
                if (options.mysqlSsl()) tlsFolders(env, dir);
                prepare(env);
                checkLogin(env, token);
                warmUpGateway(env, lag, token);
                int total = options.workloads().size() * options.clients().size() * options.modes().size();
                int index = 0;
                for (Workload workload : options.workloads()) {
                    for (int clients : options.clients()) {
                        for (Mode mode : options.modes()) {
                            index++;
                            rows.add(measure(env, lag, token, workload, clients, mode, "[" + index + "/" + total + "] "));
                        }
                    }
                }
            } catch (Exception e) {
                LOGGER.error("the load run stopped: {}", e.toString(), e);
                failure = e.toString();
            }
        }

        String report = new SysbenchReport(options, sysbenchVersion, started, loadBefore, PgbenchComparison.loadAverage(), processes,
                failure).render(rows);
        System.out.println(report);
        Path out = options.out().toAbsolutePath();
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
        progress("written to " + out);
        return failure == null && rows.stream().allMatch(Row::clean) ? 0 : 1;
    }

    /**
     * What sysbench 1.0.20 needs in its working folder for {@code --mysql-ssl=on}: the edge's
     * certificate as {@code cacert.pem}, and a client certificate and key (self-signed, made here),
     * which sysbench always presents and the edge does not ask for. Only towards the edge: MariaDB,
     * started without a CA of its own, refuses a client certificate it cannot verify
     * ({@code TLS/SSL error: tlsv1 alert unknown ca}), so the direct runs stay plaintext (as the
     * pgbench run's direct path, whose target offers no TLS).
     */
    private void tlsFolders(LoadEnvironment env, Path dir) throws IOException {
        Path base = dir.resolve("sysbench-tls");
        SelfSignedCertificate.PemFiles client = SelfSignedCertificate.ensure(base.resolve("client"));
        edgeTls = Files.createDirectories(base.resolve("edge"));
        Files.copy(env.tls().certificate(), edgeTls.resolve("cacert.pem"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(client.certificate(), edgeTls.resolve("client-cert.pem"), StandardCopyOption.REPLACE_EXISTING);
        Files.copy(client.privateKey(), edgeTls.resolve("client-key.pem"), StandardCopyOption.REPLACE_EXISTING);
    }

    /** sysbench's own prepare, straight to MariaDB: the tables of every workload (they share oltp_common's schema). */
    private void prepare(LoadEnvironment env) throws IOException, InterruptedException {
        progress("sysbench prepare directly on MariaDB: " + options.tables() + " tables x " + options.tableSize() + " rows");
        new Sysbench(endpoint(env, Mode.DIRECT, null), options.tables(), options.tableSize(), "  sysbench prepare | ")
                .prepare(Workload.OLTP_READ_ONLY, Math.min(options.tables(), 2), Duration.ofMinutes(10));
    }

    /**
     * A few transactions through the edge before anything else, in each gateway mode of the run: a
     * login with the token (mysql_clear_password) and the workload's statements, so that a client or
     * edge that refuses them stops the run at once with sysbench's message. Tried three times: the
     * edge's first key fetch from the issuer can time out on a loaded machine.
     */
    private void checkLogin(LoadEnvironment env, String token) throws IOException, InterruptedException {
        for (Mode mode : options.modes()) {
            if (!mode.throughEdge()) continue;
            for (Workload workload : options.workloads()) {
                for (int attempt = 1; ; attempt++) {
                    progress("login check through the edge: " + workload.label() + " " + mode.label() + " (connection "
                            + mode.connection() + "), 20 transactions on one connection");
                    Sysbench.Result r = new Sysbench(endpoint(env, mode, token), options.tables(), options.tableSize(),
                            "  login check | ").events(workload, 20);
                    if (r.clean()) break;
                    if (attempt == 3) {
                        throw new IllegalStateException("sysbench " + workload.script() + " through the edge (" + mode.connection()
                                + ") failed with exit " + r.exitCode() + ": " + String.join(" | ", r.errors()));
                    }
                    LOGGER.warn("login check through the edge failed (attempt {} of 3), trying again: {}", attempt, r.errors());
                    Thread.sleep(2000);
                }
            }
        }
    }

    /**
     * sysbench through the edge before the first run, unmeasured (see the pgbench run's
     * {@code gateway-warmup}): each workload in enforce then observe mode at the most clients, the
     * time split evenly; then the indexer's lag back to 0.
     */
    private void warmUpGateway(LoadEnvironment env, IndexerLag lag, String token) throws Exception {
        List<Mode> gatewayModes = List.of(Mode.ENFORCE, Mode.OBSERVE).stream().filter(options.modes()::contains).toList();
        if (options.gatewayWarmupSeconds() == 0 || gatewayModes.isEmpty()) return;
        int clients = options.maxClients();
        int each = Math.max(1, options.gatewayWarmupSeconds() / (gatewayModes.size() * options.workloads().size()));
        for (Workload workload : options.workloads()) {
            for (Mode mode : gatewayModes) {
                progress("warming up the gateway: " + workload.label() + " " + mode.label() + " " + clients + " clients for "
                        + each + " s (not measured)");
                Sysbench.Result warm = new Sysbench(endpoint(env, mode, token), options.tables(), options.tableSize(),
                        "  gateway warm-up | ").run(workload, each, clients, options.ignoreErrors());
                if (!warm.clean()) LOGGER.warn("gateway warm-up ({} {}) was not clean: exit={} errors={}", workload.label(),
                        mode.label(), warm.exitCode(), warm.errors());
            }
        }
        if (lag.awaitZero(Duration.ofSeconds(options.lagTimeoutSeconds())) == null) {
            progress("  the indexer's lag did not return to 0 within " + options.lagTimeoutSeconds() + " s after the gateway warm-up");
        }
    }

    private Row measure(LoadEnvironment env, IndexerLag lag, String token, Workload workload, int clients, Mode mode, String step)
            throws Exception {
        String what = workload.label() + " " + mode.label() + " " + clients + " clients";
        Sysbench sysbench = new Sysbench(endpoint(env, mode, token), options.tables(), options.tableSize(),
                "  " + mode.label() + "/" + workload.label() + "/" + clients + " | ");
        Duration lagBound = Duration.ofSeconds(options.lagTimeoutSeconds());
        if (options.warmupSeconds() > 0) {
            progress(step + "warming up " + what + " for " + options.warmupSeconds() + " s (not measured)");
            Sysbench.Result warm = sysbench.run(workload, options.warmupSeconds(), clients, options.ignoreErrors());
            if (!warm.clean()) LOGGER.warn("warm-up of {} was not clean: exit={} errors={}", what, warm.exitCode(), warm.errors());
        }
        // the warm-up's records indexed before the window opens, so that the window counts only its own work
        boolean settled = lag.awaitZero(lagBound) != null;
        if (!settled) progress("  the indexer's lag did not return to 0 within " + lagBound.toSeconds() + " s before the run");
        env.checkAlive();
        progress(step + what + " for " + options.durationSeconds() + " s (sysbench " + workload.script() + " --threads=" + clients
                + " --db-ps-mode=disable)");
        Snapshot before = snapshot(env, true);
        Sysbench.Result result = sysbench.run(workload, options.durationSeconds(), clients, options.ignoreErrors());
        IndexerLag.Reading atEnd = lag.read();
        Duration drained = atEnd.zero() ? Duration.ZERO : lag.awaitZero(lagBound);
        Snapshot after = snapshot(env, false);
        env.checkAlive();

        Map<String, Long> cpu = difference(after.cpuTicks(), before.cpuTicks());
        cpu.put("sysbench", result.cpuTicks());
        Row row = new Row(mode, workload, clients, result, cpu, difference(after.requests(), before.requests()),
                mode.throughEdge() ? after.edge().since(before.edge()) : null,
                mode.throughEdge() ? after.edgeErrors().since(before.edgeErrors()) : null,
                atEnd, drained, settled, (after.nanos() - before.nanos()) / 1e9,
                after.machine() == null || before.machine() == null ? null : after.machine().since(before.machine()));
        SysbenchOutput o = result.output();
        progress(String.format(Locale.ROOT, "  -> %.1f tps, %.1f qps, latency avg %.2f ms, p%d %.2f ms, exit %d, %d errors%s; "
                        + "indexer lag at end %s, %s", o.tps(), o.qps(), o.latencyAvgMs(), o.percentile(), o.latencyPercentileMs(),
                result.exitCode(), result.errors().size() + o.ignoredErrors(),
                row.edgeErrors() == null ? "" : ", edge denied/failed closed/refused " + row.edgeErrors().denied() + "/"
                        + row.edgeErrors().failedClosed() + "/" + row.edgeErrors().refused(),
                atEnd, drained == null ? "not back to 0 within " + lagBound.toSeconds() + " s"
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
        PrometheusText metrics = env.gateway(Role.EDGE).metrics();
        EdgeTimings edge = EdgeTimings.of(metrics);
        EdgeErrors errors = EdgeErrors.of(metrics);
        if (start) {
            ticks = env.cpuTicks();
            machine = MachineCpu.now();
            nanos = System.nanoTime();
        }
        return new Snapshot(nanos, ticks, machine, requests, edge, errors);
    }

    private static Map<String, Long> difference(Map<String, Long> after, Map<String, Long> before) {
        Map<String, Long> d = new LinkedHashMap<>();
        after.forEach((k, v) -> d.put(k, v < 0 || before.getOrDefault(k, 0L) < 0 ? -1 : v - before.getOrDefault(k, 0L)));
        return d;
    }

    /**
     * Direct: MariaDB's own user and password (mysql_native_password). Through the edge: the token's
     * subject as user name, the token as password (the edge asks for mysql_clear_password), the
     * catalog connection as database.
     */
    private Sysbench.Endpoint endpoint(LoadEnvironment env, Mode mode, String token) {
        MariaDbTarget target = env.mariaDb();
        return mode.throughEdge()
                ? new Sysbench.Endpoint("127.0.0.1", env.mysqlEdgePort(), SUBJECT, mode.connection(), token, edgeTls,
                        options.preloadClearPassword())
                : new Sysbench.Endpoint(target.host(), target.port(), MariaDbTarget.USER, MariaDbTarget.DATABASE, target.password(),
                        null, false);
    }

    private static void progress(String what) {
        System.err.println("sysbench-comparison: " + what);
    }
}
