package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.ProtocolSequences.Unit;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import dev.gatehouse.testsupport.InMemoryDecisionPort;
import dev.gatehouse.testsupport.LoggingPostgres;
import io.vertx.core.Vertx;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

import java.nio.file.Files;
import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The differential test of the session: generated sequences of protocol messages and settings
 * (simple and extended protocol, Flush and Sync, Close, Describe, portal suspension, SQL PREPARE
 * and EXECUTE, cursors, transactions and savepoints, SET, allowed and denied statements, errors)
 * run through the session core and its PostgreSQL adapter against a real PostgreSQL that logs
 * every statement it executes, and the target's log is compared with the edge's:
 * <ol>
 *   <li>every statement the target logged for the session is an allowed, recorded execution of
 *       that session, in order (nothing ran that was not recorded and allowed);</li>
 *   <li>no statement the target ran is one the policy denies, judged on what the target says it
 *       ran (an EXECUTE by its prepared statement's source, a FETCH by its cursor's query), not on
 *       the edge's own analysis;</li>
 *   <li>after every ReadyForQuery the client's transaction status is the target's own
 *       ({@code pg_stat_activity}) and the edge's model agrees.</li>
 * </ol>
 * The policy denies writes to {@code secret}, reads of {@code hidden} and DROP; the sequences are
 * built so that denied statements hide behind every kind of indirection the protocol offers. The
 * generator and the comparison are {@link ProtocolSequences}, shared with the same property run end
 * to end through Kafka and the policy service ({@code SessionDifferentialIT} in {@code deploy}).
 */
class SessionDifferentialTest {

    private static LoggingPostgres postgres;
    private static Vertx vertx;
    private static SessionHarness.Edge edge;

    @BeforeContainer
    static void start() throws Exception {
        postgres = LoggingPostgres.start(Files.createTempDirectory("gatehouse-differential-"), Map.of());
        try (Connection c = postgres.owner()) {
            ProtocolSequences.createSchema(c);
        }
        vertx = Vertx.vertx();
        edge = SessionHarness.Edge.on(vertx, new PgQueryAnalyzer(), postgres);
    }

    @AfterContainer
    static void stop() throws Exception {
        if (vertx != null) vertx.close().await();
        if (postgres != null) postgres.close();
    }

    // ---------------------------------------------------------------- the policy

    /** What the test's policy denies about one statement's analysis. */
    static boolean denies(StatementAnalysis a) {
        if (a.tag() != null && a.tag().startsWith("DROP")) return true;
        if ("PREPARE".equals(a.tag()) || "DECLARE CURSOR".equals(a.tag())) return false;
        return a.tablesWritten().stream().anyMatch(t -> t.endsWith("secret"))
                || a.tablesRead().stream().anyMatch(t -> t.endsWith("hidden"));
    }

    static Decision decide(AuditEvent.DecisionRequest request) {
        if (request instanceof AuditEvent.CommandReceived c
                && c.command().analysis().statements().stream().anyMatch(SessionDifferentialTest::denies)) {
            return new Decision.Deny(request.requestId(), "no-secret", "denied by the test", "t");
        }
        return new Decision.Allow(request.requestId(), "default", "allowed", "t");
    }

    // ---------------------------------------------------------------- the property

    @Provide
    Arbitrary<List<Unit>> sequences() {
        return ProtocolSequences.sequences();
    }

    @Property(shrinking = ShrinkingMode.BOUNDED)
    void whatTheTargetRanIsExactlyWhatWasAllowedAndRecorded(@ForAll("sequences") List<Unit> units) throws Exception {
        // Given
        InMemoryDecisionPort port = new InMemoryDecisionPort(SessionDifferentialTest::decide);
        String marker = "end-" + UUID.randomUUID();
        List<String> failures = new ArrayList<>();
        try (SessionHarness session = new SessionHarness(edge, port).open();
             Connection observer = postgres.superuser("postgres")) {
            int pid = session.targetPid();

            // When
            for (Unit unit : units) {
                session.send(unit.messages());
                if (!unit.awaitsReady()) continue;
                SessionHarness.Received ready = session.awaitReady();
                assertThat(ready).as("a ReadyForQuery answers %s (received %s)", unit, session.answers()).isNotNull();
                // Then (3): the client's transaction status is the target's own, and the edge's
                char target = ProtocolSequences.targetStatus(observer, pid);
                char model = session.onLoop(a -> a.model().txStatus);
                if (ready.status() != target || model != target) {
                    failures.add("after " + unit + ": client " + ready.status() + ", target " + target + ", edge " + model);
                }
            }
            session.send(new FrontendMessage.Query(ProtocolSequences.markerQuery(marker)));
            assertThat(session.awaitReady()).isNotNull();

            // Then (1) and (2)
            List<LoggingPostgres.Entry> entries = ProtocolSequences.awaitLogged(postgres, pid, marker);
            failures.addAll(ProtocolSequences.compare(entries, port.events()));
        }
        assertThat(failures).as("sequence %s", units).isEmpty();
    }
}
