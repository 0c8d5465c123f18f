package dev.gatehouse.loadtest;

import dev.gatehouse.deploy.fleet.ParentWatch;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * A JVM the load harness starts (the broker, a gateway process): the harness's own {@code java}
 * (the JDK 25 toolchain) and class path, {@code --enable-native-access=ALL-UNNAMED} and the
 * launcher's {@code --sun-misc-unsafe-memory-access=allow} (as {@code ./gatehouse} runs), the
 * load runs' logging (warnings and errors only), then the configured JVM options. Its output goes
 * to a log file. Stopped with SIGTERM (shutdown hooks run), SIGKILL when that takes over 30 s.
 */
public final class ChildJvm implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(ChildJvm.class);
    private static final List<String> FIXED_OPTIONS = List.of("--enable-native-access=ALL-UNNAMED",
            "--sun-misc-unsafe-memory-access=allow", "-Dlogback.configurationFile=logback-loadtest.xml");

    private final String name;
    private final Process process;
    private final Path log;

    private ChildJvm(String name, Process process, Path log) {
        this.name = name;
        this.process = process;
        this.log = log;
    }

    /**
     * Starts {@code mainClass}.
     *
     * @param watchParent  run it under {@link ParentWatch}, so it ends when the harness does; false for a
     *                     main that reads its standard input itself
     * @param pipeStdout   keep its standard output for the harness to read ({@link #process()}); its
     *                     standard error still goes to the log. False: both go to the log
     * @param environment  added to the harness's environment (secrets the configuration names)
     */
    public static ChildJvm start(String name, List<String> jvmOptions, String mainClass, List<String> args, Path log,
                                 boolean watchParent, boolean pipeStdout, Map<String, String> environment) throws IOException {
        String java = ProcessHandle.current().info().command()
                .orElseThrow(() -> new IllegalStateException("cannot tell which java runs the harness"));
        List<String> command = new ArrayList<>();
        command.add(java);
        command.addAll(FIXED_OPTIONS);
        command.addAll(jvmOptions);
        command.add("-cp");
        command.add(System.getProperty("java.class.path"));
        if (watchParent) command.add(ParentWatch.class.getName());
        command.add(mainClass);
        command.addAll(args);
        Files.createDirectories(log.getParent());
        ProcessBuilder pb = new ProcessBuilder(command);
        if (pipeStdout) {
            pb.redirectError(log.toFile());
        } else {
            pb.redirectErrorStream(true).redirectOutput(log.toFile());
        }
        pb.environment().remove("JAVA_TOOL_OPTIONS");
        pb.environment().putAll(environment);
        Process process = pb.start();
        LOGGER.debug("started {} pid={} command={}", name, process.pid(), command);
        return new ChildJvm(name, process, log);
    }

    /**
     * The next line of this JVM's line protocol on {@code out} (its standard output) that starts with
     * {@code prefix} and contains {@code marker}; other output is skipped.
     *
     * @throws IOException when the JVM ends first or does not print it within {@code timeout}
     */
    public String awaitLine(BufferedReader out, String prefix, String marker, Duration timeout)
            throws IOException, InterruptedException {
        CompletableFuture<String> line = CompletableFuture.supplyAsync(() -> {
            try {
                String l;
                while ((l = out.readLine()) != null) {
                    if (l.startsWith(prefix) && l.contains(marker)) return l;
                }
                return null;
            } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
            }
        }, r -> Thread.ofPlatform().daemon().name(name + "-answer").start(r));
        try {
            String l = line.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            if (l == null) throw new IOException("the " + name + " JVM ended; its log:\n" + logTail(40));
            return l;
        } catch (TimeoutException e) {
            line.cancel(true);
            throw new IOException("the " + name + " did not answer within " + timeout.toSeconds() + " s; its log:\n" + logTail(40));
        } catch (ExecutionException e) {
            throw new IOException("cannot read the answer of the " + name + ": " + e.getCause(), e.getCause());
        }
    }

    public String name() {
        return name;
    }

    public long pid() {
        return process.pid();
    }

    public Process process() {
        return process;
    }

    public boolean isAlive() {
        return process.isAlive();
    }

    /** The last lines of its log, for error messages. */
    public String logTail(int lines) {
        return ChildProcesses.tail(log, lines);
    }

    /** SIGTERM, then SIGKILL after 30 s; idempotent. */
    @Override
    public void close() {
        ChildProcesses.stop(process, name, Duration.ofSeconds(30));
    }
}
