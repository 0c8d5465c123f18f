package dev.gatehouse.loadtest;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Settings of one {@link PgbenchComparison} run (see {@link OptionValues} for where each is read).
 *
 * @param clients     pgbench {@code -c} of each run, in order
 * @param threads     the most pgbench threads: {@code -j} is {@code min(clients, threads)}
 * @param jvmOptions  options of every JVM the harness starts (gateway processes and the broker)
 * @param lagTimeoutSeconds how long to wait for the indexer's lag to return to 0 after each run
 * @param poolMode    PgBouncer's {@code pool_mode}
 * @param gatewayWarmupSeconds pgbench through the edge (enforce, then observe, at the most clients)
 *                    once before the first run, unmeasured: the gateway's JVMs compile their hot
 *                    paths for a minute or more on two busy cores, and the first mode measured
 *                    ran at half the speed of the same mode measured later without it
 */
public record LoadtestOptions(int durationSeconds, List<Integer> clients, int threads, int scale, int warmupSeconds,
                              String sslmode, List<Mode> modes, List<Workload> workloads, Layout layout,
                              List<String> jvmOptions, int lagTimeoutSeconds, String poolMode, Path out, boolean keep,
                              int gatewayWarmupSeconds, boolean inlineDecisions) {

    private static final Set<String> NAMES = Set.of("duration", "clients", "threads", "scale", "warmup", "sslmode",
            "modes", "workloads", "layout", "jvm-args", "lag-timeout", "pool-mode", "out", "keep", "gateway-warmup",
            "inline-decisions");

    public LoadtestOptions {
        OptionValues.positive("duration", durationSeconds);
        OptionValues.positive("threads", threads);
        OptionValues.positive("scale", scale);
        clients = List.copyOf(clients);
        if (clients.isEmpty()) throw new IllegalArgumentException("--clients must name at least one client count");
        clients.forEach(c -> OptionValues.positive("clients", c));
        if (warmupSeconds < 0) throw new IllegalArgumentException("--warmup must be 0 or more seconds, not " + warmupSeconds);
        if (gatewayWarmupSeconds < 0) {
            throw new IllegalArgumentException("--gateway-warmup must be 0 or more seconds, not " + gatewayWarmupSeconds);
        }
        if (lagTimeoutSeconds < 0) throw new IllegalArgumentException("--lag-timeout must be 0 or more seconds, not " + lagTimeoutSeconds);
        OptionValues.sslmode(sslmode);
        if (!Set.of("session", "transaction").contains(poolMode)) {
            throw new IllegalArgumentException("--pool-mode must be session or transaction, not '" + poolMode + "'");
        }
        modes = List.copyOf(modes);
        workloads = List.copyOf(workloads);
        jvmOptions = List.copyOf(jvmOptions);
        if (modes.isEmpty() || workloads.isEmpty()) throw new IllegalArgumentException("--modes and --workloads must not be empty");
    }

    /** Parses the command line (system properties and defaults fill the rest). */
    public static LoadtestOptions parse(String[] args) {
        OptionValues v = OptionValues.parse(args, NAMES);
        return new LoadtestOptions(
                v.integer("duration", 15),
                v.integers("clients", "1,8,32"),
                v.integer("threads", 2),
                v.integer("scale", 2),
                v.integer("warmup", 5),
                v.value("sslmode", "disable"),
                v.list("modes", "direct,pgbouncer,floor,observe,enforce").stream().map(Mode::of).toList(),
                v.list("workloads", "select-simple,select-prepared").stream().map(Workload::of).toList(),
                Layout.of(v.value("layout", Layout.SPLIT.label())),
                v.jvmOptions("jvm-args"),
                v.integer("lag-timeout", 60),
                v.value("pool-mode", "session"),
                Path.of(v.value("out", "target/pgbench-comparison.md")),
                v.bool("keep", false),
                v.integer("gateway-warmup", 180),
                v.bool("inline-decisions", true));
    }

    /** pgbench {@code -j} for {@code clients}. */
    public int threadsFor(int clients) {
        return Math.min(clients, threads);
    }

    /** The most clients of any run. */
    public int maxClients() {
        return clients.stream().mapToInt(Integer::intValue).max().orElseThrow();
    }

    /** Where pgbench connects: straight to the target, through PgBouncer, or through the edge on one of two catalog connections. */
    public enum Mode {
        DIRECT("direct", null),
        PGBOUNCER("pgbouncer", null),
        FLOOR("floor", null),
        OBSERVE("observe", "demo-observe"),
        ENFORCE("enforce", "demo");

        private final String label;
        private final String connection;

        Mode(String label, String connection) {
            this.label = label;
            this.connection = connection;
        }

        public String label() {
            return label;
        }

        /** The edge's catalog connection (the database name the client asks for); null when not through the edge. */
        public String connection() {
            return connection;
        }

        public boolean throughEdge() {
            return connection != null;
        }

        static Mode of(String label) {
            for (Mode m : values()) if (m.label.equals(label)) return m;
            throw new IllegalArgumentException("unknown mode '" + label + "'; known: direct, pgbouncer, floor, observe, enforce");
        }
    }

    /** One pgbench workload: its label, the pgbench arguments that select it and the SQL statements of one transaction. */
    public enum Workload {
        SELECT_SIMPLE("select-simple", 1, "-S", "-M", "simple"),
        SELECT_PREPARED("select-prepared", 1, "-S", "-M", "prepared"),
        /** The built-in simple-update: BEGIN, UPDATE pgbench_accounts ... WHERE aid, SELECT, INSERT INTO pgbench_history, END. */
        SIMPLE_UPDATE("simple-update", 5, "-b", "simple-update", "-M", "simple");

        private final String label;
        private final int statements;
        private final List<String> args;

        Workload(String label, int statements, String... args) {
            this.label = label;
            this.statements = statements;
            this.args = List.of(args);
        }

        public String label() {
            return label;
        }

        /** Statements (commands) per pgbench transaction. */
        public int statements() {
            return statements;
        }

        public List<String> args() {
            return args;
        }

        static Workload of(String label) {
            for (Workload w : values()) if (w.label.equals(label)) return w;
            throw new IllegalArgumentException("unknown workload '" + label + "'; known: select-simple, select-prepared, simple-update");
        }
    }
}
