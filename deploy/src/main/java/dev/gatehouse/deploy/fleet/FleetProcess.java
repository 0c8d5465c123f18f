package dev.gatehouse.deploy.fleet;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.OutputStream;
import java.io.RandomAccessFile;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeUnit;

/**
 * One OS process of a {@link Fleet}: a Kafka node or a role process, a JVM started as
 * {@code java <flags> -cp <class path> ParentWatch MAIN ARGS}. The fleet holds the write end of its
 * standard input: when the launcher ends, even by SIGKILL, the pipe closes and {@link ParentWatch}
 * ends the JVM. Its standard output and error are appended to {@link #log()} (restarts included).
 * It can be killed, stopped and started again with the same command line (configuration, ports,
 * data directory).
 */
public final class FleetProcess {
    private static final Logger LOGGER = LoggerFactory.getLogger(FleetProcess.class);
    /** How long a graceful stop may take before SIGKILL. */
    private static final Duration STOP_GRACE = Duration.ofSeconds(30);
    /** Overrides the children's class path (see {@link #classPath()}). */
    public static final String CLASS_PATH_PROPERTY = "gatehouse.fleet.class-path";

    /** Whether a started process serves yet; {@code logFrom}: the log's length when this start began. */
    @FunctionalInterface
    interface Readiness {
        boolean ready(FleetProcess process, long logFrom) throws Exception;
    }

    private final String name;
    private final String kind;
    private final int kafkaNodeId;
    private final List<String> command;
    private final Map<String, String> environment;
    private final Path log;
    private final Readiness readiness;
    private final Duration startTimeout;
    private Process process;
    private OutputStream stdin;
    private long logFrom;
    private long startedAt;
    private Duration lastStartTime;

    FleetProcess(String name, String kind, int kafkaNodeId, List<String> command, Map<String, String> environment, Path log,
                 Readiness readiness, Duration startTimeout) {
        this.name = Objects.requireNonNull(name);
        this.kind = Objects.requireNonNull(kind);
        this.kafkaNodeId = kafkaNodeId;
        this.command = List.copyOf(command);
        this.environment = Map.copyOf(environment);
        this.log = log;
        this.readiness = readiness;
        this.startTimeout = startTimeout;
    }

    /**
     * The command line of a child JVM: this JVM's {@code java} (the JDK 25 the launcher runs on), the
     * flags {@code ./gatehouse} runs with, {@code jvmOptions}, this JVM's class path ({@link #classPath()}), then
     * {@code mainClass} under {@link ParentWatch}.
     */
    static List<String> javaCommand(List<String> jvmOptions, String mainClass, List<String> args) {
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs the launcher"));
        List<String> command = new ArrayList<>();
        command.add(java);
        command.add("--enable-native-access=ALL-UNNAMED");
        command.add("--sun-misc-unsafe-memory-access=allow");
        command.addAll(jvmOptions);
        String home = System.getProperty("gatehouse.home");
        if (home != null) command.add("-Dgatehouse.home=" + home);
        command.add("-cp");
        command.add(classPath());
        command.add(ParentWatch.class.getName());
        command.add(mainClass);
        command.addAll(args);
        return command;
    }

    /**
     * The class path of the children: this JVM's, or the system property {@value #CLASS_PATH_PROPERTY}
     * when set (a test JVM's class path holds test dependencies a role must not see, so tests point it
     * at the distribution: {@code deploy/target/gatehouse-deploy-VERSION.jar} and {@code deploy/target/lib/*}).
     */
    static String classPath() {
        String override = System.getProperty(CLASS_PATH_PROPERTY);
        return override != null && !override.isBlank() ? override : System.getProperty("java.class.path");
    }

    public String name() {
        return name;
    }

    /** {@code broker}, {@code edge}, {@code policy}, {@code approval} or {@code indexer}. */
    public String kind() {
        return kind;
    }

    /** The Kafka node id of a broker; -1 for a role process. */
    public int kafkaNodeId() {
        return kafkaNodeId;
    }

    /** The pid of the running (or last) process; -1 before the first start. */
    public synchronized long pid() {
        return process == null ? -1 : process.pid();
    }

    public synchronized boolean alive() {
        return process != null && process.isAlive();
    }

    /** Its standard output and error, appended across restarts. */
    public Path log() {
        return log;
    }

