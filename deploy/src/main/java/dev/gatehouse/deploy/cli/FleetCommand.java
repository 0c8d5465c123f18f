package dev.gatehouse.deploy.cli;

import dev.gatehouse.deploy.dev.DevState;
import dev.gatehouse.deploy.fleet.Fleet;
import dev.gatehouse.deploy.fleet.FleetProcess;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

import java.io.PrintStream;
import java.nio.file.Path;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/** {@code gatehouse fleet}: the fleet's shape on one machine, every role and broker in its own process. */
@Command(name = "fleet", mixinStandardHelpOptions = true, subcommands = FleetChaosCommand.class,
        description = {"Start the fleet's shape on this machine, each in its own OS process: 3 Kafka nodes (KRaft, a 3-voter "
                + "quorum, replication factor 3, min.insync.replicas 2), 2 edges behind haproxy, 2 policy services, the "
                + "approval service, the indexer (store on PostgreSQL) and the demo PostgreSQL target (log_statement=all). "
                + "Needs haproxy (Debian: apt-get install haproxy). Stop with Ctrl-C: every process stops with it."})
public final class FleetCommand implements Callable<Integer> {
    @Option(names = "--data-dir", defaultValue = ".gatehouse-fleet",
            description = "Where the fleet keeps data, configurations and logs (default: ${DEFAULT-VALUE}).")
    Path dataDir;
    @Option(names = "--port", defaultValue = "16432",
            description = "haproxy's PostgreSQL port in front of the edges (default: ${DEFAULT-VALUE}).")
    int port;

    @Override
    public Integer call() throws Exception {
        DevState.requireDevelopmentParts("fleet");
        Path dir = GatehouseCli.home().resolve(dataDir).toAbsolutePath().normalize();
        Fleet fleet = Fleet.start(new Fleet.Settings(dir, port), line -> System.err.println("gatehouse fleet: " + line));
        CountDownLatch stop = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            fleet.close();
            stop.countDown();
        }, "gatehouse-fleet-shutdown"));
        PrintStream out = System.out;
        String dataDirOption = dataDir.toString().equals(".gatehouse-fleet") ? " --data-dir .gatehouse-fleet"
                : " --data-dir " + dir;
        out.println();
        out.println("The Gatehouse fleet is running (data and logs in " + dir + "), ready in "
                + String.format(java.util.Locale.ROOT, "%.1f s", fleet.startTime().toMillis() / 1000.0) + ":");
        out.println();
        for (FleetProcess p : fleet.processes()) {
            out.printf(java.util.Locale.ROOT, "  %-11s %-9s pid %-8d started in %5.1f s   log %s%n", p.name(), p.kind(), p.pid(),
                    p.lastStartTime().toMillis() / 1000.0, dir.relativize(p.log()));
        }
        out.println();
        out.println("  Get a token and connect with psql through haproxy (" + fleet.loadBalancerHost() + ":"
                + fleet.loadBalancerPostgresPort() + ", in front of edge-1 and edge-2):");
        out.println();
        out.println("    export TOKEN=$(./gatehouse token" + dataDirOption + " --subject alice --groups dba)");
        out.println("    psql \"host=" + fleet.loadBalancerHost() + " port=" + fleet.loadBalancerPostgresPort() + " dbname="
                + fleet.database() + " user=alice password=$TOKEN\"");
        out.println();
        out.println("  Kafka bootstrap servers:    " + fleet.bootstrapServers());
        out.println("  Target's statement log:     " + fleet.targetStatementLog() + " (CSV)");
        out.println("  Audit indexer API:          " + fleet.indexerUrl() + "/api/v1");
        out.println("  Approvals API:              " + fleet.approvalUrl() + "/api/v1/approvals");
        out.println("  Kill a member to see the fleet carry on, e.g.: kill -9 " + fleet.process("edge-1").pid() + "   (edge-1)");
        out.println();
        out.println("Press Ctrl-C to stop everything.");
        out.flush();
        stop.await();
        return 0;
    }
}
