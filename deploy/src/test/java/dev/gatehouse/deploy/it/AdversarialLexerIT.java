package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.platform.core.AuditEvent;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.EOFException;
import java.io.IOException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static dev.gatehouse.deploy.it.AdversarialEdge.DEMO;
import static dev.gatehouse.deploy.it.AdversarialEdge.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Class 2 of issue 12, one lexer: the analyser always reads SQL with
 * {@code standard_conforming_strings=on} and UTF-8, so an attacker who makes the target read it
 * otherwise ({@code standard_conforming_strings=off}, or a client encoding whose multibyte characters
 * can end in a backslash byte) hides a second statement in what the analyser sees as a string
 * literal. The defence: both settings are pinned in the upstream startup packet, every attempt to
 * change them is refused (55P02 in a session, 0A000 at connect), a target that reports another value
 * ends the session, and text that would lex differently may not follow server-side code in the same
 * pipeline.
 */
class AdversarialLexerIT {
    private static final AdversarialEdge adv = AdversarialEdge.get();
    /**
     * One literal under standard_conforming_strings=on; under off, a SELECT and a DELETE without WHERE
     * ({@code 'x\', '} is then one literal and {@code y; DELETE ...} code).
     */
    private static final String SMUGGLED_DELETE = "SELECT 'x\\', 'y; DELETE FROM adv_victim; --'";

    @BeforeAll
    static void serverCode() throws Exception {
        adv.asSuperuser(DemoTarget.DATABASE, "SET ROLE " + DemoTarget.ROLE,
                // the setting's name is computed: the analyser cannot name what it changes
                "CREATE OR REPLACE FUNCTION adv_flip() RETURNS int LANGUAGE plpgsql AS"
                        + " $$BEGIN PERFORM set_config('standard_' || 'conforming_strings', 'off', false); RETURN 1; END$$",
                "CREATE TABLE IF NOT EXISTS adv_victim (id int)",
                "INSERT INTO adv_victim SELECT g FROM generate_series(1, 3) g");
    }