    /** How long the last {@link #start()} took until the process was ready; null before. */
    public synchronized Duration lastStartTime() {
        return lastStartTime;
    }

    /** SIGKILL; returns when the process is gone. Nothing if it is not running. */
    public void kill9() {
        Process p = current();
        if (p == null || !p.isAlive()) return;
        p.destroyForcibly();
        awaitExit(p, Duration.ofSeconds(30));
        closeStdin();
        LOGGER.info("fleet: killed {} (pid {}) with SIGKILL", name, p.pid());
    }

    /** SIGTERM (graceful: shutdown hooks run, an edge drains); SIGKILL after 30 s. Returns when it is gone. */
    public void stop() {
        Process p = current();
        if (p == null || !p.isAlive()) {
            closeStdin();
            return;
        }
        p.destroy();
        if (!awaitExit(p, STOP_GRACE)) {
            LOGGER.warn("fleet: {} (pid {}) did not stop within {} s of SIGTERM; killing it", name, p.pid(), STOP_GRACE.toSeconds());
            p.destroyForcibly();
            awaitExit(p, Duration.ofSeconds(30));
        }
        closeStdin();
    }

    /**
     * Starts the process again with the same command line (configuration, ports, data directory) and
     * returns when it is ready (a role: {@code /health/ready} answers 200; a broker: registered and in
     * the ISR of its partitions).
     *
     * @throws IllegalStateException when it is still running, ends during start or is not ready in time
     */
    public void start() {
        launch();
        awaitReady();
    }

    /** Starts the process; returns at once. */
    synchronized void launch() {
        if (process != null && process.isAlive()) throw new IllegalStateException(name + " is running (pid " + process.pid() + ")");
        try {
            Files.createDirectories(log.getParent());
            logFrom = Files.exists(log) ? Files.size(log) : 0;
            ProcessBuilder pb = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()));
            pb.environment().remove("JAVA_TOOL_OPTIONS");
            pb.environment().putAll(environment);
            startedAt = System.nanoTime();
            process = pb.start();
            // kept open: its end is the child's signal that the launcher is gone
            stdin = process.getOutputStream();
            LOGGER.debug("fleet: started {} pid={} command={}", name, process.pid(), command);
        } catch (IOException e) {
            throw new IllegalStateException("cannot start " + name + ": " + e.getMessage(), e);
        }
    }

    /** Waits until the process is ready; records {@link #lastStartTime()}. */
    void awaitReady() {
        long deadline = System.nanoTime() + startTimeout.toNanos();
        while (true) {
            Process p = current();
            if (p == null || !p.isAlive()) {
                throw new IllegalStateException(name + " ended during start; the end of its log (" + log + "):\n" + logTail(60));
            }
            try {
                if (readiness.ready(this, logFrom)) break;
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + name, e);
            } catch (Exception e) {
                LOGGER.debug("fleet: {} not ready yet: {}", name, e.toString());
            }
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException(name + " not ready within " + startTimeout.toSeconds()
                        + " s; the end of its log (" + log + "):\n" + logTail(60));
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while waiting for " + name, e);
            }
        }
        synchronized (this) {
            lastStartTime = Duration.ofNanos(System.nanoTime() - startedAt);
        }
        LOGGER.info("fleet: {} ready (pid {}) in {} ms", name, pid(), lastStartTime.toMillis());
    }

    /** Whether the log, from {@code from} on, holds {@code text}. */
    boolean logContains(long from, String text) throws IOException {
        if (!Files.exists(log)) return false;
        try (RandomAccessFile f = new RandomAccessFile(log.toFile(), "r")) {
            long length = f.length();
            if (length <= from) return false;
            byte[] bytes = new byte[(int) Math.min(length - from, 16 << 20)];
            f.seek(from);
            f.readFully(bytes);
            return new String(bytes, StandardCharsets.ISO_8859_1).contains(text);
        }
    }

    /** The last lines of its log, for error messages. */
    public String logTail(int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }

    private synchronized Process current() {
        return process;
    }

    private synchronized void closeStdin() {
        if (stdin == null) return;
        try {
            stdin.close();
        } catch (IOException e) {
            // the child is gone already
        }
        stdin = null;
    }

    private static boolean awaitExit(Process p, Duration timeout) {
        try {
            return p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            return false;
        }
    }

    @Override
    public String toString() {
        return name + " (" + kind + ", pid " + pid() + ")";
    }
}
