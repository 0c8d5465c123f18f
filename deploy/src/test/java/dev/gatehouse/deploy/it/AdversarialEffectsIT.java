package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DemoTarget;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.List;

import static dev.gatehouse.deploy.it.AdversarialEdge.DEMO;
import static dev.gatehouse.deploy.it.AdversarialEdge.unique;
import static dev.gatehouse.deploy.it.AdversarialEdge.assertDenied;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Class 3 of issue 12, statement effects under the example policy: an attacker wraps what a rule
 * forbids in something the rule does not name (a DO block, a function, SELECT INTO, EXPLAIN's
 * options, an unclassifiable statement). The defence: statements are classified by their effect,
 * fail closed, and the example policy's rules hold against all of them; the target's log shows that
 * nothing of a denied statement ran.
 */
class AdversarialEffectsIT {
    private static final AdversarialEdge adv = AdversarialEdge.get();

    @BeforeAll
    static void serverCode() throws Exception {
        adv.asSuperuser(DemoTarget.DATABASE,
                "DO $$BEGIN IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'adv_nobody') THEN CREATE ROLE adv_nobody; END IF; END$$",
                "SET ROLE " + DemoTarget.ROLE,
                "CREATE TABLE IF NOT EXISTS adv_precious (id int)",
                "INSERT INTO adv_precious SELECT g FROM generate_series(1, 3) g",
                "CREATE OR REPLACE FUNCTION adv_noop() RETURNS int LANGUAGE plpgsql AS $$BEGIN RETURN 1; END$$",
                "CREATE OR REPLACE PROCEDURE adv_proc() LANGUAGE plpgsql AS $$BEGIN PERFORM 1; END$$",
                "CREATE OR REPLACE FUNCTION adv_wipe() RETURNS int LANGUAGE plpgsql AS $$BEGIN DELETE FROM adv_precious; RETURN 1; END$$",
                "CREATE OR REPLACE FUNCTION adv_wipe_sql() RETURNS void LANGUAGE sql AS 'DELETE FROM adv_precious'",
                "CREATE OR REPLACE FUNCTION adv_dynamic() RETURNS int LANGUAGE plpgsql AS $$BEGIN EXECUTE 'SELECT ' || '1'; RETURN 1; END$$",
                "CREATE OR REPLACE FUNCTION adv_swap() RETURNS int LANGUAGE plpgsql AS $$BEGIN RETURN 1; END$$");
    }

    @BeforeEach
    void refill() throws Exception {
        adv.asSuperuser(DemoTarget.DATABASE, "INSERT INTO adv_precious SELECT g FROM generate_series(1, 3) g"
                + " WHERE NOT EXISTS (SELECT FROM adv_precious)");
    }

    /** Attack: run code on the server without being a DBA. Defence: server-code-only-for-dbas denies it; a DBA may. */
    @ParameterizedTest
    @ValueSource(strings = {"DO $$BEGIN PERFORM 1; END$$", "SELECT adv_noop()", "CALL adv_proc()",
            "SELECT id FROM orders WHERE adv_noop() = 1 LIMIT 1"})
    void serverCodeRunsOnlyForDbas(String sql) throws Exception {
        // Given
        AdversarialEdge.Shared analyst = analyst();
        AdversarialEdge.Shared dba = dba();

        // When
        RawPgClient.Answer denied = analyst.client().simple(sql);
        RawPgClient.Answer allowed = dba.client().simple(sql);

        // Then
        assertDenied(denied, "server-code-only-for-dbas");
        assertThat(allowed.sqlState()).as(allowed.toString()).isNull();
        assertThat(adv.statementsRan(analyst.app())).doesNotContain(sql);
        assertThat(adv.statementsRan(dba.app())).contains(sql);
    }

