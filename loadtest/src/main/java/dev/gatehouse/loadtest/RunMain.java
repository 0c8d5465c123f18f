package dev.gatehouse.loadtest;

import java.util.function.Function;

/**
 * The entry of the loadtest's runs ({@link PgbenchComparison}, {@link SysbenchComparison}, {@link LargeSelectComparison},
 * {@link IndexerSearchRun}): parses the options, runs, and exits with the run's status; options it
 * cannot parse end the process with status 2 and the parser's message.
 */
final class RunMain {

    /** One run over its parsed options; returns the process's exit status. */
    interface Run<O> {
        int run(O options) throws Exception;
    }

    private RunMain() {
    }

    static <O> void exit(String name, String[] args, Function<String[], O> parse, Run<O> run) throws Exception {
        O options;
        try {
            options = parse.apply(args);
        } catch (IllegalArgumentException e) {
            System.err.println(name + ": " + e.getMessage());
            System.exit(2);
            return;
        }
        int status = run.run(options);
        // Kafka's and Vert.x's clients in this JVM leave non-daemon threads behind; the report is written.
        System.exit(status);
    }
}
