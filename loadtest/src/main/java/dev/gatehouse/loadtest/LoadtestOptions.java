package dev.gatehouse.loadtest;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Settings of one {@link PgbenchComparison} run. Each is read from {@code --name=value} (or
 * {@code --name value}) on the command line, else from the system property
 * {@code loadtest.name}, else its default.
 */
public record LoadtestOptions(int durationSeconds, int clients, int threads, int scale, int warmupSeconds,
                              String sslmode, List<Mode> modes, List<Workload> workloads, Path out, boolean keep) {

    private static final Set<String> NAMES = Set.of("duration", "clients", "threads", "scale", "warmup", "sslmode",
            "modes", "workloads", "out", "keep");

    public LoadtestOptions {
        positive("duration", durationSeconds);
        positive("clients", clients);
        positive("threads", threads);
        positive("scale", scale);
        if (warmupSeconds < 0) throw new IllegalArgumentException("--warmup must be 0 or more seconds, not " + warmupSeconds);
        if (threads > clients) throw new IllegalArgumentException("--threads (" + threads + ") must not exceed --clients (" + clients + ")");
        if (!Set.of("disable", "allow", "prefer", "require").contains(sslmode)) {
            throw new IllegalArgumentException("--sslmode must be disable, allow, prefer or require, not '" + sslmode + "'");
        }
        modes = List.copyOf(modes);
        workloads = List.copyOf(workloads);
        if (modes.isEmpty() || workloads.isEmpty()) throw new IllegalArgumentException("--modes and --workloads must not be empty");
    }

    /** Parses the command line (system properties and defaults fill the rest). */
    public static LoadtestOptions parse(String[] args) {
        Map<String, String> given = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (!arg.startsWith("--")) throw new IllegalArgumentException("unexpected argument '" + arg + "'; options are --name=value");
            String name;
            String value;
            int eq = arg.indexOf('=');
            if (eq > 0) {
                name = arg.substring(2, eq);
                value = arg.substring(eq + 1);
            } else if (arg.equals("--keep")) {
                name = "keep";
                value = "true";
            } else {
                name = arg.substring(2);
                if (i + 1 >= args.length) throw new IllegalArgumentException("option --" + name + " needs a value");
                value = args[++i];
            }
            if (!NAMES.contains(name)) throw new IllegalArgumentException("unknown option --" + name + "; known: " + NAMES);
            given.put(name, value);
        }
        return new LoadtestOptions(
                integer(given, "duration", 20),
                integer(given, "clients", 4),
                integer(given, "threads", 2),
                integer(given, "scale", 2),
                integer(given, "warmup", 5),
                value(given, "sslmode", "disable"),
                Arrays.stream(value(given, "modes", "direct,observe,enforce").split(",")).map(String::strip).map(Mode::of).toList(),
                Arrays.stream(value(given, "workloads", "select-simple,select-prepared,simple-update").split(","))
                        .map(String::strip).map(Workload::of).toList(),
                Path.of(value(given, "out", "target/pgbench-comparison.md")),
                Boolean.parseBoolean(value(given, "keep", "false")));
    }

    private static String value(Map<String, String> given, String name, String fallback) {
        String v = given.get(name);
        if (v == null) v = System.getProperty("loadtest." + name);
        return v == null || v.isBlank() ? fallback : v.strip();
    }

    private static int integer(Map<String, String> given, String name, int fallback) {
        String v = value(given, name, String.valueOf(fallback));
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--" + name + " must be a whole number, not '" + v + "'");
        }
    }

    private static void positive(String name, int value) {
        if (value <= 0) throw new IllegalArgumentException("--" + name + " must be positive, not " + value);
    }

    /** Where pgbench connects: straight to the target, or through the edge on one of two catalog connections. */
    public enum Mode {
        DIRECT("direct", null),
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

        /** The edge's catalog connection (the database name the client asks for); null for direct. */
        public String connection() {
            return connection;
        }

        static Mode of(String label) {
            for (Mode m : values()) if (m.label.equals(label)) return m;
            throw new IllegalArgumentException("unknown mode '" + label + "'; known: direct, observe, enforce");
        }
    }

    /** One pgbench workload: its label and the pgbench arguments that select it. */
    public enum Workload {
        SELECT_SIMPLE("select-simple", "-S", "-M", "simple"),
        SELECT_PREPARED("select-prepared", "-S", "-M", "prepared"),
        /** The built-in simple-update: UPDATE pgbench_accounts ... WHERE aid, SELECT, INSERT INTO pgbench_history. */
        SIMPLE_UPDATE("simple-update", "-b", "simple-update", "-M", "simple");

        private final String label;
        private final List<String> args;

        Workload(String label, String... args) {
            this.label = label;
            this.args = List.of(args);
        }

        public String label() {
            return label;
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
