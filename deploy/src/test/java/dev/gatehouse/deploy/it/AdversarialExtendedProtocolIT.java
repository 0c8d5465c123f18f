package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.Decision;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.util.List;

import static dev.gatehouse.deploy.it.AdversarialEdge.DEMO;
import static dev.gatehouse.deploy.it.AdversarialEdge.assertDenied;
import static dev.gatehouse.deploy.it.AdversarialEdge.unique;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Class 1 of issue 12, extended-protocol bookkeeping: an attacker with a raw socket orders Parse,
 * Bind, Execute, Close, Flush and Sync, and SQL-level PREPARE, EXECUTE, DECLARE and FETCH, so that
 * the SQL the edge decides differs from the SQL the target runs. The defence: every execution is
 * decided and recorded as the text its portal was bound to, exactly as PostgreSQL binds it, and what
 * the edge cannot tie to analysed SQL is refused. The witness is the target's own statement log for
 * the session's backend.
 */
class AdversarialExtendedProtocolIT {
    private static final AdversarialEdge adv = AdversarialEdge.get();
    private static final String ATTACKER = "mallory";
    private static final String GROUP = "analysts";
    /** Fails with 22012 while it runs (not while it is planned, as a constant 1/0 would). */
    static final String FAILS_WHEN_RUN = "SELECT 1/g FROM generate_series(0, 0) g";

    @BeforeAll
    static void serverCode() throws Exception {
        adv.asSuperuser(DemoTarget.DATABASE, "SET ROLE " + DemoTarget.ROLE,
                "CREATE OR REPLACE FUNCTION adv_reprepare(name text) RETURNS void LANGUAGE plpgsql AS"
                        + " $$BEGIN EXECUTE format('DEALLOCATE %I', name);"
                        + " EXECUTE format('PREPARE %I AS DELETE FROM orders', name); END$$",
                "CREATE OR REPLACE FUNCTION adv_recursor(name text) RETURNS void LANGUAGE plpgsql AS"
                        + " $$BEGIN EXECUTE format('CLOSE %I', name);"
                        + " EXECUTE format('DECLARE %I CURSOR FOR SELECT id, email FROM customers', name); END$$");
    }

