package dev.gatehouse.deploy.fleet;

import dev.gatehouse.deploy.dev.DemoTarget;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;

/**
 * The PostgreSQL servers of {@code gatehouse fleet}, owned by a JVM of their own so that they stop
 * with the launcher whatever way it ends (this JVM runs under {@link ParentWatch}; its shutdown hook
 * stops the servers, which an embedded PostgreSQL of a SIGKILLed launcher would outlive):
 *
 * <ul>
 *   <li>the demo target ({@link DemoTarget}, database {@code demo}) with {@code log_statement=all}
 *       written by the logging collector as CSV ({@code log_destination=csvlog}) to
 *       {@code DIR/demo-postgres/log/statements.csv};</li>
 *   <li>the indexer's store: database {@value #STORE_DATABASE}, superuser {@code postgres} (trust on
 *       loopback), data under {@code DIR/indexer-postgres}.</li>
 * </ul>
 *
 * <p>{@code java ... ParentWatch dev.gatehouse.deploy.fleet.FleetPostgresMain DIR TARGET-PORT STORE-PORT};
 * prints {@value #READY} once both serve.
 */
public final class FleetPostgresMain {
    static final String READY = "gatehouse-fleet-postgres ready";
    static final String STORE_DATABASE = "gatehouse_indexer";

    private FleetPostgresMain() {
    }

    /** The statement log of the demo target under {@code dir} (the fleet's data directory). */
    static Path statementLog(Path dir) {
        return dir.resolve("demo-postgres").resolve("log").resolve("statements.csv");
    }

    public static void main(String[] args) throws Exception {
        if (args.length != 3) throw new IllegalArgumentException("usage: FleetPostgresMain DIR TARGET-PORT STORE-PORT");
        Path dir = Path.of(args[0]);
        Path logDir = statementLog(dir).getParent();
        Files.createDirectories(logDir);
        DemoTarget target = DemoTarget.start(dir.resolve("demo-postgres"), Integer.parseInt(args[1]), Map.of(
                "logging_collector", "on",
                "log_destination", "csvlog",
                "log_directory", logDir.toString(),
                "log_filename", "statements.log",
                "log_statement", "all",
                "log_rotation_age", "0",
                "log_rotation_size", "0"));
        long targetPostmaster = postmasterPid(dir.resolve("demo-postgres").resolve("data"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(target::close, targetPostmaster, "the demo target"),
                "demo-target-stop"));
        EmbeddedPostgres store = EmbeddedPostgres.builder()
                .setDataDirectory(dir.resolve("indexer-postgres").resolve("data"))
                .setCleanDataDirectory(false)
                .setPGStartupWait(Duration.ofSeconds(120))
                .setPort(Integer.parseInt(args[2]))
                .start();
        long storePostmaster = postmasterPid(dir.resolve("indexer-postgres").resolve("data"));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(store::close, storePostmaster, "the indexer store"),
                "indexer-store-stop"));
        try (Connection c = store.getPostgresDatabase().getConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + STORE_DATABASE + "'")) {
            if (!rs.next()) s.execute("CREATE DATABASE " + STORE_DATABASE);
        }
        System.out.println(READY + " target=" + target.port() + " store=" + store.getPort());
        System.out.flush();
        Thread.currentThread().join();
    }

    /** The postmaster's pid from the first line of {@code postmaster.pid}. */
    private static long postmasterPid(Path dataDir) throws java.io.IOException {
        return Long.parseLong(Files.readAllLines(dataDir.resolve("postmaster.pid")).getFirst().strip());
    }

    /**
     * Stops a server and returns once its postmaster has exited: {@code pg_ctl stop} returns when the
     * pid file is gone, a moment before the postmaster process is, and nothing may outlive this JVM.
     */
    private static void stop(AutoCloseable server, long postmaster, String what) {
        try {
            server.close();
        } catch (Exception e) {
            System.err.println("fleet-postgres: cannot stop " + what + ": " + e);
        }
        if (postmaster > 0) {
            ProcessHandle.of(postmaster).ifPresent(p -> {
                try {
                    p.onExit().get(15, java.util.concurrent.TimeUnit.SECONDS);
                } catch (Exception e) {
                    System.err.println("fleet-postgres: the postmaster of " + what + " (pid " + p.pid()
                            + ") did not exit in time; killing it");
                    p.destroyForcibly();
                }
            });
        }
    }
}
