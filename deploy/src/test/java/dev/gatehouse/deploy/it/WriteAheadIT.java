package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.core.AuditEvent;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Write-ahead audit, checked against the target's own statement log: every statement the target
 * executed for the edge's role has a CommandReceived in the audit log, written before the target
 * logged the statement. A target of its own logs every statement (log_statement=all).
 */
class WriteAheadIT {
    private static final Gateway gw = Gateway.get();
    private static final Pattern ENTRY = Pattern.compile(
            "^(\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2}\\.\\d{3}) UTC\\|([^|]*)\\|([^|]*)\\|LOG:  (statement|execute [^:]*): (.*)$");
    private static Path logDir;
    private static DemoTarget target;
    private static GatehouseRuntime edge;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-writeahead-");
        logDir = dir.resolve("pglog");
        target = DemoTarget.start(dir.resolve("pg"), 0, Map.of(
                "logging_collector", "on",
                "log_directory", logDir.toString(),
                "log_filename", "statements.log",
                "log_statement", "all",
                "log_timezone", "UTC"));
        try (Connection c = DriverManager.getConnection(target.superuserJdbcUrl("postgres")); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET log_line_prefix = '%m|%u|%a|'");
            s.execute("SELECT pg_reload_conf()");
        }
        GatehouseConfig config = EdgeConfigs.edge("edge-writeahead", dir, gw.env.kafka().bootstrapServers(), "5s",
                EdgeConfigs.plaintextListener("10s"), List.of(new GatehouseConfig.Connection("writeahead", target.host(),
                        target.port(), DemoTarget.DATABASE, target.role(), target.password(), false, null, "enforce", Map.of())));
        // the fixture's policy service decides for this edge too: they share the log
        edge = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (edge != null) edge.close();
        if (target != null) target.close();
    }

    @Test
    void everyStatementTheTargetExecutedWasInTheLogFirst() throws Exception {
        // Given: a mixed workload from real clients through the edge
        String token = gw.token("alice", "dba");
        String port = String.valueOf(edge.edgePort());
        var psql = gw.run(token, """
                CREATE TABLE wa (id int PRIMARY KEY, v text);
                INSERT INTO wa VALUES (1, 'one'), (2, 'two');
                BEGIN;
                UPDATE wa SET v = 'uno' WHERE id = 1;
                DELETE FROM wa;
                COMMIT;
                SELECT count(*) FROM wa;
                \\d wa
                """, "psql", "-X", "-h", "127.0.0.1", "-p", port, "-U", "alice", "-d", "writeahead");
        var bench = gw.run(token, null, "pgbench", "-h", "127.0.0.1", "-p", port, "-U", "alice", "-i", "-s", "1", "writeahead");
        var run = gw.run(token, null, "pgbench", "-h", "127.0.0.1", "-p", port, "-U", "alice", "-n", "-M", "prepared",
                "-b", "simple-update", "-t", "20", "writeahead");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/writeahead?sslmode=disable",
                "alice", token); PreparedStatement ps = c.prepareStatement("INSERT INTO wa VALUES (?, ?)")) {
            for (int i = 10; i < 20; i++) {
                ps.setInt(1, i);
                ps.setString(2, "jdbc");
                ps.addBatch();
            }
            ps.executeBatch();
            try (Statement s = c.createStatement()) {
                s.execute("SELECT * FROM wa WHERE id = 10");
            }
        }
        assertThat(psql.stderr()).contains("denied by rule \"no-update-delete-without-where\"");
        assertThat(bench.exitCode()).as(bench.toString()).isZero();
        assertThat(run.exitCode()).as(run.toString()).isZero();

        // When
        List<Executed> executed = executedByTheEdgesRole();
        List<AuditEvent.CommandReceived> received = gw.audit().stream()
                .filter(e -> e instanceof AuditEvent.CommandReceived cr && cr.connection() != null
                        && "writeahead".equals(cr.connection().name()))
                .map(AuditEvent.CommandReceived.class::cast).toList();

        // Then
        assertThat(executed).hasSizeGreaterThan(60);
        assertThat(executed).extracting(Executed::sql).noneMatch(s -> s.startsWith("DELETE FROM wa"));
        for (Executed x : executed) {
            assertThat(received)
                    .as("a CommandReceived written before the target ran: %s", x.sql())
                    .anySatisfy(cr -> {
                        assertThat(cr.command().sql()).contains(x.sql());
                        assertThat(cr.header().timestamp().truncatedTo(ChronoUnit.MILLIS)).isBeforeOrEqualTo(x.at());
                    });
        }
    }

    record Executed(Instant at, String sql) {
    }

    private static List<Executed> executedByTheEdgesRole() throws Exception {
        DateTimeFormatter f = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss.SSS");
        List<Executed> out = new ArrayList<>();
        try (Stream<String> lines = Files.lines(logDir.resolve("statements.log"))) {
            for (String line : (Iterable<String>) lines::iterator) {
                Matcher m = ENTRY.matcher(line);
                // the edge's own catalog reads run on connections of their own (application_name
                // gatehouse-catalog); its reading of a session's names after server-side code uses
                // its reserved statement name
                if (m.matches() && m.group(2).equals(DemoTarget.ROLE) && !m.group(3).equals("gatehouse-catalog")
                        && !m.group(4).contains("gatehouse verify names")) {
                    Instant at = LocalDateTime.parse(m.group(1), f).toInstant(ZoneOffset.UTC);
                    out.add(new Executed(at, m.group(5).trim()));
                }
            }
        }
        return out;
    }
}
