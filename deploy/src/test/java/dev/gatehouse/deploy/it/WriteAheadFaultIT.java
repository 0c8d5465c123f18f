package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Write-ahead by fault injection, not timestamps: an edge whose decision port sees held back,
 * delayed or failed acknowledgements of chosen CommandReceived (and SessionRequested) writes runs
 * a command only once both its decision and its acknowledgement are there, and never when the
 * acknowledgement failed, even though the record reached the log and the policy allowed it. The
 * witness is the target's own log (a target of this test's own, every statement and connection
 * logged with its backend's pid). The fixture's policy service decides for this edge.
 */
class WriteAheadFaultIT {
    private static final Gateway gw = Gateway.get();
    private static final String EDGE_ID = "edge-writeahead-fault";
    private static final String CONNECTION = "wafault";
    private static final Pattern RANDOM_MARKER = Pattern.compile("wa-fault-r\\d+");
    private static final AcknowledgementFaults faults = new AcknowledgementFaults();
    /** The DecisionMade records of this edge's requests, as written to gatehouse.decisions. */
    private static final Map<CommandId, Decision> decisions = new ConcurrentHashMap<>();
    /** Where the clients block: threads of their own, not the common pool (one thread on a two-core machine). */
    private static final ExecutorService clients = Executors.newCachedThreadPool(Thread.ofPlatform().daemon()
            .name("writeahead-fault-client-", 0).factory());
    private static LoggingTarget target;
    private static GatehouseRuntime edge;
    private static AuditTail decisionLog;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-writeahead-fault-");
        target = LoggingTarget.start(dir);
        Instant since = Instant.now();
        AuditEventCodec codec = new AuditEventCodec();
        decisionLog = new AuditTail(gw.env.kafka().bootstrapServers(), Topics.DECISIONS, Duration.ofSeconds(30),
                EventSerde.of(codec::encode, codec::decode));
        Thread.ofPlatform().daemon().name("writeahead-fault-decisions").start(() -> decisionLog.follow(null, since, event -> {
            if (event instanceof AuditEvent.DecisionMade made && EDGE_ID.equals(made.edgeId())) {
                decisions.put(made.commandId(), made.decision());
            }
        }));
        GatehouseConfig config = EdgeConfigs.edge(EDGE_ID, dir, gw.env.kafka().bootstrapServers(), "5s",
                EdgeConfigs.plaintextListener("30s"), List.of(EdgeConfigs.connection(CONNECTION, target.target(), "enforce")));
        edge = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).decoratingDecisionAppends(faults).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (edge != null) edge.close();
        if (decisionLog != null) decisionLog.close();
        if (target != null) target.close();
        clients.shutdownNow();
    }

    @Test
    void aStatementWaitsForItsAcknowledgementThoughItsDecisionArrived() throws Exception {
        // Given: the acknowledgement of one command's write is held back
        CompletableFuture<Void> release = new CompletableFuture<>();
        faults.command("wa-fault-held", new AcknowledgementFaults.Hold(release));
        try (Connection held = connect("wa-held"); Connection other = connect("wa-held-other")) {
            int heldPid = backendPid(held);
            CompletableFuture<String> result = CompletableFuture.supplyAsync(() -> selectText(held, "SELECT 'wa-fault-held'"), clients);
            Decision decision = awaitDecision(faults.awaitCommand("wa-fault-held"));
            ranAfterEverythingDecidedSoFar(other);
            List<LoggingTarget.Executed> whileHeld = target.statements();

            // When
            release.complete(null);

            // Then
            assertThat(decision).isInstanceOf(Decision.Allow.class);
            assertThat(whileHeld).extracting(LoggingTarget.Executed::sql).noneMatch(sql -> sql.contains("wa-fault-held"));
            assertThat(result.get(60, TimeUnit.SECONDS)).isEqualTo("wa-fault-held");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(target.statements())
                    .filteredOn(x -> x.sql().contains("wa-fault-held"))
                    .singleElement().extracting(LoggingTarget.Executed::pid).isEqualTo(heldPid));
        }
    }

    @Test
    void aFailedAcknowledgementRejectsTheStatementThoughItsDecisionAllowedIt() throws Exception {
        // Given: the decision about a command arrives while its acknowledgement is held back
        CompletableFuture<Void> release = new CompletableFuture<>();
        faults.command("wa-fault-failed", new AcknowledgementFaults.Hold(release));
        try (Connection failing = connect("wa-failed"); Connection other = connect("wa-failed-other")) {
            CompletableFuture<String> result = CompletableFuture.supplyAsync(() -> selectText(failing, "SELECT 'wa-fault-failed'"), clients);
            Decision decision = awaitDecision(faults.awaitCommand("wa-fault-failed"));
            ranAfterEverythingDecidedSoFar(other);

            // When: the acknowledgement turns into a failure
            release.completeExceptionally(AcknowledgementFaults.injected());

            // Then
            assertThat(decision).isInstanceOf(Decision.Allow.class);
            assertThatThrownBy(() -> result.get(60, TimeUnit.SECONDS)).cause().isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("58000");
                assertThat(e.getMessage()).contains("the command was not executed", "audit log unreachable", "injected");
            });
            assertThat(selectText(failing, "SELECT 'wa-after-the-failure'")).isEqualTo("wa-after-the-failure");
            ranAfterEverythingDecidedSoFar(other);
            assertThat(target.statements()).extracting(LoggingTarget.Executed::sql)
                    .noneMatch(sql -> sql.contains("wa-fault-failed"))
                    .anyMatch(sql -> sql.contains("wa-after-the-failure"));
        }
    }

    @Test
    void aConnectionAttemptWhoseAcknowledgementFailsNeverReachesTheTarget() throws Exception {
        // Given: the decision about a connection attempt has arrived while its acknowledgement is held back
        CompletableFuture<Void> release = new CompletableFuture<>();
        faults.connect("wa-fault-connect", new AcknowledgementFaults.Hold(release));
        try (Connection other = connect("wa-connect-other")) {
            CompletableFuture<Connection> attempt = CompletableFuture.supplyAsync(() -> {
                try {
                    return connect("wa-fault-connect");
                } catch (SQLException e) {
                    throw new CompletionException(e);
                }
            }, clients);
            Decision decision = awaitDecision(faults.awaitConnect("wa-fault-connect"));
            ranAfterEverythingDecidedSoFar(other);

            // When
            release.completeExceptionally(AcknowledgementFaults.injected());

            // Then
            assertThat(decision).isInstanceOf(Decision.Allow.class);
            assertThatThrownBy(() -> attempt.get(60, TimeUnit.SECONDS).close()).cause().isInstanceOfSatisfying(SQLException.class, e -> {
                assertThat(e.getSQLState()).isEqualTo("58000");
                assertThat(e.getMessage()).contains("connection to " + CONNECTION + " refused", "audit log unreachable");
            });
            ranAfterEverythingDecidedSoFar(other);
            assertThat(target.lines()).filteredOn(l -> l.contains("connection authorized"))
                    .anyMatch(l -> l.contains("application_name=wa-connect-other"))
                    .noneMatch(l -> l.contains("wa-fault-connect"));
        }
    }

    @Test
    void withRandomlyDelayedAndFailedAcknowledgementsExactlyTheAcknowledgedStatementsRun() throws Exception {
        // Given: a few hundred commands over four sessions, each acknowledgement given or failed, at once or delayed
        long seed = Long.getLong("writeahead.seed", System.nanoTime());
        System.out.println("WriteAheadFaultIT random acknowledgements: seed=" + seed + " (rerun with -Dwriteahead.seed=" + seed + ")");
        Random random = new Random(seed);
        int sessions = 4;
        int commands = 300;
        Map<String, Boolean> acknowledged = new HashMap<>();
        List<List<String>> perSession = new ArrayList<>();
        for (int s = 0; s < sessions; s++) perSession.add(new ArrayList<>());
        for (int i = 0; i < commands; i++) {
            String marker = "wa-fault-r" + i;
            boolean fail = random.nextInt(10) < 4;
            Duration delay = random.nextBoolean() ? Duration.ZERO : Duration.ofMillis(1 + random.nextInt(250));
            faults.command(marker, new AcknowledgementFaults.Delay(delay, fail));
            acknowledged.put(marker, !fail);
            perSession.get(random.nextInt(sessions)).add(marker);
        }
        List<Connection> connections = new ArrayList<>();
        Map<String, Integer> pidOf = new HashMap<>();
        try {
            for (int s = 0; s < sessions; s++) {
                Connection c = connect("wa-random-" + s);
                connections.add(c);
                int pid = backendPid(c);
                perSession.get(s).forEach(marker -> pidOf.put(marker, pid));
            }

            // When
            List<CompletableFuture<Map<String, String>>> runs = new ArrayList<>();
            for (int s = 0; s < sessions; s++) {
                Connection c = connections.get(s);
                List<String> markers = perSession.get(s);
                runs.add(CompletableFuture.supplyAsync(() -> {
                    Map<String, String> outcome = new HashMap<>();
                    for (String marker : markers) outcome.put(marker, sqlStateOf(c, "SELECT '" + marker + "'"));
                    return outcome;
                }, clients));
            }
            Map<String, String> outcomes = new HashMap<>();
            for (var run : runs) outcomes.putAll(run.get(5, TimeUnit.MINUTES));
            Set<CommandId> requests = new HashSet<>();
            acknowledged.keySet().forEach(marker -> requests.add(faults.awaitCommand(marker).requestId()));
            await().atMost(Duration.ofSeconds(60)).until(() -> decisions.keySet().containsAll(requests));
            ranAfterEverythingDecidedSoFar(connections.getFirst());

            // Then
            Set<String> expected = new HashSet<>();
            acknowledged.forEach((marker, ack) -> {
                if (ack) expected.add(marker);
            });
            assertThat(expected).as("seed %d", seed).hasSizeBetween(commands / 3, commands - commands / 5);
            assertThat(outcomes).as("seed %d: what each client saw (ok or SQLSTATE)", seed).allSatisfy((marker, state) ->
                    assertThat(state).as(marker).isEqualTo(acknowledged.get(marker) ? "ok" : "58000"));
            assertThat(requests).allSatisfy(id -> assertThat(decisions.get(id)).isInstanceOf(Decision.Allow.class));
            Map<String, Integer> ran = new HashMap<>();
            for (LoggingTarget.Executed x : target.statements()) {
                Matcher m = RANDOM_MARKER.matcher(x.sql());
                if (m.find()) assertThat(ran.put(m.group(), x.pid())).as("%s ran once (seed %d)", m.group(), seed).isNull();
            }
            assertThat(ran.keySet()).as("seed %d: the statements in the target's log", seed)
                    .containsExactlyInAnyOrderElementsOf(expected);
            assertThat(ran).as("seed %d: each ran on its session's backend", seed).allSatisfy((marker, pid) ->
                    assertThat(pid).isEqualTo(pidOf.get(marker)));
        } finally {
            for (Connection c : connections) c.close();
        }
    }

    /**
     * Runs a statement whose decision is written after every decision awaited so far and waits for
     * it in the target's log: the edge reads its reply partition in order, so it has read them all
     * (and would have forwarded every command it was going to forward on its decision alone).
     */
    private static void ranAfterEverythingDecidedSoFar(Connection other) throws Exception {
        String sentinel = "wa-sentinel-" + UUID.randomUUID();
        assertThat(selectText(other, "SELECT '" + sentinel + "'")).isEqualTo(sentinel);
        await().atMost(Duration.ofSeconds(30)).until(() -> target.statements().stream().anyMatch(x -> x.sql().contains(sentinel)));
    }

    /** The decision about {@code request}, once the policy service has written it to gatehouse.decisions. */
    private static Decision awaitDecision(AuditEvent.DecisionRequest request) {
        await().atMost(Duration.ofSeconds(60)).until(() -> decisions.containsKey(request.requestId()));
        return decisions.get(request.requestId());
    }

    /**
     * A pgjdbc session through the edge; {@code assumeMinServerVersion} makes pgjdbc send the
     * application name in the startup packet (not in a SET afterwards), so SessionRequested has it.
     */
    private static Connection connect(String applicationName) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + edge.edgePort() + "/" + CONNECTION
                        + "?sslmode=disable&connectTimeout=60&socketTimeout=120&assumeMinServerVersion=15&ApplicationName="
                        + applicationName,
                "alice", gw.token("alice", "dba"));
    }

    private static int backendPid(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT pg_backend_pid()")) {
            rs.next();
            return rs.getInt(1);
        }
    }

    private static String selectText(Connection c, String sql) {
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getString(1);
        } catch (SQLException e) {
            throw new CompletionException(e);
        }
    }

    /** "ok", or the SQLSTATE the statement failed with. */
    private static String sqlStateOf(Connection c, String sql) {
        try {
            selectText(c, sql);
            return "ok";
        } catch (CompletionException e) {
            return e.getCause() instanceof SQLException s ? s.getSQLState() : e.getCause().toString();
        }
    }
}
