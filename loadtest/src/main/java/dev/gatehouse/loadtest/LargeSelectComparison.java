package dev.gatehouse.loadtest;

import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.loadtest.LoadtestOptions.Mode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

/**
 * A large result read with {@code psql}, straight from the demo target and through the edge: does
 * the edge stream it, and at what throughput beside the direct read? The query,
 * {@code SELECT g, md5(g::text) FROM generate_series(1, N) g} (10 million rows by default), runs
 * once per path; while it streams through the edge, the edge process's {@code /metrics} are sampled
 * for heap and direct memory, and its GC log gives the heap in use after each collection. The
 * report says whether heap and direct memory grew by less than {@value #BOUND_MIB} MiB each.
 *
 * <p>Not a test: it asserts nothing and stops by itself. See loadtest/README.md for how to run it.
 */
public final class LargeSelectComparison {
    static final int BOUND_MIB = 64;
    private static final String SUBJECT = "loadtest";

    /** Memory of the edge process at one moment: heap used (garbage included), direct buffers (bytes, count), resident set. */
    record Memory(long heapUsed, long directUsed, long directCount, long rss) {
        static Memory of(GatewayProcess edge) throws IOException, InterruptedException {
            PrometheusText m = edge.metrics();
            return new Memory(Math.round(m.sum("jvm_memory_used_bytes", "area", "heap")),
                    Math.round(m.sum("jvm_buffer_memory_used_bytes", "id", "direct")),
                    Math.round(m.sum("jvm_buffer_count_buffers", "id", "direct")), residentSetSize(edge.pid()));
        }

        Memory max(Memory o) {
            return new Memory(Math.max(heapUsed, o.heapUsed), Math.max(directUsed, o.directUsed),
                    Math.max(directCount, o.directCount), Math.max(rss, o.rss));
        }

        String csv(long epochMillis) {
            return epochMillis + "," + heapUsed + "," + directUsed + "," + directCount + "," + rss;
        }
    }

    /**
     * One path's read. {@code before} and {@code after} are read right after a full collection
     * ({@code jcmd PID GC.run}) of the edge process; {@code peak} is the highest of each figure
     * sampled during the read; {@code heapAfterGcPeak} the most heap in use after any collection
     * logged during it (-1: none happened). Memory figures are null for the direct path.
     */
    record Result(Mode mode, long rows, double seconds, int exitCode, List<String> errors, Memory before, Memory peak,
                  Memory after, long heapAfterGcPeak, int collections, int samples) {
        boolean clean(long expectedRows) {
            return exitCode == 0 && rows == expectedRows && errors.isEmpty();
        }
    }

    private final LargeSelectOptions options;

    private LargeSelectComparison(LargeSelectOptions options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        RunMain.exit("large-select", args, LargeSelectOptions::parse, options -> new LargeSelectComparison(options).run());
    }

