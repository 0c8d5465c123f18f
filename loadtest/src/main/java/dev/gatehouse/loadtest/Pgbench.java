package dev.gatehouse.loadtest;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * Runs the {@code pgbench} binary against one server as one user, bounded in time, and reads its
 * summary and per-transaction logs. The password goes through {@code PGPASSWORD}, never the command line.
 * pgbench runs under {@code sh}, which writes its own {@code /proc/$$/stat} once pgbench has ended:
 * the shell's children's CPU time (cutime + cstime) is pgbench's.
 */
public final class Pgbench {
    private static final Logger LOGGER = LoggerFactory.getLogger(Pgbench.class);
    private static final Pattern TPS = Pattern.compile("^tps = ([0-9.]+) \\(without initial connection time\\)", Pattern.MULTILINE);
    private static final Pattern PROCESSED = Pattern.compile("^number of transactions actually processed: (\\d+)", Pattern.MULTILINE);
    private static final Pattern FAILED = Pattern.compile("^number of failed transactions: (\\d+)", Pattern.MULTILINE);
    /** Lines of pgbench's stderr kept per run for the report (progress lines are not kept). */
    private static final int MAX_KEPT_ERRORS = 20;

    /** Where and as whom pgbench connects. */
    public record Endpoint(String host, int port, String user, String database, String password, String sslmode) {
        @Override
        public String toString() {
            return user + "@" + host + ":" + port + "/" + database + " sslmode=" + sslmode;
        }
    }

    /**
     * What one run produced; {@code errors} are pgbench's stderr lines other than progress reports;
     * {@code cpuTicks} pgbench's own CPU time (user + system, clock ticks), -1 when unknown.
     */
    public record Result(int exitCode, double tps, long processed, long failed, LatencyStats latency, List<String> errors,
                         long cpuTicks) {
        public boolean clean() {
            return exitCode == 0 && failed == 0 && errors.isEmpty();
        }
    }

    private final Endpoint endpoint;
    private final String progressPrefix;

    public Pgbench(Endpoint endpoint, String progressPrefix) {
        this.endpoint = endpoint;
        this.progressPrefix = progressPrefix;
    }

    /**
     * {@code pgbench -i -s scale}: drops and recreates the pgbench tables.
     *
     * @throws IllegalStateException when pgbench fails, with its output
     */
    public void initialize(int scale, Duration timeout) throws IOException, InterruptedException {
        Run run = exec(List.of("-i", "-s", String.valueOf(scale)), timeout);
        if (run.exitCode != 0) {
            throw new IllegalStateException("pgbench -i against " + endpoint + " failed with exit " + run.exitCode
                    + "\n--- stdout\n" + run.stdout + "\n--- stderr\n" + String.join("\n", run.stderr));
        }
    }

