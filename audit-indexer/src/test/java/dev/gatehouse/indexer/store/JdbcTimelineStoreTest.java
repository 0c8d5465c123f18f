package dev.gatehouse.indexer.store;

import dev.gatehouse.indexer.SampleSessions;
import dev.gatehouse.indexer.projection.Entry;
import dev.gatehouse.indexer.projection.InMemoryTimelines;
import dev.gatehouse.indexer.projection.TimelineJson;
import dev.gatehouse.indexer.projection.TimelineProjection;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.StatementKind;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.evidence.SessionChain;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/** The same behaviour from the embedded H2 store and the PostgreSQL store. */
class JdbcTimelineStoreTest {

    private static final AuditEventCodec CODEC = new AuditEventCodec();
    private static EmbeddedPostgres postgres;

    @TempDir
    Path dir;

    @BeforeAll
    static void startPostgres() throws IOException {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        if (postgres != null) postgres.close();
    }

    private String pgUrl;

    private JdbcTimelineStore open(String kind) {
        if (kind.equals("h2")) return JdbcTimelineStore.embedded(dir.resolve("indexer"));
        return JdbcTimelineStore.postgres(url(kind), "postgres", "postgres");
    }

    /** The JDBC URL of this test's store of {@code kind} (a PostgreSQL database is created on first use). */
    private String url(String kind) {
        if (kind.equals("h2")) return "jdbc:h2:file:" + dir.resolve("indexer").toAbsolutePath().resolve("timelines");
        if (pgUrl != null) return pgUrl;
        String db = "idx_" + UUID.randomUUID().toString().replace("-", "");
        try (var c = postgres.getPostgresDatabase().getConnection(); var st = c.createStatement()) {
            st.execute("CREATE DATABASE " + db);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
        pgUrl = postgres.getJdbcUrl("postgres", db);
        return pgUrl;
    }

    private void sql(String kind, String statement, Object... params) {
        try (var c = java.sql.DriverManager.getConnection(url(kind), kind.equals("h2") ? "sa" : "postgres",
                kind.equals("h2") ? "" : "postgres"); var ps = c.prepareStatement(statement)) {
            for (int i = 0; i < params.length; i++) ps.setObject(i + 1, params[i]);
            ps.executeUpdate();
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<TimelineStore.IndexedRecord> records(List<AuditEvent> events, int partition, long firstOffset) {
        List<TimelineStore.IndexedRecord> records = new ArrayList<>();
        long offset = firstOffset;
        for (AuditEvent e : events) records.add(new TimelineStore.IndexedRecord(partition, offset++, CODEC.encode(e), e));
        return records;
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void storesTheTimelineTheFoldBuildsWithTheOffsetsAndTheChain(String kind) {
        // Given
        List<AuditEvent> events = new SampleSessions("s-a", "edge-1", Instant.parse("2025-03-01T10:00:00Z")).typical(true);
        List<TimelineStore.IndexedRecord> records = records(events, 2, 40);
        InMemoryTimelines reference = new InMemoryTimelines();
        for (var r : records) TimelineProjection.apply(r.event(), r.offset(), reference);
        try (JdbcTimelineStore store = open(kind)) {
            // When: two batches, the second with a dead letter at its end
            store.project("audit", records.subList(0, 4));
            List<TimelineStore.IndexedRecord> rest = new ArrayList<>(records.subList(4, records.size()));
            rest.add(new TimelineStore.IndexedRecord(2, 40 + records.size(), new byte[] {1, 2, 3}, null));
            var result = store.project("audit", rest);
            // Then
            assertThat(result.projected()).isEqualTo(records.size() - 4);
            assertThat(store.nextOffsets("audit")).containsEntry(2, 40L + records.size() + 1);
            var timeline = store.timeline("s-a").orElseThrow();
            assertThat(TimelineJson.write(timeline)).isEqualTo(TimelineJson.write(reference.timeline("s-a").orElseThrow()));
            assertThat(TimelineJson.write(timeline)).contains("\"type\":\"command\"", "\"type\":\"event\"");
            assertThat(store.digests()).containsExactly(java.util.Map.entry("s-a",
                    TimelineJson.digest(reference.timeline("s-a").orElseThrow())));
            assertThat(store.events("s-a")).hasSize(records.size()).first().satisfies(e -> {
                assertThat(e.offset()).isEqualTo(40);
                assertThat(e.value()).isEqualTo(records.getFirst().value());
            });
            assertThat(store.pendingSeals()).containsExactly(new TimelineStore.PendingSeal("s-a", 2,
                    SessionChain.head("s-a", records.stream().map(TimelineStore.IndexedRecord::value).toList()),
                    records.size(), "closed"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void neverProjectsAnEventTwice(String kind) {
        // Given
        List<AuditEvent> events = new SampleSessions("s-b", "edge-1", Instant.parse("2025-03-01T10:00:00Z")).typical(false);
        List<TimelineStore.IndexedRecord> records = records(events, 0, 0);
        try (JdbcTimelineStore store = open(kind)) {
            store.project("audit", records);
            String before = store.digests().get("s-b");
            // When: the same offsets again (a replayed batch), and the same events at new offsets (a producer retry)
            var replayed = store.project("audit", records);
            var retried = store.project("audit", records(events, 0, records.size()));
            // Then
            assertThat(replayed.skipped()).isEqualTo(records.size());
            assertThat(retried.duplicates()).isEqualTo(records.size());
            assertThat(store.digests().get("s-b")).isEqualTo(before);
            assertThat(store.timeline("s-b").orElseThrow().session().commands()).isEqualTo(3);
            assertThat(store.nextOffsets("audit")).containsEntry(0, 2L * records.size());
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void aRecordOlderThanTheSessionsLatestIsLookedUpAndStoredOnlyWhenItIsNew(String kind) {
        // Given: three commands written in one order and logged in another; the first batch holds
        // the two later ones; the second brings the earliest (new, though older than what is stored)
        // and both later ones again (a producer's retry: same ids, same times, one of them the
        // session's latest)
        SampleSessions session = new SampleSessions("s-late", "edge-1", Instant.parse("2025-03-01T10:00:00Z"));
        var opened = session.opened();
        var early = session.command("SELECT 1", StatementKind.READ, "SELECT", null, List.of(), List.of());
        var late1 = session.command("SELECT 2", StatementKind.READ, "SELECT", null, List.of(), List.of());
        var late2 = session.command("SELECT 3", StatementKind.READ, "SELECT", null, List.of(), List.of());
        List<AuditEvent> first = List.of(opened, late1, late2);
        List<AuditEvent> second = List.of(early, late1, late2);
        InMemoryTimelines reference = new InMemoryTimelines();
        TimelineProjection.apply(opened, 0, reference);
        TimelineProjection.apply(late1, 1, reference);
        TimelineProjection.apply(late2, 2, reference);
        TimelineProjection.apply(early, 3, reference);
        try (JdbcTimelineStore store = open(kind)) {
            store.project("audit", records(first, 0, 0));
            // When
            var result = store.project("audit", records(second, 0, 3));
            // Then
            assertThat(result.projected()).isEqualTo(1);
            assertThat(result.duplicates()).isEqualTo(2);
            assertThat(store.events("s-late")).extracting(TimelineStore.StoredEvent::eventId).containsExactly(
                    opened.header().eventId(), late1.header().eventId(), late2.header().eventId(), early.header().eventId());
            assertThat(TimelineJson.write(store.timeline("s-late").orElseThrow()))
                    .isEqualTo(TimelineJson.write(reference.timeline("s-late").orElseThrow()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void aRecordOfAVersionSixStoreWrittenAgainIsFoundByItsKey(String kind) {
        // Given: a version 6 store, where every record's id had a key and chunks had no times
        flyway(kind, "6");
        List<AuditEvent> events = new SampleSessions("s-v6", "edge-1", Instant.parse("2025-03-01T10:00:00Z")).typical(false);
        AuditEvent last = events.getLast();
        sql(kind, "INSERT INTO audit_event_ids (event_time_us, event_id) VALUES (?, ?)",
                JdbcTimelineStore.micros(last.header().timestamp()), last.header().eventId());
        // When: it opens (and migrates), and the record comes again
        try (JdbcTimelineStore store = open(kind)) {
            var result = store.project("audit", records(List.of(last), 0, 50));
            // Then
            assertThat(result.duplicates()).isEqualTo(1);
            assertThat(result.projected()).isZero();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void keepsTheFirstRecordOfACommandWrittenTwiceUnderANewEventId(String kind) {
        // Given: a session stored, then one of its commands written again as a new record
        List<AuditEvent> events = new SampleSessions("s-g", "edge-1", Instant.parse("2025-03-01T10:00:00Z")).typical(false);
        List<TimelineStore.IndexedRecord> records = records(events, 0, 0);
        AuditEvent.CommandReceived first = events.stream().filter(AuditEvent.CommandReceived.class::isInstance)
                .map(AuditEvent.CommandReceived.class::cast).findFirst().orElseThrow();
        EventHeader h = first.header();
        AuditEvent.CommandReceived again = new AuditEvent.CommandReceived(new EventHeader(UUID.randomUUID().toString(),
                h.sessionId(), h.timestamp().plusSeconds(60), h.service(), h.instance()), first.command(), first.identity(),
                first.connection(), first.edgeId(), first.replyPartition(), first.mode(), first.sessionStartedAt(),
                first.clientAddress(), first.refusal());
        try (JdbcTimelineStore store = open(kind)) {
            store.project("audit", records);
            String before = TimelineJson.write(store.timeline("s-g").orElseThrow().entries());
            // When: the batch with the second record (taken as new at first, then projected again, looking)
            var result = store.project("audit", List.of(new TimelineStore.IndexedRecord(0, records.size(), CODEC.encode(again), again)));
            // Then: the record is kept raw, and the command's entry and the session's count are the first record's
            assertThat(result.projected()).isEqualTo(1);
            assertThat(store.events("s-g")).hasSize(records.size() + 1);
            assertThat(TimelineJson.write(store.timeline("s-g").orElseThrow().entries())).isEqualTo(before);
            assertThat(store.timeline("s-g").orElseThrow().session().commands()).isEqualTo(3);
            assertThat(store.nextOffsets("audit")).containsEntry(0, records.size() + 1L);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void anApprovalsOutcomeLandsOnItsCommandInTheBatchOrFromTheStore(String kind) {
        // Given: two sessions, each with a command held for approval; one is granted in the batch that
        // asked, the other in a later batch (its command then comes from the store)
        Instant t = Instant.parse("2025-03-01T10:00:00Z");
        SampleSessions a = new SampleSessions("s-ap-a", "edge-1", t);
        SampleSessions b = new SampleSessions("s-ap-b", "edge-1", t);
        var dropA = a.command("DROP TABLE public.a", dev.gatehouse.platform.core.StatementKind.DDL, "DROP TABLE", "TABLE",
                List.of("public.a"), List.of());
        var dropB = b.command("DROP TABLE public.b", dev.gatehouse.platform.core.StatementKind.DDL, "DROP TABLE", "TABLE",
                List.of("public.b"), List.of());
        List<AuditEvent> first = List.of(a.opened(), b.opened(), dropA, dropB, a.approvalRequested(dropA, "ap-1"),
                b.approvalRequested(dropB, "ap-2"), a.approvalGranted("ap-1", "dana"));
        List<AuditEvent> second = List.of(b.approvalGranted("ap-2", "erik"));
        List<TimelineStore.IndexedRecord> records = records(first, 0, 0);
        List<TimelineStore.IndexedRecord> later = records(second, 0, first.size());
        InMemoryTimelines reference = new InMemoryTimelines();
        for (var r : records) TimelineProjection.apply(r.event(), r.offset(), reference);
        for (var r : later) TimelineProjection.apply(r.event(), r.offset(), reference);
        try (JdbcTimelineStore store = open(kind)) {
            // When
            store.project("audit", records);
            store.project("audit", later);
            // Then: each grant is on its own session's command, as the fold has it
            for (String session : List.of("s-ap-a", "s-ap-b")) {
                assertThat(TimelineJson.write(store.timeline(session).orElseThrow()))
                        .isEqualTo(TimelineJson.write(reference.timeline(session).orElseThrow()));
            }
            assertThat(store.timeline("s-ap-a").orElseThrow().entries()).filteredOn(Entry.CommandEntry.class::isInstance)
                    .singleElement().satisfies(e -> assertThat(((Entry.CommandEntry) e).approval().approvers()).containsExactly("dana"));
            assertThat(store.timeline("s-ap-b").orElseThrow().entries()).filteredOn(Entry.CommandEntry.class::isInstance)
                    .singleElement().satisfies(e -> assertThat(((Entry.CommandEntry) e).approval().approvers()).containsExactly("erik"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void anApprovalAskedForACommandOfAnEarlierBatchIsFoundWhenItIsGranted(String kind) {
        // Given: the command in one batch, its approval request in the next (the stored row is
        // updated), the grant in a third (the command is found through its approval id)
        Instant t = Instant.parse("2025-03-01T10:00:00Z");
        SampleSessions c = new SampleSessions("s-ap-c", "edge-1", t);
        var drop = c.command("DROP TABLE public.c", dev.gatehouse.platform.core.StatementKind.DDL, "DROP TABLE", "TABLE",
                List.of("public.c"), List.of());
        List<List<AuditEvent>> batches = List.of(List.of(c.opened(), drop), List.of(c.approvalRequested(drop, "ap-3")),
                List.of(c.approvalGranted("ap-3", "dana")));
        InMemoryTimelines reference = new InMemoryTimelines();
        try (JdbcTimelineStore store = open(kind)) {
            long offset = 0;
            for (List<AuditEvent> batch : batches) {
                List<TimelineStore.IndexedRecord> records = records(batch, 0, offset);
                offset += batch.size();
                for (var r : records) TimelineProjection.apply(r.event(), r.offset(), reference);
                // When
                store.project("audit", records);
            }
            // Then
            assertThat(TimelineJson.write(store.timeline("s-ap-c").orElseThrow()))
                    .isEqualTo(TimelineJson.write(reference.timeline("s-ap-c").orElseThrow()));
            assertThat(store.timeline("s-ap-c").orElseThrow().entries()).filteredOn(Entry.CommandEntry.class::isInstance)
                    .singleElement().satisfies(e -> assertThat(((Entry.CommandEntry) e).approval().approvers()).containsExactly("dana"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void versionsFiveAndSixKeepEveryTermOfAVersionFourStoreAndMakeApprovalIdsTerms(String kind) {
        // Given: a store at schema version 4 with a command that has an approval and its terms
        flyway(kind, "4");
        sql(kind, "INSERT INTO timeline_entries (session_id, kafka_offset, entry_type, at_us, command_id, approval_id, body)"
                + " VALUES ('s-v4', 7, 'command', 1, 'c-1', 'ap-9', '{}')");
        sql(kind, "INSERT INTO timeline_entries (session_id, kafka_offset, entry_type, at_us, command_id, body)"
                + " VALUES ('s-v4', 8, 'command', 2, 'c-2', '{}')");
        sql(kind, "INSERT INTO command_terms (session_id, kafka_offset, term_type, term) VALUES ('s-v4', 7, 'k', 'DDL')");
        sql(kind, "INSERT INTO command_terms (session_id, kafka_offset, term_type, term) VALUES ('s-v4', 7, 'o', 'orders')");
        // When: the store opens (and migrates)
        try (JdbcTimelineStore ignored = open(kind)) {
            // Then
            assertThat(rows(kind, "SELECT term_type, term, session_id, first_offset, last_offset FROM term_postings"
                    + " ORDER BY term_type, term"))
                    .containsExactly("a ap-9 s-v4 7 7", "k DDL s-v4 7 7", "o orders s-v4 7 7");
            assertThat(rows(kind, "SELECT COUNT(*) FROM term_postings WHERE "
                    + (kind.equals("h2") ? "ARRAY_CONTAINS(offsets, 7)" : "7 = ANY(offsets)"))).containsExactly("3");
        }
    }

    private void flyway(String kind, String target) {
        org.flywaydb.core.Flyway.configure(getClass().getClassLoader())
                .dataSource(url(kind), kind.equals("h2") ? "sa" : "postgres", kind.equals("h2") ? "" : "postgres")
                .locations("classpath:db/migration")
                .placeholders((kind.equals("h2") ? JdbcTimelineStore.Dialect.H2 : JdbcTimelineStore.Dialect.POSTGRESQL).placeholders())
                .javaMigrations(new V3MoveAuditEvents())
                .table("indexer_schema_history").target(target).load().migrate();
    }

    /** Each row of {@code query} as its columns joined by spaces. */
    private List<String> rows(String kind, String query) {
        List<String> rows = new ArrayList<>();
        try (var c = java.sql.DriverManager.getConnection(url(kind), kind.equals("h2") ? "sa" : "postgres",
                kind.equals("h2") ? "" : "postgres"); var ps = c.prepareStatement(query); var rs = ps.executeQuery()) {
            int columns = rs.getMetaData().getColumnCount();
            while (rs.next()) {
                List<String> values = new ArrayList<>();
                for (int i = 1; i <= columns; i++) values.add(String.valueOf(rs.getObject(i)).strip());
                rows.add(String.join(" ", values));
            }
        } catch (java.sql.SQLException e) {
            throw new IllegalStateException(e);
        }
        return rows;
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void searchesByIdentityCommitObjectKindVerdictAndText(String kind) {
        // Given
        try (JdbcTimelineStore store = open(kind)) {
            store.project("audit", records(new SampleSessions("s-old", "edge-1", Instant.parse("2025-03-01T10:00:00Z")).typical(true), 0, 0));
            store.project("audit", records(new SampleSessions("s-new", "edge-1", Instant.parse("2025-03-02T10:00:00Z")).typical(false), 1, 0));
            // When
            var all = store.sessions(SearchQuery.all());
            var byDatabase = store.commands(query("reports", "CREATE_DATABASE", null, null, "0123456"));
            var denied = store.sessions(query(null, null, "deny", null, null));
            var text = store.commands(query(null, null, null, "PUBLIC.ORDERS where", null));
            var open = store.sessions(SearchQuery.all().withStatus("open"));
            var firstPage = store.sessions(new SearchQuery(null, null, null, "deployers", null, null, null, null,
                    null, null, null, null, null, null, null, 1, null));
            var secondPage = store.sessions(firstPage.items().isEmpty() ? SearchQuery.all() : new SearchQuery(null, null, null,
                    "deployers", null, null, null, null, null, null, null, null, null, null, null, 1, firstPage.next()));
            // Then
            assertThat(all.items()).extracting(s -> s.sessionId()).containsExactly("s-new", "s-old");
            assertThat(byDatabase.items()).hasSize(2).allSatisfy(hit -> {
                assertThat(hit.command().sql()).isEqualTo("CREATE DATABASE reports");
                assertThat(hit.session().identity().ci().commitSha()).startsWith("0123456");
            });
            assertThat(byDatabase.items().getFirst().session().sessionId()).isEqualTo("s-new");
            assertThat(denied.items()).hasSize(2);
            assertThat(text.items()).hasSize(2).allSatisfy(hit -> assertThat(hit.command().parameters()).containsExactly("42"));
            assertThat(open.items()).extracting(s -> s.sessionId()).containsExactly("s-new");
            assertThat(firstPage.items()).extracting(s -> s.sessionId()).containsExactly("s-new");
            assertThat(secondPage.items()).extracting(s -> s.sessionId()).containsExactly("s-old");
            assertThat(secondPage.next()).isNull();
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void searchesDelegatedSessionsByOriginatorAndByAnyActorOfTheirChain(String kind) {
        // Given executor-agent for alice via planner-agent (its commands in a second batch), planner-agent for bob,
        // and a CI job acting for itself
        SampleSessions forAlice = new SampleSessions("s-alice", "edge-1", Instant.parse("2025-03-01T10:00:00Z"))
                .as(SampleSessions.delegatedIdentity());
        SampleSessions forBob = new SampleSessions("s-bob", "edge-1", Instant.parse("2025-03-01T11:00:00Z"))
                .as(new Identity("planner-agent", "https://issuer.example", List.of("agents"), List.of(), Map.of(), null,
                        new Delegation("bob", "https://issuer.example", List.of(), List.of(), List.of(), "azp"), null));
        SampleSessions ci = new SampleSessions("s-ci", "edge-1", Instant.parse("2025-03-01T12:00:00Z"));
        try (JdbcTimelineStore store = open(kind)) {
            store.project("audit", records(List.of(forAlice.opened()), 0, 0));
            store.project("audit", records(List.of(forAlice.command("SELECT 1", StatementKind.READ, "SELECT", null,
                    List.of(), List.of())), 0, 1));
            store.project("audit", records(List.of(forBob.opened(), ci.opened()), 1, 0));
            // When
            var byAlice = store.sessions(byChain("alice", null));
            var byPlanner = store.sessions(byChain(null, "planner-agent"));
            var byExecutor = store.sessions(byChain(null, "executor-agent"));
            var plannerForBob = store.sessions(byChain("bob", "planner-agent"));
            var executorForBob = store.sessions(byChain("bob", "executor-agent"));
            var originatorIsNoActor = store.sessions(byChain(null, "alice"));
            var aliceCommands = store.commands(byChain("alice", "planner-agent"));
            // Then
            assertThat(byAlice.items()).extracting(s -> s.sessionId()).containsExactly("s-alice");
            assertThat(byPlanner.items()).extracting(s -> s.sessionId()).containsExactly("s-bob", "s-alice");
            assertThat(byExecutor.items()).extracting(s -> s.sessionId()).containsExactly("s-alice");
            assertThat(plannerForBob.items()).extracting(s -> s.sessionId()).containsExactly("s-bob");
            assertThat(executorForBob.items()).isEmpty();
            assertThat(originatorIsNoActor.items()).isEmpty();
            assertThat(aliceCommands.items()).singleElement().satisfies(hit -> {
                assertThat(hit.command().sql()).isEqualTo("SELECT 1");
                assertThat(hit.session().identity().chain()).isEqualTo("alice → planner-agent → executor-agent");
                assertThat(hit.session().identity().intent().verified()).isFalse();
            });
        }
    }

    private static SearchQuery byChain(String originator, String actor) {
        return new SearchQuery(null, originator, actor, null, null, null, null, null, null, null, null, null, null, null,
                null, 0, null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void findsACommandByTheTextOfTheStatementItRuns(String kind) {
        // Given: EXECUTE pay(...) runs a prepared INSERT; an extended batch runs two statements
        SampleSessions session = new SampleSessions("s-x", "edge-1", Instant.parse("2025-03-01T10:00:00Z"));
        var execute = session.executePrepared(null);
        var batch = session.extendedBatch();
        List<AuditEvent> events = List.of(session.opened(), execute, batch, session.completedPartly(batch, 2, null, null));
        InMemoryTimelines reference = new InMemoryTimelines();
        long offset = 0;
        for (AuditEvent e : events) TimelineProjection.apply(e, offset++, reference);
        try (JdbcTimelineStore store = open(kind)) {
            store.project("audit", records(events, 0, 0));
            // When
            var byPrepared = store.commands(query(null, null, null, "insert into PAYOUTS", null));
            var byVia = store.commands(query(null, null, null, "execute pay(", null));
            var byExecution = store.commands(query(null, null, null, "WHERE id > $1", null));
            var byObject = store.commands(query("payouts", "INSERT", null, null, null));
            // Then
            assertThat(byPrepared.items()).singleElement().satisfies(hit ->
                    assertThat(hit.command().commandId()).isEqualTo(execute.command().id().value()));
            assertThat(byVia.items()).hasSize(1);
            assertThat(byExecution.items()).singleElement().satisfies(hit ->
                    assertThat(hit.command().statements()).extracting(Entry.StatementInfo::portalName)
                            .containsExactly("", "C_2"));
            assertThat(byObject.items()).hasSize(1);
            assertThat(TimelineJson.write(store.timeline("s-x").orElseThrow()))
                    .isEqualTo(TimelineJson.write(reference.timeline("s-x").orElseThrow()));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void aTermFindsOnlyTheCommandsThatHaveItAmongTheCommandsOfItsBatch(String kind) {
        // Given: one session's batch mixes reads of public.orders with a DROP of public.c between
        // them (so the DROP lies inside the range of the batch's "orders" and "SELECT" postings), and
        // a second batch reads public.orders again
        SampleSessions session = new SampleSessions("s-post", "edge-1", Instant.parse("2025-03-01T10:00:00Z"));
        var read1 = session.command("SELECT * FROM public.orders", StatementKind.READ, "SELECT", "TABLE",
                List.of(), List.of("public.orders"));
        var drop = session.command("DROP TABLE public.c", StatementKind.DDL, "DROP TABLE", "TABLE",
                List.of("public.c"), List.of());
        var read2 = session.command("SELECT * FROM public.orders", StatementKind.READ, "SELECT", "TABLE",
                List.of(), List.of("public.orders"));
        var read3 = session.command("SELECT * FROM public.orders", StatementKind.READ, "SELECT", "TABLE",
                List.of(), List.of("public.orders"));
        try (JdbcTimelineStore store = open(kind)) {
            store.project("audit", records(List.of(session.opened(), read1, drop, read2), 0, 0));
            store.project("audit", records(List.of(read3), 0, 4));
            // When
            var drops = store.commands(query(null, "DROP_TABLE", null, null, null));
            var orders = store.commands(query("orders", null, null, null, null));
            var ordersDrops = store.commands(query("public.orders", "DROP_TABLE", null, null, null));
            var cSelect = store.commands(query("c", "SELECT", null, null, null));
            var selects = store.sessions(new SearchQuery(null, null, null, null, null, null, null, null, null, null, null,
                    "public.c", "SELECT", null, null, 0, null));
            // Then
            assertThat(drops.items()).extracting(hit -> hit.command().commandId()).containsExactly(drop.command().id().value());
            assertThat(orders.items()).extracting(hit -> hit.command().commandId()).containsExactly(
                    read3.command().id().value(), read2.command().id().value(), read1.command().id().value());
            assertThat(ordersDrops.items()).isEmpty();
            assertThat(cSelect.items()).isEmpty();
            assertThat(selects.items()).isEmpty();
            // one row per session, term and batch: the first batch's reads share their rows
            assertThat(rows(kind, "SELECT term_type, term, first_offset, last_offset FROM term_postings"
                    + " WHERE term = 'SELECT' ORDER BY first_offset")).containsExactly("k SELECT 1 3", "k SELECT 4 4");
        }
    }

    private static SearchQuery query(String object, String kind, String verdict, String text, String commit) {
        return new SearchQuery(null, null, null, null, null, null, commit, null, verdict, null, null, object, kind, text, null,
                0, null);
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void keepsEveryRawRecordInOrderAcrossChunks(String kind) {
        // Given: records large enough that one batch of one session needs several chunks
        List<AuditEvent> events = new SampleSessions("s-d", "edge-1", Instant.parse("2025-03-01T10:00:00Z")).typical(true);
        List<TimelineStore.IndexedRecord> records = new ArrayList<>();
        for (int i = 0; i < events.size(); i++) {
            byte[] value = java.util.Arrays.copyOf(CODEC.encode(events.get(i)), 20_000 + i);
            records.add(new TimelineStore.IndexedRecord(1, 100 + i, value, events.get(i)));
        }
        try (JdbcTimelineStore store = open(kind)) {
            // When: two batches
            store.project("audit", records.subList(0, 3));
            store.project("audit", records.subList(3, records.size()));
            // Then
            List<TimelineStore.StoredEvent> stored = store.events("s-d");
            assertThat(stored).extracting(TimelineStore.StoredEvent::offset)
                    .isEqualTo(records.stream().map(TimelineStore.IndexedRecord::offset).toList());
            for (int i = 0; i < records.size(); i++) {
                assertThat(stored.get(i).value()).isEqualTo(records.get(i).value());
                assertThat(stored.get(i).eventId()).isEqualTo(events.get(i).header().eventId());
                assertThat(stored.get(i).type()).isEqualTo(events.get(i).getClass().getSimpleName());
                assertThat(stored.get(i).partition()).isEqualTo(1);
            }
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"h2", "postgres"})
    void movesTheRecordsOfAVersionOneStoreIntoChunks(String kind) {
        // Given: a store at schema version 1 with records in audit_events
        flyway(kind, "1");
        List<AuditEvent> events = new SampleSessions("s-f", "edge-1", Instant.parse("2025-03-01T10:00:00Z")).typical(true);
        List<TimelineStore.IndexedRecord> records = records(events, 2, 7);
        for (var r : records) {
            sql(kind, "INSERT INTO audit_events (kafka_partition, kafka_offset, event_id, session_id, event_type, event_time_us,"
                    + " record_value) VALUES (?, ?, ?, ?, ?, ?, ?)", r.partition(), r.offset(), r.event().header().eventId(),
                    "s-f", r.event().getClass().getSimpleName(), JdbcTimelineStore.micros(r.event().header().timestamp()), r.value());
        }
        // When: the store opens (and migrates)
        try (JdbcTimelineStore store = open(kind)) {
            // Then: the records are there, and their ids are known
            assertThat(store.events("s-f")).extracting(TimelineStore.StoredEvent::offset)
                    .isEqualTo(records.stream().map(TimelineStore.IndexedRecord::offset).toList());
            assertThat(store.events("s-f").getLast().value()).isEqualTo(records.getLast().value());
            assertThat(store.project("audit", records(events, 2, 100)).duplicates()).isEqualTo(records.size());
        }
    }
}
