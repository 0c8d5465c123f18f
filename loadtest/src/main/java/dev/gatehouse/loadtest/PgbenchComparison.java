package dev.gatehouse.loadtest;

import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.dev.DevEnvironment;
import dev.gatehouse.loadtest.LoadtestOptions.Mode;
import dev.gatehouse.loadtest.LoadtestOptions.Workload;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * pgbench three ways in one run: straight to the demo target, through the edge in observe mode,
 * and through the edge in enforce mode. Starts a whole {@code gatehouse dev} environment on free
 * ports in a temporary folder, initialises the pgbench tables once through the edge, runs every
 * workload for a fixed time in every mode, and prints a Markdown table (also written to a file).
 *
 * <p>Not a test: it asserts nothing and stops by itself. See loadtest/README.md for how to run it.
 */
public final class PgbenchComparison {
    private static final Logger LOGGER = LoggerFactory.getLogger(PgbenchComparison.class);
    private static final String SUBJECT = "loadtest";

    /** One measured run, for the table. */
    record Row(Mode mode, Workload workload, Pgbench.Result result, EdgeTimings edge) {
    }

    private final LoadtestOptions options;

    public PgbenchComparison(LoadtestOptions options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        LoadtestOptions options;
        try {
            options = LoadtestOptions.parse(args);
        } catch (IllegalArgumentException e) {
            System.err.println("pgbench-comparison: " + e.getMessage());
            System.exit(2);
            return;
        }
        int status = new PgbenchComparison(options).run();
        // Kafka and Vert.x leave non-daemon threads behind after close(); the report is written.
        System.exit(status);
    }