    private int run() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-large-select-");
        Instant started = Instant.now();
        String loadBefore = PgbenchComparison.loadAverage();
        progress("data folder " + dir + (options.keep() ? " (kept)" : " (removed at the end)"));
        Path gcLog = dir.resolve("logs").resolve("edge-gc.log");
        LoadEnvironment.Settings settings = new LoadEnvironment.Settings(dir, options.keep(), options.layout(), options.jvmOptions(),
                GcLog.options(gcLog), null, 1);
        List<Result> results = new ArrayList<>();
        String failure = null;
        String edgeName;
        long edgePid;
        String query = "SELECT g, md5(g::text) FROM generate_series(1, " + options.rows() + ") g";
        try (LoadEnvironment env = LoadEnvironment.start(settings)) {
            GatewayProcess edge = env.gateway(Role.EDGE);
            edgeName = edge.name();
            edgePid = edge.pid();
            String token = env.issuer().issue(SUBJECT, List.of("dba"), Duration.ofHours(6), Map.of());
            try {
                for (Mode mode : options.modes()) {
                    results.add(read(env, edge, gcLog, mode, query, token));
                }
            } catch (Exception e) {
                failure = e.toString();
                e.printStackTrace();
            }
        }
        String report = report(results, query, started, loadBefore, PgbenchComparison.loadAverage(), edgeName, edgePid, failure);
        System.out.println(report);
        Path out = options.out().toAbsolutePath();
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
        progress("written to " + out);
        return failure == null && results.stream().allMatch(r -> r.clean(options.rows())) ? 0 : 1;
    }

    private Result read(LoadEnvironment env, GatewayProcess edge, Path gcLog, Mode mode, String query, String token)
            throws Exception {
        DemoTarget target = env.target();
        Pgbench.Endpoint endpoint = mode == Mode.DIRECT
                ? new Pgbench.Endpoint(target.host(), target.port(), target.role(), DemoTarget.DATABASE, target.password(), options.sslmode())
                : new Pgbench.Endpoint("127.0.0.1", env.edgePort(), SUBJECT, mode.connection(), token, options.sslmode());
        boolean sample = mode.throughEdge();
        Memory before = null;
        if (sample) {
            fullCollection(edge.pid());
            before = Memory.of(edge);
        }
        progress(mode.label() + ": " + query + " (psql to /dev/null)");
        Sampler sampler = sample ? Sampler.start(edge, before, options.sampleMillis()) : null;
        long startMillis = System.currentTimeMillis();
        long start = System.nanoTime();
        Psql.Result psql = Psql.run(endpoint, query, Duration.ofSeconds(options.timeoutSeconds()));
        double seconds = (System.nanoTime() - start) / 1e9;
        long endMillis = System.currentTimeMillis();
        Memory peak = null;
        Memory after = null;
        long heapAfterGcPeak = -1;
        int collections = 0;
        int samples = 0;
        if (sample) {
            sampler.stop();
            peak = sampler.peak();
            samples = sampler.count();
            writeSeries(mode, sampler.series(), GcLog.read(gcLog));
            for (GcLog.Collection c : GcLog.read(gcLog)) {
                if (c.epochMillis() >= startMillis && c.epochMillis() <= endMillis) {
                    collections++;
                    heapAfterGcPeak = Math.max(heapAfterGcPeak, c.afterBytes());
                }
            }
            fullCollection(edge.pid());
            after = Memory.of(edge);
        }
        env.checkAlive();
        Result r = new Result(mode, psql.rows(), seconds, psql.exitCode(), psql.errors(), before, peak, after, heapAfterGcPeak,
                collections, samples);
        progress(String.format(Locale.ROOT, "  -> %d rows in %.1f s (%.0f rows/s), exit %d%s", r.rows(), seconds, r.rows() / seconds,
                psql.exitCode(), psql.errors().isEmpty() ? "" : ", " + psql.errors()));
        return r;
    }

    /** Samples the edge's memory every {@code intervalMillis} on a thread of its own, keeping the highest values. */
    private static final class Sampler {
        private final GatewayProcess edge;
        private final Thread thread;
        private volatile boolean running = true;
        private Memory peak;
        private int count;
        private final List<String> series = new ArrayList<>();

        private Sampler(GatewayProcess edge, Memory first, long intervalMillis) {
            this.edge = edge;
            this.peak = first;
            this.thread = Thread.ofPlatform().daemon().name("edge-memory-sampler").unstarted(() -> loop(intervalMillis));
        }

        static Sampler start(GatewayProcess edge, Memory first, long intervalMillis) {
            Sampler s = new Sampler(edge, first, intervalMillis);
            s.thread.start();
            return s;
        }

        private void loop(long intervalMillis) {
            while (running) {
                try {
                    Memory m = Memory.of(edge);
                    synchronized (this) {
                        peak = peak.max(m);
                        count++;
                        series.add(m.csv(System.currentTimeMillis()));
                    }
                    Thread.sleep(intervalMillis);
                } catch (InterruptedException e) {
                    return;
                } catch (IOException e) {
                    // a scrape that failed under load: the next one counts
                }
            }
        }

        void stop() throws InterruptedException {
            running = false;
            thread.interrupt();
            thread.join(TimeUnit.SECONDS.toMillis(30));
        }

        synchronized Memory peak() {
            return peak;
        }

        synchronized int count() {
            return count;
        }

        /** Every sample: epoch ms, heap used, direct used, direct buffers, RSS (bytes). */
        synchronized List<String> series() {
            return List.copyOf(series);
        }
    }

    /**
     * The samples of one read, beside the report ({@code large-select-MODE-memory.csv}), with the
     * heap in use after each collection logged in the same time: for finding out when memory grew.
     */
    private void writeSeries(Mode mode, List<String> samples, List<GcLog.Collection> collections) throws IOException {
        List<String> lines = new ArrayList<>();
        lines.add("epoch_ms,heap_used_bytes,direct_used_bytes,direct_buffers,rss_bytes,gc_heap_after_bytes");
        lines.addAll(samples.stream().map(l -> l + ",").toList());
        collections.forEach(c -> lines.add(c.epochMillis() + ",,,,," + c.afterBytes()));
        Path file = options.out().toAbsolutePath().resolveSibling("large-select-" + mode.label() + "-memory.csv");
        Files.createDirectories(file.getParent());
        Files.write(file, lines);
    }

    /** A full collection of {@code pid} ({@code jcmd PID GC.run}, from this JDK), so that heap in use is live data. */
    private static void fullCollection(long pid) throws IOException, InterruptedException {
        Path java = Path.of(ProcessHandle.current().info().command().orElseThrow());
        Process p = new ProcessBuilder(java.resolveSibling("jcmd").toString(), Long.toString(pid), "GC.run")
                .redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            p.destroyForcibly();
            throw new IOException("jcmd " + pid + " GC.run failed: " + out.strip());
        }
    }

    /** Resident set size of {@code pid} in bytes ({@code VmRSS} of /proc/PID/status); -1 when unknown. */
    private static long residentSetSize(long pid) {
        try {
            for (String line : Files.readAllLines(Path.of("/proc", Long.toString(pid), "status"))) {
                if (line.startsWith("VmRSS:")) return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
            }
        } catch (IOException | NumberFormatException e) {
            // gone or unreadable
        }
        return -1;
    }

    /**
     * Bytes of the DataRow messages of the result: per row the message type (1), length (4), column
     * count (2), and per column a length (4) and the text: the decimal digits of g, 32 hex digits.
     */
    static long dataRowBytes(long rows) {
        long total = 0;
        long digits = 1;
        long nextPower = 10;
        for (long g = 1; g <= rows; g++) {
            if (g == nextPower) {
                digits++;
                nextPower *= 10;
            }
            total += 1 + 4 + 2 + 4 + digits + 4 + 32;
        }
        return total;
    }

    private String report(List<Result> results, String query, Instant started, String loadBefore, String loadAfter,
                          String edgeName, long edgePid, String failure) {
        long bytes = dataRowBytes(options.rows());
        StringBuilder sb = new StringBuilder("## A large SELECT, direct and through the edge\n\n");
        sb.append(String.format(Locale.ROOT, "%s, %s, %d CPUs, Java %s. `%s` read with `psql -X -A -t -o /dev/null` (psql holds "
                        + "the whole result in its own memory before printing it, the same on every path); %d rows, %.1f MB of "
                        + "DataRow messages. Layout `%s`: %s; the edge runs in process %s (pid %d). JVM options: %s.%n%n",
                DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(started.atOffset(ZoneOffset.UTC).withNano(0)) + "Z", Psql.version(),
                Runtime.getRuntime().availableProcessors(), Runtime.version(), query, options.rows(), bytes / 1e6,
                options.layout().label(), options.layout().describe(), edgeName, edgePid,
                options.jvmOptions().isEmpty() ? "the JVM's defaults" : "`" + String.join(" ", options.jvmOptions()) + "`"));
        sb.append("TLS (libpq sslmode=").append(options.sslmode()).append("): direct ")
                .append(options.sslmode().equals("require") ? "refused (the demo target offers no TLS)" : "plaintext")
                .append("; client -> edge ").append(Set.of("prefer", "require").contains(options.sslmode()) ? "TLS" : "plaintext")
                .append(" (self-signed), edge -> PostgreSQL plaintext.\n\n");
        sb.append("Load average (1/5/15 min) before: ").append(loadBefore).append(", after: ").append(loadAfter).append(".\n\n");
        if (failure != null) sb.append("**The run stopped early**: ").append(failure).append("\n\n");

        Result direct = results.stream().filter(r -> r.mode() == Mode.DIRECT).findFirst().orElse(null);
        sb.append("| path | rows | seconds | rows/s | MB/s | x direct | psql exit |\n|---|---:|---:|---:|---:|---:|---:|\n");
        for (Result r : results) {
            sb.append(String.format(Locale.ROOT, "| %s | %d | %.1f | %.0f | %.1f | %s | %d%s |%n", path(r.mode()), r.rows(), r.seconds(),
                    r.rows() / r.seconds(), bytes / 1e6 / r.seconds(),
                    direct == null || r == direct ? "" : String.format(Locale.ROOT, "%.2f", direct.seconds() / r.seconds()),
                    r.exitCode(), r.rows() == options.rows() ? "" : " (expected " + options.rows() + " rows)"));
        }
        List<Result> edge = results.stream().filter(r -> r.before() != null).toList();
        if (!edge.isEmpty()) {
            sb.append(String.format(Locale.ROOT, "%nMemory of the edge process, MiB. \"before\" and \"after\": right after a full "
                    + "collection (`jcmd PID GC.run`), so heap is live data; \"during\": the highest of %s samples of its "
                    + "`/metrics` (heap used counts garbage not yet collected) and, for heap after GC, of every collection "
                    + "its GC log shows during the read. Direct: `jvm_buffer_memory_used_bytes{id=\"direct\"}` (Netty's pooled "
                    + "buffers included: Netty allocates them with the JDK's cleaner here). RSS: VmRSS of /proc/PID/status.%n%n",
                    edge.stream().map(r -> Integer.toString(r.samples())).collect(Collectors.joining(", "))));
            sb.append("| path | heap before | heap after GC, during (collections) | heap used, during | heap after | heap growth "
                    + "| direct before | direct during | direct after | direct growth | RSS before / during / after |\n");
            sb.append("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
            for (Result r : edge) {
                long heapGrowth = Math.max(r.heapAfterGcPeak(), r.after().heapUsed()) - r.before().heapUsed();
                long directGrowth = Math.max(r.peak().directUsed(), r.after().directUsed()) - r.before().directUsed();
                sb.append(String.format(Locale.ROOT, "| %s | %s | %s (%d) | %s | %s | **%s** | %s | %s | %s | **%s** | %s / %s / %s |%n",
                        path(r.mode()), mib(r.before().heapUsed()), r.heapAfterGcPeak() < 0 ? "none" : mib(r.heapAfterGcPeak()),
                        r.collections(), mib(r.peak().heapUsed()), mib(r.after().heapUsed()), mib(heapGrowth),
                        mib(r.before().directUsed()), mib(r.peak().directUsed()), mib(r.after().directUsed()), mib(directGrowth),
                        mib(r.before().rss()), mib(r.peak().rss()), mib(r.after().rss())));
            }
            sb.append('\n');
            for (Result r : edge) {
                long heapGrowth = Math.max(r.heapAfterGcPeak(), r.after().heapUsed()) - r.before().heapUsed();
                long directGrowth = Math.max(r.peak().directUsed(), r.after().directUsed()) - r.before().directUsed();
                sb.append("- ").append(path(r.mode())).append(": heap growth ").append(mib(heapGrowth)).append(" MiB ")
                        .append(verdict(heapGrowth)).append("; direct memory growth ").append(mib(directGrowth)).append(" MiB ")
                        .append(verdict(directGrowth))
                        .append(r.collections() == 0 ? " (no collection during the read: heap growth during it is bounded only "
                                + "by the heap used sampled, garbage included)" : "").append(".\n");
            }
        }
        return sb.toString();
    }

    private static String verdict(long growthBytes) {
        return growthBytes < (long) BOUND_MIB << 20 ? "(under " + BOUND_MIB + " MiB: yes)" : "(**not** under " + BOUND_MIB + " MiB)";
    }

    private static String path(Mode mode) {
        return mode == Mode.DIRECT ? "direct (psql -> PostgreSQL)" : "through the edge, " + mode.label() + " (connection "
                + mode.connection() + ")";
    }

    private static String mib(long bytes) {
        return bytes == -1 ? "n/a" : String.format(Locale.ROOT, "%.1f", bytes / 1048576.0);
    }

    private static void progress(String what) {
        System.err.println("large-select: " + what);
    }
}
