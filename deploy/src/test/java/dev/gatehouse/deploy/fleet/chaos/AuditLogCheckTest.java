package dev.gatehouse.deploy.fleet.chaos;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.events.AuditEventCodec;
import org.junit.jupiter.api.Test;

import java.io.StringReader;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class AuditLogCheckTest {

    private static final AuditEventCodec CODEC = new AuditEventCodec();
    private static final Instant T0 = Instant.parse("2026-12-05T01:38:23.100Z");
    private static final String INSERT = "INSERT INTO chaos_load (client, seq) VALUES (1, 1)";
    private static final String SELECT = "SELECT count(*) FROM chaos_load WHERE client = 1 AND seq < 2";

    private final List<AuditEvent> log = new ArrayList<>();

    @Test
    void aCleanRunHasNothingToReport() throws Exception {
        // Given: both statements of the sample's client were received, allowed and completed before the target ran them
        command("s1", "c1", INSERT, T0, true, true);
        command("s1", "c2", SELECT, T0.plusMillis(1), true, true);
        closed("s1");

        // When
        AuditLogCheck.Findings f = check(clientRows());

        // Then
        assertThat(f.clientStatements()).isEqualTo(2);
        assertThat(f.withoutEarlierCommandReceived()).isZero();
        assertThat(f.forwardedWithoutDecision()).isZero();
        assertThat(f.allowedWithoutCompletion()).isZero();
        assertThat(f.allowed()).isEqualTo(2);
        assertThat(f.clean()).isTrue();
    }

    @Test
    void aStatementTheTargetRanWithoutARecordIsCounted() throws Exception {
        // Given: only the INSERT was recorded
        command("s1", "c1", INSERT, T0, true, true);

        // When
        AuditLogCheck.Findings f = check(clientRows());

        // Then
        assertThat(f.withoutEarlierCommandReceived()).isEqualTo(1);
        assertThat(f.withoutEarlierCommandReceivedExamples()).singleElement().asString().contains(SELECT).contains("chaos-client-1");
        assertThat(f.clean()).isFalse();
    }

    @Test
    void aRecordWrittenOnlyAfterTheTargetRanTheStatementDoesNotCount() throws Exception {
        // Given: the SELECT's CommandReceived is stamped 50 ms after the target logged it
        command("s1", "c1", INSERT, T0, true, true);
        command("s1", "c2", SELECT, Instant.parse("2026-12-05T01:38:23.254Z"), true, true);

        // When
        AuditLogCheck.Findings f = check(clientRows());

        // Then
        assertThat(f.withoutEarlierCommandReceived()).isEqualTo(1);
    }

    @Test
    void oneRecordVouchesForOneExecutionOnly() throws Exception {
        // Given: the target ran the INSERT's text twice
        command("s1", "c1", INSERT, T0, true, true);
        command("s1", "c2", SELECT, T0, true, true);
        List<TargetStatementLog.Statement> rows = new ArrayList<>(clientRows());
        TargetStatementLog.Statement again = rows.getFirst();
        rows.add(new TargetStatementLog.Statement(again.at().plusMillis(500), again.user(), again.database(), again.pid(),
                again.sessionId(), 99, again.kind(), again.sql(), again.applicationName()));

        // When
        AuditLogCheck.Findings f = check(rows);

        // Then
        assertThat(f.withoutEarlierCommandReceived()).isEqualTo(1);
    }

    @Test
    void aStatementRunWithoutAnAllowingDecisionIsCounted() throws Exception {
        // Given: the SELECT was received but never decided, yet the target ran it
        command("s1", "c1", INSERT, T0, true, true);
        command("s1", "c2", SELECT, T0, false, false);

        // When
        AuditLogCheck.Findings f = check(clientRows());

        // Then
        assertThat(f.withoutEarlierCommandReceived()).isZero();
        assertThat(f.forwardedWithoutDecision()).isEqualTo(1);
        assertThat(f.undecided()).isEqualTo(1);
        assertThat(f.forwardedWithoutDecisionExamples()).singleElement().asString().contains("c2");
    }

    @Test
    void anAllowedCommandWithoutCompletionCountsUnlessItsSessionWasSealedAborted() throws Exception {
        // Given: s1's INSERT was allowed and never completed, its session closed; s2's likewise, but the indexer sealed s2 aborted
        command("s1", "c1", INSERT, T0, true, false);
        closed("s1");
        command("s2", "c3", "SELECT 1", T0, true, false);
        log.add(roundTrip(new AuditEvent.SessionSealed(header("s2", T0.plusSeconds(20), "indexer"), "s2", 3, "ab".repeat(32),
                "sha256-chain/ed25519", "c2ln", "0123456789abcdef", "aborted")));

        // When
        AuditLogCheck.Findings f = check(List.of());

        // Then
        assertThat(f.allowedWithoutCompletion()).isEqualTo(1);
        assertThat(f.allowedWithoutCompletionExamples()).singleElement().asString().contains("c1").contains("(session closed)");
        assertThat(f.allowedEndedByAbort()).isEqualTo(1);
        assertThat(f.abortedSessions()).isEqualTo(1);
    }

    @Test
    void theEdgesAndTheLaunchersStatementsAreCountedApartAndNotChecked() throws Exception {
        // When: nothing was recorded at all
        AuditLogCheck.Findings f = check(TargetStatementLog.parse(new StringReader(TargetStatementLogTest.SAMPLE)));

        // Then: the launcher's CREATE TABLE and the edge's catalog query are apart; the rest is checked
        assertThat(f.launcherStatements()).isEqualTo(1);
        assertThat(f.edgeSideStatements()).isEqualTo(1);
        assertThat(f.clientStatements()).isEqualTo(6);
        assertThat(f.withoutEarlierCommandReceived()).isEqualTo(6);
    }

    private AuditLogCheck.Findings check(List<TargetStatementLog.Statement> rows) {
        AuditLogCheck check = new AuditLogCheck();
        log.forEach(check::accept);
        return check.check(rows);
    }

    private static List<TargetStatementLog.Statement> clientRows() throws Exception {
        return TargetStatementLog.parse(new StringReader(TargetStatementLogTest.SAMPLE)).stream()
                .filter(s -> s.applicationName().equals("chaos-client-1") && !s.sql().contains("quoted") && !s.sql().contains("nope"))
                .toList();
    }

    /** A command as the edge and the policy service write it, through the codec as the log holds it. */
    private void command(String session, String command, String sql, Instant at, boolean allowed, boolean completed) {
        SessionId sid = new SessionId(session);
        CommandId cid = new CommandId(command);
        Identity alice = new Identity("chaos-1", "http://127.0.0.1:18080", List.of("dba"), List.of(), Map.of(), null);
        ConnectionRef demo = new ConnectionRef("demo", "postgres", "127.0.0.1:15433/demo", Map.of());
        SqlCommand sqlCommand = new SqlCommand(cid, sid, 1, at, SqlCommand.Form.SIMPLE_QUERY, sql, List.of(),
                new SqlAnalysis(true, null, sql, List.of()));
        log.add(roundTrip(new AuditEvent.CommandReceived(header(session, at, "edge"), sqlCommand, alice, demo, "edge-1", 0,
                "enforce", at.minusSeconds(1), "127.0.0.1")));
        if (allowed) {
            log.add(roundTrip(new AuditEvent.DecisionMade(header(session, at.plusNanos(300_000), "policy"), cid, 1,
                    new Decision.Allow(cid, "allow-dba", "dba may", "v1"), "edge-1", 0, "enforce", Duration.ofNanos(50_000))));
        }
        if (completed) {
            log.add(roundTrip(new AuditEvent.CommandCompleted(header(session, at.plusMillis(2), "edge"), cid, 1,
                    new AuditEvent.Outcome(true, List.of("INSERT 0 1"), 1, null, null, Duration.ofMillis(2), 20, "I"))));
        }
    }

    private void closed(String session) {
        log.add(roundTrip(new AuditEvent.SessionClosed(header(session, T0.plusSeconds(5), "edge"), "client", 2, Duration.ofSeconds(5))));
    }

    private static EventHeader header(String session, Instant at, String service) {
        return new EventHeader(UUID.randomUUID().toString(), new SessionId(session), at, service, service + "-1");
    }

    private static AuditEvent roundTrip(AuditEvent event) {
        return CODEC.decode(CODEC.encode(event));
    }
}
