package dev.gatehouse.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * One query run with the {@code psql} binary, its result written to /dev/null, bounded in time.
 * The number of rows comes from psql's own {@code ROW_COUNT}; the password goes through
 * {@code PGPASSWORD}, never the command line.
 */
final class Psql {

    /** Rows psql received (-1 when unknown), its exit code and its standard error. */
    record Result(long rows, int exitCode, List<String> errors) {
    }

    private Psql() {
    }

    static Result run(Pgbench.Endpoint endpoint, String query, Duration timeout) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null",
                "-h", endpoint.host(), "-p", Integer.toString(endpoint.port()), "-U", endpoint.user(), "-d", endpoint.database(),
                "-c", query, "-c", "\\echo :ROW_COUNT");
        pb.environment().keySet().removeIf(k -> k.startsWith("PG"));
        pb.environment().put("PGPASSWORD", endpoint.password());
        pb.environment().put("PGSSLMODE", endpoint.sslmode());
        pb.environment().put("PGCONNECT_TIMEOUT", "30");
        pb.environment().put("PGAPPNAME", "gatehouse-loadtest");
        Path out = Files.createTempFile("psql-out", ".txt");
        Path err = Files.createTempFile("psql-err", ".txt");
        try {
            Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile())
                    .redirectInput(ProcessBuilder.Redirect.from(Path.of("/dev/null").toFile())).start();
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.destroyForcibly();
                p.waitFor(30, TimeUnit.SECONDS);
                return new Result(-1, -1, List.of("psql did not finish within " + timeout.toSeconds() + " s and was killed"));
            }
            String stdout = Files.readString(out, StandardCharsets.UTF_8).strip();
            long rows;
            try {
                rows = Long.parseLong(stdout);
            } catch (NumberFormatException e) {
                rows = -1;
            }
            List<String> errors = Files.readAllLines(err, StandardCharsets.UTF_8).stream().filter(l -> !l.isBlank()).toList();
            return new Result(rows, p.exitValue(), errors);
        } finally {
            Files.deleteIfExists(out);
            Files.deleteIfExists(err);
        }
    }

    /** psql's version line, for the report. */
    static String version() {
        return ChildProcesses.clientVersion("psql");
    }
}
