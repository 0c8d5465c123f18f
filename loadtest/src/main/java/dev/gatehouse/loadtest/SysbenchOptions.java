package dev.gatehouse.loadtest;

import java.nio.file.Path;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Settings of one {@link SysbenchComparison} run (see {@link OptionValues} for where each is read;
 * the names are the pgbench run's where they mean the same).
 *
 * @param clients     sysbench {@code --threads} of each run, in order (each thread is one client connection)
 * @param tables      sysbench {@code --tables}
 * @param tableSize   sysbench {@code --table-size}: rows per table
 * @param mysqlSsl    sysbench {@code --mysql-ssl} through the edge (on: TLS, the edge's self-signed
 *                    certificate given as CA file); the direct runs and the edge's own connections to
 *                    MariaDB are plaintext either way (see {@link SysbenchComparison})
 * @param ignoreErrors sysbench {@code --mysql-ignore-errors}: empty for sysbench's own default (only
 *                    deadlocks and lock wait timeouts, which a read-only run never has), so that any
 *                    error stops the run and its message is in the report; {@code all} counts errors
 *                    and goes on, but sysbench then no longer prints their messages
 * @param preloadClearPassword through the edge, load Connector/C's mysql_clear_password plugin
 *                    before sysbench's threads connect (see {@link Sysbench#CLEAR_PASSWORD_RACE});
 *                    false shows the client library's race
 */
public record SysbenchOptions(int durationSeconds, List<Integer> clients, int warmupSeconds, int gatewayWarmupSeconds,
                              List<Mode> modes, List<Workload> workloads, int tables, int tableSize, boolean mysqlSsl,
                              String ignoreErrors, boolean preloadClearPassword, Layout layout, List<String> jvmOptions,
                              int lagTimeoutSeconds, Path out, boolean keep, boolean inlineDecisions) {

    private static final Set<String> NAMES = Set.of("duration", "clients", "warmup", "gateway-warmup", "modes", "workloads",
            "tables", "table-size", "mysql-ssl", "ignore-errors", "preload-clear-password", "layout", "jvm-args", "lag-timeout",
            "out", "keep", "inline-decisions");

    public SysbenchOptions {
        OptionValues.positive("duration", durationSeconds);
        OptionValues.positive("tables", tables);
        OptionValues.positive("table-size", tableSize);
        clients = List.copyOf(clients);
        if (clients.isEmpty()) throw new IllegalArgumentException("--clients must name at least one client count");
        clients.forEach(c -> OptionValues.positive("clients", c));
        if (warmupSeconds < 0) throw new IllegalArgumentException("--warmup must be 0 or more seconds, not " + warmupSeconds);
        if (gatewayWarmupSeconds < 0) {
            throw new IllegalArgumentException("--gateway-warmup must be 0 or more seconds, not " + gatewayWarmupSeconds);
        }
        if (lagTimeoutSeconds < 0) throw new IllegalArgumentException("--lag-timeout must be 0 or more seconds, not " + lagTimeoutSeconds);
        if (!ignoreErrors.isEmpty() && !ignoreErrors.matches("all|[0-9]+(,[0-9]+)*")) {
            throw new IllegalArgumentException("--ignore-errors must be empty, all, or MySQL error codes (1213,1205), not '"
                    + ignoreErrors + "'");
        }
        modes = List.copyOf(modes);
        workloads = List.copyOf(workloads);
        jvmOptions = List.copyOf(jvmOptions);
        if (modes.isEmpty() || workloads.isEmpty()) throw new IllegalArgumentException("--modes and --workloads must not be empty");
    }

    /** Parses the command line (system properties and defaults fill the rest). */
    public static SysbenchOptions parse(String[] args) {
        OptionValues v = OptionValues.parse(args, NAMES);
        String ssl = v.value("mysql-ssl", "off");
        if (!ssl.equals("on") && !ssl.equals("off")) throw new IllegalArgumentException("--mysql-ssl must be on or off, not '" + ssl + "'");
        return new SysbenchOptions(
                v.integer("duration", 15),
                v.integers("clients", "32"),
                v.integer("warmup", 5),
                v.integer("gateway-warmup", 180),
                v.list("modes", "direct,observe,enforce").stream().map(Mode::of).toList(),
                v.list("workloads", Workload.OLTP_READ_ONLY.label()).stream().map(Workload::of).toList(),
                v.integer("tables", 4),
                v.integer("table-size", 10_000),
                ssl.equals("on"),
                v.value("ignore-errors", ""),
                v.bool("preload-clear-password", true),
                Layout.of(v.value("layout", Layout.SPLIT.label())),
                v.jvmOptions("jvm-args"),
                v.integer("lag-timeout", 60),
                Path.of(v.value("out", "target/sysbench-comparison.md")),
                v.bool("keep", false),
                v.bool("inline-decisions", true));
    }

    /** The most clients of any run. */
    public int maxClients() {
        return clients.stream().mapToInt(Integer::intValue).max().orElseThrow();
    }

    /** Where sysbench connects: straight to MariaDB, or through the edge's MySQL listener on one of two catalog connections. */
    public enum Mode {
        DIRECT("direct", null, 0),
        OBSERVE("observe", LoadEnvironment.MYSQL_OBSERVE_CONNECTION, 0.3),
        ENFORCE("enforce", LoadEnvironment.MYSQL_ENFORCE_CONNECTION, 0.2);

        private final String label;
        private final String connection;
        private final double minimum;

        Mode(String label, String connection, double minimum) {
            this.label = label;
            this.connection = connection;
            this.minimum = minimum;
        }

        public String label() {
            return label;
        }

        /** The edge's catalog connection (the database sysbench names, {@code --mysql-db}); null when not through the edge. */
        public String connection() {
            return connection;
        }

        public boolean throughEdge() {
            return connection != null;
        }

        /** The minimum throughput as a share of direct's (observe 0.3x, enforce 0.2x); 0 for direct. */
        public double minimum() {
            return minimum;
        }

        static Mode of(String label) {
            for (Mode m : values()) if (m.label.equals(label)) return m;
            throw new IllegalArgumentException("unknown mode '" + label + "'; known: direct, observe, enforce");
        }
    }

    /** One of sysbench's bundled OLTP scripts. */
    public enum Workload {
        /**
         * BEGIN, 10 point SELECTs, a range SELECT, a SUM, an ORDER BY and a DISTINCT range SELECT
         * (100 rows each), COMMIT: 16 statements a transaction.
         */
        OLTP_READ_ONLY("oltp-read-only", "oltp_read_only"),
        /** One point SELECT a transaction, no BEGIN or COMMIT. */
        OLTP_POINT_SELECT("oltp-point-select", "oltp_point_select");

        private final String label;
        private final String script;

        Workload(String label, String script) {
            this.label = label;
            this.script = script;
        }

        public String label() {
            return label;
        }

        /** sysbench's name of the script ({@code /usr/share/sysbench/NAME.lua}). */
        public String script() {
            return script;
        }

        /** By label ({@code oltp-read-only}) or by sysbench's own name ({@code oltp_read_only}). */
        static Workload of(String name) {
            String label = name.toLowerCase(Locale.ROOT).replace('_', '-');
            for (Workload w : values()) if (w.label.equals(label)) return w;
            throw new IllegalArgumentException("unknown workload '" + name + "'; known: oltp-read-only, oltp-point-select");
        }
    }
}