    /** Attack: change a pinned setting in the session. Defence: refused (55P02), recorded as refused, nothing reaches the target. */
    @ParameterizedTest
    @ValueSource(strings = {
            "SET standard_conforming_strings = off",
            "SET LOCAL standard_conforming_strings TO false",
            "SELECT set_config('standard_conforming_strings', 'off', false)",
            "SET client_encoding = 'GBK'",
            "SET NAMES 'SJIS'",
            "ALTER ROLE gatehouse_demo SET standard_conforming_strings = off",
            "ALTER ROLE gatehouse_demo IN DATABASE demo SET client_encoding = 'BIG5'",
            "ALTER DATABASE demo SET standard_conforming_strings = off",
            "ALTER SYSTEM SET standard_conforming_strings = off",
            "CREATE FUNCTION adv_lexes_off() RETURNS int LANGUAGE sql SET standard_conforming_strings = off AS 'SELECT 1'"})
    void aChangeOfAPinnedSettingIsRefusedAndRecorded(String sql) throws Exception {
        // Given
        AdversarialEdge.Shared dba = adv.shared("adv-lexer-dba", DEMO, "alice", "dba");
        RawPgClient c = dba.client();

        // When
        RawPgClient.Answer answer = c.simple(sql);

        // Then
        assertThat(answer.sqlState()).as(answer.toString()).isEqualTo("55P02");
        assertThat(c.simple("SHOW standard_conforming_strings").rows()).containsExactly(List.of("on"));
        assertThat(c.simple("SHOW client_encoding").rows()).containsExactly(List.of("UTF8"));
        assertThat(adv.statementsRan(dba.app())).doesNotContain(sql);
        AuditEvent.CommandReceived recorded = adv.command(dba.app(), sql);
        assertThat(recorded.refusal()).isNotNull();
        assertThat(adv.completed(recorded.command().id()).outcome().sqlState()).isEqualTo("55P02");
        assertThat(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM pg_db_role_setting"
                + " WHERE array_to_string(setconfig, ',') ~ 'standard_conforming_strings=off|client_encoding=(GBK|BIG5)'"))
                .isEqualTo("0");
    }

    /** Attack: ask for another lexing in the startup packet. Defence: refused at connect (0A000), recorded as SessionRejected. */
    @ParameterizedTest
    @ValueSource(strings = {"client_encoding=GBK", "client_encoding=SJIS", "options=-c standard_conforming_strings=off",
            "options=-c client_encoding=BIG5", "options=--standard_conforming_strings=off",
            "options=-c standard_conforming_strings=on -c standard_conforming_strings=off"})
    void aStartupParameterThatChangesLexingIsRefusedAtConnect(String parameter) throws Exception {
        // Given
        String user = unique("adv-startup");
        Map<String, String> startup = new LinkedHashMap<>(Map.of("user", user, "database", DEMO));
        String[] kv = parameter.split("=", 2);
        startup.put(kv[0], kv[1]);
        try (RawPgClient c = RawPgClient.open(adv.port())) {
            // When
            c.sendStartup(startup);
            RawPgClient.Message first = c.read();

            // Then
            assertThat(first.type()).as(first.toString()).isEqualTo('E');
            assertThat(first.fields()).containsEntry('V', "FATAL").containsEntry('C', "0A000");
            assertThat(c.closedByServer()).isTrue();
        }
        AuditEvent.SessionRejected rejected = adv.rejected(user);
        assertThat(rejected.sqlState()).isEqualTo("0A000");
        assertThat(rejected.reason()).containsAnyOf("standard_conforming_strings", "client_encoding", "options");
    }

    /**
     * Attack: settings stored on the target for the edge's role (as its superuser could) that make
     * it lex otherwise. Defence: the edge's startup packet overrides them; the session reads SQL as the analyser does.
     */
    @Test
    void roleSettingsOnTheTargetAreOverriddenByThePinnedStartupParameters() throws Exception {
        // Given
        String app = unique("adv-role-settings");
        adv.asSuperuser(DemoTarget.DATABASE,
                "ALTER ROLE " + DemoTarget.ROLE + " IN DATABASE " + DemoTarget.DATABASE + " SET standard_conforming_strings = off",
                "ALTER ROLE " + DemoTarget.ROLE + " SET client_encoding = 'SJIS'");
        try {
            try (RawPgClient c = adv.login(DEMO, app, "alice", "dba")) {
                // When
                RawPgClient.Answer scs = c.simple("SHOW standard_conforming_strings");
                RawPgClient.Answer encoding = c.simple("SHOW client_encoding");
                RawPgClient.Answer backslash = c.simple("SELECT length('a\\b')");

                // Then
                assertThat(scs.rows()).containsExactly(List.of("on"));
                assertThat(encoding.rows()).containsExactly(List.of("UTF8"));
                assertThat(backslash.rows()).as("a backslash is a character, not an escape").containsExactly(List.of("3"));
            }
            assertThat(adv.opened(app).targetParameters())
                    .containsEntry("standard_conforming_strings", "on").containsEntry("client_encoding", "UTF8");
        } finally {
            adv.asSuperuser(DemoTarget.DATABASE,
                    "ALTER ROLE " + DemoTarget.ROLE + " IN DATABASE " + DemoTarget.DATABASE + " RESET standard_conforming_strings",
                    "ALTER ROLE " + DemoTarget.ROLE + " RESET client_encoding");
        }
    }

    /**
     * Attack: server-side code turns standard_conforming_strings off in a way the analyser cannot
     * name. Defence: the target reports it (ParameterStatus), and the edge ends the session with 57P01.
     */
    @ParameterizedTest
    @ValueSource(strings = {"SELECT adv_flip()",
            "UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_' || 'conforming_strings'"})
    void codeThatTurnsOffStandardConformingStringsEndsTheSession(String sql) throws Exception {
        // Given
        String app = unique("adv-flip");
        try (RawPgClient c = adv.login(DEMO, app, "alice", "dba")) {
            // When
            c.query(sql);
            RawPgClient.Message error = c.readThrough('E').messages().getLast();

            // Then
            assertThat(error.fields()).as(error.toString()).containsEntry('V', "FATAL").containsEntry('C', "57P01");
            assertThat(error.fields().get('M')).contains("standard_conforming_strings");
            assertThat(c.closedByServer()).isTrue();
        }
        AuditEvent.SessionClosed closed = await().atMost(Duration.ofSeconds(30)).until(() -> adv.events(AuditEvent.SessionClosed.class,
                e -> e.sessionId().equals(adv.opened(app).sessionId())).stream().findFirst().orElse(null), x -> x != null);
        assertThat(closed.reason()).contains("standard_conforming_strings");
    }

    /**
     * Attack: code that turns standard_conforming_strings off, and in the same pipeline (before Sync)
     * a Parse whose backslash the target would then read as an escape. Defence: the batch is refused, nothing of it runs.
     */
    @Test
    void aBackslashStatementPipelinedAfterCodeIsRefused() throws Exception {
        // Given
        String app = unique("adv-flip-pipelined");
        long victims = victims();
        try (RawPgClient c = adv.login(DEMO, app, "alice", "dba")) {
            // When
            c.parseBindExecute("SELECT adv_flip()");
            c.parseBindExecute("SELECT 'x\\', 'y'");
            c.sync();
            RawPgClient.Answer answer = c.readUntilReady();

            // Then
            assertThat(answer.sqlState()).as(answer.toString()).isEqualTo("0A000");
            assertThat(c.simple("SHOW standard_conforming_strings").rows()).containsExactly(List.of("on"));
        }
        assertThat(adv.statementsRan(app)).noneMatch(s -> s.contains("adv_flip"));
        assertThat(victims()).isEqualTo(victims);
    }

    /**
     * Attack: code that turns standard_conforming_strings off in a Flush-terminated batch (no
     * ReadyForQuery, so no ParameterStatus yet), then an extended-protocol batch whose backslash the
     * target now reads as an escape. Defence: until the next ReadyForQuery such text is refused.
     */
    @Test
    void aBackslashParseAfterAFlushedBatchOfCodeIsRefused() throws Exception {
        // Given
        String app = unique("adv-flip-flushed-parse");
        try (RawPgClient c = adv.login(DEMO, app, "alice", "dba")) {
            flipInAFlushedBatch(c);

            // When
            c.parseBindExecute("SELECT 'x\\', 'y'");
            c.sync();
            RawPgClient.Answer answer = readOrEnd(c);

            // Then
            assertThat(answer.sqlState()).as(answer.toString()).isIn("0A000", "57P01");
            assertThat(answer.rows()).isEmpty();
        }
        assertThat(adv.statementsRan(app)).noneMatch(s -> s.contains("'x\\'"));
    }

    /**
     * Attack: code that turns standard_conforming_strings off in a Flush-terminated batch, then a
     * simple Query whose literal hides a DELETE without WHERE once the target reads backslashes as
     * escapes. Defence: until the next ReadyForQuery such text is refused, so the DELETE never runs.
     * <p>Found by this suite (fixed): PgCommandBuilder.query does not check
     * {@code codeRanInPipeline}; the Query is decided as a harmless SELECT, the target runs the DELETE,
     * and only its ReadyForQuery's ParameterStatus ends the session, too late.
     */
    @Test
    void aBackslashQueryAfterAFlushedBatchOfCodeCannotSmuggleADelete() throws Exception {
        // Given
        String app = unique("adv-flip-flushed-query");
        long victims = victims();
        try (RawPgClient c = adv.login(DEMO, app, "alice", "dba")) {
            flipInAFlushedBatch(c);

            // When
            c.query(SMUGGLED_DELETE);
            RawPgClient.Answer answer = readOrEnd(c);

            // Then
            assertThat(answer.sqlState()).as(answer.toString()).isNotNull();
            assertThat(answer.tags()).doesNotContain("DELETE 3");
        }
        assertThat(victims).isPositive();
        assertThat(victims()).as("rows of adv_victim").isEqualTo(victims);
        assertThat(adv.statementsRan(app)).doesNotContain(SMUGGLED_DELETE);
    }

    /** Attack: syntax of a newer PostgreSQL that the analyser's parser (15) cannot read. Defence: denied as unparseable. */
    @ParameterizedTest
    @ValueSource(strings = {"SELECT '{}' IS JSON", "SELECT JSON_OBJECT('a' VALUE 1)",
            "MERGE INTO orders o USING (SELECT 1 AS id) s ON o.id = s.id WHEN MATCHED THEN DELETE RETURNING *"})
    void syntaxOfANewerVersionIsDeniedAsUnparseable(String sql) throws Exception {
        // Given
        AdversarialEdge.Shared ci = adv.shared("adv-lexer-ci", DEMO, "ci-bot", "ci");

        // When
        RawPgClient.Answer answer = ci.client().simple(sql);

        // Then
        AdversarialEdge.assertDenied(answer, "deny-unparseable-sql");
        AuditEvent.CommandReceived recorded = adv.command(ci.app(), sql);
        assertThat(recorded.command().analysis().parseable()).isFalse();
        assertThat(adv.statementsRan(ci.app())).doesNotContain(sql);
    }

    /** Runs adv_flip() in a Flush-terminated batch: standard_conforming_strings is off, no ReadyForQuery has said so. */
    private static void flipInAFlushedBatch(RawPgClient c) throws IOException {
        c.parseBindExecute("SELECT adv_flip()");
        c.flush();
        assertThat(c.readThrough('C', 'E').tags()).containsExactly("SELECT 1");
    }

    /** Reads up to ReadyForQuery, or to the end of the connection if the edge ends the session first. */
    private static RawPgClient.Answer readOrEnd(RawPgClient c) throws IOException {
        List<RawPgClient.Message> messages = new java.util.ArrayList<>();
        try {
            while (true) {
                RawPgClient.Message m = c.read();
                messages.add(m);
                if (m.type() == 'Z') break;
            }
        } catch (EOFException | java.net.SocketException ended) {
            // the edge closed the session
        }
        return new RawPgClient.Answer(messages);
    }

    private static long victims() throws Exception {
        return Long.parseLong(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM adv_victim"));
    }
}
