package dev.gatehouse.loadtest;

import dev.gatehouse.dev.EmbeddedMariaDb;
import dev.gatehouse.loadtest.SysbenchComparison.Row;
import dev.gatehouse.loadtest.SysbenchOptions.Mode;
import dev.gatehouse.loadtest.SysbenchOptions.Workload;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * The Markdown report of a {@link SysbenchComparison}: how the run was set up (layout, processes,
 * TLS of every path, load average), then throughput and latency, CPU time per transaction per
 * process, the broker's requests per transaction, the gateway's inside view, and every error.
 * Columns are explained in loadtest/README.md; they follow the pgbench report's
 * ({@link ComparisonReport}), per transaction instead of per command.
 */
final class SysbenchReport {
    private final SysbenchOptions options;
    private final String sysbenchVersion;
    private final Instant started;
    private final String loadBefore;
    private final String loadAfter;
    private final List<LoadEnvironment.Measured> processes;
    private final String failure;

    /**
     * @param processes the measured processes (empty when the harness did not start)
     * @param failure   why the run stopped early, or null
     */
    SysbenchReport(SysbenchOptions options, String sysbenchVersion, Instant started, String loadBefore, String loadAfter,
                   List<LoadEnvironment.Measured> processes, String failure) {
        this.options = options;
        this.sysbenchVersion = sysbenchVersion;
        this.started = started;
        this.loadBefore = loadBefore;
        this.loadAfter = loadAfter;
        this.processes = List.copyOf(processes);
        this.failure = failure;
    }

    String render(List<Row> rows) {
        StringBuilder sb = new StringBuilder();
        header(sb);
        throughput(sb, rows);
        cpu(sb, rows);
        requests(sb, rows);
        inside(sb, rows);
        errors(sb, rows);
        return sb.toString();
    }

    private void header(StringBuilder sb) {
        sb.append("## sysbench: MariaDB direct and through Gatehouse's MySQL listener side by side\n\n");
        sb.append(String.format(Locale.ROOT, "%s, %s, MariaDB %s, %d CPUs, Java %s. %d tables x %,d rows (sysbench prepare, "
                        + "directly on MariaDB). %d s per run after %d s warm-up (and %d s through the gateway before the first "
                        + "run), clients (sysbench --threads) %s, modes %s, workloads %s.%n%n",
                DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(started.atOffset(ZoneOffset.UTC).withNano(0)) + "Z", sysbenchVersion,
                EmbeddedMariaDb.VERSION, Runtime.getRuntime().availableProcessors(), Runtime.version(), options.tables(),
                options.tableSize(), options.durationSeconds(), options.warmupSeconds(), options.gatewayWarmupSeconds(),
                options.clients().stream().map(String::valueOf).collect(Collectors.joining(", ")),
                options.modes().stream().map(Mode::label).collect(Collectors.joining(", ")),
                options.workloads().stream().map(Workload::script).collect(Collectors.joining(", "))));
        sb.append("Every run sends its statements as text (`--db-ps-mode=disable`: COM_QUERY), the direct runs too, so that "
                + "both sides do the same work (the edge takes server-side prepared statements as well, each execution "
                + "decided with its parameters; this comparison measures the text path). Errors: ")
                .append(options.ignoreErrors().isEmpty()
                        ? "sysbench's default (`--mysql-ignore-errors` unset: any error other than a deadlock or lock wait "
                        + "timeout stops the run and is printed below)."
                        : "`--mysql-ignore-errors=" + options.ignoreErrors() + "` (errors are counted, not printed by sysbench).")
                .append("\n\n");
        sb.append("Layout `").append(options.layout().label()).append("`: ").append(options.layout().describe())
                .append(" (one JVM each), the Kafka broker in a JVM of its own, MariaDB as its own `mariadbd`. JVM options of "
                        + "those JVMs: ")
                .append(options.jvmOptions().isEmpty() ? "none beyond the launcher's (the JVM's defaults)"
                        : "`" + String.join(" ", options.jvmOptions()) + "`").append(".")
                .append(options.inlineDecisions() ? " A process with the edge and the policy role decides its own edge's commands"
                        + " (`policy.inline-decisions`, the default)." : " Every command is decided through the policy's consumer"
                        + " group (`policy.inline-decisions: false`).");
        if (!processes.isEmpty()) {
            sb.append(" Processes: ").append(processes.stream().map(m -> m.name() + " " + m.pid())
                    .collect(Collectors.joining(", "))).append(".");
        }
        sb.append("\n\nTLS (sysbench `--mysql-ssl=").append(options.mysqlSsl() ? "on" : "off").append("` through the edge):\n\n");
        if (options.modes().contains(Mode.DIRECT)) {
            sb.append("- direct: sysbench -> MariaDB plaintext (`--mysql-ssl=off` always: MariaDB offers TLS, but refuses the "
                    + "client certificate sysbench 1.0.20 always presents with TLS), mysql_native_password\n");
        }
        if (options.modes().stream().anyMatch(Mode::throughEdge)) {
            sb.append("- observe, enforce: sysbench -> edge ").append(options.mysqlSsl() ? "TLS (the edge's self-signed "
                            + "certificate as sysbench's CA file)" : "plaintext (the edge offers TLS, and takes a token without "
                            + "it: `edge.mysql.allow-plaintext: true`)")
                    .append(", the token sent by mysql_clear_password (the edge's AuthSwitchRequest)")
                    .append(options.preloadClearPassword() ? ", the plugin preloaded (`LIBMYSQL_PLUGINS=mysql_clear_password`: "
                            + "Connector/C's first concurrent loads of it race, see loadtest/README.md)" : ", the plugin not "
                            + "preloaded (Connector/C's first concurrent loads of it may race and fail logins)")
                    .append("; edge -> MariaDB plaintext (TLS towards MySQL targets is not supported yet), "
                            + "mysql_native_password; gateway -> Kafka plaintext\n");
        }
        sb.append(String.format(Locale.ROOT, "%nEverything shares this machine; load average (1/5/15 min) before: %s, after: %s. "
                + "CPU from /proc/PID/stat at %d ticks a second (one tick is %.0f ms).%n", loadBefore, loadAfter,
                ProcessCpu.TICKS_PER_SECOND, ProcessCpu.micros(1) / 1000));
        if (failure != null) sb.append("\n**The run stopped early**: ").append(failure).append("\n");
    }

