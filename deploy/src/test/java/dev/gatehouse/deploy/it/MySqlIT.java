package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.dev.SelfSignedCertificate;
import dev.gatehouse.testsupport.LoggingMariaDb;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/**
 * MySQL clients through an edge of the whole system (Kafka, the policy service with the example
 * policy, the dev issuer) to a real MariaDB 11.4 that logs every command it receives: the target's
 * own record is compared with the audit log.
 */
class MySqlIT {
    private static final String CONNECTION = "shop-mysql";
    private static final String PROD = "shop-mysql-prod";
    private final Gateway gw = Gateway.get();
    private static LoggingMariaDb target;
    private static GatehouseRuntime edge;

    @BeforeAll
    static void start() throws Exception {
        Gateway gw = Gateway.get();
        Path dir = Files.createTempDirectory("gatehouse-mysql-it-");
        target = LoggingMariaDb.start(dir.resolve("mariadb"));
        var tls = SelfSignedCertificate.ensure(dir.resolve("tls"));
        Path hmacKey = Files.writeString(dir.resolve("masking-hmac-key"), "mysql-it-masking-hmac-key-0001");
        try (Connection c = target.adminConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE target.customers (id INT PRIMARY KEY, name VARCHAR(50), email VARCHAR(100), ssn VARCHAR(20))");
            s.execute("INSERT INTO target.customers VALUES (1, 'Ann', 'ann@example.com', '123-45-6789')");
        }
        DevTokenIssuer issuer = gw.env.issuer();
        var config = new GatehouseConfig("edge-mysql-it", dir,
                new GatehouseConfig.Kafka(gw.env.kafka().bootstrapServers(), 3, 1, null, "5s", Map.of()),
                new GatehouseConfig.Edge(new GatehouseConfig.Postgres("127.0.0.1", 0, null, true, "10s", null, null),
                        new GatehouseConfig.Masking(Path.of("config/masking.yaml"), null, hmacKey),
                        new GatehouseConfig.MySql("127.0.0.1", 0, new GatehouseConfig.Tls(tls.certificate(), tls.privateKey()),
                                false, null, null, 2, null)),
                List.of(new GatehouseConfig.Connection(CONNECTION, target.host(), target.port(), LoggingMariaDb.DATABASE,
                        LoggingMariaDb.USER, LoggingMariaDb.PASSWORD, false, null, "enforce", Map.of("env", "demo"), null,
                        "mysql"),
                        new GatehouseConfig.Connection(PROD, target.host(), target.port(), LoggingMariaDb.DATABASE,
                        LoggingMariaDb.USER, LoggingMariaDb.PASSWORD, false, null, "enforce", Map.of("env", "prod"), null,
                        "mysql")),
                new GatehouseConfig.Identity(List.of(new GatehouseConfig.Issuer(issuer.issuerUrl(), issuer.jwksUri(),
                        Set.of(DevTokenIssuer.AUDIENCE), null, null, null))),
                new GatehouseConfig.Policy(null),
                new GatehouseConfig.Observability("127.0.0.1", 0));
        // the fixture's policy service (the example policy) decides for this edge too: they share the log
        edge = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
    }

    @AfterAll
    static void stop() {
        if (edge != null) edge.close();
        if (target != null) target.close();
    }

    private Gateway.Result mysql(String subject, String stdin, String... extra) throws Exception {
        return mysqlOn(CONNECTION, subject, stdin, extra);
    }

    private Gateway.Result mysqlOn(String connection, String subject, String stdin, String... extra) throws Exception {
        List<String> command = new ArrayList<>(List.of("mysql", "--protocol=TCP", "-h", "127.0.0.1", "-P",
                String.valueOf(edge.mysqlPort()), "-u", subject, "--password=" + gw.token(subject, "dba"), "-D", connection,
                "--ssl", "-A", "--batch", "--force"));
        command.addAll(List.of(extra));
        return gw.run("unused", stdin, command.toArray(String[]::new));
    }

