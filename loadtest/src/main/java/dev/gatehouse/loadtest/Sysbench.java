package dev.gatehouse.loadtest;

import dev.gatehouse.loadtest.SysbenchOptions.Workload;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs {@code /usr/bin/sysbench} (1.0, its MySQL driver: MariaDB Connector/C) against one MySQL
 * server as one user, bounded in time, and reads its summary ({@link SysbenchOutput}). The password
 * (the target user's, or a token through the edge) goes through {@code MYSQL_PWD}, which Connector/C
 * reads when sysbench is given no {@code --mysql-password}: never the command line (a token is
 * longer than the 255 characters a sysbench {@code --config-file} line may hold). Statements are
 * sent as text ({@code --db-ps-mode=disable}, COM_QUERY), never as server-side prepared statements
 * (written when the edge still refused them); the direct runs do the same, so both sides do the same work.
 * sysbench runs under {@code sh}, which writes its own {@code /proc/$$/stat} once sysbench has ended:
 * the shell's children's CPU time (cutime + cstime) is sysbench's.
 */
public final class Sysbench {
    private static final Logger LOGGER = LoggerFactory.getLogger(Sysbench.class);
    /** The binary: Debian's sysbench 1.0.20. */
    static final String BINARY = "/usr/bin/sysbench";
    /** Lines of sysbench's stderr kept per run for the report. */
    private static final int MAX_KEPT_ERRORS = 20;

    /**
     * Where and as whom sysbench connects.
     *
     * @param tlsDirectory         null: plaintext ({@code --mysql-ssl=off}); else {@code --mysql-ssl=on} with
     *                             sysbench run in this folder, which must hold {@code cacert.pem},
     *                             {@code client-cert.pem} and {@code client-key.pem}: sysbench 1.0.20 hands
     *                             Connector/C these three names, relative, and connecting fails without them
     * @param preloadClearPassword load Connector/C's {@code mysql_clear_password} plugin when the library
     *                             starts ({@code LIBMYSQL_PLUGINS}), before sysbench's threads connect: see
     *                             {@link #CLEAR_PASSWORD_RACE}
     */
    public record Endpoint(String host, int port, String user, String database, String password, Path tlsDirectory,
                           boolean preloadClearPassword) {
        @Override
        public String toString() {
            return user + "@" + host + ":" + port + "/" + database + " ssl=" + (tlsDirectory == null ? "off" : "on");
        }
    }

    /**
     * Why the runs through the edge preload {@code mysql_clear_password}. Connector/C (Debian's
     * libmariadb3 3.3) keeps that plugin in a shared object it loads on first use, and its
     * {@code mysql_client_find_plugin} looks the plugin up without a lock and then loads it under
     * one, failing when another thread loaded it in between: when the edge's AuthSwitchRequest
     * reaches several of sysbench's threads at once, a few of them fail with
     * {@code error 1045: Plugin mysql_clear_password could not be loaded: it is already loaded} (the
     * client then answers the switch with an empty password, which the edge refuses), and sysbench
     * stops. Seen in 1 of 6 and 2 of 15 sysbench starts with 32 threads; none in 25 with the plugin
     * preloaded. A client-library race any threaded libmariadb client meets at its first logins
     * through the edge (a MariaDB target asks for the built-in mysql_native_password, so direct runs
     * never meet it).
     */
    public static final String CLEAR_PASSWORD_RACE = "Plugin mysql_clear_password could not be loaded: it is already loaded";

    /**
     * What one run produced; {@code stderr}: sysbench's standard error lines (it normally writes
     * nothing there); {@code cpuTicks}: sysbench's own CPU time (user + system, clock ticks), -1 when unknown.
     */
    public record Result(int exitCode, boolean timedOut, SysbenchOutput output, List<String> stderr, long cpuTicks) {
        public Result {
            stderr = List.copyOf(stderr);
        }

        /** Exit 0, a summary with transactions, and no error of any kind (printed, ignored, reconnected). */
        public boolean clean() {
            return exitCode == 0 && !timedOut && output.complete() && output.transactions() > 0 && output.errors().isEmpty()
                    && stderr.isEmpty() && output.ignoredErrors() == 0 && output.reconnects() == 0;
        }

        /** Every failure line, sysbench's own then its stderr, then a time-out. */
        public List<String> errors() {
            List<String> all = new ArrayList<>(output.errors());
            all.addAll(stderr);
            if (timedOut) all.add("sysbench did not finish in time and was killed");
            return all;
        }
    }

    private final Endpoint endpoint;
    private final int tables;
    private final int tableSize;
    private final String progressPrefix;

    /**
     * @param tables    sysbench {@code --tables}
     * @param tableSize sysbench {@code --table-size}
     */
    public Sysbench(Endpoint endpoint, int tables, int tableSize, String progressPrefix) {
        this.endpoint = endpoint;
        this.tables = tables;
        this.tableSize = tableSize;
        this.progressPrefix = progressPrefix;
    }

    /**
     * {@code sysbench WORKLOAD prepare}: creates and fills the tables ({@code sbtest1..N}, a secondary
     * index on {@code k} each), with up to {@code threads} tables in parallel.
     *
     * @throws IllegalStateException when sysbench fails, with its output
     */
    public void prepare(Workload workload, int threads, Duration timeout) throws IOException, InterruptedException {
        Result r = exec(workload, List.of("--threads=" + threads), "prepare", timeout);
        if (r.exitCode() != 0 || !r.errors().isEmpty()) {
            throw new IllegalStateException("sysbench " + workload.script() + " prepare against " + endpoint + " failed with exit "
                    + r.exitCode() + ": " + String.join("\n", r.errors()));
        }
    }

    /**
     * Runs {@code workload} for {@code seconds} with {@code threads} client connections and summarises
     * it. Never throws for a failing sysbench: that is a result.
     *
     * @param ignoreErrors {@code --mysql-ignore-errors}; empty for sysbench's default
     */
    public Result run(Workload workload, int seconds, int threads, String ignoreErrors) throws IOException, InterruptedException {
        List<String> args = new ArrayList<>(List.of("--threads=" + threads, "--time=" + seconds, "--report-interval=5"));
        if (!ignoreErrors.isEmpty()) args.add("--mysql-ignore-errors=" + ignoreErrors);
        // sysbench stops by itself after --time; the margin covers connecting and a slow end
        return exec(workload, args, "run", Duration.ofSeconds(seconds + 120L));
    }

    /** A few transactions on one connection (a login check): {@code --events=N --time=0}. */
    public Result events(Workload workload, int events) throws IOException, InterruptedException {
        return exec(workload, List.of("--threads=1", "--events=" + events, "--time=0"), "run", Duration.ofSeconds(120));
    }

    private Result exec(Workload workload, List<String> extra, String command, Duration timeout)
            throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("sh", "-c",
                "\"$0\" \"$@\"; s=$?; cat /proc/$$/stat > \"$GATEHOUSE_LOADTEST_STAT\"; exit $s", BINARY, workload.script(),
                "--db-driver=mysql", "--mysql-host=" + endpoint.host(), "--mysql-port=" + endpoint.port(),
                "--mysql-user=" + endpoint.user(), "--mysql-db=" + endpoint.database(),
                "--mysql-ssl=" + (endpoint.tlsDirectory() == null ? "off" : "on"), "--db-ps-mode=disable",
                "--tables=" + tables, "--table-size=" + tableSize));
        cmd.addAll(extra);
        cmd.add(command);
        LOGGER.debug("running {}", cmd);
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().keySet().removeIf(k -> k.startsWith("MYSQL") || k.startsWith("MARIADB"));
        pb.environment().put("MYSQL_PWD", endpoint.password());
        pb.environment().remove("LIBMYSQL_PLUGINS");
        if (endpoint.preloadClearPassword()) pb.environment().put("LIBMYSQL_PLUGINS", "mysql_clear_password");
        if (endpoint.tlsDirectory() != null) pb.directory(endpoint.tlsDirectory().toFile());
        Path stat = Files.createTempFile("sysbench-stat", ".txt");
        pb.environment().put("GATEHOUSE_LOADTEST_STAT", stat.toString());
        pb.redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile()));
        Process p = pb.start();
        StringBuffer out = new StringBuffer();
        List<String> err = Collections.synchronizedList(new ArrayList<>());
        Thread outPump = Thread.ofPlatform().daemon().name("sysbench-stdout").start(() -> pump(p.getInputStream(), line -> {
            out.append(line).append('\n');
            System.err.println(progressPrefix + line);
        }));
        Thread errPump = Thread.ofPlatform().daemon().name("sysbench-stderr").start(() -> pump(p.getErrorStream(), line -> {
            System.err.println(progressPrefix + line);
            if (!line.isBlank() && err.size() < MAX_KEPT_ERRORS) err.add(line.strip());
        }));
        boolean done = p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        if (!done) {
            LOGGER.error("sysbench against {} still running after {}; killing it", endpoint, timeout);
            p.descendants().forEach(ProcessHandle::destroyForcibly);
            p.destroyForcibly();
            p.waitFor(30, TimeUnit.SECONDS);
        }
        outPump.join(TimeUnit.SECONDS.toMillis(10));
        errPump.join(TimeUnit.SECONDS.toMillis(10));
        String statLine = Files.readString(stat);
        Files.deleteIfExists(stat);
        long cpuTicks = done && !statLine.isBlank() ? ProcessCpu.childTicks(statLine) : -1;
        return new Result(done ? p.exitValue() : -1, !done, SysbenchOutput.parse(out.toString()), err, cpuTicks);
    }

    private static void pump(InputStream in, java.util.function.Consumer<String> each) {
        try (BufferedReader r = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8))) {
            String line;
            while ((line = r.readLine()) != null) each.accept(line);
        } catch (IOException e) {
            LOGGER.warn("cannot read sysbench's output: {}", e.toString());
        }
    }

    /**
     * sysbench's version line, for the report.
     *
     * @throws IllegalStateException when it is not installed
     */
    public static String version() {
        try {
            Process p = new ProcessBuilder(BINARY, "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor(10, TimeUnit.SECONDS);
            return v;
        } catch (IOException e) {
            throw new IllegalStateException(BINARY + " is not installed (Debian: apt-get install sysbench)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }
}
