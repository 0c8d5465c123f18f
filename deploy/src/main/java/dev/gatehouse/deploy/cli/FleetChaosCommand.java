package dev.gatehouse.deploy.cli;

import dev.gatehouse.deploy.dev.DevState;
import dev.gatehouse.deploy.config.Durations;
import dev.gatehouse.deploy.fleet.chaos.ChaosRun;
import dev.gatehouse.deploy.fleet.chaos.ChaosSummary;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.Callable;

/** {@code gatehouse fleet chaos}: kill -9 the fleet's processes under load, then prove nothing slipped through. */
@Command(name = "chaos", mixinStandardHelpOptions = true,
        description = {"Start the fleet, drive load through haproxy from pgjdbc clients, kill -9 an edge, the partition-leader "
                + "broker, a policy service, the indexer, then all four together, then stop every broker for a while; afterwards "
                + "compare the target's statement log with the audit log, rebuild the indexer from the log and compare digests. "
                + "Prints one summary (also chaos-summary.json in the data dir). Exit code 0 only when nothing ran unrecorded "
                + "or undecided, every allowed command completed or its session was marked aborted, and the digests match.",
                "Needs haproxy (Debian: apt-get install haproxy)."})
public final class FleetChaosCommand implements Callable<Integer> {
    @Option(names = "--duration", defaultValue = "10m",
            description = "How long the load runs; the faults are spread over it, at least 60s (default: ${DEFAULT-VALUE}).")
    String duration;
    @Option(names = "--data-dir", defaultValue = ".gatehouse-fleet-chaos",
            description = "The fleet's data dir for this run; it is started afresh (default: ${DEFAULT-VALUE}).")
    Path dataDir;
    @Option(names = "--port", defaultValue = "16432", description = "haproxy's PostgreSQL port (default: ${DEFAULT-VALUE}).")
    int port;
    @Option(names = "--clients", defaultValue = "4", description = "pgjdbc clients (default: ${DEFAULT-VALUE}).")
    int clients;
    @Option(names = "--brokers-down", defaultValue = "20s",
            description = "How long all brokers stay stopped in the last fault (default: ${DEFAULT-VALUE}).")
    String brokersDown;

    @Override
    public Integer call() {
        DevState.requireDevelopmentParts("fleet chaos");
        PrintStream out = new PrintStream(System.out, true, StandardCharsets.UTF_8);
        Path dir = GatehouseCli.home().resolve(dataDir).toAbsolutePath().normalize()
                .resolve("run-" + Instant.now().toString().replace(':', '-'));
        ChaosRun.Options options = new ChaosRun.Options(dir, port, Durations.parse("--duration", duration), clients,
                Duration.ofMillis(10), Durations.parse("--brokers-down", brokersDown), Duration.ofSeconds(120));
        ChaosSummary summary = ChaosRun.run(options, line -> out.println("gatehouse fleet chaos: " + line));
        out.print(summary.render());
        return summary.passed() ? 0 : 1;
    }
}
