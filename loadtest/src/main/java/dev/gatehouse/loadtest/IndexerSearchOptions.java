package dev.gatehouse.loadtest;

import java.nio.file.Path;
import java.util.List;
import java.util.Set;

/**
 * Settings of one {@link IndexerSearchRun} (see {@link OptionValues} for where each is read).
 *
 * @param commands           commands recorded in the synthetic log
 * @param creates            of those, CREATE DATABASE commands, each by a CI job of its own
 * @param commandsPerSession commands in each person's session
 * @param queries            warm questions asked of the query API (after 10 unmeasured)
 * @param cliRuns            runs of {@code gatehouse audit search}
 * @param lagTimeoutSeconds  the longest the run waits for the indexer to catch up
 */
public record IndexerSearchOptions(long commands, int creates, int commandsPerSession, int queries, int cliRuns, Layout layout,
                                   List<String> jvmOptions, int lagTimeoutSeconds, Path out, boolean keep) {

    private static final Set<String> NAMES = Set.of("commands", "creates", "commands-per-session", "queries", "cli-runs", "layout",
            "jvm-args", "lag-timeout", "out", "keep");

    public IndexerSearchOptions {
        if (commands <= 0) throw new IllegalArgumentException("--commands must be positive, not " + commands);
        OptionValues.positive("creates", creates);
        if (creates >= commands) throw new IllegalArgumentException("--creates must be fewer than --commands");
        OptionValues.positive("commands-per-session", commandsPerSession);
        OptionValues.positive("queries", queries);
        OptionValues.positive("cli-runs", cliRuns);
        OptionValues.positive("lag-timeout", lagTimeoutSeconds);
        jvmOptions = List.copyOf(jvmOptions);
    }

    public static IndexerSearchOptions parse(String[] args) {
        OptionValues v = OptionValues.parse(args, NAMES);
        return new IndexerSearchOptions(
                v.integer("commands", 1_000_000),
                v.integer("creates", 50),
                v.integer("commands-per-session", 200),
                v.integer("queries", 100),
                v.integer("cli-runs", 5),
                Layout.of(v.value("layout", Layout.SPLIT.label())),
                v.jvmOptions("jvm-args"),
                v.integer("lag-timeout", 3600),
                Path.of(v.value("out", "target/indexer-search.md")),
                v.bool("keep", false));
    }
}