    /** Attack: Bind a harmless text, re-Parse the unnamed statement, Execute. Defence: the bound text runs and is recorded. */
    @Test
    void reParseOfTheUnnamedStatementAfterBindRunsAndRecordsTheBoundText() throws Exception {
        // Given
        String app = unique("adv-reparse-unnamed");
        String bound = "SELECT '" + app + "-bound'";
        String reparsed = "SELECT '" + app + "-reparsed'";
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            // When
            c.parse("", bound);
            c.bind("", "");
            c.parse("", reparsed);
            c.execute("", 0);
            c.sync();
            RawPgClient.Answer answer = c.readUntilReady();

            // Then
            assertThat(answer.rows()).as(answer.toString()).containsExactly(List.of(app + "-bound"));
        }
        assertThat(adv.statementsRan(app)).contains(bound).doesNotContain(reparsed);
        AuditEvent.CommandReceived recorded = adv.command(app, app + "-bound");
        assertThat(recorded.command().statements()).singleElement().satisfies(s -> {
            assertThat(s.step()).isEqualTo(CommandStatement.Step.EXECUTE);
            assertThat(s.sql()).isEqualTo(bound);
        });
    }

    /** Attack: Bind a DELETE without WHERE, re-Parse a harmless text, Execute. Defence: decided as the DELETE, denied. */
    @Test
    void reParseOfTheUnnamedStatementCannotHideTheDeleteThatWasBound() throws Exception {
        // Given
        String app = unique("adv-reparse-hide");
        long orders = countOrders();
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            // When
            c.parse("", "DELETE FROM orders");
            c.bind("", "");
            c.parse("", "SELECT '" + app + "'");
            c.execute("", 0);
            c.sync();
            RawPgClient.Answer answer = c.readUntilReady();

            // Then
            assertDenied(answer, "no-update-delete-without-where");
        }
        assertThat(countOrders()).isEqualTo(orders);
        assertThat(adv.statementsRan(app)).noneMatch(s -> s.contains("DELETE"));
        AuditEvent.CommandReceived recorded = adv.command(app, "DELETE FROM orders");
        assertThat(recorded.command().statements()).singleElement().satisfies(s -> {
            assertThat(s.sql()).isEqualTo("DELETE FROM orders");
            assertThat(s.analysis().missingWhere()).isTrue();
        });
    }

    /** Attack: re-Parse a named statement with other text. Defence: the target refuses the duplicate; the old text runs and is recorded. */
    @Test
    void reParseOfANamedStatementIsRefusedByTheTargetSoTheOldTextRuns() throws Exception {
        // Given
        String app = unique("adv-reparse-named");
        String old = "SELECT '" + app + "-old'";
        String replacement = "SELECT '" + app + "-new'";
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            c.parse("adv_named", old);
            c.sync();
            assertThat(c.readUntilReady().sqlState()).isNull();

            // When
            c.parse("adv_named", replacement);
            c.sync();
            RawPgClient.Answer reParse = c.readUntilReady();
            c.bind("", "adv_named");
            c.execute("", 0);
            c.sync();
            RawPgClient.Answer run = c.readUntilReady();

            // Then
            assertThat(reParse.sqlState()).as(reParse.toString()).isEqualTo("42P05");
            assertThat(run.rows()).as(run.toString()).containsExactly(List.of(app + "-old"));
        }
        assertThat(adv.statementsRan(app)).contains(old).doesNotContain(replacement);
        assertThat(adv.command(app, app + "-old").command().statements()).singleElement().satisfies(s -> {
            assertThat(s.step()).isEqualTo(CommandStatement.Step.EXECUTE);
            assertThat(s.statementName()).isEqualTo("adv_named");
            assertThat(s.sql()).isEqualTo(old);
        });
    }

    /** Attack: prepare a DELETE, try to re-Parse its name as harmless, then run it. Defence: the edge still knows it is the DELETE. */
    @Test
    void aRefusedReParseDoesNotMakeAPreparedDeleteHarmless() throws Exception {
        // Given
        String app = unique("adv-reparse-delete");
        long orders = countOrders();
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            c.parse("adv_wipe", "DELETE FROM orders");
            c.sync();
            assertThat(c.readUntilReady().sqlState()).isNull();
            c.parse("adv_wipe", "SELECT 1");
            c.sync();
            assertThat(c.readUntilReady().sqlState()).isEqualTo("42P05");

            // When
            c.bind("", "adv_wipe");
            c.execute("", 0);
            c.sync();
            RawPgClient.Answer answer = c.readUntilReady();

            // Then
            assertDenied(answer, "no-update-delete-without-where");
        }
        assertThat(countOrders()).isEqualTo(orders);
        assertThat(adv.statementsRan(app)).noneMatch(s -> s.contains("DELETE"));
    }

    /** Attack: Bind a statement after closing it. Defence: refused as the target would (26000), and recorded as refused. */
    @Test
    void bindOfAClosedStatementIsRefusedAndRecordedAsRefused() throws Exception {
        // Given
        String app = unique("adv-closed");
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            c.parse("adv_closed", "SELECT '" + app + "'");
            c.sync();
            c.readUntilReady();
            c.close('S', "adv_closed");
            c.sync();
            c.readUntilReady();

            // When
            c.bind("", "adv_closed");
            c.execute("", 0);
            c.sync();
            RawPgClient.Answer answer = c.readUntilReady();

            // Then
            assertThat(answer.sqlState()).as(answer.toString()).isEqualTo("26000");
            assertThat(answer.status()).isEqualTo('I');
        }
        assertThat(adv.statementsRan(app)).isEmpty();
        assertRecordedAsRefused(app, "26000");
    }

    /** Attack: Execute a portal that was never bound. Defence: refused (34000), recorded as refused, nothing runs. */
    @Test
    void executeOfAPortalNeverBoundIsRefusedAndRecordedAsRefused() throws Exception {
        // Given
        String app = unique("adv-unbound");
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            // When
            c.execute("adv_never_bound", 0);
            c.sync();
            RawPgClient.Answer answer = c.readUntilReady();

            // Then
            assertThat(answer.sqlState()).as(answer.toString()).isEqualTo("34000");
        }
        assertThat(adv.statementsRan(app)).isEmpty();
        assertRecordedAsRefused(app, "34000");
    }

    /** Attack: a suspended portal continued in a later batch. Defence: recorded as a continuation of the same SQL. */
    @Test
    void aSuspendedPortalContinuesInALaterBatchAsTheSameStatement() throws Exception {
        // Given
        String app = unique("adv-suspended");
        String sql = "SELECT g, '" + app + "' FROM generate_series(1, 5) g";
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            c.simple("BEGIN");
            c.parse("", sql);
            c.bind("adv_portal", "");
            c.execute("adv_portal", 2);
            c.sync();
            RawPgClient.Answer first = c.readUntilReady();

            // When
            c.execute("adv_portal", 0);
            c.sync();
            RawPgClient.Answer rest = c.readUntilReady();
            c.simple("COMMIT");

            // Then
            assertThat(first.types()).as(first.toString()).contains("s");
            assertThat(first.rows()).hasSize(2);
            assertThat(rest.rows()).as(rest.toString()).hasSize(3);
        }
        assertThat(adv.statementsRan(app)).filteredOn(s -> s.equals(sql)).hasSize(2);
        List<CommandStatement> executions = adv.commands(app).stream().flatMap(c -> c.command().statements().stream())
                .filter(s -> s.sql().equals(sql)).toList();
        assertThat(executions).hasSize(2);
        assertThat(executions.get(0)).satisfies(s -> {
            assertThat(s.portalName()).isEqualTo("adv_portal");
            assertThat(s.rowLimit()).isEqualTo(2);
            assertThat(s.continued()).isFalse();
        });
        assertThat(executions.get(1)).satisfies(s -> {
            assertThat(s.portalName()).isEqualTo("adv_portal");
            assertThat(s.continued()).isTrue();
        });
    }

    /** Attack: Bind in one batch inside BEGIN, re-Parse, Execute in the next. Defence: the bound text runs and is recorded. */
    @Test
    void aBindOnlyBatchInATransactionIsExecutedInTheNextBatchAsTheBoundText() throws Exception {
        // Given
        String app = unique("adv-bind-only");
        String bound = "SELECT '" + app + "-bound'";
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            c.simple("BEGIN");
            c.parse("", bound);
            c.bind("adv_later", "");
            c.sync();
            RawPgClient.Answer bind = c.readUntilReady();
            c.parse("", "SELECT '" + app + "-other'");
            c.sync();
            c.readUntilReady();

            // When
            c.execute("adv_later", 0);
            c.sync();
            RawPgClient.Answer run = c.readUntilReady();
            c.simple("COMMIT");

            // Then
            assertThat(bind.sqlState()).as(bind.toString()).isNull();
            assertThat(run.rows()).as(run.toString()).containsExactly(List.of(app + "-bound"));
        }
        assertThat(adv.statementsRan(app)).contains(bound);
        assertThat(adv.commands(app)).flatExtracting(c -> c.command().statements())
                .filteredOn(s -> s.step() == CommandStatement.Step.EXECUTE)
                .singleElement().satisfies(s -> {
                    assertThat(s.sql()).isEqualTo(bound);
                    assertThat(s.portalName()).isEqualTo("adv_later");
                });
    }

    /** Attack: Bind a DELETE without WHERE in one batch, Execute it in the next. Defence: it never runs. */
    @Test
    void aDeleteBoundInOneBatchNeverRunsInTheNext() throws Exception {
        // Given
        String app = unique("adv-bind-delete");
        long orders = countOrders();
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            c.simple("BEGIN");
            c.parse("", "DELETE FROM orders");
            c.bind("adv_wipe_later", "");
            c.sync();
            RawPgClient.Answer bind = c.readUntilReady();

            // When
            c.execute("adv_wipe_later", 0);
            c.sync();
            RawPgClient.Answer run = c.readUntilReady();
            RawPgClient.Answer commit = c.simple("COMMIT");

            // Then
            assertThat(bind.sqlState() != null || run.sqlState() != null).as(bind + " / " + run).isTrue();
            assertThat(commit.tags()).containsExactly("ROLLBACK");
        }
        assertThat(countOrders()).isEqualTo(orders);
        assertThat(adv.statementsRan(app)).noneMatch(s -> s.contains("DELETE"));
    }

    /**
     * Attack: a denied batch closes a prepared DELETE and re-Parses its name as harmless, then a later
     * batch runs the name. Defence: nothing of a denied batch changes what the edge knows; the DELETE is denied again.
     */
    @Test
    void aDeniedBatchChangesNothingTheEdgeKnows() throws Exception {
        // Given
        String app = unique("adv-denied-batch");
        long orders = countOrders();
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            c.parse("adv_kept", "DELETE FROM orders");
            c.sync();
            c.readUntilReady();
            c.close('S', "adv_kept");
            c.parse("adv_kept", "SELECT '" + app + "-harmless'");
            c.parse("adv_new", "SELECT '" + app + "-new'");
            c.parseBindExecute("DELETE FROM orders");
            c.sync();
            RawPgClient.Answer denied = c.readUntilReady();

            // When
            c.bind("", "adv_kept");
            c.execute("", 0);
            c.sync();
            RawPgClient.Answer kept = c.readUntilReady();
            c.bind("", "adv_new");
            c.execute("", 0);
            c.sync();
            RawPgClient.Answer unknown = c.readUntilReady();

            // Then
            assertDenied(denied, "no-update-delete-without-where");
            assertDenied(kept, "no-update-delete-without-where");
            assertThat(unknown.sqlState()).as(unknown.toString()).isEqualTo("26000");
        }
        assertThat(countOrders()).isEqualTo(orders);
        assertThat(adv.statementsRan(app))
                .noneMatch(s -> s.contains("DELETE") || s.contains(app));
    }

    /** Attack: statements after an error in a batch. Defence: the target skips them, and the record says how many ran. */
    @Test
    void afterAnErrorTheRestOfTheBatchIsSkippedAndTheRecordSaysHowManyRan() throws Exception {
        // Given
        String app = unique("adv-skipped");
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            // When
            for (String sql : List.of("SELECT '" + app + "-first'", FAILS_WHEN_RUN, "SELECT '" + app + "-skipped'")) {
                c.parseBindExecute(sql);
            }
            c.sync();
            RawPgClient.Answer answer = c.readUntilReady();

            // Then
            assertThat(answer.sqlState()).as(answer.toString()).isEqualTo("22012");
            assertThat(answer.rows()).containsExactly(List.of(app + "-first"));
        }
        assertThat(adv.statementsRan(app))
                .contains("SELECT '" + app + "-first'", FAILS_WHEN_RUN).doesNotContain("SELECT '" + app + "-skipped'");
        AuditEvent.CommandReceived recorded = adv.command(app, app + "-first");
        assertThat(recorded.command().statements()).hasSize(3);
        assertThat(adv.completed(recorded.command().id()).outcome().statementsRun()).isEqualTo(1);
    }

    /** Attack: after an error in a Flush-terminated batch, send more before Sync. Defence: skipped as the target skips it. */
    @Test
    void afterAnErrorInAFlushedBatchEverythingUpToSyncIsSkipped() throws Exception {
        // Given
        String app = unique("adv-skipped-flush");
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            c.parseBindExecute("SELECT 1/0");
            c.flush();
            RawPgClient.Answer failed = c.readThrough('E');

            // When
            c.parseBindExecute("SELECT '" + app + "-after'");
            c.sync();
            RawPgClient.Answer after = c.readUntilReady();

            // Then
            assertThat(failed.sqlState()).isEqualTo("22012");
            assertThat(after.types()).as(after.toString()).isEqualTo("Z");
            assertThat(after.status()).isEqualTo('I');
        }
        assertThat(adv.statementsRan(app)).noneMatch(s -> s.contains(app + "-after"));
    }

    /**
     * Attack: SQL-level PREPARE of a DELETE without WHERE, then EXECUTE. Defence: the EXECUTE is decided
     * as the DELETE. (Today the edge already denies the PREPARE, deciding it as the statement it
     * prepares; then the EXECUTE names a statement that does not exist. Either way nothing is deleted.)
     */
    @Test
    void executeOfAPreparedDeleteWithoutWhereIsDeniedAsTheDelete() throws Exception {
        // Given
        String app = unique("adv-sql-prepare");
        long orders = countOrders();
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            RawPgClient.Answer prepare = c.simple("PREPARE adv_p AS DELETE FROM orders");

            // When
            RawPgClient.Answer execute = c.simple("EXECUTE adv_p");

            // Then
            if (prepare.sqlState() == null) {
                assertDenied(execute, "no-update-delete-without-where");
                CommandStatement recorded = adv.command(app, "EXECUTE adv_p").command().statements().getFirst();
                assertThat(recorded.sql()).isEqualTo("DELETE FROM orders");
                assertThat(recorded.via()).isEqualTo("EXECUTE adv_p");
                assertThat(recorded.analysis().missingWhere()).isTrue();
            } else {
                assertDenied(prepare, "no-update-delete-without-where");
                assertThat(execute.sqlState()).as(execute.toString()).isEqualTo("26000");
            }
        }
        assertThat(countOrders()).isEqualTo(orders);
        assertThat(adv.statementsRan(app)).noneMatch(s -> s.startsWith("EXECUTE"));
    }

    /**
     * Attack: a payout written through an SQL-level prepared statement. Defence: the EXECUTE needs a
     * DBA's approval of its own. (Today the PREPARE waits for an approval too, as if it wrote.)
     */
    @Test
    void executeOfAPreparedPayoutWriteNeedsApproval() throws Exception {
        // Given
        String app = unique("adv-sql-prepare-payout");
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            RawPgClient.Answer prepare = adv.runApproving(c, "PREPARE adv_pay AS INSERT INTO payouts (note) VALUES ('" + app + "')");

            // When
            AdversarialEdge.Held execute = adv.heldAndDenied(c, "EXECUTE adv_pay");

            // Then
            assertThat(prepare.sqlState()).as(prepare.toString()).isNull();
            assertThat(execute.answer().error().get('M')).contains(execute.approvalId()).contains("denied");
        }
        assertThat(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM payouts WHERE note = '" + app + "'")).isEqualTo("0");
        AuditEvent.CommandReceived recorded = adv.command(app, "EXECUTE adv_pay");
        assertThat(recorded.command().statements().getFirst().analysis().tablesWritten()).contains("public.payouts");
        assertThat(adv.decision(recorded.command().id())).isInstanceOfSatisfying(Decision.RequireApproval.class,
                d -> assertThat(d.ruleId()).isEqualTo("demo-payouts-need-a-dba"));
    }

    /** Attack: read through a cursor so that FETCH hides the query. Defence: FETCH is decided and recorded as its cursor's query. */
    @Test
    void fetchIsDecidedAndRecordedAsItsCursorsQuery() throws Exception {
        // Given
        String app = unique("adv-fetch");
        try (RawPgClient c = adv.login(DEMO, app, ATTACKER, GROUP)) {
            c.simple("BEGIN");
            c.simple("DECLARE adv_cur CURSOR FOR SELECT id, name FROM customers ORDER BY id");

            // When
            RawPgClient.Answer fetch = c.simple("FETCH 2 FROM adv_cur");
            RawPgClient.Answer unknown = c.simple("FETCH 1 FROM adv_no_such_cursor");
            c.simple("ROLLBACK");

            // Then
            assertThat(fetch.rows()).as(fetch.toString()).hasSize(2);
            assertThat(unknown.sqlState()).isEqualTo("34000");
        }
        CommandStatement recorded = adv.command(app, "FETCH 2 FROM adv_cur").command().statements().getFirst();
        assertThat(recorded.sql()).isEqualTo("SELECT id, name FROM customers ORDER BY id");
        assertThat(recorded.via()).isEqualTo("FETCH 2 FROM adv_cur");
        assertThat(recorded.portalName()).isEqualTo("adv_cur");
        assertThat(recorded.analysis().tablesRead()).contains("public.customers");
    }

    /**
     * Attack: a DBA's function deallocates a prepared statement of the session and prepares a DELETE
     * under its name. Defence: the edge reads pg_prepared_statements, sees the change, refuses the EXECUTE.
     */
    @Test
    void serverCodeThatRePreparesAClientsStatementNameIsDetected() throws Exception {
        // Given
        String app = unique("adv-reprepare");
        long orders = countOrders();
        try (RawPgClient c = adv.login(DEMO, app, "alice", "dba")) {
            c.simple("PREPARE adv_r AS SELECT '" + app + "'");
            c.parse("adv_r_protocol", "SELECT '" + app + "-protocol'");
            c.sync();
            c.readUntilReady();
            RawPgClient.Answer code = c.simple("SELECT adv_reprepare('adv_r'), adv_reprepare('adv_r_protocol')");

            // When
            RawPgClient.Answer sqlLevel = c.simple("EXECUTE adv_r");
            c.bind("", "adv_r_protocol");
            c.execute("", 0);
            c.sync();
            RawPgClient.Answer protocol = c.readUntilReady();

            // Then
            assertThat(code.sqlState()).as(code.toString()).isNull();
            assertThat(sqlLevel.sqlState()).as(sqlLevel.toString()).isEqualTo("26000");
            assertThat(protocol.sqlState()).as(protocol.toString()).isEqualTo("26000");
        }
        assertThat(countOrders()).isEqualTo(orders);
        assertThat(adv.statementsRan(app))
                .noneMatch(s -> s.startsWith("EXECUTE") || s.contains("DELETE"));
        assertThat(adv.command(app, "EXECUTE adv_r").refusal()).isNotNull();
    }

    /** Attack: a DBA's function closes a cursor of the session and reopens it over e-mail addresses. Defence: the FETCH is refused. */
    @Test
    void serverCodeThatReopensAClientsCursorIsDetected() throws Exception {
        // Given
        String app = unique("adv-recursor");
        try (RawPgClient c = adv.login(DEMO, app, "alice", "dba")) {
            c.simple("BEGIN");
            c.simple("DECLARE adv_k CURSOR FOR SELECT 1, '" + app + "'");
            RawPgClient.Answer code = c.simple("SELECT adv_recursor('adv_k')");

            // When
            RawPgClient.Answer fetch = c.simple("FETCH ALL FROM adv_k");
            c.simple("ROLLBACK");

            // Then
            assertThat(code.sqlState()).as(code.toString()).isNull();
            assertThat(fetch.sqlState()).as(fetch.toString()).isEqualTo("34000");
            assertThat(fetch.rows()).isEmpty();
        }
        assertThat(adv.statementsRan(app)).noneMatch(s -> s.startsWith("FETCH"));
        assertThat(adv.command(app, "FETCH ALL FROM adv_k").refusal()).isNotNull();
    }

    // ---------------------------------------------------------------- helpers

    /** The session's one command that the edge refused itself: recorded with its reason and the SQLSTATE, never forwarded. */
    private static void assertRecordedAsRefused(String app, String sqlState) {
        AuditEvent.CommandReceived refused = org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
                .until(() -> adv.commands(app).stream().filter(c -> c.refusal() != null).findFirst().orElse(null),
                        java.util.Objects::nonNull);
        AuditEvent.Outcome outcome = adv.completed(refused.command().id()).outcome();
        assertThat(outcome.forwarded()).isFalse();
        assertThat(outcome.sqlState()).isEqualTo(sqlState);
    }

    static long countOrders() throws Exception {
        return Long.parseLong(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM orders"));
    }
}
