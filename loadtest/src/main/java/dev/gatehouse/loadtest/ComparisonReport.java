package dev.gatehouse.loadtest;

import dev.gatehouse.loadtest.LoadtestOptions.Mode;
import dev.gatehouse.loadtest.LoadtestOptions.Workload;
import dev.gatehouse.loadtest.PgbenchComparison.Row;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The Markdown report of a {@link PgbenchComparison}: how the run was set up (layout, processes,
 * TLS of every path, load average), then one table each for throughput and latency, CPU time per
 * command per process, the broker's requests per command, and the gateway's inside view (edge
 * timers, indexer lag). Columns are explained in loadtest/README.md.
 */
final class ComparisonReport {
    /**
     * Request types that are not a client's: KRaft's own (the controller and the broker share this
     * node), and {@code Fetch}, which the broker counts a second time as {@code FetchConsumer} or
     * {@code FetchFollower}.
     */
    static final Set<String> NOT_CLIENT_REQUESTS = Set.of("Fetch", "FetchFollower", "BrokerHeartbeat", "BrokerRegistration",
            "ControllerRegistration", "Vote", "BeginQuorumEpoch", "EndQuorumEpoch", "DescribeQuorum", "FetchSnapshot",
            "AlterPartition", "AssignReplicasToDirs", "UpdateRaftVoter", "AddRaftVoter", "RemoveRaftVoter",
            "AllocateProducerIds");
    /** The request types with a column of their own; the rest are summed under "other". */
    private static final List<String> REQUEST_COLUMNS = List.of("Produce", "FetchConsumer", "OffsetCommit");

    private final LoadtestOptions options;
    private final String pgbenchVersion;
    private final Instant started;
    private final String loadBefore;
    private final String loadAfter;
    private final List<LoadEnvironment.Measured> processes;
    private final String failure;

    /**
     * @param processes the measured processes (empty when the harness did not start)
     * @param failure   why the run stopped early, or null
     */
    ComparisonReport(LoadtestOptions options, String pgbenchVersion, Instant started, String loadBefore, String loadAfter,
                     List<LoadEnvironment.Measured> processes, String failure) {
        this.options = options;
        this.pgbenchVersion = pgbenchVersion;
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
        sb.append("## pgbench: direct, PgBouncer and Gatehouse side by side\n\n");
        sb.append(String.format(Locale.ROOT, "%s, %s, %d CPUs, Java %s. Scale %d, %d s per run after %d s warm-up (and %d s through the "
                        + "gateway before the first run), clients %s (pgbench -j = min(clients, %d)), modes %s, workloads %s.%n%n",
                DateTimeFormatter.ISO_LOCAL_DATE_TIME.format(started.atOffset(ZoneOffset.UTC).withNano(0)) + "Z", pgbenchVersion,
                Runtime.getRuntime().availableProcessors(), Runtime.version(), options.scale(), options.durationSeconds(),
                options.warmupSeconds(), options.gatewayWarmupSeconds(), options.clients().stream().map(String::valueOf).collect(Collectors.joining(", ")),
                options.threads(), options.modes().stream().map(Mode::label).collect(Collectors.joining(", ")),
                options.workloads().stream().map(Workload::label).collect(Collectors.joining(", "))));
        sb.append("Layout `").append(options.layout().label()).append("`: ").append(options.layout().describe())
                .append(" (one JVM each), the Kafka broker in a JVM of its own. JVM options of those JVMs: ")
                .append(options.jvmOptions().isEmpty() ? "none beyond the launcher's (the JVM's defaults)"
                        : "`" + String.join(" ", options.jvmOptions()) + "`").append(".")
                .append(options.inlineDecisions() ? " A process with the edge and the policy role decides its own edge's commands"
                        + " (`policy.inline-decisions`, the default)." : " Every command is decided through the policy's consumer"
                        + " group (`policy.inline-decisions: false`).");
        if (!processes.isEmpty()) {
            sb.append(" Processes: ").append(processes.stream().map(m -> m.name() + " " + m.pid())
                    .collect(Collectors.joining(", "))).append(".");
        }
        sb.append("\n\nTLS (libpq sslmode=").append(options.sslmode()).append(" for every client):\n\n");
        if (options.modes().contains(Mode.DIRECT)) {
            sb.append("- direct: client -> PostgreSQL ").append(tls(false)).append(" (the demo target offers no TLS)\n");
        }
        if (options.modes().contains(Mode.PGBOUNCER)) {
            sb.append("- pgbouncer (pool_mode ").append(options.poolMode()).append("): client -> PgBouncer ").append(tls(true))
                    .append(" (it offers TLS, self-signed), PgBouncer -> PostgreSQL plaintext\n");
        }
        if (options.modes().contains(Mode.FLOOR)) {
            sb.append("- floor (the write-ahead floor, `WriteAheadFloor`): client -> floor plaintext (it offers no TLS), floor "
                    + "-> PostgreSQL plaintext, floor -> Kafka plaintext\n");
        }
        if (options.modes().stream().anyMatch(Mode::throughEdge)) {
            sb.append("- observe, enforce: client -> edge ").append(tls(true)).append(" (it offers TLS, self-signed; "
                    + "allow-plaintext: true), edge -> PostgreSQL plaintext (connection tls: false), gateway -> Kafka plaintext\n");
        }
        sb.append(String.format(Locale.ROOT, "%nEverything shares this machine; load average (1/5/15 min) before: %s, after: %s. "
                + "CPU from /proc/PID/stat at %d ticks a second (one tick is %.0f ms).%n", loadBefore, loadAfter,
                ProcessCpu.TICKS_PER_SECOND, ProcessCpu.micros(1) / 1000));
        if (failure != null) sb.append("\n**The run stopped early**: ").append(failure).append("\n");
    }