    /**
     * Attack: a DBA hides a DELETE without WHERE in server-side code. Defence: the code's body is
     * analysed; denied (the example policy: server code must not bypass its own rules).
     * <p>Found by this suite (fixed) for the function calls: a routine's body is followed for the
     * relations it reads and writes, but {@code RoutineAnalysis} has no {@code missingWhere}, so a
     * function whose body deletes every row is allowed for a DBA, while the same DELETE in a DO block
     * is denied.
     */
    @ParameterizedTest
    @ValueSource(strings = {"DO $$BEGIN DELETE FROM adv_precious; END$$", "SELECT adv_wipe()", "SELECT adv_wipe_sql()",
            "DO $$BEGIN PERFORM adv_wipe(); END$$"})
    void codeHidingADeleteWithoutWhereIsDeniedEvenForADba(String sql) throws Exception {
        // Given
        AdversarialEdge.Shared dba = dba();
        long rows = precious();

        // When
        RawPgClient.Answer answer = dba.client().simple(sql);

        // Then
        assertDenied(answer, "no-update-delete-without-where");
        assertThat(rows).isPositive();
        assertThat(precious()).isEqualTo(rows);
        assertThat(adv.statementsRan(dba.app())).doesNotContain(sql);
    }

    /**
     * Attack: a DBA redefines a function the edge analysed as harmless so that it writes payouts, and
     * calls it before the redefinition is committed: later in the open transaction, or in the same
     * Query. Defence: the edge decides on the committed catalog (read on a connection of its own),
     * so after an uncommitted schema change only further schema changes and COMMIT or ROLLBACK are
     * accepted in that transaction (or Query); the call is refused and the new body never runs.
     * <p>Found by this suite (fixed): the call was decided by the old body and the new one wrote
     * payouts without approval.
     */
    @ParameterizedTest
    @ValueSource(booleans = {true, false})
    void aFunctionRedefinedBeforeCommitCannotBeCalledBeforeTheCommit(boolean inOneQuery) throws Exception {
        // Given
        String app = unique("adv-swap");
        String redefine = "CREATE OR REPLACE FUNCTION adv_swap() RETURNS int LANGUAGE plpgsql AS"
                + " $$BEGIN INSERT INTO payouts (note) VALUES ('" + app + "'); RETURN 1; END$$";
        try (RawPgClient c = adv.login(DEMO, app, "alice", "dba")) {
            assertThat(c.simple("SELECT adv_swap()").sqlState()).isNull();
            RawPgClient.Answer call;
            if (inOneQuery) {
                // When
                c.query(redefine + "; SELECT adv_swap()");
                call = adv.answerVoting(c, false);
            } else {
                c.simple("BEGIN");
                assertThat(c.simple(redefine).sqlState()).isNull();
                // When
                c.query("SELECT adv_swap()");
                call = adv.answerVoting(c, false);
                c.simple("COMMIT");
            }

            // Then
            assertThat(call.sqlState()).as(call.toString()).isNotNull();
        } finally {
            adv.asSuperuser(DemoTarget.DATABASE, "SET ROLE " + DemoTarget.ROLE,
                    "CREATE OR REPLACE FUNCTION adv_swap() RETURNS int LANGUAGE plpgsql AS $$BEGIN RETURN 1; END$$");
        }
        assertThat(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM payouts WHERE note = '" + app + "'"))
                .as("payouts the new body wrote").isEqualTo("0");
    }

    /** Attack: CI creates tables or drops what a role owns, by statements that do not say CREATE TABLE. Defence: ci-no-ddl. */
    @ParameterizedTest
    @ValueSource(strings = {"SELECT * INTO adv_ci_copy FROM orders", "CREATE TABLE adv_ci_ctas AS SELECT 1 AS x",
            "CREATE MATERIALIZED VIEW adv_ci_mv AS SELECT 1 AS x", "DROP OWNED BY adv_nobody",
            "REASSIGN OWNED BY adv_nobody TO gatehouse_demo"})
    void ciMayNotCreateTablesOrChangeOwnership(String sql) throws Exception {
        // Given
        AdversarialEdge.Shared ci = ci();

        // When
        RawPgClient.Answer answer = ci.client().simple(sql);

        // Then
        assertDenied(answer, "ci-no-ddl");
        assertThat(adv.statementsRan(ci.app())).doesNotContain(sql);
        for (String table : List.of("adv_ci_copy", "adv_ci_ctas", "adv_ci_mv")) {
            assertThat(adv.superuserValue(DemoTarget.DATABASE, "SELECT to_regclass('" + table + "')")).isNull();
        }
    }

    /** Attack: EXPLAIN options that PostgreSQL reads as ANALYZE (the last occurrence wins). Defence: read the same; denied. */
    @ParameterizedTest
    @ValueSource(strings = {"(ANALYZE false, ANALYZE true)", "(ANALYZE)", "(ANALYZE 1)", "(ANALYZE 'yes')", "(ANALYZE on)",
            "(analyze TRUE, costs off)", "(ANALYZE, ANALYZE off, ANALYZE)"})
    void explainThatExecutesADeleteWithoutWhereIsDenied(String options) throws Exception {
        // Given
        AdversarialEdge.Shared analyst = analyst();
        long orders = AdversarialExtendedProtocolIT.countOrders();
        String sql = "EXPLAIN " + options + " DELETE FROM orders";

        // When
        RawPgClient.Answer answer = analyst.client().simple(sql);

        // Then
        assertDenied(answer, "no-update-delete-without-where");
        assertThat(AdversarialExtendedProtocolIT.countOrders()).isEqualTo(orders);
        assertThat(adv.statementsRan(analyst.app())).doesNotContain(sql);
    }

    /** The control: EXPLAIN whose last ANALYZE is off only plans, and is allowed. */
    @Test
    void explainThatOnlyPlansIsAllowed() throws Exception {
        // Given
        AdversarialEdge.Shared analyst = analyst();
        long orders = AdversarialExtendedProtocolIT.countOrders();

        // When
        RawPgClient.Answer answer = analyst.client().simple("EXPLAIN (ANALYZE true, ANALYZE false) DELETE FROM orders");

        // Then
        assertThat(answer.sqlState()).as(answer.toString()).isNull();
        assertThat(AdversarialExtendedProtocolIT.countOrders()).isEqualTo(orders);
    }

    /** Attack: CI runs what the analyser cannot classify with certainty. Defence: automation-only-certain-sql denies it. */
    @ParameterizedTest
    @ValueSource(strings = {"DO $$BEGIN EXECUTE 'SELECT ' || '1'; END$$", "SELECT adv_dynamic()",
            "SELECT * FROM adv_no_such_relation", "EXECUTE adv_never_prepared"})
    void automationRunsOnlyWhatIsClassifiedWithCertainty(String sql) throws Exception {
        // Given
        AdversarialEdge.Shared ci = ci();

        // When
        RawPgClient.Answer answer = ci.client().simple(sql);
        RawPgClient.Answer certain = ci.client().simple("SELECT count(*) FROM orders");

        // Then
        assertThat(answer.sqlState()).as(answer.toString()).isIn("42501", "26000");
        if (answer.sqlState().equals("42501")) assertDenied(answer, "automation-only-certain-sql");
        assertThat(certain.sqlState()).as("the control").isNull();
        assertThat(adv.statementsRan(ci.app()))
                .doesNotContain(sql).contains("SELECT count(*) FROM orders");
    }

    private static AdversarialEdge.Shared analyst() throws Exception {
        return adv.shared("adv-effects-analyst", DEMO, "mallory", "analysts");
    }

    private static AdversarialEdge.Shared dba() throws Exception {
        return adv.shared("adv-effects-dba", DEMO, "alice", "dba");
    }

    private static AdversarialEdge.Shared ci() throws Exception {
        return adv.shared("adv-effects-ci", DEMO, "ci-bot", "ci");
    }

    private static long precious() throws Exception {
        return Long.parseLong(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM adv_precious"));
    }
}
