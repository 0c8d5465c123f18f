package dev.gatehouse.loadtest;

import dev.gatehouse.loadtest.LoadtestOptions.Mode;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Settings of one {@link LargeSelectComparison} run (see {@link OptionValues} for where each is read).
 *
 * @param rows           rows of the SELECT
 * @param modes          the paths, in order: direct, and observe or enforce through the edge
 * @param layout         how the gateway's roles are spread over processes (default per-role: the edge alone,
 *                       so that its memory is its own)
 * @param sampleMillis   how often the edge's /metrics are sampled during the read
 * @param timeoutSeconds the most one read may take
 */
public record LargeSelectOptions(long rows, List<Mode> modes, Layout layout, List<String> jvmOptions, String sslmode,
                                 int sampleMillis, int timeoutSeconds, Path out, boolean keep) {

    private static final Set<String> NAMES = Set.of("rows", "modes", "layout", "jvm-args", "sslmode", "sample-ms", "timeout",
            "out", "keep");

    public LargeSelectOptions {
        if (rows <= 0) throw new IllegalArgumentException("--rows must be positive, not " + rows);
        modes = List.copyOf(modes);
        if (modes.isEmpty()) throw new IllegalArgumentException("--modes must not be empty");
        if (modes.contains(Mode.PGBOUNCER)) throw new IllegalArgumentException("--modes: direct, observe or enforce");
        jvmOptions = List.copyOf(jvmOptions);
        OptionValues.sslmode(sslmode);
        OptionValues.positive("sample-ms", sampleMillis);
        OptionValues.positive("timeout", timeoutSeconds);
    }

    public static LargeSelectOptions parse(String[] args) {
        OptionValues v = OptionValues.parse(args, NAMES);
        return new LargeSelectOptions(
                v.integer("rows", 10_000_000),
                v.list("modes", "direct,enforce").stream().map(Mode::of).toList(),
                Layout.of(v.value("layout", Layout.PER_ROLE.label())),
                v.jvmOptions("jvm-args"),
                v.value("sslmode", "disable"),
                v.integer("sample-ms", 250),
                v.integer("timeout", 1200),
                Path.of(v.value("out", "target/large-select.md")),
                v.bool("keep", false));
    }
}
