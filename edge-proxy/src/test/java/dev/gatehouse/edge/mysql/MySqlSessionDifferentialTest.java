package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.edge.catalog.ConnectionCatalog;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.policy.sql.mysql.MySqlAnalyzer;
import dev.gatehouse.testsupport.InMemoryDecisionPort;
import dev.gatehouse.testsupport.LoggingMariaDb;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The differential test of the MySQL session: generated sequences of protocol commands from a raw
 * socket (queries with several statements, executable comments of both dialects, sql_mode changes
 * that change how backslashes and double quotes read, transactions, server-side prepared statements
 * executed by id and by MariaDB's id -1, with and without a cursor, fetches, long data, statement
 * close and reset, connection reset,
 * multi-statements switched off and on) run through the edge against a real MariaDB 11.4 that logs
 * every command it receives, and the target's own record is compared with the edge's:
 * <ol>
 *   <li>the target never wrote {@code secret_t} and never dropped {@code open_t} (its data, not
 *       its log, says so), and never received a statement naming {@code hidden_t};</li>
 *   <li>every query the target logged for the session is the text of a command the edge recorded
 *       and the policy allowed, or the edge's own ROLLBACK after a refusal in a transaction;</li>
 *   <li>every prepared statement the target executed is one the edge saw prepared and the policy
 *       allowed to execute, no more often than it was allowed.</li>
 * </ol>
 * The policy denies writes to {@code secret_t}, reads of {@code hidden_t} and DROP.
 */
class MySqlSessionDifferentialTest {
    private static final String CONNECTION = "diff";
    private static final String TOKEN = "differential-token";
    private static final Identity ALICE = new Identity("alice", "https://issuer.test", List.of(), List.of(), Map.of(), null);

    private static LoggingMariaDb mariaDb;
    private static Vertx vertx;
    private static MySqlEdge edge;
    private static int port;
    private static final InMemoryDecisionPort log = new InMemoryDecisionPort(MySqlSessionDifferentialTest::policy);

    static boolean denies(StatementAnalysis a) {
        return (a.tag() != null && a.tag().startsWith("DROP"))
                || a.tablesWritten().stream().anyMatch(t -> t.endsWith("secret_t"))
                || a.tablesRead().stream().anyMatch(t -> t.endsWith("hidden_t"));
    }

    static Decision policy(AuditEvent.DecisionRequest request) {
        if (request instanceof AuditEvent.CommandReceived c
                && c.command().statements().stream().map(CommandStatement::analysis).anyMatch(MySqlSessionDifferentialTest::denies)) {
            return new Decision.Deny(c.requestId(), "deny-secret", "secret_t, hidden_t and DROP are denied", "test");
        }
        return new Decision.Allow(request.requestId(), "allow", "test", "test");
    }

