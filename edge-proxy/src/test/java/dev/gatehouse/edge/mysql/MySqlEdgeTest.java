package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.edge.catalog.ConnectionCatalog;
import dev.gatehouse.edge.mysql.codec.MySqlProtocol;
import dev.gatehouse.edge.catalog.ResultCapture;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.dev.SelfSignedCertificate;
import dev.gatehouse.policy.sql.mysql.MySqlAnalyzer;
import dev.gatehouse.testsupport.InMemoryDecisionPort;
import dev.gatehouse.testsupport.LoggingMariaDb;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

/**
 * The MySQL listener in front of a real MariaDB 11.4, driven by real clients (MariaDB
 * Connector/J, MySQL Connector/J, the mysql command-line client), checked against the target's own
 * general query log: what the target ran is what was recorded and decided.
 */
class MySqlEdgeTest {
    private static final String TOKEN = "token-of-alice";
    private static final Identity ALICE = new Identity("alice", "https://issuer.test", List.of("dba"), List.of(), Map.of(), null);
    private static final String CONNECTION = "shop";
    private static final String BOB_TOKEN = "token-of-bob";
    private static final Identity BOB = new Identity("bob", "https://issuer.test", List.of("dba"), List.of(), Map.of(), null);

    @TempDir
    static Path dir;
    static LoggingMariaDb mariaDb;
    static Vertx vertx;
    static MySqlEdge edge;
    static ConnectionCatalog catalog;
    static MySqlEdge plaintextEdge;
    static int port;
    static int plaintextPort;
    static final InMemoryDecisionPort log = new InMemoryDecisionPort(MySqlEdgeTest::policy);

    /** Denies CREATE/DROP DATABASE, allows everything else. */
    static Decision policy(AuditEvent.DecisionRequest request) {
        if (request instanceof AuditEvent.CommandReceived c) {
            for (CommandStatement s : c.command().statements()) {
                String tag = s.analysis().tag();
                if ("CREATE DATABASE".equals(tag) || "DROP DATABASE".equals(tag)) {
                    return new Decision.Deny(c.requestId(), "no-create-drop-database",
                            "creating or dropping databases is not allowed", "test");
                }
            }
        }
        return new Decision.Allow(request.requestId(), "allow", "test", "test");
    }

    static final String MASKING = """
            profiles:
              - name: pii
                columns:
                  - {column: "*.people.ssn", method: {keep_last: 4}}
                  - {column: "*.people.born", method: redact}
                  - {column: "*.people.doc", method: redact}
                detectors:
                  - {detector: email, method: redact}
            """;

    /** Masks every command that reads people or people_v with profile pii; otherwise {@link #policy}. */
    static Decision maskingPolicy(AuditEvent.DecisionRequest request) {
        if (request instanceof AuditEvent.CommandReceived c && c.command().statements().stream()
                .anyMatch(st -> st.analysis().tablesRead().stream().anyMatch(t -> t.startsWith("people") || t.endsWith(".people")
                        || t.contains("people_v")))) {
            return new Decision.Mask(c.requestId(), "mask-people", "people's data is masked", "test", "pii");
        }
        return policy(request);
    }

    @BeforeAll
    static void start() throws Exception {
        mariaDb = LoggingMariaDb.start(dir.resolve("mariadb"));
        try (Connection c = mariaDb.adminConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE target.items (id INT PRIMARY KEY, name VARCHAR(100))");
            s.execute("INSERT INTO target.items VALUES (1, 'one'), (2, 'two')");
            s.execute("CREATE TABLE target.people (id INT PRIMARY KEY, name VARCHAR(50), ssn VARCHAR(20), born DATE,"
                    + " note TEXT, doc JSON)");
            s.execute("INSERT INTO target.people VALUES (1, 'Ann', '123-45-6789', '1980-02-03', 'write to ann@example.com',"
                    + " '{\"k\": 1}'), (2, 'Bob', NULL, NULL, NULL, NULL)");
            s.execute("CREATE TABLE target.notes (id INT PRIMARY KEY, body LONGTEXT)");
            s.execute("CREATE VIEW target.people_v AS SELECT id, UPPER(ssn) AS loud FROM target.people");
        }
        vertx = Vertx.vertx();
        var pem = SelfSignedCertificate.ensure(dir.resolve("tls"));
        catalog = new ConnectionCatalog(List.of(new TargetConnection(CONNECTION, mariaDb.host(), mariaDb.port(),
                LoggingMariaDb.DATABASE, LoggingMariaDb.USER, LoggingMariaDb.PASSWORD, false, null,
                TargetConnection.Mode.ENFORCE, Map.of(), new ResultCapture(5, 4096), TargetConnection.MYSQL),
                new TargetConnection(CONNECTION + "-observe", mariaDb.host(), mariaDb.port(), LoggingMariaDb.DATABASE,
                        LoggingMariaDb.USER, LoggingMariaDb.PASSWORD, false, null, TargetConnection.Mode.OBSERVE, Map.of(), null,
                        TargetConnection.MYSQL),
                // TLS towards the target: verified with the target's certificate, and refused with another CA's
                new TargetConnection(CONNECTION + "-tls", mariaDb.host(), mariaDb.port(), LoggingMariaDb.DATABASE,
                        LoggingMariaDb.USER, LoggingMariaDb.PASSWORD, true, mariaDb.tlsCertificate(), TargetConnection.Mode.ENFORCE,
                        Map.of(), null, TargetConnection.MYSQL),
                new TargetConnection(CONNECTION + "-tls-untrusted", mariaDb.host(), mariaDb.port(), LoggingMariaDb.DATABASE,
                        LoggingMariaDb.USER, LoggingMariaDb.PASSWORD, true, pem.certificate(), TargetConnection.Mode.ENFORCE,
                        Map.of(), null, TargetConnection.MYSQL)));
        Authenticator tokens = token -> TOKEN.equals(token) ? CompletableFuture.completedFuture(ALICE)
                : BOB_TOKEN.equals(token) ? CompletableFuture.completedFuture(BOB)
                : CompletableFuture.failedFuture(new Authenticator.AuthenticationFailure("the token is not valid", true));
        MySqlDialect dialect = (version, modes) -> MySqlAnalyzer.mariaDb(version).withSqlMode(modes);
        edge = new MySqlEdge(vertx, config(pem.certificate(), pem.privateKey(), false), catalog, tokens, log, log, dialect,
                new SimpleMeterRegistry());
        edge.useMasking(MaskingProfiles.parse(MASKING, () -> HmacKey.of("mysql-edge-test-hmac-key-0001")));
        port = edge.start().await();
        plaintextEdge = new MySqlEdge(vertx, config(null, null, true), catalog, tokens, log, log, dialect,
                new SimpleMeterRegistry());
        plaintextPort = plaintextEdge.start().await();
        // the two listeners stand for two edges of a fleet: each one's control messages reach the other
        edge.useControl(plaintextEdge::onControl);
        plaintextEdge.useControl(edge::onControl);
    }

