package dev.gatehouse.loadtest;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What sysbench 1.0 printed for one {@code run}: its summary ("SQL statistics", "General
 * statistics", "Latency (ms)") and every line that reports a failure. sysbench writes everything,
 * errors too, to standard output; an error it does not ignore ({@code --mysql-ignore-errors}) is
 * printed as {@code FATAL: ...} and stops the run before the summary, which is then missing (every
 * figure 0, {@link #complete()} false).
 *
 * @param reads        queries performed: read
 * @param writes       queries performed: write
 * @param other        queries performed: other (BEGIN, COMMIT)
 * @param queries      queries performed: total
 * @param transactions transactions (events of the script)
 * @param tps          transactions per second, as sysbench computes it (over its own run time)
 * @param qps          queries per second, likewise
 * @param ignoredErrors errors sysbench ignored ({@code --mysql-ignore-errors}) and counted
 * @param reconnects   reconnections after an ignored lost-connection error
 * @param totalSeconds sysbench's "total time"
 * @param latencyMinMs sysbench's latency of a transaction, ms: the least
 * @param latencyAvgMs the mean
 * @param latencyMaxMs the most
 * @param latencyPercentileMs the {@code percentile}th percentile
 * @param percentile   the percentile sysbench reported ({@code --percentile}, 95 by default); 0 when none
 * @param complete     whether the summary was there
 * @param errors       lines that report a failure ({@code FATAL:}, {@code ALERT:}, {@code WARNING:}, {@code ERROR}),
 *                     in order, at most {@value #MAX_ERRORS}
 */
public record SysbenchOutput(long reads, long writes, long other, long queries, long transactions, double tps, double qps,
                             long ignoredErrors, long reconnects, double totalSeconds, double latencyMinMs, double latencyAvgMs,
                             double latencyMaxMs, double latencyPercentileMs, int percentile, boolean complete,
                             List<String> errors) {

    /** Failure lines kept per run. */
    static final int MAX_ERRORS = 20;

    private static final Pattern READ = line("read:\\s+(\\d+)");
    private static final Pattern WRITE = line("write:\\s+(\\d+)");
    private static final Pattern OTHER = line("other:\\s+(\\d+)");
    private static final Pattern TOTAL = line("total:\\s+(\\d+)");
    private static final Pattern TRANSACTIONS = line("transactions:\\s+(\\d+)\\s+\\(([0-9.]+) per sec\\.\\)");
    private static final Pattern QUERIES = line("queries:\\s+(\\d+)\\s+\\(([0-9.]+) per sec\\.\\)");
    private static final Pattern IGNORED = line("ignored errors:\\s+(\\d+)");
    private static final Pattern RECONNECTS = line("reconnects:\\s+(\\d+)");
    private static final Pattern TOTAL_TIME = line("total time:\\s+([0-9.]+)s");
    private static final Pattern MIN = line("min:\\s+([0-9.]+)");
    private static final Pattern AVG = line("avg:\\s+([0-9.]+)");
    private static final Pattern MAX = line("max:\\s+([0-9.]+)");
    private static final Pattern PERCENTILE = line("(\\d+)th percentile:\\s+([0-9.]+)");
    private static final Pattern ERROR = Pattern.compile("^(FATAL|ALERT|WARNING|ERROR)\\b.*|.*\\berror \\d{4}\\b.*");

    public SysbenchOutput {
        errors = List.copyOf(errors);
    }

    private static Pattern line(String body) {
        return Pattern.compile("^\\s*" + body, Pattern.MULTILINE);
    }

    /** Reads sysbench's standard output (with progress lines, or without). */
    public static SysbenchOutput parse(String stdout) {
        // the summary begins at "SQL statistics:"; "read:" and "total:" appear only there
        int summaryAt = stdout.indexOf("SQL statistics:");
        String summary = summaryAt < 0 ? "" : stdout.substring(summaryAt);
        Matcher percentile = PERCENTILE.matcher(summary);
        boolean hasPercentile = percentile.find();
        Matcher transactions = TRANSACTIONS.matcher(summary);
        boolean hasTransactions = transactions.find();
        Matcher queries = QUERIES.matcher(summary);
        boolean hasQueries = queries.find();
        List<String> errors = new ArrayList<>();
        for (String l : stdout.split("\\R")) {
            String s = l.strip();
            if (ERROR.matcher(s).matches() && errors.size() < MAX_ERRORS) errors.add(s);
        }
        return new SysbenchOutput(
                number(READ, summary), number(WRITE, summary), number(OTHER, summary), number(TOTAL, summary),
                hasTransactions ? Long.parseLong(transactions.group(1)) : 0,
                hasTransactions ? Double.parseDouble(transactions.group(2)) : 0,
                hasQueries ? Double.parseDouble(queries.group(2)) : 0,
                number(IGNORED, summary), number(RECONNECTS, summary),
                decimal(TOTAL_TIME, summary), decimal(MIN, summary), decimal(AVG, summary), decimal(MAX, summary),
                hasPercentile ? Double.parseDouble(percentile.group(2)) : 0,
                hasPercentile ? Integer.parseInt(percentile.group(1)) : 0,
                hasTransactions && hasQueries, errors);
    }

    /** Statements per transaction; 0 when there were none. */
    public double queriesPerTransaction() {
        return transactions == 0 ? 0 : (double) queries / transactions;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%d transactions (%.1f/s), %d queries (%.1f/s), latency avg %.2f ms, p%d %.2f ms, "
                + "%d ignored errors, %d reconnects%s", transactions, tps, queries, qps, latencyAvgMs, percentile,
                latencyPercentileMs, ignoredErrors, reconnects, complete ? "" : " (no summary)");
    }

    private static long number(Pattern p, String text) {
        return first(p, text).map(Long::parseLong).orElse(0L);
    }

    private static double decimal(Pattern p, String text) {
        return first(p, text).map(Double::parseDouble).orElse(0.0);
    }

    private static Optional<String> first(Pattern p, String text) {
        Matcher m = p.matcher(text);
        return m.find() ? Optional.of(m.group(1)) : Optional.empty();
    }
}