    @BeforeContainer
    static void start() throws Exception {
        mariaDb = LoggingMariaDb.start(Files.createTempDirectory("gatehouse-mysql-differential-").resolve("mariadb"));
        try (Connection c = mariaDb.adminConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE target.open_t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(200))");
            s.execute("INSERT INTO target.open_t (v) VALUES ('one')");
            s.execute("CREATE TABLE target.secret_t (id INT, v VARCHAR(200))");
            s.execute("CREATE TABLE target.hidden_t (id INT, v VARCHAR(200))");
            s.execute("INSERT INTO target.hidden_t VALUES (1, 'hidden value')");
        }
        vertx = Vertx.vertx();
        var catalog = new ConnectionCatalog(List.of(new TargetConnection(CONNECTION, mariaDb.host(), mariaDb.port(),
                LoggingMariaDb.DATABASE, LoggingMariaDb.USER, LoggingMariaDb.PASSWORD, false, null,
                TargetConnection.Mode.ENFORCE, Map.of(), null, TargetConnection.MYSQL)));
        Authenticator tokens = token -> TOKEN.equals(token) ? CompletableFuture.completedFuture(ALICE)
                : CompletableFuture.failedFuture(new Authenticator.AuthenticationFailure("the token is not valid", true));
        MySqlDialect dialect = (version, modes) -> MySqlAnalyzer.mariaDb(version).withSqlMode(modes);
        edge = new MySqlEdge(vertx, new PgEdgeConfig("127.0.0.1", 0, null, null, true, Duration.ofSeconds(5), 64 << 20, 1024,
                "edge-mysql-differential", PgEdgeConfig.DEFAULT_AUTHENTICATION_TIMEOUT, PgEdgeConfig.DEFAULT_MAX_CONNECTIONS, 2),
                catalog, tokens, log, log, dialect, new SimpleMeterRegistry());
        port = edge.start().await();
    }

    @AfterContainer
    static void stop() throws Exception {
        if (edge != null) edge.close();
        if (vertx != null) vertx.close().await();
        if (mariaDb != null) mariaDb.close();
    }

    // ---------------------------------------------------------------- what a client sends

    sealed interface Action {
    }

    record Query(String sql) implements Action {
    }

    record Prepare(String sql) implements Action {
    }

    /** Executes the {@code which}-th statement prepared so far (-1: MariaDB's "the last prepared"), with a cursor or not. */
    record Execute(int which, String parameter, boolean cursor) implements Action {
    }

    /** COM_STMT_FETCH of one row from the {@code which}-th statement's cursor. */
    record Fetch(int which) implements Action {
    }

    record LongData(int which, String piece) implements Action {
    }

    record Close(int which) implements Action {
    }

    record ResetStatement(int which) implements Action {
    }

    record ResetConnection() implements Action {
    }

    record MultiStatements(boolean on) implements Action {
    }

    static final List<String> ALLOWED = List.of(
            "SELECT v FROM open_t WHERE id = 1",
            "INSERT INTO open_t (v) VALUES ('a')",
            "UPDATE open_t SET v = 'b' WHERE id = 1",
            "BEGIN", "COMMIT", "ROLLBACK",
            "SELECT 'it''s', @x",
            "SET @x = 'kept'");

    /** Settings that change how the target reads what follows. */
    static final List<String> MODES = List.of("SET sql_mode = 'NO_BACKSLASH_ESCAPES'", "SET sql_mode = 'ANSI_QUOTES'",
            "SET sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'", "SET sql_mode = ''",
            "SET SESSION sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')");

    static final List<String> DENIED = List.of(
            // denied, plainly and behind indirections
            "INSERT INTO secret_t VALUES (1, 'plain')",
            "SELECT v FROM hidden_t",
            "DROP TABLE open_t",
            "SELECT 1; INSERT INTO secret_t VALUES (2, 'second statement')",
            "SELECT 1 /*!100000 ; INSERT INTO secret_t VALUES (3, 'executable comment') -- */",
            "SELECT 1 /*M! ; UPDATE secret_t SET v = 'mariadb comment' -- */",
            "SELECT 1 /*!50700 ; INSERT INTO secret_t VALUES (4, 'a MySQL version MariaDB ignores') -- */",
            // how these read depends on NO_BACKSLASH_ESCAPES and ANSI_QUOTES
            "SELECT 'a\\' ; INSERT INTO secret_t VALUES (5, 'backslash') -- '",
            "SELECT \"x\" FROM open_t WHERE id = 1",
            "SELECT \"v\" FROM \"hidden_t\"",
            "SELECT \"a\\\" ; INSERT INTO secret_t VALUES (6, 'dq') -- \"");

    static final List<String> PREPARED = List.of(
            "SELECT v FROM open_t WHERE id = ?",
            "INSERT INTO open_t (v) VALUES (?)",
            "INSERT INTO secret_t VALUES (7, ?)",
            "SELECT v FROM hidden_t WHERE v <> ?",
            "SELECT 1 /*!100000 , (SELECT COUNT(*) FROM hidden_t) */ FROM open_t WHERE v <> ?");

    @Provide
    Arbitrary<List<Action>> sequences() {
        Arbitrary<Action> query = Arbitraries.frequencyOf(net.jqwik.api.Tuple.of(3, Arbitraries.of(ALLOWED)),
                net.jqwik.api.Tuple.of(3, Arbitraries.of(MODES)), net.jqwik.api.Tuple.of(5, Arbitraries.of(DENIED)))
                .map(Query::new);
        Arbitrary<Action> prepare = Arbitraries.of(PREPARED).map(Prepare::new);
        Arbitrary<String> parameter = Arbitraries.of("1", "x", "it's", "a\\' OR 1 -- ");
        Arbitrary<Action> execute = Arbitraries.integers().between(-1, 3).flatMap(w -> parameter.flatMap(p ->
                Arbitraries.of(false, true).map(cursor -> new Execute(w, p, cursor))));
        Arbitrary<Action> fetch = Arbitraries.integers().between(-1, 3).map(Fetch::new);
        Arbitrary<Action> longData = Arbitraries.integers().between(-1, 3).flatMap(w -> parameter.map(p -> new LongData(w, p)));
        Arbitrary<Action> close = Arbitraries.integers().between(-1, 3).map(Close::new);
        Arbitrary<Action> reset = Arbitraries.integers().between(-1, 3).map(ResetStatement::new);
        Arbitrary<Action> other = Arbitraries.of(new ResetConnection(), new MultiStatements(false), new MultiStatements(true));
        return Arbitraries.frequencyOf(
                        net.jqwik.api.Tuple.of(6, query), net.jqwik.api.Tuple.of(3, prepare), net.jqwik.api.Tuple.of(4, execute),
                        net.jqwik.api.Tuple.of(1, longData), net.jqwik.api.Tuple.of(1, close), net.jqwik.api.Tuple.of(1, reset),
                        net.jqwik.api.Tuple.of(1, other), net.jqwik.api.Tuple.of(2, fetch))
                .list().ofMinSize(1).ofMaxSize(14);
    }

    @Property(tries = 80, shrinking = ShrinkingMode.BOUNDED)
    void theTargetRunsOnlyWhatTheEdgeRecordedAndThePolicyAllowed(@ForAll("sequences") List<Action> actions) throws Exception {
        // each try starts from the same data (a failing try must not fail the next, so shrinking finds the real cause)
        try (Connection c = mariaDb.adminConnection(); Statement s = c.createStatement()) {
            s.execute("DELETE FROM target.secret_t");
            s.execute("CREATE TABLE IF NOT EXISTS target.open_t (id INT PRIMARY KEY AUTO_INCREMENT, v VARCHAR(200))");
        }
        int before = mariaDb.log().size();
        int eventsBefore = log.events().size();
        Long targetId;
        // with multi-statements, as the mysql client logs in (MultiStatements actions switch them off and on)
        try (MySqlRawClient raw = MySqlRawClient.login(port, CONNECTION, "alice", TOKEN, 0x10000)) {
            Client client = new Client();
            for (Action a : actions) run(raw, a, client);
            raw.send(0, MySqlRawClient.command(0x03, "SELECT 'end of sequence'"));
            raw.readFullAnswer();
        }
        mariaDb.awaitLogged(e -> e.argument().equals("SELECT 'end of sequence'"), Duration.ofSeconds(10));
        List<AuditEvent> all = log.events();
        List<AuditEvent> events = all.subList(eventsBefore, all.size());
        targetId = events.stream().filter(e -> e instanceof AuditEvent.SessionOpened).map(e -> (long) ((AuditEvent.SessionOpened) e)
                .targetProcessId()).findFirst().orElseThrow();
        List<LoggingMariaDb.Entry> logged = mariaDb.log();
        List<LoggingMariaDb.Entry> ran = logged.subList(before, logged.size()).stream()
                .filter(e -> e.connectionId() == targetId).toList();

        // 1. the target's data and what it received
        try (Connection c = mariaDb.adminConnection(); Statement s = c.createStatement()) {
            ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM target.secret_t");
            rs.next();
            assertThat(rs.getInt(1)).as("rows in secret_t").isZero();
            assertThat(s.executeQuery("SHOW TABLES FROM target LIKE 'open_t'").next()).as("open_t exists").isTrue();
        }
        assertThat(ran).as("statements naming hidden_t the target received")
                .noneMatch(e -> (e.command().equals("Query") || e.command().equals("Execute")) && e.argument().contains("hidden_t"));

        // 2. every query it ran was recorded and allowed (or is the edge's own ROLLBACK after a refusal)
        List<AuditEvent.CommandReceived> allowed = events.stream().filter(e -> e instanceof AuditEvent.CommandReceived)
                .map(e -> (AuditEvent.CommandReceived) e)
                .filter(r -> r.refusal() == null && policy(r) instanceof Decision.Allow).toList();
        Set<String> allowedQueries = allowed.stream().filter(r -> r.command().form() != dev.gatehouse.platform.core.SqlCommand.Form.EXTENDED)
                .map(r -> r.command().sql()).collect(Collectors.toSet());
        for (LoggingMariaDb.Entry e : ran) {
            if (!e.command().equals("Query")) continue;
            assertThat(allowedQueries.contains(e.argument()) || e.argument().equals("ROLLBACK"))
                    .as("the target ran \"%s\", which the edge did not record as allowed (recorded: %s)", e.argument(), allowedQueries)
                    .isTrue();
        }

        // 3. every execution was of an allowed prepared statement, no more often than allowed
        List<String> allowedExecutions = allowed.stream()
                .filter(r -> r.command().form() == dev.gatehouse.platform.core.SqlCommand.Form.EXTENDED)
                .map(r -> r.command().statements().getFirst().sql()).toList();
        List<LoggingMariaDb.Entry> executions = ran.stream().filter(e -> e.command().equals("Execute")).toList();
        assertThat(executions.size()).as("executions").isLessThanOrEqualTo(allowedExecutions.size());
        for (LoggingMariaDb.Entry e : executions) {
            assertThat(allowedExecutions).as("the target executed \"%s\"", e.argument())
                    .anyMatch(sql -> e.argument().startsWith(sql.substring(0, sql.indexOf('?'))));
        }
    }

    /** What the generated client knows, as a driver would: its statements, the last prepared, which hold long data. */
    private static final class Client {
        final List<Integer> ids = new ArrayList<>();
        int lastPrepared;
        final Set<Integer> withLongData = new java.util.HashSet<>();

        /** The statement id of the {@code which}-th prepared statement, -1 as it is, or one that was never prepared. */
        int id(int which) {
            if (which == -1) return -1;
            return which < ids.size() ? ids.get(which) : 1000 + which;
        }

        int resolved(int id) {
            return id == -1 ? lastPrepared : id;
        }
    }

    /** Sends one action and reads its whole answer (none for long data and close, as from the server). */
    private static void run(MySqlRawClient raw, Action a, Client client) throws Exception {
        List<Integer> ids = client.ids;
        switch (a) {
            case Query q -> {
                raw.send(0, MySqlRawClient.command(0x03, q.sql()));
                raw.readFullAnswer();
            }
            case Prepare p -> {
                raw.send(0, MySqlRawClient.command(0x16, p.sql()));
                byte[] ok = raw.readAnswer();
                if (ok[0] == 0) {
                    int id = ByteBuffer.wrap(ok, 1, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
                    ids.add(id);
                    client.lastPrepared = id;
                } else {
                    client.lastPrepared = 0;
                }
            }
            case Execute x -> {
                int id = client.id(x.which());
                boolean longData = client.withLongData.contains(client.resolved(id));
                raw.send(0, execute(id, longData ? null : x.parameter(), x.cursor()));
                int error = raw.readFullAnswer();
                // the target consumed the long data unless the execute never reached it
                if (error != 1227 && error != 1243) client.withLongData.remove(client.resolved(id));
            }
            case LongData l -> {
                byte[] piece = l.piece().getBytes(StandardCharsets.UTF_8);
                int id = client.id(l.which());
                if (!ids.contains(client.resolved(id))) return; // long data for no statement ends the session (tested elsewhere)
                raw.send(0, ByteBuffer.allocate(7 + piece.length).order(ByteOrder.LITTLE_ENDIAN).put((byte) 0x18)
                        .putInt(id).putShort((short) 0).put(piece).array());
                client.withLongData.add(client.resolved(id));
            }
            case Fetch f -> {
                raw.send(0, ByteBuffer.allocate(9).order(ByteOrder.LITTLE_ENDIAN).put((byte) 0x1c).putInt(client.id(f.which()))
                        .putInt(1).array());
                raw.readFetchAnswer();
            }
            case Close c -> {
                int id = client.id(c.which());
                raw.send(0, ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put((byte) 0x19).putInt(id).array());
                ids.remove(Integer.valueOf(client.resolved(id)));
                client.withLongData.remove(client.resolved(id));
                if (client.resolved(id) == client.lastPrepared) client.lastPrepared = 0;
            }
            case ResetStatement r -> {
                int id = client.id(r.which());
                raw.send(0, ByteBuffer.allocate(5).order(ByteOrder.LITTLE_ENDIAN).put((byte) 0x1a).putInt(id).array());
                raw.readFullAnswer();
                client.withLongData.remove(client.resolved(id));
            }
            case ResetConnection r -> {
                raw.send(0, new byte[] {0x1f});
                raw.readFullAnswer();
                ids.clear();
                client.withLongData.clear();
                client.lastPrepared = 0;
            }
            case MultiStatements m -> {
                raw.send(0, new byte[] {0x1b, (byte) (m.on() ? 0 : 1), 0});
                raw.readFullAnswer();
            }
        }
    }

    /**
     * A COM_STMT_EXECUTE with one VARCHAR parameter, types sent; {@code parameter} null when the
     * parameter's value is the long data the target holds (then the packet carries none).
     */
    private static byte[] execute(int statementId, String parameter, boolean cursor) {
        byte[] value = parameter == null ? new byte[0] : parameter.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(10 + 1 + 1 + 2 + (parameter == null ? 0 : 1 + value.length))
                .order(ByteOrder.LITTLE_ENDIAN).put((byte) 0x17).putInt(statementId).put((byte) (cursor ? 1 : 0)).putInt(1)
                .put((byte) 0)
                .put((byte) 1).putShort((short) 0xFD);
        if (parameter != null) b.put((byte) value.length).put(value);
        return b.array();
    }
}
