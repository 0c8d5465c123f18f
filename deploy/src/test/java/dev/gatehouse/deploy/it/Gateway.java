package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DevEnvironment;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The whole system as {@code gatehouse dev} runs it (embedded Kafka, demo target, dev issuer,
 * edge, policy), started once per test JVM on free ports, and the real clients the tests drive.
 */
final class Gateway {
    private static Gateway instance;

    final DevEnvironment env;
    final Path dataDir;

    private Gateway(DevEnvironment env, Path dataDir) {
        this.env = env;
        this.dataDir = dataDir;
    }

    static synchronized Gateway get() {
        if (instance == null) {
            try {
                Path dir = Files.createTempDirectory("gatehouse-it-");
                DevEnvironment env = new DevEnvironment(new DevEnvironment.Settings(dir, 0, 0, 0, 0, 0, null)).start();
                instance = new Gateway(env, dir);
                Runtime.getRuntime().addShutdownHook(new Thread(env::close));
            } catch (Exception e) {
                throw new IllegalStateException("cannot start the gateway for tests", e);
            }
        }
        return instance;
    }

    int edgePort() {
        return env.runtime().edgePort();
    }

    String token(String subject, String... groups) {
        return env.issuer().issue(subject, List.of(groups), Duration.ofMinutes(30), Map.of());
    }

    /** A JDBC connection through the edge. */
    Connection jdbc(String connection, String subject, String... groups) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + edgePort() + "/" + connection
                + "?sslmode=disable&connectTimeout=30&socketTimeout=120", subject, token(subject, groups));
    }

    /** A superuser JDBC connection straight to the target, to check what really happened there. */
    Connection targetDirect(String database) throws SQLException {
        return DriverManager.getConnection(env.target().superuserJdbcUrl(database));
    }

    /** Runs a real client binary with the token as password; bounded in time. */
    Result run(String token, String stdin, String... command) throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("PGPASSWORD", token);
        pb.environment().put("PGHOST", "127.0.0.1");
        pb.environment().put("PGPORT", String.valueOf(edgePort()));
        pb.environment().put("PGCONNECT_TIMEOUT", "30");
        pb.environment().remove("PGSSLMODE");
        pb.environment().remove("PGDATABASE");
        Path out = Files.createTempFile("gatehouse-it-out", ".txt");
        Path err = Files.createTempFile("gatehouse-it-err", ".txt");
        pb.redirectOutput(out.toFile()).redirectError(err.toFile());
        Process p = pb.start();
        try (var in = p.getOutputStream()) {
            if (stdin != null) in.write(stdin.getBytes(StandardCharsets.UTF_8));
        }
        if (!p.waitFor(5, TimeUnit.MINUTES)) {
            p.destroyForcibly();
            throw new AssertionError("timed out: " + String.join(" ", command));
        }
        Result r = new Result(p.exitValue(), Files.readString(out), Files.readString(err));
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
        return r;
    }

    /** psql through the edge as {@code subject} on connection {@code dbname}. */
    Result psql(String subject, String dbname, String stdin, String... args) throws IOException, InterruptedException {
        List<String> cmd = new ArrayList<>(List.of("psql", "-X", "-v", "ON_ERROR_STOP=1", "-U", subject, "-d", dbname));
        cmd.addAll(List.of(args));
        return run(token(subject, "dba"), stdin, cmd.toArray(String[]::new));
    }

    /** Every audit event in the log so far, in log order (one partition per session). */
    List<AuditEvent> audit(SessionId session) {
        AuditEventCodec codec = new AuditEventCodec();
        List<AuditEvent> events = new ArrayList<>();
        try (AuditTail tail = new AuditTail(env.kafka().bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(30),
                EventSerde.of(codec::encode, codec::decode))) {
            tail.read(session, false, events::add);
        }
        return events;
    }

    List<AuditEvent> audit() {
        return audit(null);
    }

    /** The session whose client announced {@code applicationName}, from its SessionOpened (awaited). */
    SessionId sessionOpened(String applicationName) {
        return org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> audit().stream()
                .filter(e -> e instanceof AuditEvent.SessionOpened o && applicationName.equals(o.applicationName()))
                .map(AuditEvent::sessionId)
                .findFirst().orElse(null), s -> s != null);
    }

    /** Whether the target runs {@code query} now for a session of {@code applicationName} (its pg_stat_activity). */
    boolean runningAtTarget(String applicationName, String query) throws SQLException {
        try (Connection c = targetDirect("postgres");
             var ps = c.prepareStatement("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?"
                     + " AND state = 'active' AND query = ?")) {
            ps.setString(1, applicationName);
            ps.setString(2, query);
            try (var rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1) > 0;
            }
        }
    }

    record Result(int exitCode, String stdout, String stderr) {
        @Override
        public String toString() {
            return "exit " + exitCode + "\n--- stdout\n" + stdout + "\n--- stderr\n" + stderr;
        }
    }
}
