package dev.gatehouse.deploy.it;

import dev.gatehouse.platform.core.AuditEvent;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Result streams pass through the edge with bounded memory: the edge stops reading from the
 * target while the client is not reading, and keeps nothing of what it relayed.
 */
class LargeResultIT {
    private static final Logger LOGGER = LoggerFactory.getLogger(LargeResultIT.class);
    private static final long MAX_GROWTH = 64L << 20;

    private final Gateway gw = Gateway.get();
    private final Map<Process, Path> stderrFiles = new HashMap<>();

    @Test
    void copyToStdoutOfThreeMillionRowsStreamsWithBoundedMemoryAndStallsTheTargetWhenTheClientStalls() throws Exception {
        // Given
        int rows = 3_000_000;
        String app = "large-copy-" + UUID.randomUUID();
        EdgeMemory baseline = EdgeMemory.measure();
        long t0 = System.nanoTime();

        // When: psql copies to a pipe nobody reads yet, so psql, then the edge, then the target must wait
        Process psql = startPsql(app, "COPY (SELECT g, repeat('x', 100) FROM generate_series(1, " + rows + ") g) TO STDOUT");
        try {
            await("the target blocks writing to the edge (the edge paused reading)").atMost(Duration.ofMinutes(2))
                    .pollInterval(Duration.ofMillis(250))
                    .until(() -> "ClientWrite".equals(waitEventAtTarget(app, psql)));
            EdgeMemory stalled = EdgeMemory.measure();
            await("the target stays blocked while the client does not read").during(Duration.ofSeconds(2))
                    .atMost(Duration.ofSeconds(30)).until(() -> "ClientWrite".equals(waitEventAtTarget(app, psql)));
            Count count = countLines(psql.getInputStream(), rows);
            assertThat(psql.waitFor(5, TimeUnit.MINUTES)).as("psql finishes").isTrue();
            long seconds = TimeUnit.NANOSECONDS.toSeconds(System.nanoTime() - t0);
            EdgeMemory after = EdgeMemory.measure();

            // Then
            assertThat(psql.exitValue()).as(stderr(psql)).isZero();
            assertThat(count.lines()).isEqualTo(rows);
            assertThat(count.bytes()).isEqualTo(copyTextBytes(rows));
            LOGGER.info("COPY of {} rows, {} through the edge in ~{}s; memory baseline [{}] stalled [{}] peak-sampled [{}] after [{}]",
                    rows, EdgeMemory.mb(count.bytes()), seconds, baseline, stalled, count.peak(), after);
            assertThat(stalled.growthSince(baseline)).as("growth while the client stalls: %s -> %s", baseline, stalled)
                    .isLessThan(MAX_GROWTH);
            assertThat(count.peak().growthSince(baseline)).as("growth while streaming: %s -> %s", baseline, count.peak())
                    .isLessThan(MAX_GROWTH);
            assertThat(after.growthSince(baseline)).as("growth after the stream: %s -> %s", baseline, after)
                    .isLessThan(MAX_GROWTH);
            AuditEvent.CommandCompleted completed = completedCommand(app);
            assertThat(completed.outcome().commandTags()).containsExactly("COPY " + rows);
            assertThat(completed.outcome().bytesToClient()).isGreaterThan(count.bytes());
        } finally {
            psql.destroyForcibly();
        }
    }

    @Test
    void aPlainSelectOfHalfAMillionRowsArrivesWholeAndLeavesNothingBehind() throws Exception {
        // Given
        int rows = 500_000;
        String app = "large-select-" + UUID.randomUUID();
        EdgeMemory baseline = EdgeMemory.measure();

        // When
        Process psql = startPsql(app, "SELECT g, repeat('x', 100) FROM generate_series(1, " + rows + ") g", "-At");
        try {
            Count count = countLines(psql.getInputStream(), rows);
            assertThat(psql.waitFor(5, TimeUnit.MINUTES)).as("psql finishes").isTrue();
            EdgeMemory after = EdgeMemory.measure();

            // Then
            assertThat(psql.exitValue()).as(stderr(psql)).isZero();
            assertThat(count.lines()).isEqualTo(rows);
            assertThat(count.bytes()).as("'g|xxx...' lines").isEqualTo(copyTextBytes(rows));
            LOGGER.info("SELECT of {} rows, {} through the edge; memory baseline [{}] after [{}]",
                    rows, EdgeMemory.mb(count.bytes()), baseline, after);
            assertThat(after.growthSince(baseline)).as("growth after the stream: %s -> %s", baseline, after)
                    .isLessThan(MAX_GROWTH);
            AuditEvent.CommandCompleted completed = completedCommand(app);
            assertThat(completed.outcome().rows()).isEqualTo(rows);
        } finally {
            psql.destroyForcibly();
        }
    }

