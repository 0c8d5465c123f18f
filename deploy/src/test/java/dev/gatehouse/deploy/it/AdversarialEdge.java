package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import io.vertx.core.json.JsonObject;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Predicate;
import java.util.regex.Matcher;

import static org.awaitility.Awaitility.await;

/**
 * The adversarial suite's edge: an edge of the shared {@link Gateway}'s fleet (its Kafka, policy
 * service with the example policy, approval service and token issuer) in front of a target of its
 * own whose statement log names the backend of every statement ({@link LoggingTarget}), so a test
 * can say what the target really ran for a session ({@code SessionOpened.targetProcessId}).
 * Started once per test JVM and shared by every {@code Adversarial*IT}.
 *
 * <ul>
 *   <li>{@value #DEMO}: the target's {@code demo} database (customers, orders, payouts, ledger),
 *       labelled {@code env: demo}, so the example policy's approval rules apply;</li>
 *   <li>{@value #PROD}: its {@code scratch} database, labelled {@code env: prod}, with a customers
 *       table of its own whose e-mail addresses ({@link #SECRETS}) no other connection ever reads,
 *       masked with the {@code pii-basic} profile of {@code config/masking.yaml}.</li>
 * </ul>
 */
final class AdversarialEdge {
    static final String DEMO = "adv";
    static final String PROD = "adv-prod";
    static final String EDGE_ID = "edge-adversarial";
    /** The e-mail addresses of the production customers: no client and no audit record may ever hold one. */
    static final List<String> SECRETS = List.of("adv.secret.ada@example.org", "adv.secret.grace@example.org",
            "adv.secret.edsger@example.org");

    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static AdversarialEdge instance;

    final Gateway gw = Gateway.get();
    private final LoggingTarget target;
    private final GatehouseRuntime edge;
    private final List<AuditEvent> events = new CopyOnWriteArrayList<>();
    private final Map<String, Shared> sharedSessions = new java.util.HashMap<>();
    /** Superuser connections for checks, by database. */
    private final Map<String, Connection> checks = new java.util.HashMap<>();

    private AdversarialEdge(LoggingTarget target, GatehouseRuntime edge) {
        this.target = target;
        this.edge = edge;
    }

    static synchronized AdversarialEdge get() {
        if (instance == null) {
            try {
                instance = start();
            } catch (Exception e) {
                throw new IllegalStateException("cannot start the adversarial edge", e);
            }
        }
        return instance;
    }

