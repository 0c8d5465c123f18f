package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.fleet.Fleet;
import dev.gatehouse.deploy.fleet.FleetProcess;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.File;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * {@code gatehouse fleet}: three Kafka nodes, two edges behind haproxy, two policy services, the
 * approval service and the indexer, each in its own OS process; real clients (psql, pgjdbc) through
 * the balancer; an edge killed with SIGKILL leaves new connections unharmed and starts again; nothing
 * outlives {@link Fleet#close()}.
 */
class FleetProcessesIT {
    private static final List<String> MEMBERS = List.of("kafka-1", "kafka-2", "kafka-3", "policy-1", "policy-2",
            "approval-1", "indexer-1", "edge-1", "edge-2");

    @TempDir
    Path dir;

    /**
     * The members run on the distribution's class path ({@code target/gatehouse-deploy-*.jar} and
     * {@code target/lib}, as {@code ./gatehouse} does), not on this test JVM's, which holds test-only
     * dependencies (Jackson 3 through the Kubernetes model) that change what the roles load.
     */
    @BeforeAll
    static void distributionClassPath() throws IOException {
        Path target = Path.of("target").toAbsolutePath();
        Path jar;
        try (Stream<Path> files = Files.list(target)) {
            jar = files.filter(f -> f.getFileName().toString().matches("gatehouse-deploy-.*\\.jar")
                            && !f.getFileName().toString().endsWith("-tests.jar"))
                    .findFirst().orElseThrow(() -> new IllegalStateException("no gatehouse-deploy jar in " + target
                            + ": run after the package phase (./mvnw verify)"));
        }
        System.setProperty(FleetProcess.CLASS_PATH_PROPERTY, jar + File.pathSeparator + target.resolve("lib") + File.separator + "*");
    }

    @Test
    void everyMemberRunsInItsOwnProcessAndTheFleetSurvivesAKilledEdge() throws Exception {
        // Given
        List<String> progress = new ArrayList<>();
        Fleet fleet = Fleet.start(new Fleet.Settings(dir.resolve("fleet"), freePort()), line -> {
            progress.add(line);
            System.out.println("fleet: " + line);
        });
        List<Long> pids = new ArrayList<>();
        Path targetPostmaster = dir.resolve("fleet").resolve("demo-postgres").resolve("data").resolve("postmaster.pid");
        Path storePostmaster = dir.resolve("fleet").resolve("indexer-postgres").resolve("data").resolve("postmaster.pid");
        List<Long> postgresPids = List.of(firstLine(targetPostmaster), firstLine(storePostmaster));
        StringBuilder report = new StringBuilder("fleet started in " + fleet.startTime().toMillis() + " ms; members:\n");
        try {
            for (FleetProcess p : fleet.processes()) {
                report.append("  ").append(p.name()).append(" pid ").append(p.pid()).append(" ready in ")
                        .append(p.lastStartTime().toMillis()).append(" ms\n");
            }

            // Then: each member and helper is an OS process of its own, none of them this JVM
            assertThat(fleet.processes()).extracting(FleetProcess::name).containsExactlyInAnyOrderElementsOf(MEMBERS);
            fleet.processes().forEach(p -> pids.add(p.pid()));
            fleet.supportProcesses().forEach(p -> pids.add(p.pid()));
            pids.addAll(postgresPids);
            assertThat(new HashSet<>(pids)).hasSize(pids.size()).doesNotContain(ProcessHandle.current().pid());
            assertThat(pids).allSatisfy(pid -> assertThat(alive(pid)).as("pid %d alive", pid).isTrue());
            assertThat(fleet.process("kafka-2").kafkaNodeId()).isEqualTo(2);
            assertThat(fleet.process("edge-1").kafkaNodeId()).isEqualTo(-1);
            assertThat(fleet.bootstrapServers().split(",")).hasSize(3);
            assertThat(fleet.configOf("edge-1")).exists();

            // When: psql through haproxy, as a token holder: an allowed SELECT, a denied CREATE DATABASE
            String token = fleet.token("alice", Set.of("dba"));
            // the first session waits for the policy group's first partition assignment (two instances
            // joined moments ago); on a loaded machine that can outlast psql's connect timeout
            Psql select = await().atMost(Duration.ofMinutes(3)).pollInterval(Duration.ofSeconds(1))
                    .until(() -> psql(fleet, token, "SELECT name FROM customers ORDER BY id LIMIT 2"),
                            r -> r.exitCode() == 0 || !r.stderr().contains("timeout expired"));
            Psql create = psql(fleet, token, "CREATE DATABASE fleet_forgotten_ci_job");

            // Then
            assertThat(select.exitCode()).as(select.toString()).isZero();
            assertThat(select.stdout()).contains("Ada Lovelace", "Grace Hopper");
            assertThat(create.exitCode()).as(create.toString()).isNotZero();
            assertThat(create.stderr()).contains("no-create-drop-database");

            // When: pgjdbc through haproxy
            try (Connection c = jdbc(fleet, token); Statement s = c.createStatement()) {
                try (ResultSet rs = s.executeQuery("SELECT count(*) FROM customers")) {
                    rs.next();
                    // Then
                    assertThat(rs.getLong(1)).isEqualTo(5);
                }
                assertThatThrownBy(() -> s.execute("CREATE DATABASE fleet_forgotten_jdbc_job"))
                        .isInstanceOfSatisfying(SQLException.class, e -> {
                            assertThat(e.getSQLState()).isEqualTo("42501");
                            assertThat(e.getMessage()).contains("no-create-drop-database");
                        });
            }
            // ... and the target ran the SELECTs, never the CREATE DATABASEs (its own statement log)
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(statementLog(fleet))
                    .contains("SELECT name FROM customers ORDER BY id LIMIT 2", "SELECT count(*) FROM customers"));
            assertThat(statementLog(fleet)).doesNotContain("fleet_forgotten_ci_job", "fleet_forgotten_jdbc_job");

            // When: edge-1 is killed with SIGKILL
            FleetProcess edge1 = fleet.process("edge-1");
            long killedPid = edge1.pid();
            edge1.kill9();
            long killedAt = System.nanoTime();

            // Then: new connections through haproxy still work, several in a row (round robin would
            // pick the dead edge for every other one)
            assertThat(edge1.alive()).isFalse();
            assertThat(alive(killedPid)).isFalse();
            for (int i = 0; i < 4; i++) {
                try (Connection c = jdbc(fleet, token); Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT 1")) {
                    assertThat(rs.next()).isTrue();
                }
            }
            Psql afterKill = psql(fleet, token, "SELECT name FROM customers WHERE id = 3");
            assertThat(afterKill.exitCode()).as(afterKill.toString()).isZero();
            assertThat(afterKill.stdout()).contains("Edsger Dijkstra");
            report.append("after kill -9 of edge-1: 4 JDBC connections and a psql session through haproxy in ")
                    .append(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - killedAt)).append(" ms\n");

            // When: it starts again, with the same configuration and ports
            edge1.start();

            // Then
            assertThat(edge1.alive()).isTrue();
            assertThat(edge1.pid()).isNotEqualTo(killedPid);
            pids.add(edge1.pid());
            report.append("edge-1 restarted (pid ").append(edge1.pid()).append(") in ")
                    .append(edge1.lastStartTime().toMillis()).append(" ms\n");
            Psql afterRestart = psql(fleet, token, "SELECT name FROM customers WHERE id = 4");
            assertThat(afterRestart.exitCode()).as(afterRestart.toString()).isZero();
            assertThat(afterRestart.stdout()).contains("Barbara Liskov");
        } finally {
            long closing = System.nanoTime();
            fleet.close();
            report.append("close() took ").append(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - closing)).append(" ms\n");
            System.out.println(report);
        }

        // Then: nothing outlives the fleet
        assertThat(pids).allSatisfy(pid -> assertThat(alive(pid)).as("pid %d still alive after close()", pid).isFalse());
        assertThat(fleet.processes()).noneMatch(FleetProcess::alive);
        assertThat(progress).anyMatch(l -> l.contains("ready in"));
    }

    private record Psql(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }

    private static Psql psql(Fleet fleet, String token, String sql) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder("psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", fleet.loadBalancerHost(),
                "-p", String.valueOf(fleet.loadBalancerPostgresPort()), "-U", "alice", "-d", fleet.database(), "-c", sql);
        pb.environment().put("PGPASSWORD", token);
        pb.environment().put("PGCONNECT_TIMEOUT", "30");
        pb.environment().remove("PGSSLMODE");
        Path out = Files.createTempFile("fleet-psql-out", ".txt");
        Path err = Files.createTempFile("fleet-psql-err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        if (!p.waitFor(2, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("psql timed out: " + sql);
        }
        Psql result = new Psql(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        return result;
    }

    private static Connection jdbc(Fleet fleet, String token) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://" + fleet.loadBalancerHost() + ":" + fleet.loadBalancerPostgresPort()
                + "/" + fleet.database() + "?sslmode=disable&connectTimeout=30", "alice", token);
    }

    private static String statementLog(Fleet fleet) throws IOException {
        Path log = fleet.targetStatementLog();
        return Files.exists(log) ? Files.readString(log, StandardCharsets.ISO_8859_1) : "";
    }

    private static long firstLine(Path postmasterPid) throws IOException {
        try (Stream<String> lines = Files.lines(postmasterPid)) {
            return Long.parseLong(lines.findFirst().orElseThrow().strip());
        }
    }

    private static boolean alive(long pid) {
        return ProcessHandle.of(pid).map(ProcessHandle::isAlive).orElse(false);
    }

    private static int freePort() throws IOException {
        try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return socket.getLocalPort();
        }
    }
}