    private Process startPsql(String applicationName, String sql, String... options) throws IOException {
        List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-v", "ON_ERROR_STOP=1", "-U", "alice", "-d", "demo"));
        cmd.addAll(List.of(options));
        cmd.addAll(List.of("-c", sql));
        ProcessBuilder pb = new ProcessBuilder(cmd);
        pb.environment().put("PGPASSWORD", gw.token("alice", "dba"));
        pb.environment().put("PGHOST", "127.0.0.1");
        pb.environment().put("PGPORT", String.valueOf(gw.edgePort()));
        pb.environment().put("PGCONNECT_TIMEOUT", "30");
        pb.environment().put("PGAPPNAME", applicationName);
        pb.environment().remove("PGSSLMODE");
        pb.environment().remove("PGDATABASE");
        Path err = Files.createTempFile("gatehouse-it-err", ".txt");
        err.toFile().deleteOnExit();
        pb.redirectError(err.toFile()).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null")));
        Process p = pb.start();
        stderrFiles.put(p, err);
        return p;
    }

    private String stderr(Process p) throws IOException {
        return "psql stderr: " + Files.readString(stderrFiles.get(p));
    }

    /** Lines, bytes, and the largest memory figure sampled at a few points while reading; keeps none of the data. */
    private record Count(long lines, long bytes, EdgeMemory peak) {
    }

    private static Count countLines(InputStream in, int expectedLines) throws IOException {
        byte[] chunk = new byte[64 * 1024];
        long lines = 0;
        long bytes = 0;
        long nextSample = expectedLines / 4;
        EdgeMemory peak = null;
        int n;
        while ((n = in.read(chunk)) != -1) {
            bytes += n;
            for (int i = 0; i < n; i++) if (chunk[i] == '\n') lines++;
            if (lines >= nextSample && nextSample < expectedLines) {
                EdgeMemory m = EdgeMemory.measure();
                if (peak == null || m.total() > peak.total()) peak = m;
                nextSample += expectedLines / 4;
            }
        }
        return new Count(lines, bytes, peak == null ? EdgeMemory.measure() : peak);
    }

    /** Bytes of "g<sep>xxx..(100)\n" for g in 1..rows: COPY text and psql -At print the same widths. */
    private static long copyTextBytes(int rows) {
        long total = 0;
        for (int g = 1; g <= rows; g++) total += Integer.toString(g).length() + 1 + 100 + 1;
        return total;
    }

    /** The target backend's wait event while the session's query runs; fails at once if psql has ended. */
    private String waitEventAtTarget(String applicationName, Process psql) throws Exception {
        if (!psql.isAlive()) throw new AssertionError("psql ended early, exit " + psql.exitValue() + "; " + stderr(psql));
        try (var c = gw.targetDirect("postgres");
             PreparedStatement ps = c.prepareStatement("SELECT coalesce(wait_event, 'none') FROM pg_stat_activity"
                     + " WHERE application_name = ? AND state = 'active'")) {
            ps.setString(1, applicationName);
            try (ResultSet rs = ps.executeQuery()) {
                return rs.next() ? rs.getString(1) : null;
            }
        }
    }

    /** The CommandCompleted of the one command the session announcing {@code applicationName} ran. */
    private AuditEvent.CommandCompleted completedCommand(String applicationName) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> {
            List<AuditEvent> all = gw.audit();
            var session = all.stream().filter(e -> e instanceof AuditEvent.SessionOpened o
                    && applicationName.equals(o.applicationName())).map(AuditEvent::sessionId).findFirst();
            return session.flatMap(s -> all.stream().filter(e -> e instanceof AuditEvent.CommandCompleted
                    && e.sessionId().equals(s)).map(AuditEvent.CommandCompleted.class::cast).findFirst()).orElse(null);
        }, c -> c != null);
    }
}