    private static AdversarialEdge start() throws Exception {
        Gateway gw = Gateway.get();
        Path dir = Files.createTempDirectory("gatehouse-adversarial-");
        LoggingTarget target = LoggingTarget.start(dir);
        prepare(target.target());
        DemoTarget t = target.target();
        GatehouseConfig config = EdgeConfigs.edge(EDGE_ID, dir, gw.env.kafka().bootstrapServers(), "5s",
                EdgeConfigs.plaintextListener("20s"), List.of(
                        new GatehouseConfig.Connection(DEMO, t.host(), t.port(), DemoTarget.DATABASE, t.role(), t.password(),
                                false, null, "enforce", Map.of("env", "demo")),
                        new GatehouseConfig.Connection(PROD, t.host(), t.port(), DemoTarget.SCRATCH, t.role(), t.password(),
                                false, null, "enforce", Map.of("env", "prod"))));
        // the fixture's policy and approval services decide for this edge too: they share the log
        GatehouseRuntime edge = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
        edge.edge().useMasking(MaskingProfiles.load(Path.of("config/masking.yaml"),
                () -> HmacKey.of("adversarial-it-hmac-key-0001")));
        AdversarialEdge adversarial = new AdversarialEdge(target, edge);
        adversarial.followAudit(Instant.now().minusSeconds(5));
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            edge.close();
            try {
                target.close();
            } catch (Exception ignored) {
                // the JVM is ending
            }
        }));
        return adversarial;
    }

    /** What the example policy's rules need on the target beyond the demo schema, created as its superuser. */
    private static void prepare(DemoTarget target) throws SQLException {
        try (Connection c = DriverManager.getConnection(target.superuserJdbcUrl(DemoTarget.DATABASE));
             Statement s = c.createStatement()) {
            s.execute("SET ROLE " + DemoTarget.ROLE);
            s.execute("CREATE TABLE IF NOT EXISTS ledger (id serial PRIMARY KEY, note text, amount int DEFAULT 0)");
        }
        try (Connection c = DriverManager.getConnection(target.superuserJdbcUrl(DemoTarget.SCRATCH));
             Statement s = c.createStatement()) {
            s.execute("SET ROLE " + DemoTarget.ROLE);
            s.execute("CREATE TABLE IF NOT EXISTS customers (id serial PRIMARY KEY, name text NOT NULL, email text NOT NULL,"
                    + " country text NOT NULL)");
            s.execute("INSERT INTO customers (name, email, country) VALUES ('Ada Lovelace', '" + SECRETS.get(0) + "', 'GB'),"
                    + " ('Grace Hopper', '" + SECRETS.get(1) + "', 'US'), ('Edsger Dijkstra', '" + SECRETS.get(2) + "', 'NL')");
        }
    }

    private void followAudit(Instant since) {
        AuditEventCodec codec = new AuditEventCodec();
        AuditTail tail = new AuditTail(gw.env.kafka().bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(30),
                EventSerde.of(codec::encode, codec::decode));
        Thread.ofPlatform().daemon().name("adversarial-audit").start(() -> tail.follow(null, since, events::add));
    }

    // ---------------------------------------------------------------- clients

    int port() {
        return edge.edgePort();
    }

    GatehouseRuntime runtime() {
        return edge;
    }

    String token(String subject, String... groups) {
        return gw.token(subject, groups);
    }

    /** A raw client logged in to {@code connection} as {@code subject}; {@code app} names its session in the log. */
    RawPgClient login(String connection, String app, String subject, String... groups) throws Exception {
        return RawPgClient.login(port(), connection, subject, token(subject, groups), app);
    }

    /** A superuser connection straight to the target (database demo or scratch). */
    Connection targetDirect(String database) throws SQLException {
        return DriverManager.getConnection(target.target().superuserJdbcUrl(database));
    }

    /** Runs SQL on the target as its superuser, on a connection of its own (objects an attacker found there). */
    void asSuperuser(String database, String... statements) throws SQLException {
        try (Connection c = targetDirect(database); Statement s = c.createStatement()) {
            for (String sql : statements) s.execute(sql);
        }
    }

    /** The single value of a query run on the target as its superuser (on a connection kept for such checks). */
    synchronized String superuserValue(String database, String sql) throws SQLException {
        Connection c = checks.get(database);
        if (c == null || c.isClosed()) {
            c = targetDirect(database);
            checks.put(database, c);
        }
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            return rs.next() ? rs.getString(1) : null;
        }
    }

    /** A session kept open for the cases of one test class that leave the session as it was. */
    record Shared(String app, RawPgClient client) implements AutoCloseable {
        @Override
        public void close() throws IOException {
            client.close();
        }
    }

    /**
     * The session kept under {@code key} for the cases of a test class that leave a session as it was
     * (opened at the first call; one login instead of one per case).
     */
    synchronized Shared shared(String key, String connection, String subject, String... groups) throws Exception {
        Shared session = sharedSessions.get(key);
        if (session == null) {
            String app = unique(key);
            session = new Shared(app, login(connection, app, subject, groups));
            sharedSessions.put(key, session);
        }
        return session;
    }

    static String unique(String prefix) {
        return prefix + "-" + UUID.randomUUID().toString().substring(0, 8);
    }

    // ---------------------------------------------------------------- the target's log

    /**
     * The statements the target logged for backend {@code pid}, without the edge's own reading of
     * the session's names; everything the target logged before this call is in it (a marker of the
     * superuser's is awaited first).
     */
    List<LoggingTarget.Executed> ran(int pid) throws Exception {
        String marker = unique("adv-log-marker");
        superuserValue(DemoTarget.DATABASE, "SELECT '" + marker + "'");
        soon().until(() -> target.lines().stream().anyMatch(l -> l.contains(marker)));
        return target.statements().stream().filter(x -> x.pid() == pid)
                .filter(x -> !x.sql().contains("pg_catalog.pg_prepared_statements UNION ALL")).toList();
    }

    /** The SQL the target logged for the backend of session {@code app}, as {@link #ran}. */
    List<String> statementsRan(String app) throws Exception {
        return ran(pid(app)).stream().map(LoggingTarget.Executed::sql).toList();
    }

    /** The transaction state of backend {@code pid} as the target's pg_stat_activity shows it. */
    String backendState(int pid) throws SQLException {
        return superuserValue(DemoTarget.DATABASE, "SELECT state FROM pg_stat_activity WHERE pid = " + pid);
    }

    /** What pg_stat_activity says for the status a ReadyForQuery reported. */
    static String stateOf(char readyStatus) {
        return switch (readyStatus) {
            case 'I' -> "idle";
            case 'T' -> "idle in transaction";
            case 'E' -> "idle in transaction (aborted)";
            default -> throw new IllegalArgumentException("not a transaction status: " + readyStatus);
        };
    }

    // ---------------------------------------------------------------- the audit log

    /** Awaits a condition of the log or the target: checked at once, then often (most hold within milliseconds). */
    static org.awaitility.core.ConditionFactory soon() {
        return await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(25));
    }

    /** Every audit event seen since the fixture started that {@code match}es. */
    <T extends AuditEvent> List<T> events(Class<T> type, Predicate<T> match) {
        return events.stream().filter(type::isInstance).map(type::cast).filter(match).toList();
    }

    /** The SessionOpened of the session whose client named itself {@code app}, once it is in the log. */
    AuditEvent.SessionOpened opened(String app) {
        return soon().until(
                () -> events(AuditEvent.SessionOpened.class, e -> app.equals(e.applicationName())).stream().findFirst().orElse(null),
                Objects::nonNull);
    }

    /** The target's backend pid of the session {@code app}. */
    int pid(String app) {
        return Objects.requireNonNull(opened(app).targetProcessId(), "SessionOpened without targetProcessId");
    }

    /** The session {@code app}'s commands so far, in order. */
    List<AuditEvent.CommandReceived> commands(String app) {
        SessionId session = opened(app).sessionId();
        return events(AuditEvent.CommandReceived.class, e -> e.sessionId().equals(session));
    }

    /** The first command of session {@code app} any statement of which contains {@code text}, once it is in the log. */
    AuditEvent.CommandReceived command(String app, String text) {
        return soon().until(() -> commands(app).stream()
                .filter(c -> c.command().statements().stream().anyMatch(s -> s.sql().contains(text))
                        || c.command().sql().contains(text))
                .findFirst().orElse(null), Objects::nonNull);
    }

    /** The CommandCompleted of a command, once it is in the log. */
    AuditEvent.CommandCompleted completed(CommandId id) {
        return soon().until(() -> events(AuditEvent.CommandCompleted.class,
                e -> e.commandId().equals(id)).stream().findFirst().orElse(null), Objects::nonNull);
    }

    /** The policy's decision about a command, once it is in the log. */
    Decision decision(CommandId id) {
        return soon().until(() -> events(AuditEvent.DecisionMade.class,
                e -> e.commandId().equals(id)).stream().map(AuditEvent.DecisionMade::decision).findFirst().orElse(null),
                Objects::nonNull);
    }

    /** The SessionRejected of a connection attempt by the startup user {@code user}, once it is in the log. */
    AuditEvent.SessionRejected rejected(String user) {
        return soon().until(() -> events(AuditEvent.SessionRejected.class,
                e -> user.equals(e.databaseUser())).stream().findFirst().orElse(null), Objects::nonNull);
    }

    // ---------------------------------------------------------------- approvals

    /** An approver of the dba group votes on an approval through the approval service's REST API. */
    void vote(String approvalId, String approver, boolean approve) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(approvals("/" + approvalId + (approve ? "/approve" : "/deny")))
                .header("Authorization", "Bearer " + token(approver, "dba"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(new JsonObject().put("reason", "adversarial suite").encode())).build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) throw new AssertionError("vote on " + approvalId + ": " + response.body());
    }

    /** The state of an approval ("pending", "granted", "executed", ...). */
    String approvalState(String approvalId) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(approvals("/" + approvalId))
                .header("Authorization", "Bearer " + token("adv-auditor", "dba")).GET().build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 200 ? new JsonObject(response.body()).getString("state") : null;
    }

    /** Reads the NOTICE that says the command waits for approval, and returns the approval's id. */
    static String awaitApprovalNotice(RawPgClient c) throws Exception {
        while (true) {
            RawPgClient.Message m = c.read();
            if (m.type() == 'E' || m.type() == 'Z') throw new AssertionError("no approval notice, got " + m);
            if (m.type() == 'N') {
                Matcher id = HeldPsql.APPROVAL_ID.matcher(m.fields().getOrDefault('M', ""));
                if (id.find()) return id.group(1);
            }
        }
    }

    /** Runs a simple Query; when it waits for approval, a DBA (bob) approves it. */
    RawPgClient.Answer runApproving(RawPgClient c, String sql) throws Exception {
        c.query(sql);
        return answerVoting(c, true);
    }

    /** Reads an answer up to ReadyForQuery; when it waits for approval, a DBA (bob) approves or denies it. */
    RawPgClient.Answer answerVoting(RawPgClient c, boolean approve) throws Exception {
        List<RawPgClient.Message> messages = new java.util.ArrayList<>();
        while (true) {
            RawPgClient.Message m = c.read();
            messages.add(m);
            if (m.type() == 'Z') return new RawPgClient.Answer(messages);
            if (m.type() == 'N' && m.fields().getOrDefault('M', "").startsWith("approval required")) {
                Matcher id = HeldPsql.APPROVAL_ID.matcher(m.fields().get('M'));
                if (id.find()) vote(id.group(1), "bob", approve);
            }
        }
    }

    /**
     * Sends a simple Query that must wait for a DBA's approval, has a DBA (bob) deny it, and returns
     * the approval's id and the client's answer; fails if the command does not wait for approval.
     */
    Held heldAndDenied(RawPgClient c, String sql) throws Exception {
        c.query(sql);
        String approvalId = awaitApprovalNotice(c);
        vote(approvalId, "bob", false);
        return new Held(approvalId, c.readUntilReady());
    }

    /** A command that waited for approval: the approval's id and what the client got in the end. */
    record Held(String approvalId, RawPgClient.Answer answer) {
    }

    /** The answer is the policy's denial by {@code rule} (42501, the rule named in the message). */
    static void assertDenied(RawPgClient.Answer answer, String rule) {
        org.assertj.core.api.Assertions.assertThat(answer.sqlState()).as(answer.toString()).isEqualTo("42501");
        org.assertj.core.api.Assertions.assertThat(answer.error().get('M')).contains("\"" + rule + "\"");
    }

    private URI approvals(String path) {
        return URI.create(gw.env.approvalUrl() + "/api/v1/approvals" + path);
    }
}