    /** Runs everything; returns 0 when every run was clean, 1 when some run failed or had errors. */
    public int run() throws Exception {
        String pgbenchVersion = Pgbench.version();
        Path dir = Files.createTempDirectory("gatehouse-loadtest-");
        Instant started = Instant.now();
        String loadBefore = loadAverage();
        progress("data folder " + dir + (options.keep() ? " (kept)" : " (removed at the end)"));
        List<Row> rows = new ArrayList<>();
        try (DevEnvironment env = new DevEnvironment(new DevEnvironment.Settings(dir, 0, 0, 0, 0, 0, null)).start()) {
            Thread hook = new Thread(env::close, "loadtest-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            String token = env.issuer().issue(SUBJECT, List.of("dba"), Duration.ofHours(6), Map.of());

            progress("pgbench -i -s " + options.scale() + " through the edge (connection demo) as " + SUBJECT + " (dba)");
            new Pgbench(endpoint(env, Mode.ENFORCE, token), "  pgbench -i | ").initialize(options.scale(), Duration.ofMinutes(10));

            int total = options.workloads().size() * options.modes().size();
            int index = 0;
            for (Workload workload : options.workloads()) {
                for (Mode mode : options.modes()) {
                    index++;
                    Pgbench pgbench = new Pgbench(endpoint(env, mode, token), "  " + mode.label() + "/" + workload.label() + " | ");
                    resetTables(env);
                    if (options.warmupSeconds() > 0) {
                        progress("[" + index + "/" + total + "] warming up " + workload.label() + " " + mode.label()
                                + " for " + options.warmupSeconds() + " s (not measured)");
                        Pgbench.Result warm = pgbench.run(workload.args(), options.warmupSeconds(), options.clients(),
                                options.threads(), null);
                        if (!warm.clean()) LOGGER.warn("warm-up of {} {} was not clean: exit={} failed={} errors={}",
                                mode.label(), workload.label(), warm.exitCode(), warm.failed(), warm.errors());
                        resetTables(env);
                    }
                    progress("[" + index + "/" + total + "] " + workload.label() + " " + mode.label() + " for "
                            + options.durationSeconds() + " s, " + options.clients() + " clients, " + options.threads() + " threads");
                    Path logDir = dir.resolve("pgbench-logs").resolve(mode.label() + "-" + workload.label());
                    EdgeTimings before = EdgeTimings.of(env.runtime().meters());
                    Pgbench.Result result = pgbench.run(workload.args(), options.durationSeconds(), options.clients(),
                            options.threads(), logDir);
                    EdgeTimings edge = mode == Mode.DIRECT ? null : EdgeTimings.of(env.runtime().meters()).since(before);
                    progress(String.format(Locale.ROOT, "  -> %.1f tps, p50 %s ms, p99 %s ms, %d failed, exit %d",
                            result.tps(), ms(result.latency().p50Micros()), ms(result.latency().p99Micros()),
                            result.failed(), result.exitCode()));
                    rows.add(new Row(mode, workload, result, edge));
                }
            }
            Runtime.getRuntime().removeShutdownHook(hook);
        } finally {
            if (!options.keep()) deleteRecursively(dir);
        }

        String report = report(rows, pgbenchVersion, started, loadBefore, loadAverage());
        System.out.println(report);
        Path out = options.out().toAbsolutePath();
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
        progress("written to " + out);
        return rows.stream().allMatch(r -> r.result().clean()) ? 0 : 1;
    }

    private Pgbench.Endpoint endpoint(DevEnvironment env, Mode mode, String token) {
        if (mode == Mode.DIRECT) {
            return new Pgbench.Endpoint(env.target().host(), env.target().port(), env.target().role(), DemoTarget.DATABASE,
                    env.target().password(), options.sslmode());
        }
        return new Pgbench.Endpoint("127.0.0.1", env.runtime().edgePort(), SUBJECT, mode.connection(), token, options.sslmode());
    }

    /** What pgbench does before a run without -n, done directly as the superuser so no mode pays for it. */
    private static void resetTables(DevEnvironment env) throws SQLException {
        try (Connection c = DriverManager.getConnection(env.target().superuserJdbcUrl(DemoTarget.DATABASE));
             Statement s = c.createStatement()) {
            s.execute("VACUUM pgbench_branches");
            s.execute("VACUUM pgbench_tellers");
            s.execute("TRUNCATE pgbench_history");
            s.execute("VACUUM ANALYZE pgbench_accounts");
            s.execute("CHECKPOINT");
        }
    }

    String report(List<Row> rows, String pgbenchVersion, Instant started, String loadBefore, String loadAfter) {
        StringBuilder sb = new StringBuilder();
        sb.append("## pgbench: direct vs through Gatehouse\n\n");
        sb.append(String.format(Locale.ROOT, "%s, %s, %d CPUs, Java %s. Scale %d, %d s per run after %d s warm-up, "
                        + "%d clients, %d threads, sslmode=%s. Latencies from pgbench's per-transaction logs (ms); "
                        + "TPS without initial connection time.%n%n",
                DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(started.atOffset(ZoneOffset.UTC).withNano(0)) + "Z",
                pgbenchVersion, Runtime.getRuntime().availableProcessors(), Runtime.version(), options.scale(),
                options.durationSeconds(), options.warmupSeconds(), options.clients(), options.threads(), options.sslmode()));
        sb.append("Everything (Kafka, PostgreSQL, edge, policy service, pgbench) shares this machine; load average "
                + "(1/5/15 min) before: ").append(loadBefore).append(", after: ").append(loadAfter).append(".\n\n");
        sb.append("| mode | workload | TPS | % of direct | p50 | p95 | p99 | max | failed |\n");
        sb.append("|---|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Workload w : options.workloads()) {
            Double direct = rows.stream().filter(r -> r.workload() == w && r.mode() == Mode.DIRECT)
                    .map(r -> r.result().tps()).findFirst().orElse(null);
            for (Row r : rows) {
                if (r.workload() != w) continue;
                Pgbench.Result res = r.result();
                LatencyStats l = res.latency();
                String share = direct == null || direct == 0 ? "" : String.format(Locale.ROOT, "%.1f %%", 100 * res.tps() / direct);
                sb.append(String.format(Locale.ROOT, "| %s | %s | %.1f | %s | %s | %s | %s | %s | %d%s |%n",
                        r.mode().label(), w.label(), res.tps(), share, ms(l.p50Micros()), ms(l.p95Micros()),
                        ms(l.p99Micros()), ms(l.maxMicros()), res.failed(), res.exitCode() == 0 ? "" : " (exit " + res.exitCode() + ")"));
            }
        }
        List<Row> throughEdge = rows.stream().filter(r -> r.edge() != null).toList();
        if (!throughEdge.isEmpty()) {
            sb.append("\nInside the edge during each run (its own timers): Kafka produces (every event: CommandReceived, "
                    + "CommandCompleted, session events) with their mean time to the broker's acks=all, and in enforce mode "
                    + "the mean time from a command's arrival to its decision (write-ahead produce, policy, decision reply).\n\n");
            sb.append("| mode | workload | commands | produces | produce mean ms | decisions | decision mean ms |\n");
            sb.append("|---|---|---:|---:|---:|---:|---:|\n");
            for (Row r : throughEdge) {
                EdgeTimings e = r.edge();
                sb.append(String.format(Locale.ROOT, "| %s | %s | %.0f | %d | %.2f | %d | %s |%n", r.mode().label(),
                        r.workload().label(), e.commands(), e.produces(), e.meanProduceMillis(), e.decisions(),
                        e.decisions() == 0 ? "" : String.format(Locale.ROOT, "%.2f", e.meanDecisionMillis())));
            }
        }
        List<Row> unclean = rows.stream().filter(r -> !r.result().clean()).toList();
        if (!unclean.isEmpty()) {
            sb.append("\nRuns with errors:\n\n");
            for (Row r : unclean) {
                sb.append("- ").append(r.mode().label()).append(' ').append(r.workload().label())
                        .append(": exit ").append(r.result().exitCode()).append(", ").append(r.result().failed()).append(" failed\n");
                r.result().errors().forEach(e -> sb.append("  - `").append(e.replace('`', '\'')).append("`\n"));
            }
        }
        return sb.toString();
    }

    /** The 1, 5 and 15 minute load averages (Linux), so a reader can tell a busy machine from a slow system. */
    private static String loadAverage() {
        try {
            String[] f = Files.readString(Path.of("/proc/loadavg")).strip().split(" ");
            return f[0] + " / " + f[1] + " / " + f[2];
        } catch (IOException | RuntimeException e) {
            return "unknown";
        }
    }

    private static String ms(long micros) {
        return String.format(Locale.ROOT, "%.2f", micros / 1000.0);
    }

    private static void progress(String what) {
        System.err.println("pgbench-comparison: " + what);
    }

    private static void deleteRecursively(Path dir) {
        try {
            Files.walkFileTree(dir, new SimpleFileVisitor<>() {
                @Override
                public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
                    Files.delete(file);
                    return FileVisitResult.CONTINUE;
                }

                @Override
                public FileVisitResult postVisitDirectory(Path d, IOException e) throws IOException {
                    Files.delete(d);
                    return FileVisitResult.CONTINUE;
                }
            });
        } catch (IOException e) {
            LOGGER.warn("cannot remove {}: {}", dir, e.toString());
        }
    }
}
