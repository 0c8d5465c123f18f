package dev.gatehouse.indexer.projection;

import dev.gatehouse.indexer.SampleSessions;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.StatementKind;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class TimelineProjectionTest {

    private static InMemoryTimelines fold(List<AuditEvent> events) {
        InMemoryTimelines timelines = new InMemoryTimelines();
        long offset = 100;
        for (AuditEvent e : events) TimelineProjection.apply(e, offset++, timelines);
        return timelines;
    }

    @Test
    void foldsASessionIntoIdentityCommandsDecisionsAndOutcomes() {
        // Given
        SampleSessions session = new SampleSessions("s-1", "edge-a", Instant.parse("2025-03-01T10:00:00Z"));
        // When
        Timeline timeline = fold(session.typical(true)).timeline("s-1").orElseThrow();
        // Then
        SessionSummary s = timeline.session();
        assertThat(s.status()).isEqualTo("closed");
        assertThat(s.closeReason()).isEqualTo("client terminated");
        assertThat(s.edgeId()).isEqualTo("edge-a");
        assertThat(s.identity().ci().repository()).isEqualTo("acme/shop");
        assertThat(s.identity().ci().runUrl()).isEqualTo("https://github.com/acme/shop/actions/runs/9001");
        assertThat(s.connection()).isEqualTo(new SessionSummary.ConnectionInfo("demo", "shop", "postgres"));
        assertThat(s.commands()).isEqualTo(3);
        assertThat(s.denied()).isEqualTo(1);
        List<Entry.CommandEntry> commands = timeline.entries().stream()
                .filter(Entry.CommandEntry.class::isInstance).map(Entry.CommandEntry.class::cast).toList();
        assertThat(commands).extracting(Entry.CommandEntry::sql).containsExactly(
                "SELECT * FROM public.orders WHERE id = $1", "DROP TABLE public.orders", "CREATE DATABASE reports");
        assertThat(commands.get(0).parameters()).containsExactly("42");
        assertThat(commands.get(0).form()).isEqualTo("extended");
        assertThat(commands.get(0).outcome().rows()).isEqualTo(1);
        assertThat(commands.get(1).decision().verdict()).isEqualTo("deny");
        assertThat(commands.get(1).decision().ruleId()).isEqualTo("no-drop");
        assertThat(commands.get(1).outcome().forwarded()).isFalse();
        assertThat(commands.get(1).outcome().sqlState()).isEqualTo("42501");
        assertThat(commands.get(2).statements()).containsExactly(new Entry.StatementInfo("CREATE_DATABASE", List.of("reports")));
        assertThat(timeline.entries().getFirst()).isInstanceOf(Entry.EventEntry.class);
        assertThat(((Entry.EventEntry) timeline.entries().getLast()).event()).isEqualTo("SessionClosed");
    }

    @Test
    void aDelegatedSessionRecordsItsOriginatorChainAndUnverifiedIntentOnceForTheSession() {
        // Given executor-agent acting for alice, set going by planner-agent, with an intent it declared itself
        SampleSessions session = new SampleSessions("s-d", "edge-a", Instant.parse("2025-03-01T10:00:00Z"))
                .as(SampleSessions.delegatedIdentity());
        var select = session.command("SELECT 1", StatementKind.READ, "SELECT", null, List.of(), List.of());
        // When
        Timeline timeline = fold(List.of(session.opened(), select, session.closed(1))).timeline("s-d").orElseThrow();
        // Then the summary holds the chain and the intent, marked unverified
        SessionSummary.IdentityInfo id = timeline.session().identity();
        assertThat(id.subject()).isEqualTo("executor-agent");
        assertThat(id.actor()).isEqualTo("executor-agent");
        assertThat(id.groups()).containsExactly("agents");
        assertThat(id.delegation()).isEqualTo(new SessionSummary.DelegationInfo("alice", "https://issuer.example",
                List.of("dba"), List.of("planner-agent"), "act"));
        assertThat(id.chain()).isEqualTo("alice → planner-agent → executor-agent");
        assertThat(id.intent()).isEqualTo(new SessionSummary.IntentInfo("run-17", "4", false, "connection-parameter",
                "run run-17 step 4 (unverified: declared by the client)"));
        // and the texts name the chain and the unverified intent
        Entry.EventEntry opened = (Entry.EventEntry) timeline.entries().getFirst();
        assertThat(opened.detail()).startsWith("executor-agent for alice via planner-agent"
                + " [run run-17 step 4 (unverified: declared by the client)] opened a session on demo");
        // and the JSON the API serves carries them (commands get the chain through their session)
        String json = TimelineJson.write(timeline.session());
        assertThat(json).contains("\"originator\":\"alice\"", "\"earlierActors\":[\"planner-agent\"]", "\"verified\":false");
        assertThat(TimelineJson.read(json, SessionSummary.class)).isEqualTo(timeline.session());
    }

    @Test
    void aSignedIntentIsMarkedSignedAndASessionWithoutDelegationHasNoChain() {
        // Given a delegated session whose issuer signed the intent, and a CI job acting for itself
        var signed = SampleSessions.delegatedIdentity().withIntent(new DeclaredIntent("run-9", null, true, DeclaredIntent.TOKEN));
        SampleSessions agent = new SampleSessions("s-signed", "edge-a", Instant.parse("2025-03-01T10:00:00Z")).as(signed);
        SampleSessions ci = new SampleSessions("s-ci", "edge-a", Instant.parse("2025-03-01T10:00:00Z"));
        // When
        InMemoryTimelines timelines = fold(List.of(agent.opened(), ci.opened()));
        // Then
        Timeline agentTimeline = timelines.timeline("s-signed").orElseThrow();
        assertThat(agentTimeline.session().identity().intent().verified()).isTrue();
        assertThat(((Entry.EventEntry) agentTimeline.entries().getFirst()).detail())
                .contains("[run run-9 (signed by the issuer)]").doesNotContain("unverified");
        SessionSummary.IdentityInfo ciIdentity = timelines.session("s-ci").orElseThrow().identity();
        assertThat(ciIdentity.delegation()).isNull();
        assertThat(ciIdentity.intent()).isNull();
        assertThat(ciIdentity.actor()).isNull();
        assertThat(ciIdentity.chain()).isEqualTo("repo:acme/shop:ref:refs/heads/main");
        assertThat(((Entry.EventEntry) timelines.timeline("s-ci").orElseThrow().entries().getFirst()).detail())
                .startsWith("repo:acme/shop:ref:refs/heads/main (acme/shop@0123456789abcdef0123456789abcdef01234567) opened")
                .doesNotContain(" for ");
        assertThat(TimelineJson.write(timelines.session("s-ci").orElseThrow())).contains("\"delegation\":null");
    }

    @Test
    void aDecisionWrittenTwiceCountsOnce() {
        // Given
        SampleSessions session = new SampleSessions("s-2", "edge-a", Instant.parse("2025-03-01T10:00:00Z"));
        var drop = session.command("DROP TABLE t", StatementKind.DDL, "DROP TABLE", "TABLE", List.of("t"), List.of());
        var deny = new Decision.Deny(drop.command().id(), "no-drop", "no", "v1");
        // When
        InMemoryTimelines timelines = fold(List.of(session.opened(), drop, session.decided(drop, deny), session.decided(drop, deny)));
        // Then
        assertThat(timelines.session("s-2").orElseThrow().denied()).isEqualTo(1);
    }

    @Test
    void unknownEventsBecomePlainEntriesAndSystemEventsAreSkipped() {
        // Given
        SampleSessions session = new SampleSessions("s-3", "edge-a", Instant.parse("2025-03-01T10:00:00Z"));
        AuditEvent violation = new AuditEvent.ProtocolViolation(new EventHeader(UUID.randomUUID().toString(),
                new SessionId("s-3"), Instant.parse("2025-03-01T10:00:01Z"), "edge", "edge-a"), "postgres", "10.0.0.7", "bad frame");
        AuditEvent policy = new AuditEvent.PolicyActivated(EventHeader.now(SessionId.system("policy"), "policy", "p1"),
                "main", "v4", "alice");
        // When
        InMemoryTimelines timelines = fold(List.of(session.opened(), violation, policy));
        // Then
        Timeline timeline = timelines.timeline("s-3").orElseThrow();
        assertThat(timeline.entries()).last().isEqualTo(new Entry.EventEntry("2025-03-01T10:00:01Z", 101,
                "ProtocolViolation", "postgres protocol violation from 10.0.0.7: bad frame"));
        assertThat(timelines.sessions()).extracting(SessionSummary::sessionId).containsExactly("s-3");
    }

    @Test
    void anAbortedSealMarksAnOpenSessionAbortedAndTheFirstSealWins() {
        // Given
        SampleSessions session = new SampleSessions("s-4", "edge-b", Instant.parse("2025-03-01T10:00:00Z"));
        Instant sealedAt = Instant.parse("2025-03-01T11:00:00Z");
        AuditEvent aborted = seal("s-4", sealedAt, "aborted");
        AuditEvent again = seal("s-4", sealedAt.plusSeconds(5), "closed");
        // When
        SessionSummary s = fold(List.of(session.opened(), aborted, again)).session("s-4").orElseThrow();
        // Then
        assertThat(s.status()).isEqualTo("aborted");
        assertThat(s.sealed()).isTrue();
        assertThat(s.endedAt()).isEqualTo(sealedAt.toString());
        assertThat(s.closeReason()).isEqualTo(TimelineProjection.abortReason("edge-b"));
    }

    @Test
    void resultSampleChunksAreJoinedOnTheirCommand() {
        // Given
        SampleSessions session = new SampleSessions("s-6", "edge-a", Instant.parse("2025-03-01T10:00:00Z"));
        var select = session.command("SELECT id, email FROM users", StatementKind.READ, "SELECT", null, List.of(), List.of("users"));
        EventHeader h1 = new EventHeader(UUID.randomUUID().toString(), new SessionId("s-6"), Instant.parse("2025-03-01T10:00:01Z"), "edge", "edge-a");
        EventHeader h2 = new EventHeader(UUID.randomUUID().toString(), new SessionId("s-6"), Instant.parse("2025-03-01T10:00:02Z"), "edge", "edge-a");
        var first = new AuditEvent.ResultSampled(h1, select.command().id(), 1, 0, false, List.of("id", "email"),
                List.of(List.of("1", "a***@x.org")), false, 1, 12, true);
        var second = new AuditEvent.ResultSampled(h2, select.command().id(), 1, 1, true, List.of(),
                java.util.Arrays.asList(java.util.Arrays.asList("2", null)), true, 2, 14, true);
        // When
        Timeline timeline = fold(List.of(session.opened(), select, first, second)).timeline("s-6").orElseThrow();
        // Then
        Entry.SampleInfo sample = ((Entry.CommandEntry) timeline.entries().get(1)).sample();
        assertThat(sample.columns()).containsExactly("id", "email");
        assertThat(sample.rows()).containsExactly(List.of("1", "a***@x.org"), java.util.Arrays.asList("2", null));
        assertThat(sample.truncated()).isTrue();
        assertThat(sample.rowsCaptured()).isEqualTo(2);
        assertThat(sample.masked()).isTrue();
    }

    @Test
    void aSampleInsideCommandCompletedLandsOnItsCommandWithTheOutcome() {
        // Given: a one-chunk sample, written inside the command's CommandCompleted
        SampleSessions session = new SampleSessions("s-6b", "edge-a", Instant.parse("2025-03-01T10:00:00Z"));
        var select = session.command("SELECT id FROM users", StatementKind.READ, "SELECT", null, List.of(), List.of("users"));
        EventHeader h = new EventHeader(UUID.randomUUID().toString(), new SessionId("s-6b"), Instant.parse("2025-03-01T10:00:01Z"), "edge", "edge-a");
        var sample = new AuditEvent.ResultSampled(h, select.command().id(), 1, 0, true, List.of("id"),
                List.of(List.of("1"), List.of("2")), false, 2, 2, false);
        var completed = new AuditEvent.CommandCompleted(h, select.command().id(), 1,
                new AuditEvent.Outcome(true, List.of("SELECT 2"), 2, null, null, java.time.Duration.ofMillis(1), 64, "I"), sample);
        // When
        Timeline timeline = fold(List.of(session.opened(), select, completed)).timeline("s-6b").orElseThrow();
        // Then: one command entry with both its sample and its outcome, no separate event
        assertThat(timeline.entries()).hasSize(2);
        Entry.CommandEntry cmd = (Entry.CommandEntry) timeline.entries().get(1);
        assertThat(cmd.sample().columns()).containsExactly("id");
        assertThat(cmd.sample().rows()).containsExactly(List.of("1"), List.of("2"));
        assertThat(cmd.sample().truncated()).isFalse();
        assertThat(cmd.outcome().rows()).isEqualTo(2);
    }

    @Test
    void aCommandRecordedStatementByStatementKeepsEachStatementWithItsOwnParameters() {
        // Given
        SampleSessions session = new SampleSessions("s-7", "edge-a", Instant.parse("2025-03-01T10:00:00Z"));
        var batch = session.extendedBatch();
        // When
        Timeline timeline = fold(List.of(session.opened(), batch, session.completedPartly(batch, 1, "22012",
                "division by zero"))).timeline("s-7").orElseThrow();
        // Then
        Entry.CommandEntry cmd = (Entry.CommandEntry) timeline.entries().get(1);
        assertThat(cmd.protocol()).isEqualTo("postgres");
        assertThat(cmd.refusal()).isNull();
        assertThat(cmd.parameters()).containsExactly("paid", null, "10");
        assertThat(cmd.statements()).containsExactly(
                new Entry.StatementInfo("UPDATE", List.of("public.orders"), "EXECUTE",
                        "UPDATE orders SET state = $1 WHERE id = $2", "", "", java.util.Arrays.asList("paid", null), 0,
                        false, null),
                new Entry.StatementInfo("SELECT", List.of("public.orders"), "EXECUTE", "SELECT * FROM orders WHERE id > $1",
                        "S_1", "C_2", List.of("10"), 50, true, null));
        assertThat(cmd.outcome().statementsRun()).isEqualTo(1);
    }

    @Test
    void aRefusedCommandCarriesTheRefusalAndNoDecision() {
        // Given
        SampleSessions session = new SampleSessions("s-8", "edge-a", Instant.parse("2025-03-01T10:00:00Z"));
        var refused = session.executePrepared("standard_conforming_strings is pinned to on by Gatehouse");
        // When
        Timeline timeline = fold(List.of(session.opened(), refused,
                session.completed(refused, false, 0, "42501", "gatehouse: refused"))).timeline("s-8").orElseThrow();
        // Then
        Entry.CommandEntry cmd = (Entry.CommandEntry) timeline.entries().get(1);
        assertThat(cmd.refusal()).isEqualTo("standard_conforming_strings is pinned to on by Gatehouse");
        assertThat(cmd.decision()).isNull();
        assertThat(cmd.sql()).isEqualTo("EXECUTE pay('refund', 40)");
        assertThat(cmd.statements()).singleElement().satisfies(st -> {
            assertThat(st.sql()).isEqualTo("INSERT INTO payouts (note, amount) VALUES ($1, $2)");
            assertThat(st.via()).isEqualTo("EXECUTE pay('refund', 40)");
            assertThat(st.statementName()).isEqualTo("pay");
            assertThat(st.parameters()).containsExactly("refund", "40");
        });
        assertThat(cmd.outcome().statementsRun()).as("not recorded").isNull();
        assertThat(TimelineJson.read(TimelineJson.write(cmd), Entry.CommandEntry.class)).isEqualTo(cmd);
    }

    @Test
    void anEntryStoredBeforeStatementsWereRecordedStillReads() {
        // Given: a command entry's JSON as the indexer stored it before this version
        String stored = "{\"approval\":null,\"at\":\"2025-03-01T10:00:00Z\",\"commandId\":\"c-1\",\"decision\":null,"
                + "\"form\":\"simple\",\"offset\":3,\"outcome\":{\"completedAt\":null,\"durationMicros\":5,"
                + "\"error\":null,\"forwarded\":true,\"masking\":null,\"rows\":1,\"sqlState\":null,\"tags\":[\"SELECT 1\"]},"
                + "\"parameters\":[],\"receivedAt\":null,\"sample\":null,\"sequence\":1,\"sql\":\"SELECT 1\","
                + "\"statements\":[{\"kind\":\"SELECT\",\"objects\":[]}],\"type\":\"command\"}";
        // When
        Entry.CommandEntry cmd = TimelineJson.read(stored, Entry.CommandEntry.class);
        // Then
        assertThat(cmd.protocol()).isNull();
        assertThat(cmd.refusal()).isNull();
        assertThat(cmd.outcome().statementsRun()).isNull();
        assertThat(cmd.statements()).containsExactly(new Entry.StatementInfo("SELECT", List.of()));
    }

    @Test
    void theDigestDependsOnlyOnTheEvents() {
        // Given
        List<AuditEvent> events = new SampleSessions("s-5", "edge-a", Instant.parse("2025-03-01T10:00:00Z")).typical(true);
        // When
        String first = TimelineJson.digest(fold(events).timeline("s-5").orElseThrow());
        String second = TimelineJson.digest(fold(events).timeline("s-5").orElseThrow());
        String shorter = TimelineJson.digest(fold(events.subList(0, events.size() - 1)).timeline("s-5").orElseThrow());
        // Then
        assertThat(first).hasSize(64).isEqualTo(second).isNotEqualTo(shorter);
    }

    static AuditEvent seal(String sessionId, Instant at, String status) {
        return new AuditEvent.SessionSealed(new EventHeader(UUID.randomUUID().toString(), new SessionId(sessionId), at,
                "indexer", "indexer-1"), sessionId, 1, "00".repeat(32), "sha256-chain/ed25519", "c2ln", "0011223344556677", status);
    }
}