    private static PgEdgeConfig config(Path cert, Path key, boolean plaintext) {
        return new PgEdgeConfig("127.0.0.1", 0, cert, key, plaintext, Duration.ofSeconds(5), 64 << 20, 1024,
                plaintext ? "edge-mysql-plaintext" : "edge-mysql",
                PgEdgeConfig.DEFAULT_AUTHENTICATION_TIMEOUT, PgEdgeConfig.DEFAULT_MAX_CONNECTIONS, 2);
    }

    @AfterAll
    static void stop() throws Exception {
        if (edge != null) edge.close();
        if (plaintextEdge != null) plaintextEdge.close();
        if (vertx != null) vertx.close().await();
        if (mariaDb != null) mariaDb.close();
    }

    @BeforeEach
    void resetPolicy() {
        log.decideWith(MySqlEdgeTest::policy);
    }

    private static Connection mariaDbDriver(String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/" + CONNECTION + "?sslMode=trust&user=alice"
                + "&password=" + TOKEN + extra);
    }

    private static Connection mysqlDriver(String extra) throws SQLException {
        return DriverManager.getConnection("jdbc:mysql://127.0.0.1:" + port + "/" + CONNECTION + "?sslMode=REQUIRED"
                + "&user=alice&password=" + TOKEN + extra);
    }

    /** The statements the target logged as queries of its connections, in order. */
    private static List<String> targetQueries() {
        return mariaDb.log().stream().filter(e -> e.command().equals("Query")).map(LoggingMariaDb.Entry::argument).toList();
    }

    private static List<AuditEvent.CommandReceived> received() {
        return log.events(AuditEvent.CommandReceived.class);
    }

    @Test
    void mariaDbConnectorJOverTlsRunsWhatIsAllowedAndTheTargetRunsExactlyThat() throws Exception {
        try (Connection c = mariaDbDriver(""); Statement s = c.createStatement()) {
            // When the client reads and writes through the edge
            ResultSet rs = s.executeQuery("SELECT name FROM items WHERE id = 2");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("two");
            assertThat(s.executeUpdate("UPDATE items SET name = 'zwei' WHERE id = 2")).isEqualTo(1);

            // Then each statement was recorded, analysed as the target reads it, before the target ran it
            var select = received().stream().filter(r -> r.command().sql().equals("SELECT name FROM items WHERE id = 2"))
                    .findFirst().orElseThrow();
            assertThat(select.command().protocol()).isEqualTo("mysql");
            assertThat(select.connection().protocol()).isEqualTo("mysql");
            assertThat(select.command().statements().getFirst().analysis().tablesRead()).containsExactly("items");
            mariaDb.awaitLogged(e -> e.argument().equals("UPDATE items SET name = 'zwei' WHERE id = 2"), Duration.ofSeconds(10));
            assertThat(targetQueries()).contains("SELECT name FROM items WHERE id = 2");
            var completed = log.events(AuditEvent.CommandCompleted.class);
            assertThat(completed).anySatisfy(e -> {
                assertThat(e.outcome().forwarded()).isTrue();
                assertThat(e.outcome().rows()).isEqualTo(1);
            });
        }
    }

    @Test
    void aDeniedStatementGetsAnErrNamingTheRuleAndNeverReachesTheTarget() throws Exception {
        try (Connection c = mariaDbDriver(""); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("CREATE DATABASE forgotten_ci_job"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(1227);
                        assertThat(e.getSQLState()).isEqualTo("42000");
                        assertThat(e.getMessage()).contains("denied by rule \"no-create-drop-database\"");
                    });
            // the session goes on
            ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM items");
            assertThat(rs.next()).isTrue();
        }
        mariaDb.awaitLogged(e -> e.argument().equals("SELECT COUNT(*) FROM items"), Duration.ofSeconds(10));
        assertThat(targetQueries()).noneMatch(q -> q.toLowerCase().contains("forgotten_ci_job"));
    }

    @Test
    void anExecutableCommentIsCodeTheTargetRunsSoItIsDecidedAsCode() throws Exception {
        try (Connection c = mariaDbDriver("&allowMultiQueries=true"); Statement s = c.createStatement()) {
            // MariaDB 11.4 runs /*!100000 ... */ (its version is 110405): the comment hides a second statement from a
            // naive reader (the server lexes the second statement afresh, so "-- " hides the closing "*" "/")
            assertThatThrownBy(() -> s.execute("SELECT 1 /*!100000 ; CREATE DATABASE hidden_by_comment -- */"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1227));
            // MariaDB ignores MySQL's /*!50700 .. 99999 */ comments: what is inside is not run, and not decided
            ResultSet ignored = s.executeQuery("SELECT 'ignored' /*!80000 , 'mysql 8 only' */");
            assertThat(ignored.getMetaData().getColumnCount()).isEqualTo(1);
            assertThatThrownBy(() -> s.execute("/*M! CREATE DATABASE hidden_by_mariadb_comment */"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1227));
            s.executeQuery("SELECT 'after the comments'");
        }
        mariaDb.awaitLogged(e -> e.argument().equals("SELECT 'after the comments'"), Duration.ofSeconds(10));
        assertThat(targetQueries()).noneMatch(q -> q.contains("hidden_by"));
        var denied = received().stream().filter(r -> r.command().sql().contains("hidden_by_comment")).findFirst().orElseThrow();
        assertThat(denied.command().statements()).extracting(st -> st.analysis().tag()).contains("CREATE DATABASE");
    }

    @Test
    void afterARefusalInsideATransactionTheTargetIsRolledBackAndOnlyRollbackPasses() throws Exception {
        try (Connection c = mariaDbDriver(""); Statement s = c.createStatement()) {
            c.setAutoCommit(false);
            s.executeUpdate("INSERT INTO items VALUES (100, 'in the transaction')");
            assertThatThrownBy(() -> s.execute("CREATE DATABASE in_a_transaction"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage()).contains("rolled the transaction back"));
            // a client that ignores the error cannot commit half of the transaction
            assertThatThrownBy(() -> s.executeUpdate("INSERT INTO items VALUES (101, 'after the refusal')"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage()).contains("only ROLLBACK"));
            c.rollback();
            c.setAutoCommit(true);
            ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM items WHERE id >= 100");
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
        assertThat(targetQueries()).doesNotContain("INSERT INTO items VALUES (101, 'after the refusal')");
    }

    @Test
    void statementCancelKillsTheQueryOfThatSessionAtTheTargetUnderTheTargetsOwnId() throws Exception {
        try (Connection c = mariaDbDriver(""); Statement s = c.createStatement()) {
            long edgeId = c.unwrap(org.mariadb.jdbc.Connection.class).getThreadId();
            var sleeping = CompletableFuture.supplyAsync(() -> {
                try (ResultSet rs = s.executeQuery("SELECT SLEEP(60) AS slept")) {
                    rs.next();
                    return "returned " + rs.getInt(1);
                } catch (SQLException e) {
                    return "error " + e.getErrorCode();
                }
            });
            mariaDb.awaitLogged(e -> e.argument().equals("SELECT SLEEP(60) AS slept"), Duration.ofSeconds(30));
            long targetId = mariaDb.log().stream().filter(e -> e.argument().equals("SELECT SLEEP(60) AS slept"))
                    .reduce((a, b) -> b).orElseThrow().connectionId();

            // When: Connector/J cancels it (a new connection sends KILL QUERY <the edge's id of the session>)
            s.cancel();

            // Then: the target was asked to kill its own thread of that session, and the query ended early
            // (SLEEP answers 1 when interrupted; some versions raise 1317)
            assertThat(sleeping.get(30, TimeUnit.SECONDS)).isIn("returned 1", "error 1317");
            assertThat(targetQueries()).contains("KILL QUERY " + targetId);
            assertThat(received()).anySatisfy(r -> {
                assertThat(r.command().sql()).isEqualTo("KILL QUERY " + targetId);
                assertThat(r.command().statements().getFirst().via()).isEqualTo("KILL QUERY " + edgeId);
            });
        }
    }

    @Test
    void aKillOfASessionOnAnotherEdgeIsRoutedThereAndActsOnlyForTheSameIdentity() throws Exception {
        // Given: alice's long query on one edge
        try (MySqlRawClient raw = MySqlRawClient.login(plaintextPort, CONNECTION, "alice", TOKEN)) {
            long edgeId = raw.connectionId;
            raw.send(0, MySqlRawClient.command(0x03, "SELECT SLEEP(60) AS routed_sleep"));
            var sleeping = CompletableFuture.supplyAsync(() -> {
                try {
                    List<List<String>> rows = raw.readRows();
                    return "returned " + rows.getFirst().getFirst();
                } catch (AssertionError | java.io.IOException e) {
                    return "error " + e.getMessage();
                }
            });
            mariaDb.awaitLogged(e -> e.argument().equals("SELECT SLEEP(60) AS routed_sleep"), Duration.ofSeconds(30));
            long targetId = mariaDb.log().stream().filter(e -> e.argument().equals("SELECT SLEEP(60) AS routed_sleep"))
                    .reduce((a, b) -> b).orElseThrow().connectionId();

            // When: bob, then alice, send KILL QUERY <that id> to the other edge
            try (Connection b = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/" + CONNECTION
                    + "?sslMode=trust&user=bob&password=" + BOB_TOKEN); Statement bs = b.createStatement()) {
                bs.execute("KILL QUERY " + edgeId); // answered OK, as the server answers: the holder checks the identity
            }
            try (Connection a = mariaDbDriver(""); Statement as = a.createStatement()) {
                as.execute("KILL QUERY " + edgeId);
            }

            // Then: alice's query ended early; the holding edge ran the target's KILL of its own thread once (alice's)
            assertThat(sleeping.get(30, TimeUnit.SECONDS)).matches("returned 1|error .*1317.*");
            assertThat(targetQueries().stream().filter(q -> q.equals("KILL QUERY " + targetId)).count()).isEqualTo(1);
            assertThat(log.events(AuditEvent.CancelRequested.class)).anySatisfy(e ->
                    assertThat(e.toString()).contains("KILL QUERY " + edgeId + " routed from edge"));
        }
    }

    @Test
    void nobodyKillsAnotherIdentitysSessionAndNumbersThatAreNotSessionsAreUnknown() throws Exception {
        try (Connection alice = mariaDbDriver(""); Connection bob = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:"
                + port + "/" + CONNECTION + "?sslMode=trust&user=bob&password=" + BOB_TOKEN); Statement s = bob.createStatement()) {
            long aliceId = alice.unwrap(org.mariadb.jdbc.Connection.class).getThreadId();
            ResultSet own = alice.createStatement().executeQuery("SELECT CONNECTION_ID()");
            own.next();
            long aliceTargetId = own.getLong(1); // the target's id of alice's session, which the edge never shows
            for (String kill : List.of("KILL " + aliceId, "KILL QUERY " + aliceId, "KILL USER app")) {
                assertThatThrownBy(() -> s.execute(kill)).as(kill).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getErrorCode()).isIn(1094, 1235));
            }
            // a number no session of this edge has goes to the fleet, answered OK as the server does; nothing holds it
            s.execute("KILL 1");
            // alice's session is untouched
            ResultSet rs = alice.createStatement().executeQuery("SELECT 'still alive'");
            assertThat(rs.next()).isTrue();
            assertThat(targetQueries()).noneMatch(q -> q.startsWith("KILL") && q.endsWith(" " + aliceTargetId));
        }
    }

    @Test
    void aStatementHeldForApprovalWaitsAndRunsOnceApproved() throws Exception {
        log.decideWith(request -> request instanceof AuditEvent.CommandReceived c && c.command().sql().contains("'held'")
                ? new Decision.RequireApproval(c.requestId(), "items-need-a-dba", "changes to items need a DBA", "test", "dba",
                1, "ap-mysql-1", Decision.RequireApproval.HOLD, java.time.Instant.now().plusSeconds(60), "#db")
                : policy(request));
        try (Connection c = mariaDbDriver(""); Statement s = c.createStatement()) {
            var update = CompletableFuture.supplyAsync(() -> {
                try {
                    return s.executeUpdate("UPDATE items SET name = 'held' WHERE id = 1");
                } catch (SQLException e) {
                    throw new java.util.concurrent.CompletionException(e);
                }
            });
            org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> received().stream()
                    .anyMatch(r -> r.command().sql().contains("'held'")));
            var held = received().stream().filter(r -> r.command().sql().contains("'held'")).findFirst().orElseThrow();
            assertThat(update).isNotDone();
            assertThat(targetQueries()).noneMatch(q -> q.contains("'held'"));

            // When a DBA approves
            log.outcome(held.command().id(), new Decision.Allow(held.command().id(), "items-need-a-dba", "approved by bob", "test"));

            // Then the statement runs, once
            assertThat(update.get(30, TimeUnit.SECONDS)).isEqualTo(1);
            assertThat(targetQueries()).filteredOn(q -> q.contains("'held'")).hasSize(1);
            s.executeUpdate("UPDATE items SET name = 'one' WHERE id = 1");
        }
    }

    @Test
    void observeModeRecordsEveryCommandBeforeForwardingItWithoutWaitingForADecision() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/" + CONNECTION
                + "-observe?sslMode=trust&user=alice&password=" + TOKEN); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT 'observed' AS mode");
            assertThat(rs.next()).isTrue();
        }
        var observed = received().stream().filter(r -> r.command().sql().equals("SELECT 'observed' AS mode")).findFirst()
                .orElseThrow();
        assertThat(observed.mode()).isEqualTo("observe");
        assertThat(log.events(AuditEvent.CommandCompleted.class))
                .anySatisfy(e -> assertThat(e.commandId()).isEqualTo(observed.command().id()));
    }

    @Test
    void connectionAttributesDeclareAnUnverifiedRunAndStepAndBadOnesAreRefused() throws Exception {
        // When: Connector/J sends the run and step as connection attributes
        try (Connection c = mariaDbDriver("&connectionAttributes=gatehouse_run_id:run-5,gatehouse_step_id:7");
             Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT 'declared' AS intent");
            assertThat(rs.next()).isTrue();
        }

        // Then: the command's identity carries the client's word, marked unverified
        var declared = received().stream().filter(r -> r.command().sql().equals("SELECT 'declared' AS intent")).findFirst()
                .orElseThrow();
        assertThat(declared.identity().intent())
                .isEqualTo(new DeclaredIntent("run-5", "7", false, DeclaredIntent.CONNECTION_PARAMETER));
        SQLException e = catchThrowableOfType(SQLException.class,
                () -> mariaDbDriver("&connectionAttributes=gatehouse_run_id:" + "r".repeat(250)).close());
        assertThat(e.getErrorCode()).isEqualTo(1231);
        assertThat(e.getMessage()).contains("gatehouse_run_id must be 1 to 200 letters, digits or . _ : / @ + = -");
    }

    @Test
    void aRevocationEndsALiveMySqlSessionOfThatIdentity() throws Exception {
        try (Connection bobs = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/" + CONNECTION
                + "?sslMode=trust&user=bob&password=" + BOB_TOKEN); Statement s = bobs.createStatement()) {
            s.executeQuery("SELECT 1");
            var revocation = dev.gatehouse.platform.revocation.Revocation.create(new dev.gatehouse.platform.revocation.Selector(
                    dev.gatehouse.platform.revocation.Selector.Type.SUBJECT, "bob"), "security", "laptop stolen");
            assertThat(edge.enforce(revocation)).isEqualTo(1);
            assertThatThrownBy(() -> {
                // the session ended: the next command fails, whether the error or the closed socket comes first
                for (int i = 0; i < 50; i++) s.executeQuery("SELECT 1");
            }).isInstanceOf(SQLException.class);
        }
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).untilAsserted(() ->
                assertThat(log.events(AuditEvent.SessionClosed.class)).anySatisfy(e -> assertThat(e.reason()).contains("laptop stolen")));
    }

    @Test
    void loadDataLocalInfileIsRefusedAtTheProtocolLevel() throws Exception {
        Path file = Files.writeString(dir.resolve("rows.csv"), "200,from a client file\n");
        try (Connection c = mariaDbDriver("&allowLocalInfile=true"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("LOAD DATA LOCAL INFILE '" + file + "' INTO TABLE items FIELDS TERMINATED BY ','"))
                    .isInstanceOf(SQLException.class);
            ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM items WHERE id = 200");
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    @Test
    void serverSidePreparedStatementsAreDecidedPerExecutionWithEveryParameter() throws Exception {
        try (Connection c = mariaDbDriver("&useServerPrepStmts=true")) {
            var select = c.prepareStatement("SELECT name FROM items WHERE id = ? AND name <> ?");
            for (int id : List.of(1, 2)) {
                select.setInt(1, id);
                select.setString(2, "n'o\\pe");
                ResultSet rs = select.executeQuery();
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isIn(id == 1 ? List.of("one") : List.of("two", "zwei")); // another test renames 2
            }
            // a denied statement is denied at each execution, whatever it was prepared as
            var create = c.prepareStatement("CREATE DATABASE prepared_and_denied");
            assertThatThrownBy(create::execute).isInstanceOfSatisfying(SQLException.class,
                    e -> assertThat(e.getErrorCode()).isEqualTo(1227));
        }
        // the target prepared and executed exactly what was recorded, with the recorded parameters
        assertThat(mariaDb.log()).anySatisfy(e -> {
            assertThat(e.command()).isEqualTo("Execute");
            assertThat(e.argument()).isEqualTo("SELECT name FROM items WHERE id = 2 AND name <> 'n\\'o\\\\pe'");
        });
        assertThat(received()).anySatisfy(r -> {
            assertThat(r.command().form()).isEqualTo(dev.gatehouse.platform.core.SqlCommand.Form.EXTENDED);
            CommandStatement st = r.command().statements().getFirst();
            assertThat(st.step()).isEqualTo(CommandStatement.Step.EXECUTE);
            assertThat(st.sql()).isEqualTo("SELECT name FROM items WHERE id = ? AND name <> ?");
            assertThat(st.parameters()).containsExactly("2", "n'o\\pe");
            assertThat(st.parametersDigest()).startsWith("sha256:");
        });
        assertThat(mariaDb.log()).noneMatch(e -> e.command().equals("Execute") && e.argument().contains("prepared_and_denied"));
    }

    @Test
    void statementIdMinusOneNeverRunsAnotherStatementThanTheOneDecided() throws Exception {
        try (MySqlRawClient raw = MySqlRawClient.login(plaintextPort, CONNECTION, "alice", TOKEN)) {
            // pipelined as MariaDB Connector/J does: prepare, prepare, execute "the last prepared"
            raw.send(0, MySqlRawClient.command(0x16, "SELECT 'first prepared'"));
            raw.send(0, MySqlRawClient.command(0x16, "CREATE DATABASE prepared_last"));
            raw.send(0, MySqlRawClient.execute(-1));
            raw.readAnswer(); // STMT_PREPARE_OK and definitions
            raw.readAnswer();
            byte[] answer = raw.readAnswer();
            assertThat(answer[0] & 0xFF).isEqualTo(0xFF);
            assertThat(((answer[2] & 0xFF) << 8) | (answer[1] & 0xFF)).isEqualTo(1227); // decided as CREATE DATABASE: denied

            // after a failed prepare, -1 names nothing the edge decided: refused, never passed on
            raw.send(0, MySqlRawClient.command(0x16, "SELEC broken"));
            raw.send(0, MySqlRawClient.execute(-1));
            assertThat(raw.readAnswer()[0] & 0xFF).isEqualTo(0xFF);
            answer = raw.readAnswer();
            assertThat(((answer[2] & 0xFF) << 8) | (answer[1] & 0xFF)).isEqualTo(1243);
        }
        assertThat(mariaDb.log()).noneMatch(e -> e.command().equals("Execute")
                && (e.argument().contains("prepared_last") || e.argument().contains("first prepared")));
    }

    @Test
    void aConnectionResetIsADecidedCommandAndTheEdgeForgetsWhatTheTargetForgets() throws Exception {
        try (MySqlRawClient raw = MySqlRawClient.login(plaintextPort, CONNECTION, "alice", TOKEN)) {
            // Given: a prepared statement and an open transaction
            raw.send(0, MySqlRawClient.command(0x16, "SELECT 'before the reset'"));
            byte[] prepared = raw.readAnswer();
            int id = java.nio.ByteBuffer.wrap(prepared, 1, 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt();
            raw.send(0, MySqlRawClient.command(0x03, "SET @kept = 'before the reset'"));
            assertThat(raw.readAnswer()[0]).isZero();

            // When: the client resets the connection
            raw.send(0, new byte[] {0x1f});
            byte[] ok = raw.readAnswer();

            // Then: the target answered OK, the reset was recorded as a command, and the statement is gone for both
            assertThat(ok[0]).isZero();
            raw.send(0, MySqlRawClient.execute(id));
            byte[] answer = raw.readAnswer();
            assertThat(answer[0] & 0xFF).isEqualTo(0xFF);
            assertThat(((answer[2] & 0xFF) << 8) | (answer[1] & 0xFF)).isEqualTo(1243);
            // the target did reset its session: the user variable is gone
            raw.send(0, MySqlRawClient.command(0x03, "SELECT @kept"));
            assertThat(raw.readRows()).containsExactly(java.util.Collections.singletonList(null));
        }
        assertThat(received()).anySatisfy(r -> {
            assertThat(r.command().statements().getFirst().analysis().tag()).isEqualTo("RESET CONNECTION");
            assertThat(r.command().statements().getFirst().analysis().settings()).containsExactly("*");
        });
        assertThat(mariaDb.log()).noneMatch(e -> e.command().equals("Execute") && e.argument().contains("before the reset"));
    }

    @Test
    void afterSetNamesTheEdgeReadsQueriesInTheNewCharacterSetAsTheTargetDoes() throws Exception {
        try (MySqlRawClient raw = MySqlRawClient.login(plaintextPort, CONNECTION, "alice", TOKEN)) {
            raw.send(0, MySqlRawClient.command(0x03, "SET NAMES latin1"));
            assertThat(raw.readAnswer()[0]).isZero();
            // 0xE9 is "é" in latin1 and no character at all in UTF-8: the edge must read it as the target does
            byte[] query = "\u0003SELECT 'caf\u00e9' AS word".getBytes(java.nio.charset.StandardCharsets.ISO_8859_1);
            raw.send(0, query);
            byte[] answer = raw.readAnswer();
            assertThat(answer[0] & 0xFF).isNotEqualTo(0xFF);
        }
        assertThat(received()).anySatisfy(r -> assertThat(r.command().sql()).isEqualTo("SELECT 'caf\u00e9' AS word"));
    }



    @Test
    void aMaskedQueryRelaysNoMaskedValueAndTheTargetRanItAsRecorded() throws Exception {
        log.decideWith(MySqlEdgeTest::maskingPolicy);
        try (Connection c = mariaDbDriver(""); Statement s = c.createStatement()) {
            // columns selected by rules, a detector on text, NULLs and other columns as they are (text protocol)
            ResultSet rs = s.executeQuery("SELECT id, name, ssn, born, note, doc FROM people ORDER BY id");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt("id")).isEqualTo(1);
            assertThat(rs.getString("name")).isEqualTo("Ann");
            assertThat(rs.getString("ssn")).isEqualTo("***-**-6789");
            assertThat(rs.getString("born")).isNull(); // a date cannot hold the method's text: NULL
            assertThat(rs.getString("note")).isEqualTo("write to [REDACTED]");
            assertThat(rs.getString("doc")).isIn("[REDACTED]", "\"[REDACTED]\""); // MariaDB's JSON is LONGTEXT
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString("ssn")).isNull();
            // values computed from a masked column, and a view's columns, are masked as a whole
            rs = s.executeQuery("SELECT CONCAT(ssn, '') AS copied, LENGTH(ssn) AS n FROM people WHERE id = 1");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString("copied")).isEqualTo("[REDACTED]");
            assertThat(rs.getObject("n")).isNull();
            rs = s.executeQuery("SELECT loud FROM people_v WHERE id = 1");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString("loud")).isEqualTo("[REDACTED]");
        }
        // the binary protocol (server-side prepared statements of both drivers)
        for (Connection c : List.of(mariaDbDriver("&useServerPrepStmts=true"), mysqlDriver("&useServerPrepStmts=true"))) {
            try (c) {
                var select = c.prepareStatement("SELECT id, ssn, born, note, LENGTH(ssn) AS n FROM people WHERE id = ?");
                select.setInt(1, 1);
                ResultSet rs = select.executeQuery();
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt("id")).isEqualTo(1);
                assertThat(rs.getString("ssn")).isEqualTo("***-**-6789");
                assertThat(rs.getObject("born")).isNull();
                assertThat(rs.getString("note")).isEqualTo("write to [REDACTED]");
                assertThat(rs.getObject("n")).isNull();
            }
        }
        // the target ran the masked queries as recorded; each completion says what was masked
        assertThat(targetQueries()).contains("SELECT id, name, ssn, born, note, doc FROM people ORDER BY id");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> log.events(AuditEvent.CommandCompleted.class)
                .stream().filter(e -> e.outcome().masking() != null && e.sample() != null
                        && e.sample().columns().contains("n") && e.sample().columns().contains("note")).count() >= 2);
        var completed = log.events(AuditEvent.CommandCompleted.class).stream()
                .filter(e -> e.outcome().masking() != null).toList();
        assertThat(completed).isNotEmpty().allSatisfy(e -> assertThat(e.outcome().masking().profile()).isEqualTo("pii"));
        assertThat(completed).anySatisfy(e -> assertThat(e.outcome().masking().columns()).containsKey("target.people.ssn"));
        // the result sample is taken after masking: it holds the masked values only
        assertThat(completed).allSatisfy(e -> assertThat(e.sample().toString()).doesNotContain("6789-", "123-45", "ann@"));
        assertThat(completed).anySatisfy(e -> {
            assertThat(e.sample().masked()).isTrue();
            assertThat(e.sample().rows()).hasSize(2);
            assertThat(e.sample().rows()).contains(java.util.Arrays.asList("1", "Ann", "***-**-6789", null, "write to [REDACTED]",
                    e.sample().rows().getFirst().get(5)));
        });
    }

    @Test
    void resultsAreSampledInTheTextAndTheBinaryProtocol() throws Exception {
        try (Connection c = mariaDbDriver(""); Statement s = c.createStatement()) {
            s.executeQuery("SELECT id, name FROM items WHERE id IN (1, 2) ORDER BY id /* sampled as text */").close();
        }
        try (Connection c = mysqlDriver("&useServerPrepStmts=true")) {
            var select = c.prepareStatement("SELECT id, name, 2.5 AS half FROM items WHERE id = ? /* sampled as binary */");
            select.setInt(1, 1);
            select.executeQuery().close();
        }
        // the completion is recorded just after the answer is relayed
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> assertThat(
                log.events(AuditEvent.CommandCompleted.class)).anyMatch(e -> e.sample() != null
                && e.sample().columns().contains("half")));
        var samples = log.events(AuditEvent.CommandCompleted.class).stream().filter(e -> e.sample() != null).toList();
        assertThat(samples).anySatisfy(e -> {
            assertThat(e.sample().columns()).containsExactly("id", "name");
            assertThat(e.sample().rows()).hasSize(2);
            assertThat(e.sample().rows()).containsExactly(List.of("1", "one"), List.of("2", e.sample().rows().get(1).get(1)));
        });
        assertThat(samples).anySatisfy(e -> {
            assertThat(e.sample().columns()).containsExactly("id", "name", "half");
            assertThat(e.sample().rows()).containsExactly(List.of("1", "one", "2.5"));
            assertThat(e.sample().masked()).isFalse();
        });
    }

    @Test
    void aMaskedCommandsWarningsAndErrorsDoNotQuoteTheValuesItRead() throws Exception {
        log.decideWith(MySqlEdgeTest::maskingPolicy);
        try (Connection c = mariaDbDriver(""); Statement s = c.createStatement()) {
            // Given: a masked query whose warnings quote the value (Truncated incorrect DOUBLE value: '123-45-6789')
            s.executeQuery("SELECT ssn + 0 AS n FROM people WHERE id = 1").close();
            // When: the client asks the target for them
            List<String> warnings = new ArrayList<>();
            ResultSet rs = s.executeQuery("SHOW WARNINGS");
            while (rs.next()) warnings.add(rs.getString("Message"));
            // Then: the edge cleared them before the next command ran
            assertThat(warnings).noneMatch(w -> w.contains("6789"));
            // and an error of a masked query keeps its number, not its text
            assertThatThrownBy(() -> s.executeQuery("SELECT CAST(ssn AS INTEGER) FROM people WHERE no_such_column = ssn"))
                    .isInstanceOfSatisfying(SQLException.class, e -> {
                        assertThat(e.getErrorCode()).isEqualTo(1054);
                        assertThat(e.getMessage()).contains("withheld").doesNotContain("no_such_column");
                    });
            rs = s.executeQuery("SHOW ERRORS");
            while (rs.next()) assertThat(rs.getString("Message")).doesNotContain("no_such_column");
        }
        assertThat(mariaDb.log()).anyMatch(e -> e.argument().equals(MySqlSession.CLEAR_DIAGNOSTICS));
    }

    @Test
    void aMaskedCommandThatWouldCarryAValueElsewhereIsRefusedBeforeItRuns() throws Exception {
        log.decideWith(MySqlEdgeTest::maskingPolicy);
        try (Connection c = mariaDbDriver(""); Statement s = c.createStatement()) {
            for (String sql : List.of("SELECT ssn INTO @kept FROM people WHERE id = 1",
                    "SELECT @kept := ssn FROM people WHERE id = 1",
                    "SELECT GET_LOCK(ssn, 0) FROM people WHERE id = 1",
                    "SELECT ssn FROM people INTO OUTFILE '/tmp/gatehouse-masked-out'",
                    "UPDATE items SET name = (SELECT ssn FROM people WHERE id = 1) WHERE id = 1")) {
                assertThatThrownBy(() -> s.execute(sql)).as(sql).isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(1227);
                    assertThat(e.getMessage()).contains("mask-people", "may only read");
                });
                assertThat(targetQueries()).as(sql).doesNotContain(sql);
            }
        }
    }

    @Test
    void longDataOfAPreparedStatementIsRecordedAndDecidedWithTheExecuteThatUsesIt() throws Exception {
        // Given: a policy that denies a value the parameters show
        log.decideWith(request -> request instanceof AuditEvent.CommandReceived c && c.command().statements().stream()
                .flatMap(st -> st.parameters().stream()).anyMatch(v -> v != null && v.startsWith("forbidden"))
                ? new Decision.Deny(c.requestId(), "no-forbidden-notes", "forbidden notes", "test") : policy(request));
        String big = "long-data-" + "x".repeat(100_000) + "-end";
        int id = 10;
        // When: both drivers send a stream as COM_STMT_SEND_LONG_DATA before the execute
        for (Connection c : List.of(mariaDbDriver("&useServerPrepStmts=true"), mysqlDriver("&useServerPrepStmts=true"))) {
            try (c) {
                var insert = c.prepareStatement("INSERT INTO notes (id, body) VALUES (?, ?)");
                insert.setInt(1, ++id);
                insert.setCharacterStream(2, new java.io.StringReader(big));
                assertThat(insert.executeUpdate()).isEqualTo(1);
                var denied = c.prepareStatement("INSERT INTO notes (id, body) VALUES (?, ?)");
                denied.setInt(1, 100 + id);
                denied.setCharacterStream(2, new java.io.StringReader("forbidden " + big));
                assertThatThrownBy(denied::executeUpdate).isInstanceOfSatisfying(SQLException.class,
                        e -> assertThat(e.getMessage()).contains("no-forbidden-notes"));
                ResultSet rs = c.createStatement().executeQuery("SELECT LENGTH(body) FROM notes WHERE id = " + id);
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(big.length());
            }
        }
        // Then: each execute was recorded with the long data's beginning, its length and a digest over all of it
        var executes = received().stream().filter(r -> r.command().statements().getFirst().sql().startsWith("INSERT INTO notes"))
                .map(r -> r.command().statements().getFirst()).toList();
        assertThat(executes).hasSizeGreaterThanOrEqualTo(4);
        assertThat(executes).anySatisfy(st -> {
            assertThat(st.parameters().get(1)).startsWith("long-data-xxx").endsWith("(truncated, " + big.length() + " bytes)");
            assertThat(st.parametersDigest()).startsWith("sha256:");
        });
        assertThat(executes.stream().map(CommandStatement::parametersDigest).distinct().count()).isGreaterThanOrEqualTo(2);
        // both drivers did send long data (the target logs each piece)
        assertThat(mariaDb.log().stream().filter(e -> e.command().equals("Long Data")).map(LoggingMariaDb.Entry::connectionId)
                .distinct().count()).isGreaterThanOrEqualTo(2);
        // the target ran the allowed inserts with the whole value, never the denied ones
        assertThat(mariaDb.log()).anyMatch(e -> e.command().equals("Execute") && e.argument().contains("-end')")
                && e.argument().startsWith("INSERT INTO notes"));
        assertThat(mariaDb.log()).noneMatch(e -> e.command().equals("Execute") && e.argument().contains("'forbidden "));
    }

    @Test
    void cursorsOfPreparedStatementsFetchTheirRowsAndMaskThemAsTheExecuteWas() throws Exception {
        log.decideWith(MySqlEdgeTest::maskingPolicy);
        long fetchesBefore = globalStatus("Com_stmt_fetch");
        // MySQL Connector/J reads with a read-only cursor and COM_STMT_FETCH, one row at a time
        try (Connection c = mysqlDriver("&useServerPrepStmts=true&useCursorFetch=true&defaultFetchSize=1")) {
            var items = c.prepareStatement("SELECT id, name FROM items WHERE id IN (?, ?) ORDER BY id /* with a cursor */");
            items.setInt(1, 1);
            items.setInt(2, 2);
            List<String> names = new ArrayList<>();
            try (ResultSet rs = items.executeQuery()) {
                while (rs.next()) names.add(rs.getInt(1) + ":" + rs.getString(2));
            }
            assertThat(names).hasSize(2).first().isEqualTo("1:one");
            var people = c.prepareStatement("SELECT id, ssn, note FROM people WHERE id >= ? ORDER BY id");
            people.setInt(1, 1);
            List<String> ssns = new ArrayList<>();
            try (ResultSet rs = people.executeQuery()) {
                while (rs.next()) ssns.add(rs.getString("ssn") + "|" + rs.getString("note"));
            }
            assertThat(ssns).containsExactly("***-**-6789|write to [REDACTED]", "null|null");
        }
        // the target served them from cursors: one fetch per row and one that found the end, per statement
        assertThat(globalStatus("Com_stmt_fetch") - fetchesBefore).isGreaterThanOrEqualTo(4);
    }

    private static long globalStatus(String name) throws SQLException {
        try (Connection c = mariaDb.adminConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SHOW GLOBAL STATUS LIKE '" + name + "'")) {
            assertThat(rs.next()).isTrue();
            return rs.getLong(2);
        }
    }

    @Test
    void batchesOfBothDriversAreDecidedStatementByStatement() throws Exception {
        log.decideWith(request -> request instanceof AuditEvent.CommandReceived c && c.command().statements().stream()
                .flatMap(st -> st.parameters().stream()).anyMatch(v -> v != null && v.startsWith("forbidden"))
                ? new Decision.Deny(c.requestId(), "no-forbidden-notes", "forbidden notes", "test") : policy(request));
        int base = 200;
        // MariaDB's driver would use COM_STMT_BULK_EXECUTE, which the edge does not offer: it sends one execute each
        for (Connection c : List.of(mariaDbDriver("&useServerPrepStmts=true&useBulkStmts=true"),
                mysqlDriver("&useServerPrepStmts=true"))) {
            try (c) {
                var insert = c.prepareStatement("INSERT INTO notes (id, body) VALUES (?, ?)");
                for (String body : List.of("batch one", "forbidden in a batch", "batch three")) {
                    insert.setInt(1, base++);
                    insert.setString(2, body);
                    insert.addBatch();
                }
                assertThatThrownBy(insert::executeBatch).isInstanceOf(java.sql.BatchUpdateException.class)
                        .hasMessageContaining("no-forbidden-notes");
            }
        }
        // the target ran the allowed executions of each batch, never the denied one
        assertThat(mariaDb.log()).anyMatch(e -> e.command().equals("Execute") && e.argument().contains("'batch one'"));
        assertThat(mariaDb.log()).noneMatch(e -> e.argument().contains("forbidden in a batch"));
        try (Connection admin = mariaDb.adminConnection(); Statement s = admin.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM target.notes WHERE body LIKE 'forbidden%'")) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    @Test
    void mysqlConnectorJsServerSidePreparedStatementsRunThroughTheEdge() throws Exception {
        try (Connection c = mysqlDriver("&useServerPrepStmts=true")) {
            var select = c.prepareStatement("SELECT name FROM items WHERE id = ?");
            select.setLong(1, 1);
            ResultSet rs = select.executeQuery();
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("one");
        }
        assertThat(received()).anySatisfy(r -> assertThat(r.command().statements().getFirst().parameters()).containsExactly("1"));
    }

    @Test
    void mysqlConnectorJLogsInWithTheTokenOverTls() throws Exception {
        try (Connection c = mysqlDriver(""); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT name FROM items WHERE id = 1");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("one");
            assertThatThrownBy(() -> s.execute("DROP DATABASE target"))
                    .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getErrorCode()).isEqualTo(1227));
        }
        assertThat(targetQueries()).doesNotContain("DROP DATABASE target");
    }

    @Test
    void aBadTokenIsRefusedWithAccessDenied() {
        assertThatThrownBy(() -> DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/" + CONNECTION
                + "?sslMode=trust&user=alice&password=wrong"))
                .isInstanceOfSatisfying(SQLException.class, e -> {
                    assertThat(e.getErrorCode()).isEqualTo(1045);
                    assertThat(e.getMessage()).contains("Gatehouse authentication failed").doesNotContain("wrong");
                });
        assertThat(log.events(AuditEvent.SessionRejected.class)).isNotEmpty();
    }

    @Test
    void withoutTlsTheTokenIsNotTakenUnlessPlaintextIsAllowed() throws Exception {
        assumeThat(Path.of("/usr/bin/mysql")).exists();
        // (Connector/J itself refuses to send a clear-text password without TLS)
        assertThat(mysqlCli(port, false, "SELECT 40 + 2;")).contains("requires TLS").doesNotContain("42");
        assertThat(mysqlCli(plaintextPort, false, "SELECT 40 + 2;")).contains("42");
    }

    /** Runs the mysql command-line client with {@code script} on its standard input; its output and errors. */
    private static String mysqlCli(int port, boolean tls, String script) throws Exception {
        List<String> command = new ArrayList<>(List.of("/usr/bin/mysql", "--protocol=TCP", "-h", "127.0.0.1", "-P",
                Integer.toString(port), "-u", "alice", "--password=" + TOKEN, "-D", CONNECTION, tls ? "--ssl" : "--skip-ssl",
                "-A", "--batch", "--skip-column-names", "--force"));
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        try (var in = p.getOutputStream()) {
            in.write(script.getBytes(StandardCharsets.UTF_8));
        } catch (java.io.IOException refusedBeforeReading) {
            // the client may exit (refused at login) before it reads its input
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    @Test
    void aConnectionWithTlsReachesItsTargetOverVerifiedTls() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/" + CONNECTION
                + "-tls?sslMode=trust&user=alice&password=" + TOKEN); Statement s = c.createStatement()) {
            // the target's own view of the edge's connection: encrypted
            ResultSet rs = s.executeQuery("SHOW SESSION STATUS LIKE 'Ssl_cipher'");
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(2)).isNotBlank();
            rs = s.executeQuery("SELECT name FROM items WHERE id = 1");
            assertThat(rs.next()).isTrue();
        }
        // a target whose certificate the connection's CA did not sign is not logged into
        assertThatThrownBy(() -> DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port + "/" + CONNECTION
                + "-tls-untrusted?sslMode=trust&user=alice&password=" + TOKEN))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                        .contains("TLS to the target failed").contains("certificate was not accepted"));
    }

    @Test
    void anUnknownConnectionIsRefusedNamingTheConnectionsThereAre() {
        assertThatThrownBy(() -> DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port
                + "/nowhere?sslMode=trust&user=alice&password=" + TOKEN))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                        .contains("connection \"nowhere\" is not configured in Gatehouse").contains(CONNECTION));
        // without a database, a listener with several MySQL connections cannot choose
        assertThatThrownBy(() -> DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + port
                + "/?sslMode=trust&user=alice&password=" + TOKEN))
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getMessage())
                        .contains("no Gatehouse connection selected"));
    }

    @Test
    void theMysqlCommandLineClientRunsQueriesAndShowsDenials() throws Exception {
        assumeThat(Path.of("/usr/bin/mysql")).exists();
        String out = mysqlCli(port, true, "SELECT name FROM items WHERE id = 1;\nCREATE DATABASE from_the_cli;\n"
                + "SELECT 'still here';\n");
        assertThat(out).contains("one").contains("ERROR 1227 (42000)").contains("no-create-drop-database")
                .contains("still here");
        assertThat(targetQueries()).noneMatch(q -> q.contains("from_the_cli"));
    }

    @Test
    void aDrainingEdgeLetsTheCommandInFlightFinishThenEndsEverySessionWithTheServerShutdownError() throws Exception {
        // Given an edge of its own (draining stops its listener) with an idle session and one running a query
        MySqlEdge draining = new MySqlEdge(vertx, config(null, null, true), catalog, (token) -> TOKEN.equals(token)
                ? CompletableFuture.completedFuture(ALICE)
                : CompletableFuture.failedFuture(new Authenticator.AuthenticationFailure("the token is not valid", true)),
                log, log, (version, modes) -> MySqlAnalyzer.mariaDb(version).withSqlMode(modes), new SimpleMeterRegistry());
        int drainingPort = draining.start().await();
        try (MySqlRawClient idle = MySqlRawClient.login(drainingPort, CONNECTION, "alice", TOKEN);
             MySqlRawClient busy = MySqlRawClient.login(drainingPort, CONNECTION, "alice", TOKEN)) {
            busy.send(0, MySqlRawClient.command(0x03, "SELECT SLEEP(2) AS drained_sleep"));
            mariaDb.awaitLogged(e -> e.argument().equals("SELECT SLEEP(2) AS drained_sleep"), Duration.ofSeconds(30));

            // When the edge drains
            var drained = CompletableFuture.supplyAsync(() -> draining.drain(Duration.ofSeconds(30)));

            // Then the idle session ends at once with MySQL's own shutdown error, and no new client gets in
            assertThat(errorNumber(idle.read())).isEqualTo(MySqlProtocol.ER_SERVER_SHUTDOWN);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThatThrownBy(
                    () -> new java.net.Socket("127.0.0.1", drainingPort).close()).isInstanceOf(java.net.ConnectException.class));
            // the query in flight returns its result, then its session ends the same way
            assertThat(busy.readRows()).containsExactly(List.of("0"));
            assertThat(errorNumber(busy.read())).isEqualTo(MySqlProtocol.ER_SERVER_SHUTDOWN);
            assertThat(drained.get(30, TimeUnit.SECONDS)).as("sessions cut with a command in flight").isZero();
            assertThat(log.events(AuditEvent.CommandCompleted.class)).anySatisfy(c -> {
                assertThat(c.outcome().forwarded()).isTrue();
                assertThat(c.outcome().rows()).isEqualTo(1);
            });
        } finally {
            draining.close();
        }
    }

    /** The error number of an ERR packet. */
    private static int errorNumber(byte[] packet) {
        assertThat(packet[0] & 0xFF).as("an ERR packet").isEqualTo(0xFF);
        return (packet[1] & 0xFF) | (packet[2] & 0xFF) << 8;
    }
}
