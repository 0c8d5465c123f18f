package dev.gatehouse.loadtest;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * Latency percentiles (nearest rank) of one pgbench run, from its per-transaction logs
 * ({@code pgbench -l}): each line is {@code client_id transaction_no time script_no time_epoch time_us ...}
 * where {@code time} is the transaction's latency in microseconds, or {@code failed} / {@code skipped}.
 */
public record LatencyStats(long count, long failed, long p50Micros, long p95Micros, long p99Micros, long maxMicros) {

    public static final LatencyStats EMPTY = new LatencyStats(0, 0, 0, 0, 0, 0);

    /** Reads every {@code pgbench_log*} file in {@code dir}. */
    public static LatencyStats fromPgbenchLogs(Path dir) throws IOException {
        long[] latencies = new long[1 << 16];
        int n = 0;
        long failed = 0;
        for (Path file : Pgbench.logFiles(dir)) {
            try (BufferedReader r = Files.newBufferedReader(file)) {
                String line;
                while ((line = r.readLine()) != null) {
                    String time = thirdColumn(line);
                    if (time == null) continue;
                    if (time.equals("failed")) {
                        failed++;
                    } else if (!time.equals("skipped")) {
                        if (n == latencies.length) latencies = Arrays.copyOf(latencies, n * 2);
                        latencies[n++] = Long.parseLong(time);
                    }
                }
            }
        }
        return of(Arrays.copyOf(latencies, n), failed);
    }

    /** Percentiles of {@code latencies} (microseconds; the array is sorted in place). */
    static LatencyStats of(long[] latencies, long failed) {
        if (latencies.length == 0) return new LatencyStats(0, failed, 0, 0, 0, 0);
        Arrays.sort(latencies);
        return new LatencyStats(latencies.length, failed, rank(latencies, 50), rank(latencies, 95), rank(latencies, 99),
                latencies[latencies.length - 1]);
    }

    private static long rank(long[] sorted, double percentile) {
        int index = (int) Math.ceil(percentile / 100.0 * sorted.length) - 1;
        return sorted[Math.clamp(index, 0, sorted.length - 1)];
    }

    private static String thirdColumn(String line) {
        int a = line.indexOf(' ');
        if (a < 0) return null;
        int b = line.indexOf(' ', a + 1);
        if (b < 0) return null;
        int c = line.indexOf(' ', b + 1);
        return c < 0 ? line.substring(b + 1) : line.substring(b + 1, c);
    }
}
