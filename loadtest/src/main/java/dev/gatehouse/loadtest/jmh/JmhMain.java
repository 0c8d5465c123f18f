package dev.gatehouse.loadtest.jmh;

import java.io.IOException;

import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;

/**
 * Runs the JMH benchmarks of this module with JMH's own command line options (a regex to pick
 * benchmarks, {@code -f}, {@code -wi}, {@code -i}, {@code -rf json}, ...). Unlike plain JMH, the
 * defaults are short, for a small machine: 1 fork, 2 warm-up and 3 measurement iterations of 1 s.
 */
public final class JmhMain {
    private JmhMain() {
    }

    public static void main(String[] args) throws RunnerException, IOException {
        CommandLineOptions cli;
        try {
            cli = new CommandLineOptions(args);
        } catch (CommandLineOptionException e) {
            System.err.println("jmh: " + e.getMessage());
            System.exit(2);
            return;
        }
        if (cli.shouldHelp()) {
            cli.showHelp();
            return;
        }
        if (cli.shouldList()) {
            new Runner(cli).list();
            return;
        }
        ChainedOptionsBuilder options = new OptionsBuilder().parent(cli);
        if (cli.getIncludes().isEmpty()) options.include("dev\\.gatehouse\\.loadtest\\.jmh\\..*");
        if (!cli.getForkCount().hasValue()) options.forks(1);
        if (!cli.getWarmupIterations().hasValue()) options.warmupIterations(2);
        if (!cli.getWarmupTime().hasValue()) options.warmupTime(TimeValue.seconds(1));
        if (!cli.getMeasurementIterations().hasValue()) options.measurementIterations(3);
        if (!cli.getMeasurementTime().hasValue()) options.measurementTime(TimeValue.seconds(1));
        // libpg_query is called through FFM; the forked JVM must allow it, as the parent does.
        if (!cli.getJvmArgsAppend().hasValue()) options.jvmArgsAppend("--enable-native-access=ALL-UNNAMED",
                "-Dlogback.configurationFile=logback-loadtest.xml");
        new Runner(options.build()).run();
    }
}
