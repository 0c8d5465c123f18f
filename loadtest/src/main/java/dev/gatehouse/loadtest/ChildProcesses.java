package dev.gatehouse.loadtest;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Stopping the processes a load run starts, and the tails of their logs for error messages. */
final class ChildProcesses {
    private static final Logger LOGGER = LoggerFactory.getLogger(ChildProcesses.class);

    private ChildProcesses() {
    }

    /** SIGTERM, then SIGKILL when {@code process} has not ended within {@code grace}; nothing if it has ended. */
    static void stop(Process process, String name, Duration grace) {
        if (!process.isAlive()) return;
        process.destroy();
        try {
            if (!process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
                LOGGER.warn("{} (pid {}) did not stop within {} s of SIGTERM; killing it", name, process.pid(), grace.toSeconds());
                process.destroyForcibly();
                process.waitFor(10, TimeUnit.SECONDS);
            }
        } catch (InterruptedException e) {
            process.destroyForcibly();
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The version line of a PostgreSQL client binary ({@code pgbench}, {@code psql}), for reports.
     *
     * @throws IllegalStateException when it is not installed
     */
    static String clientVersion(String binary) {
        try {
            Process p = new ProcessBuilder(binary, "--version").redirectErrorStream(true).start();
            String v = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            p.waitFor(10, TimeUnit.SECONDS);
            return v;
        } catch (IOException e) {
            throw new IllegalStateException(binary + " is not installed or not on PATH (Debian: apt-get install postgresql-client)", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "unknown";
        }
    }

    /** The last {@code lines} lines of {@code log}. */
    static String tail(Path log, int lines) {
        try {
            List<String> all = Files.readAllLines(log, StandardCharsets.ISO_8859_1);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(cannot read " + log + ": " + e + ")";
        }
    }
}