    private void throughput(StringBuilder sb, List<Row> rows) {
        sb.append("\n### Throughput and latency\n\nsysbench's own figures: TPS and QPS over its run, latency of a transaction "
                + "(avg and the percentile it reports) in ms; \"added\": minus direct's at the same workload and clients; "
                + "\"minimum\": the issue's floor for the mode (observe 0.3x, enforce 0.2x of direct). \"errors\": lines sysbench "
                + "printed as errors, errors it ignored, and the edge's own denied, failed-closed and refused commands.\n\n");
        sb.append("| workload | clients | mode | TPS | x direct | minimum | QPS | queries / transaction | avg ms | p95 ms "
                + "| added avg | added p95 | errors |\n");
        sb.append("|---|---:|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            SysbenchOutput o = r.result().output();
            Row direct = direct(rows, r);
            boolean compare = direct != null && r != direct;
            double ratio = compare && direct.result().output().tps() > 0 ? o.tps() / direct.result().output().tps() : Double.NaN;
            String minimum = r.mode().minimum() == 0 || Double.isNaN(ratio) ? ""
                    : String.format(Locale.ROOT, "%.1fx %s", r.mode().minimum(), ratio >= r.mode().minimum() ? "met" : "**not met**");
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %.1f | %s | %s | %.1f | %.1f | %.2f | %.2f | %s | %s | %s |%n",
                    r.workload().script(), r.clients(), r.mode().label(), o.tps(),
                    Double.isNaN(ratio) ? "" : String.format(Locale.ROOT, "%.3f", ratio), minimum, o.qps(),
                    o.queriesPerTransaction(), o.latencyAvgMs(), o.latencyPercentileMs(),
                    compare ? String.format(Locale.ROOT, "%.2f", o.latencyAvgMs() - direct.result().output().latencyAvgMs()) : "",
                    compare ? String.format(Locale.ROOT, "%.2f", o.latencyPercentileMs()
                            - direct.result().output().latencyPercentileMs()) : "",
                    errorCell(r)));
        }
    }

    private static String errorCell(Row r) {
        long n = r.result().errors().size() + r.result().output().ignoredErrors() + (r.edgeErrors() == null ? 0 : r.edgeErrors().total());
        String s = n == 0 ? "0" : "**" + n + "**";
        if (r.result().exitCode() != 0) s += " (exit " + r.result().exitCode() + ")";
        if (!r.result().output().complete()) s += " (no summary)";
        return s;
    }

    private void cpu(StringBuilder sb, List<Row> rows) {
        List<LoadEnvironment.Measured> gateways = processes.stream().filter(m -> m.kind() == LoadEnvironment.Kind.GATEWAY).toList();
        sb.append("\n### CPU time per transaction (µs)\n\nuser + system time of each process over the window (sysbench's run, "
                + "then the wait for the indexer's lag to return to 0), divided by the transactions sysbench completed in it "
                + "(\"per query\": divided by its queries instead, BEGIN and COMMIT included, comparable with the pgbench run's "
                + "per command). In direct runs the gateway and the broker carry no traffic: their figures are idle work. "
                + "postgres is the PostgreSQL demo target the harness also starts, idle in this run. \"1 tick\": what one "
                + "clock tick of one process adds per transaction. \"machine busy / steal\": the whole machine's share of CPU "
                + "time in use and stolen by the hypervisor over the window (`/proc/stat`).\n\n");
        StringBuilder head = new StringBuilder("| workload | clients | mode | transactions | queries | window s |");
        StringBuilder rule = new StringBuilder("|---|---:|---|---:|---:|---:|");
        for (LoadEnvironment.Measured g : gateways) {
            head.append(' ').append(g.name()).append(" |");
            rule.append("---:|");
        }
        head.append(" broker | **gateway + broker** | gateway + broker per query | mariadbd | sysbench | postgres (idle) | 1 tick "
                + "| machine busy / steal % |");
        rule.append("---:|---:|---:|---:|---:|---:|---:|---:|");
        sb.append(head).append('\n').append(rule).append('\n');
        for (Row r : rows) {
            long transactions = r.transactions();
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %d | %d | %.1f |", r.workload().script(), r.clients(),
                    r.mode().label(), transactions, r.queries(), r.windowSeconds()));
            long sum = 0;
            boolean complete = true;
            for (LoadEnvironment.Measured g : gateways) {
                long t = r.cpuTicks().getOrDefault(g.name(), -1L);
                sb.append(' ').append(per(t, transactions)).append(" |");
                if (t < 0) complete = false;
                else sum += t;
            }
            long broker = r.cpuTicks().getOrDefault("broker", -1L);
            if (broker < 0) complete = false;
            else sum += broker;
            sb.append(' ').append(per(broker, transactions)).append(" | **").append(complete ? per(sum, transactions) : "n/a")
                    .append("** | ").append(complete ? per(sum, r.queries()) : "n/a").append(" | ")
                    .append(per(r.cpuTicks().getOrDefault("mariadbd", -1L), transactions)).append(" | ")
                    .append(per(r.cpuTicks().getOrDefault("sysbench", -1L), transactions)).append(" | ")
                    .append(per(r.cpuTicks().getOrDefault("postgres", -1L), transactions)).append(" | ")
                    .append(transactions == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", ProcessCpu.micros(1) / transactions))
                    .append(" | ")
                    .append(r.machine() == null ? "n/a" : String.format(Locale.ROOT, "%.0f / %.1f", r.machine().busyPercent(),
                            r.machine().stealPercent())).append(" |\n");
        }
    }

    private void requests(StringBuilder sb, List<Row> rows) {
        sb.append("\n### Kafka requests per transaction (broker side)\n\nAs in the pgbench report: Fetch is consumers' fetches "
                + "(`FetchConsumer`), \"all\" every client request (not KRaft's own).\n\n");
        sb.append("| workload | clients | mode | Produce | Fetch | OffsetCommit | all |\n");
        sb.append("|---|---:|---|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            long transactions = r.transactions();
            Map<String, Long> client = r.requests().entrySet().stream()
                    .filter(e -> !ComparisonReport.NOT_CLIENT_REQUESTS.contains(e.getKey()))
                    .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
            long all = client.values().stream().mapToLong(Long::longValue).sum();
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %s | %s | %s | %s |%n", r.workload().script(), r.clients(),
                    r.mode().label(), ratio(client.getOrDefault("Produce", 0L), transactions),
                    ratio(client.getOrDefault("FetchConsumer", 0L), transactions),
                    ratio(client.getOrDefault("OffsetCommit", 0L), transactions), ratio(all, transactions)));
        }
    }

    private void inside(StringBuilder sb, List<Row> rows) {
        sb.append("\n### Inside the gateway\n\nThe edge process's own counters over the window (`/metrics`): commands it "
                + "counted (every protocol), its write-ahead Kafka produces with their mean time to acks=all, decisions with "
                + "their mean time from a command's arrival, and its MySQL commands denied by the policy, failed closed (no "
                + "decision in time) or refused by the edge itself. The indexer's lag when sysbench ended and how long after "
                + "that it was back to 0.\n\n");
        sb.append("| workload | clients | mode | commands (edge) | produces | produce mean ms | decisions | decision mean ms "
                + "| denied / failed closed / refused | indexer lag at end | back to 0 after |\n");
        sb.append("|---|---:|---|---:|---:|---:|---:|---:|---|---:|---|\n");
        for (Row r : rows) {
            EdgeTimings e = r.edge();
            String drained = r.drained() == null ? "did not return within " + options.lagTimeoutSeconds() + " s"
                    : String.format(Locale.ROOT, "%.1f s", r.drained().toMillis() / 1000.0);
            if (!r.settled()) drained += " (was not 0 before the run)";
            if (e == null) {
                sb.append(String.format(Locale.ROOT, "| %s | %d | %s | | | | | | | %s | %s |%n", r.workload().script(), r.clients(),
                        r.mode().label(), r.lagAtEnd(), drained));
            } else {
                SysbenchComparison.EdgeErrors x = r.edgeErrors();
                sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %.0f | %d | %.2f | %d | %s | %d / %d / %d | %s | %s |%n",
                        r.workload().script(), r.clients(), r.mode().label(), e.commands(), e.produces(), e.meanProduceMillis(),
                        e.decisions(), e.decisions() == 0 ? "" : String.format(Locale.ROOT, "%.2f", e.meanDecisionMillis()),
                        x.denied(), x.failedClosed(), x.refused(), r.lagAtEnd(), drained));
            }
        }
    }

    private static void errors(StringBuilder sb, List<Row> rows) {
        List<Row> unclean = rows.stream().filter(r -> !r.clean()).toList();
        if (unclean.isEmpty()) {
            if (!rows.isEmpty()) sb.append("\nEvery run was clean: exit 0, no error printed or ignored, no reconnect, no command "
                    + "denied, failed closed or refused by the edge.\n");
            return;
        }
        sb.append("\nRuns with errors:\n\n");
        for (Row r : unclean) {
            SysbenchOutput o = r.result().output();
            sb.append("- ").append(r.workload().script()).append(' ').append(r.clients()).append(" clients ").append(r.mode().label())
                    .append(": exit ").append(r.result().exitCode()).append(o.complete() ? "" : ", no summary (sysbench stopped)")
                    .append(", ").append(o.ignoredErrors()).append(" ignored errors, ").append(o.reconnects()).append(" reconnects");
            if (r.edgeErrors() != null) {
                sb.append(", edge: ").append(r.edgeErrors().denied()).append(" denied, ").append(r.edgeErrors().failedClosed())
                        .append(" failed closed, ").append(r.edgeErrors().refused()).append(" refused");
            }
            sb.append('\n');
            r.result().errors().forEach(e -> sb.append("  - `").append(e.replace('`', '\'')).append("`\n"));
        }
    }

    /** The direct run of the same workload and clients, or null. */
    private static Row direct(List<Row> rows, Row r) {
        return rows.stream().filter(o -> o.mode() == Mode.DIRECT && o.workload() == r.workload() && o.clients() == r.clients())
                .findFirst().orElse(null);
    }

    private static String per(long ticks, long count) {
        if (ticks < 0 || count == 0) return "n/a";
        return String.format(Locale.ROOT, "%.1f", ProcessCpu.micros(ticks) / count);
    }

    private static String ratio(long count, long transactions) {
        return transactions == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", (double) count / transactions);
    }
}