    /** What libpq's sslmode gives against a server that offers TLS or not. */
    private String tls(boolean offered) {
        return switch (options.sslmode()) {
            case "disable", "allow" -> "plaintext";
            case "prefer" -> offered ? "TLS" : "plaintext";
            default -> offered ? "TLS" : "refused (sslmode=require, no TLS)";
        };
    }

    private void throughput(StringBuilder sb, List<Row> rows) {
        sb.append("\n### Throughput and latency\n\nLatencies in ms from pgbench's per-transaction logs; \"added\": minus "
                + "direct's at the same clients; TPS without initial connection time.\n\n");
        sb.append("| workload | clients | mode | TPS | x direct | p50 | p99 | added p50 | added p99 | failed |\n");
        sb.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---:|\n");
        for (Row r : rows) {
            Pgbench.Result res = r.result();
            Row direct = direct(rows, r);
            boolean compare = direct != null && r != direct;
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %.1f | %s | %s | %s | %s | %s | %d%s |%n",
                    r.workload().label(), r.clients(), r.mode().label(), res.tps(),
                    compare && direct.result().tps() > 0 ? String.format(Locale.ROOT, "%.3f", res.tps() / direct.result().tps()) : "",
                    ms(res.latency().p50Micros()), ms(res.latency().p99Micros()),
                    compare ? ms(res.latency().p50Micros() - direct.result().latency().p50Micros()) : "",
                    compare ? ms(res.latency().p99Micros() - direct.result().latency().p99Micros()) : "",
                    res.failed(), res.exitCode() == 0 ? "" : " (exit " + res.exitCode() + ")"));
        }
    }

    private void cpu(StringBuilder sb, List<Row> rows) {
        List<LoadEnvironment.Measured> gateways = processes.stream().filter(m -> m.kind() == LoadEnvironment.Kind.GATEWAY).toList();
        boolean pgbouncer = processes.stream().anyMatch(m -> m.kind() == LoadEnvironment.Kind.PGBOUNCER);
        boolean floor = processes.stream().anyMatch(m -> m.kind() == LoadEnvironment.Kind.FLOOR);
        sb.append("\n### CPU time per command (µs)\n\nuser + system time of each process over the window (pgbench's run, "
                + "then the wait for the indexer's lag to return to 0), divided by the SQL statements pgbench completed in it. "
                + "In direct and pgbouncer runs the gateway and the broker carry no traffic: their figures are idle work; "
                + "in floor runs the gateway is idle and the broker carries the floor's records (floor + broker is the "
                + "write-ahead floor's cost). "
                + "\"1 tick\": what one clock tick of one process adds per command. \"machine busy / steal\": the whole machine's "
                + "share of CPU time in use and stolen by the hypervisor over the window (`/proc/stat`); on a shared host "
                + "the same code costs more in a window with steal, so compare runs of one sitting.\n\n");
        StringBuilder head = new StringBuilder("| workload | clients | mode | commands | window s |");
        StringBuilder rule = new StringBuilder("|---|---:|---|---:|---:|");
        for (LoadEnvironment.Measured g : gateways) {
            head.append(' ').append(g.name()).append(" |");
            rule.append("---:|");
        }
        head.append(" broker | **gateway + broker** |");
        rule.append("---:|---:|");
        if (pgbouncer) {
            head.append(" pgbouncer |");
            rule.append("---:|");
        }
        if (floor) {
            head.append(" floor |");
            rule.append("---:|");
        }
        head.append(" postgres | pgbench | 1 tick | machine busy / steal % |");
        rule.append("---:|---:|---:|---:|");
        sb.append(head).append('\n').append(rule).append('\n');
        for (Row r : rows) {
            long commands = r.commands();
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %d | %.1f |", r.workload().label(), r.clients(), r.mode().label(),
                    commands, r.windowSeconds()));
            long sum = 0;
            boolean complete = true;
            for (LoadEnvironment.Measured g : gateways) {
                long t = r.cpuTicks().getOrDefault(g.name(), -1L);
                sb.append(' ').append(perCommand(t, commands)).append(" |");
                if (t < 0) complete = false;
                else sum += t;
            }
            long broker = r.cpuTicks().getOrDefault("broker", -1L);
            if (broker < 0) complete = false;
            else sum += broker;
            sb.append(' ').append(perCommand(broker, commands)).append(" | **").append(complete ? perCommand(sum, commands) : "n/a")
                    .append("** |");
            if (pgbouncer) sb.append(' ').append(perCommand(r.cpuTicks().getOrDefault("pgbouncer", -1L), commands)).append(" |");
            if (floor) sb.append(' ').append(perCommand(r.cpuTicks().getOrDefault("floor", -1L), commands)).append(" |");
            sb.append(' ').append(perCommand(r.cpuTicks().getOrDefault("postgres", -1L), commands)).append(" | ")
                    .append(perCommand(r.cpuTicks().getOrDefault("pgbench", -1L), commands)).append(" | ")
                    .append(commands == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", ProcessCpu.micros(1) / commands)).append(" | ")
                    .append(r.machine() == null ? "n/a" : String.format(Locale.ROOT, "%.0f / %.1f", r.machine().busyPercent(),
                            r.machine().stealPercent())).append(" |\n");
        }
    }

    private void requests(StringBuilder sb, List<Row> rows) {
        sb.append("\n### Kafka requests per command (broker side)\n\nRequests the broker handled over the window, per request "
                + "type, divided by the SQL statements: Fetch is consumers' fetches (`FetchConsumer`; long polls of idle "
                + "consumers count too), \"all\" every client request (not KRaft's own). The harness's wait for the indexer "
                + "adds a few OffsetFetch, ListOffsets and Metadata requests of its own.\n\n");
        sb.append("| workload | clients | mode | Produce | Fetch | OffsetCommit | other | all | other, by type |\n");
        sb.append("|---|---:|---|---:|---:|---:|---:|---:|---|\n");
        for (Row r : rows) {
            long commands = r.commands();
            Map<String, Long> client = r.requests().entrySet().stream().filter(e -> !NOT_CLIENT_REQUESTS.contains(e.getKey()))
                    .collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue));
            long all = client.values().stream().mapToLong(Long::longValue).sum();
            long other = all - REQUEST_COLUMNS.stream().mapToLong(t -> client.getOrDefault(t, 0L)).sum();
            String byType = client.entrySet().stream().filter(e -> !REQUEST_COLUMNS.contains(e.getKey()) && e.getValue() > 0)
                    .sorted(Map.Entry.<String, Long>comparingByValue(Comparator.reverseOrder()))
                    .map(e -> e.getKey() + " " + e.getValue()).collect(Collectors.joining(", "));
            sb.append(String.format(Locale.ROOT, "| %s | %d | %s |", r.workload().label(), r.clients(), r.mode().label()));
            for (String t : REQUEST_COLUMNS) sb.append(' ').append(ratio(client.getOrDefault(t, 0L), commands)).append(" |");
            sb.append(' ').append(ratio(other, commands)).append(" | ").append(ratio(all, commands)).append(" | ")
                    .append(byType).append(" |\n");
        }
    }

    private void inside(StringBuilder sb, List<Row> rows) {
        sb.append("\n### Inside the gateway\n\nThe edge process's own timers over the window (`/metrics`): commands it "
                + "counted, its write-ahead Kafka produces with their mean time to acks=all, decisions with "
                + "their mean time from a command's arrival. The indexer's lag when pgbench ended (its gauge "
                + "`gatehouse_indexer_lag` / the broker's log end minus the group's committed offsets) and how long after that "
                + "it was back to 0 on both counts.\n\n");
        sb.append("| workload | clients | mode | commands (edge) | produces | produce mean ms | decisions | decision mean ms "
                + "| indexer lag at end | back to 0 after |\n");
        sb.append("|---|---:|---|---:|---:|---:|---:|---:|---:|---|\n");
        for (Row r : rows) {
            EdgeTimings e = r.edge();
            String drained = r.drained() == null ? "did not return within " + options.lagTimeoutSeconds() + " s"
                    : String.format(Locale.ROOT, "%.1f s", r.drained().toMillis() / 1000.0);
            if (!r.settled()) drained += " (was not 0 before the run)";
            if (e == null) {
                sb.append(String.format(Locale.ROOT, "| %s | %d | %s | | | | | | %s | %s |%n", r.workload().label(), r.clients(),
                        r.mode().label(), r.lagAtEnd(), drained));
            } else {
                sb.append(String.format(Locale.ROOT, "| %s | %d | %s | %.0f | %d | %.2f | %d | %s | %s | %s |%n", r.workload().label(),
                        r.clients(), r.mode().label(), e.commands(), e.produces(), e.meanProduceMillis(), e.decisions(),
                        e.decisions() == 0 ? "" : String.format(Locale.ROOT, "%.2f", e.meanDecisionMillis()), r.lagAtEnd(), drained));
            }
        }
    }

    private static void errors(StringBuilder sb, List<Row> rows) {
        List<Row> unclean = rows.stream().filter(r -> !r.result().clean()).toList();
        if (unclean.isEmpty()) return;
        sb.append("\nRuns with errors:\n\n");
        for (Row r : unclean) {
            sb.append("- ").append(r.workload().label()).append(' ').append(r.clients()).append(" clients ").append(r.mode().label())
                    .append(": exit ").append(r.result().exitCode()).append(", ").append(r.result().failed()).append(" failed\n");
            r.result().errors().forEach(e -> sb.append("  - `").append(e.replace('`', '\'')).append("`\n"));
        }
    }

    /** The direct run of the same workload and clients, or null. */
    private static Row direct(List<Row> rows, Row r) {
        return rows.stream().filter(o -> o.mode() == Mode.DIRECT && o.workload() == r.workload() && o.clients() == r.clients())
                .findFirst().orElse(null);
    }

    private static String perCommand(long ticks, long commands) {
        if (ticks < 0 || commands == 0) return "n/a";
        return String.format(Locale.ROOT, "%.1f", ProcessCpu.micros(ticks) / commands);
    }

    private static String ratio(long count, long commands) {
        return commands == 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", (double) count / commands);
    }

    private static String ms(long micros) {
        return String.format(Locale.ROOT, "%.2f", micros / 1000.0);
    }
}