    /**
     * Runs {@code workloadArgs} for {@code seconds} with per-transaction logging into {@code logDir}
     * (which must be empty), and summarises it. Never throws for a failing pgbench: that is a result.
     */
    public Result run(List<String> workloadArgs, int seconds, int clients, int threads, Path logDir)
            throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("-n", "-T", String.valueOf(seconds), "-c", String.valueOf(clients),
                "-j", String.valueOf(threads), "-P", "5"));
        args.addAll(workloadArgs);
        if (logDir != null) {
            Files.createDirectories(logDir);
            args.addAll(List.of("-l", "--log-prefix=" + logDir.resolve("pgbench_log")));
        }
        // pgbench stops by itself after -T; the margin covers connecting and a slow end.
        Run run = exec(args, Duration.ofSeconds(seconds + 120L));
        double tps = run.timedOut ? 0 : match(TPS, run.stdout).map(Double::parseDouble).orElse(0.0);
        long processed = match(PROCESSED, run.stdout).map(Long::parseLong).orElse(0L);
        long failed = match(FAILED, run.stdout).map(Long::parseLong).orElse(0L);
        LatencyStats latency = logDir == null ? LatencyStats.EMPTY : LatencyStats.fromPgbenchLogs(logDir);
        List<String> errors = new ArrayList<>(run.stderr);
        if (run.timedOut) errors.add("pgbench did not finish within " + (seconds + 120) + " s and was killed");
        return new Result(run.exitCode, tps, processed, Math.max(failed, latency.failed()), latency, List.copyOf(errors),
                run.cpuTicks);
    }

    private record Run(int exitCode, boolean timedOut, String stdout, List<String> stderr, long cpuTicks) {
    }

    private Run exec(List<String> args, Duration timeout) throws IOException, InterruptedException {
        List<String> command = new ArrayList<>(List.of("sh", "-c",
                "pgbench \"$@\"; s=$?; cat /proc/$$/stat > \"$GATEHOUSE_LOADTEST_STAT\"; exit $s",
                "pgbench", "-h", endpoint.host(), "-p", String.valueOf(endpoint.port()), "-U", endpoint.user()));
        command.addAll(args);
        command.add(endpoint.database());
        LOGGER.debug("running {}", command);
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().put("PGPASSWORD", endpoint.password());
        pb.environment().put("PGSSLMODE", endpoint.sslmode());
        pb.environment().put("PGCONNECT_TIMEOUT", "30");
        pb.environment().put("PGAPPNAME", "gatehouse-loadtest");
        Path stat = Files.createTempFile("pgbench-stat", ".txt");
        pb.environment().put("GATEHOUSE_LOADTEST_STAT", stat.toString());
        Path stdout = Files.createTempFile("pgbench-out", ".txt");
        pb.redirectOutput(stdout.toFile());
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Process p = pb.start();
        List<String> kept = Collections.synchronizedList(new ArrayList<>());
        Thread pump = Thread.ofPlatform().daemon().name("pgbench-stderr").start(() -> pumpStderr(p, kept));
        boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!done) {
            LOGGER.error("pgbench against {} still running after {}; killing it", endpoint, timeout);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        pump.join(TimeUnit.SECONDS.toMillis(10));
        String out = Files.readString(stdout);
        Files.deleteIfExists(stdout);
        String statLine = Files.readString(stat);
        Files.deleteIfExists(stat);
        long cpuTicks = done && !statLine.isBlank() ? ProcessCpu.childTicks(statLine) : -1;
        return new Run(done ? p.exitValue() : -1, !done, out, List.copyOf(kept), cpuTicks);
    }

    /** Echoes pgbench's stderr (progress every 5 s, errors) so the user sees the run live; keeps the errors. */
    private void pumpStderr(Process p, List<String> kept) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) {
                System.err.println(progressPrefix + line);
                boolean progress = line.startsWith("progress: ") || line.startsWith("dropping old tables")
                        || line.startsWith("creating tables") || line.startsWith("generating data")
                        || line.startsWith("vacuuming") || line.startsWith("creating primary keys") || line.startsWith("done in")
                        || line.contains(" of ") && line.contains("tuples (");
                if (!progress && kept.size() < MAX_KEPT_ERRORS) kept.add(line);
            }
        } catch (IOException e) {
            LOGGER.warn("cannot read pgbench's stderr: {}", e.toString());
        }
    }

    private static java.util.Optional<String> match(Pattern pattern, String text) {
        Matcher m = pattern.matcher(text);
        return m.find() ? java.util.Optional.of(m.group(1)) : java.util.Optional.empty();
    }

    /** pgbench's version line, for the report. */
    public static String version() {
        return ChildProcesses.clientVersion("pgbench");
    }

    /** Every file pgbench wrote with {@code -l} in {@code dir} (one per thread). */
    static List<Path> logFiles(Path dir) throws IOException {
        try (Stream<Path> files = Files.list(dir)) {
            return files.filter(f -> f.getFileName().toString().startsWith("pgbench_log")).sorted().toList();
        }
    }
}