    @Test
    void theMysqlClientIsDecidedByTheExamplePolicyAndTheTargetRanOnlyWhatWasRecordedFirst() throws Exception {
        assumeThat(Path.of("/usr/bin/mysql")).exists();
        var r = mysql("alice", """
                CREATE TABLE orders (id INT PRIMARY KEY, note VARCHAR(100));
                INSERT INTO orders VALUES (1, 'one'), (2, 'two');
                UPDATE orders SET note = 'uno' WHERE id = 1;
                DELETE FROM orders;
                CREATE DATABASE forgotten_ci_job;
                SELECT /*!100000 1; CREATE DATABASE hidden_in_a_comment; SELECT */ 2;
                SELECT COUNT(*) AS left_over FROM orders;
                """);
        assertThat(r.stderr()).as(r.toString()).contains("denied by rule \"no-update-delete-without-where\"")
                .contains("denied by rule \"no-create-drop-database\"");
        assertThat(r.stdout()).as(r.toString()).contains("left_over\n2");

        // the target's own record: every command it received from the edge's sessions was recorded before
        List<AuditEvent.SessionOpened> sessions = gw.audit().stream()
                .filter(e -> e instanceof AuditEvent.SessionOpened so && so.connection().name().equals(CONNECTION))
                .map(e -> (AuditEvent.SessionOpened) e).toList();
        assertThat(sessions).isNotEmpty();
        List<String> recorded = gw.audit().stream()
                .filter(e -> e instanceof AuditEvent.CommandReceived cr && cr.connection().name().equals(CONNECTION)
                        && cr.refusal() == null)
                .map(e -> ((AuditEvent.CommandReceived) e).command().sql()).toList();
        List<Long> targetIds = sessions.stream().map(so -> (long) so.targetProcessId()).toList();
        List<String> executed = target.log().stream()
                .filter(e -> targetIds.contains(e.connectionId()) && e.command().equals("Query"))
                .map(LoggingMariaDb.Entry::argument).toList();
        assertThat(executed).isNotEmpty().allSatisfy(sql -> assertThat(recorded).contains(sql));
        assertThat(executed).noneMatch(sql -> sql.contains("forgotten_ci_job") || sql.contains("hidden_in_a_comment")
                || sql.startsWith("DELETE FROM orders"));
        // the executable comment hid a CREATE DATABASE, which MariaDB 11.4 runs (the mysql client itself splits
        // at the semicolons inside it): the policy saw it
        assertThat(gw.audit()).anySatisfy(e -> {
            assertThat(e).isInstanceOf(AuditEvent.CommandReceived.class);
            var cr = (AuditEvent.CommandReceived) e;
            assertThat(cr.command().sql()).contains("hidden_in_a_comment");
            assertThat(cr.command().statements()).extracting(s -> s.analysis().tag()).contains("CREATE DATABASE");
        });
    }

    @Test
    void theExamplePolicyMasksCustomerDataReadInProductionWithTheConfiguredProfiles() throws Exception {
        assumeThat(Path.of("/usr/bin/mysql")).exists();
        // When: a reader outside support reads customers on a production connection (rule prod-mask-customer-data,
        // profile pii-basic of deploy/config/masking.yaml)
        var r = mysqlOn(PROD, "carol", """
                SELECT id, name, email, ssn FROM customers;
                SHOW WARNINGS;
                """);
        // Then: the values the profile masks never reach the client, the others do
        assertThat(r.stdout()).as(r.toString()).contains("Ann").contains("***-**-6789").contains("[REDACTED]")
                .doesNotContain("ann@example.com").doesNotContain("123-45");
        // the target ran the query as recorded, and the completion says what was masked
        assertThat(target.log()).anyMatch(e -> e.argument().equals("SELECT id, name, email, ssn FROM customers"));
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gw.audit()).anySatisfy(e -> {
            assertThat(e).isInstanceOf(AuditEvent.CommandCompleted.class);
            var masking = ((AuditEvent.CommandCompleted) e).outcome().masking();
            assertThat(masking).isNotNull();
            assertThat(masking.profile()).isEqualTo("pii-basic");
            assertThat(masking.columns()).containsKey("target.customers.ssn");
            assertThat(masking.detectors()).containsKey("email");
        }));
    }

    @Test
    void mysqldumpDumpsThroughTheEdge() throws Exception {
        assumeThat(Path.of("/usr/bin/mysqldump")).exists();
        try (Connection c = target.adminConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS target.dumped (id INT PRIMARY KEY, v VARCHAR(20))");
            s.execute("REPLACE INTO target.dumped VALUES (1, 'dumped-row')");
        }
        var r = gw.run("unused", null, "mysqldump", "--protocol=TCP", "-h", "127.0.0.1", "-P", String.valueOf(edge.mysqlPort()),
                // mysqldump connects without a database: the user name names the connection
                "-u", "alice@" + CONNECTION, "--password=" + gw.token("alice", "dba"), "--ssl", "--skip-lock-tables",
                "--no-tablespaces",
                CONNECTION, "dumped");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("CREATE TABLE `dumped`").contains("'dumped-row'");
    }
}
