package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import dev.gatehouse.testsupport.InMemoryDecisionPort;
import dev.gatehouse.testsupport.LoggingPostgres;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.sql.Connection;
import java.sql.Statement;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The PostgreSQL adapter on a real target, one behaviour at a time: what it records for a unit,
 * what it refuses, how it keeps client and target in step.
 */
class PgAdapterTest {
    private static LoggingPostgres postgres;
    private static Vertx vertx;
    private static SessionHarness.Edge edge;

    @BeforeAll
    static void start() throws Exception {
        postgres = LoggingPostgres.start(Files.createTempDirectory("gatehouse-adapter-"), Map.of());
        try (Connection c = postgres.owner(); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
            s.execute("""
                    CREATE FUNCTION loosen() RETURNS int LANGUAGE plpgsql AS $$
                    BEGIN PERFORM set_config('standard_conforming_strings', 'off', false); RETURN 1; END $$""");
            s.execute("""
                    CREATE FUNCTION loosen_quietly() RETURNS int LANGUAGE plpgsql AS $$
                    BEGIN PERFORM set_config(lower('STANDARD_CONFORMING_STRINGS'), 'off', false); RETURN 1; END $$""");
        }
        vertx = Vertx.vertx();
        edge = SessionHarness.Edge.on(vertx, new PgQueryAnalyzer(), postgres);
    }

    @AfterAll
    static void stop() throws Exception {
        if (vertx != null) vertx.close().await();
        if (postgres != null) postgres.close();
    }

    private static List<CommandStatement> lastStatements(InMemoryDecisionPort log) {
        return log.events(AuditEvent.CommandReceived.class).getLast().command().statements();
    }

    @Test
    void aRelationCreatedEarlierInTheSameCommandIsKnownToTheStatementsAfter() throws Exception {
        // Given
        InMemoryDecisionPort log = new InMemoryDecisionPort();
        try (SessionHarness session = new SessionHarness(edge, log).open()) {
            // When
            session.send(new FrontendMessage.Query("CREATE TABLE created_here (id int); INSERT INTO created_here VALUES (1)"));
            session.awaitReady();

            // Then
            List<CommandStatement> statements = lastStatements(log);
            assertThat(statements).hasSize(2);
            assertThat(statements.get(1).analysis().tablesWritten()).contains("public.created_here");
            assertThat(statements.get(1).analysis().uncertain()).as("%s", statements.get(1).analysis().uncertainty()).isFalse();
        }
    }

    @Test
    void namesResolveToTheRelationTheTargetUses() throws Exception {
        // Given
        InMemoryDecisionPort log = new InMemoryDecisionPort();
        try (SessionHarness session = new SessionHarness(edge, log).open()) {
            // When
            session.send(new FrontendMessage.Query("UPDATE \"t\" SET v = 'a' WHERE id = 0; UPDATE target.public.t SET v = 'b' WHERE id = 0"));
            session.awaitReady();

            // Then
            assertThat(lastStatements(log)).allSatisfy(s -> assertThat(s.analysis().tablesWritten()).containsExactly("public.t"));
        }
    }

    @Test
    void aPinnedSettingCannotBeChangedAndTheRefusalIsRecorded() throws Exception {
        // Given
        InMemoryDecisionPort log = new InMemoryDecisionPort();
        try (SessionHarness session = new SessionHarness(edge, log).open()) {
            // When
            session.send(new FrontendMessage.Query("SET standard_conforming_strings = off"));
            var ready = session.awaitReady();
            session.send(new FrontendMessage.Query("SHOW standard_conforming_strings"));
            session.awaitReady();

            // Then
            assertThat(ready).isNotNull();
            assertThat(session.answers()).anySatisfy(r -> {
                assertThat(r.type()).isEqualTo(PgProtocol.BE_ERROR_RESPONSE);
                assertThat(r.fields()).containsEntry('C', "55P02");
            });
            assertThat(log.events(AuditEvent.CommandReceived.class).getFirst().refusal()).contains("standard_conforming_strings");
            assertThat(session.answers()).anySatisfy(r -> {
                assertThat(r.type()).isEqualTo(PgProtocol.BE_DATA_ROW);
                assertThat(new String(r.payload(), java.nio.charset.StandardCharsets.UTF_8)).endsWith("on");
            });
        }
    }

    @Test
    void aFunctionWhoseBodyChangesAPinnedSettingIsRefusedBeforeItRuns() throws Exception {
        // Given
        InMemoryDecisionPort log = new InMemoryDecisionPort();
        try (SessionHarness session = new SessionHarness(edge, log).open()) {
            // When
            session.send(new FrontendMessage.Query("SELECT loosen()"));
            session.awaitReady();

            // Then
            assertThat(session.answers()).filteredOn(r -> r.type() == PgProtocol.BE_ERROR_RESPONSE)
                    .anySatisfy(r -> assertThat(r.fields()).containsEntry('C', "55P02"));
        }
    }

    @Test
    void codeThatChangesAPinnedSettingUnseenEndsTheSessionAtTheTargetsReport() throws Exception {
        // Given
        InMemoryDecisionPort log = new InMemoryDecisionPort();
        SessionHarness session = new SessionHarness(edge, log).open();

        // When
        session.send(new FrontendMessage.Query("SELECT loosen_quietly()"));
        session.closed.get(20, java.util.concurrent.TimeUnit.SECONDS);

        // Then
        assertThat(session.received).anySatisfy(r -> {
            assertThat(r.type()).isEqualTo(PgProtocol.BE_ERROR_RESPONSE);
            assertThat(r.fields()).containsEntry('S', "FATAL").containsEntry('C', "57P01");
            assertThat(r.fields().get('M')).contains("standard_conforming_strings=off");
        });
        assertThat(log.events(AuditEvent.SessionClosed.class)).hasSize(1);
    }

    @Test
    void aBackslashStatementCannotFollowCodeInTheSamePipeline() throws Exception {
        // Given
        InMemoryDecisionPort log = new InMemoryDecisionPort();
        try (SessionHarness session = new SessionHarness(edge, log).open()) {
            // When: code runs (it could have changed how the target lexes), then, before Sync, a text with a backslash
            session.send(new FrontendMessage.Parse("", "SELECT length(v) FROM t WHERE id = 0", new int[0]),
                    new FrontendMessage.Bind("", "", new short[0], List.of(), new short[0]),
                    new FrontendMessage.Execute("", 0), new FrontendMessage.Flush());
            session.send(new FrontendMessage.Parse("", "SELECT 1", new int[0]),
                    new FrontendMessage.Bind("", "", new short[0], List.of(), new short[0]),
                    new FrontendMessage.Execute("", 0), new FrontendMessage.Flush());
            session.send(new FrontendMessage.Query("SELECT 1"));
            session.awaitReady();

            // Then (no code ran here: nothing refused)
            assertThat(session.answers()).noneMatch(r -> r.type() == PgProtocol.BE_ERROR_RESPONSE);
        }
        InMemoryDecisionPort log2 = new InMemoryDecisionPort();
        try (SessionHarness session = new SessionHarness(edge, log2).open()) {
            session.send(new FrontendMessage.Parse("", "DO $$ BEGIN PERFORM 1; END $$", new int[0]),
                    new FrontendMessage.Bind("", "", new short[0], List.of(), new short[0]),
                    new FrontendMessage.Execute("", 0), new FrontendMessage.Flush());
            session.send(new FrontendMessage.Parse("", "SELECT 'a\\' AS x", new int[0]),
                    new FrontendMessage.Bind("", "", new short[0], List.of(), new short[0]),
                    new FrontendMessage.Execute("", 0), new FrontendMessage.Sync());
            session.awaitReady();

            // Then
            assertThat(session.answers()).anySatisfy(r -> {
                assertThat(r.type()).isEqualTo(PgProtocol.BE_ERROR_RESPONSE);
                assertThat(r.fields()).containsEntry('C', PgProtocol.FEATURE_NOT_SUPPORTED);
            });
            assertThat(log2.events(AuditEvent.CommandReceived.class).getLast().refusal()).contains("backslash");
        }
    }
}
