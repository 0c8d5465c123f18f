package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Decision;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;


import static dev.gatehouse.deploy.it.AdversarialEdge.DEMO;
import static dev.gatehouse.deploy.it.AdversarialEdge.assertDenied;
import static dev.gatehouse.deploy.it.AdversarialEdge.unique;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Class 4 of issue 12, relations resolved as the target resolves them: an attacker writes the
 * protected table (payouts, which waits for a DBA under the example policy) under another spelling,
 * through a view, a rule or a trigger, or under a search_path the edge might not follow. The
 * defence: every reference is resolved through the target's catalog under the session's
 * search_path, writes follow views, rules and triggers, and what cannot be resolved is uncertain.
 * Each held command is denied by an approver; the target's payouts must not change.
 */
class AdversarialRelationsIT {
    private static final AdversarialEdge adv = AdversarialEdge.get();

    @BeforeAll
    static void objects() throws Exception {
        adv.asSuperuser(DemoTarget.DATABASE, "SET ROLE " + DemoTarget.ROLE,
                "CREATE SCHEMA IF NOT EXISTS adv_empty",
                "CREATE OR REPLACE VIEW adv_payouts_v AS SELECT * FROM payouts",
                "CREATE TABLE IF NOT EXISTS adv_inbox (note text)",
                "CREATE OR REPLACE RULE adv_redirect AS ON INSERT TO adv_inbox DO INSTEAD INSERT INTO payouts (note) VALUES (NEW.note)",
                "CREATE TABLE IF NOT EXISTS adv_trail (note text)",
                "CREATE OR REPLACE FUNCTION adv_trail_copy() RETURNS trigger LANGUAGE plpgsql AS"
                        + " $$BEGIN INSERT INTO payouts (note) VALUES (NEW.note); RETURN NEW; END$$",
                "DROP TRIGGER IF EXISTS adv_trail_copy ON adv_trail",
                "CREATE TRIGGER adv_trail_copy AFTER INSERT ON adv_trail FOR EACH ROW EXECUTE FUNCTION adv_trail_copy()",
                "CREATE TABLE IF NOT EXISTS adv_accounts (id int PRIMARY KEY)",
                "INSERT INTO adv_accounts VALUES (1) ON CONFLICT DO NOTHING",
                "ALTER TABLE payouts ADD COLUMN IF NOT EXISTS adv_account int REFERENCES adv_accounts (id) ON DELETE CASCADE");
    }

    /** Attack: write payouts under another spelling of its name. Defence: every spelling is public.payouts and waits for a DBA. */
    @ParameterizedTest
    @ValueSource(strings = {"INSERT INTO payouts (note) VALUES ('%s')", "INSERT INTO \"payouts\" (note) VALUES ('%s')",
            "INSERT INTO public.payouts (note) VALUES ('%s')", "INSERT INTO demo.public.payouts (note) VALUES ('%s')",
            "INSERT INTO PUBLIC.PAYOUTS (note) VALUES ('%s')",
            "WITH w AS (INSERT INTO public.\"payouts\" (note) VALUES ('%s') RETURNING id) SELECT count(*) FROM w"})
    void everySpellingOfPayoutsNeedsApproval(String template) throws Exception {
        // Given
        AdversarialEdge.Shared analyst = adv.shared("adv-relations-analyst", DEMO, "mallory", "analysts");
        String note = unique("adv-spelling");

        // When
        AdversarialEdge.Held held = adv.heldAndDenied(analyst.client(), template.formatted(note));

        // Then
        assertThat(held.answer().sqlState()).as(held.answer().toString()).isNotNull();
        assertNothingWrittenAndRecorded(analyst.app(), note);
    }

    /** Attack: a search_path whose first schema is empty, set by SET or set_config. Defence: followed; still public.payouts. */
    @ParameterizedTest
    @ValueSource(strings = {"SET search_path = adv_empty, public", "SELECT set_config('search_path', 'adv_empty, public', false)",
            "SET search_path = \"$user\", adv_empty, public"})
    void aSearchPathTheSessionSetIsFollowed(String setting) throws Exception {
        // Given
        String app = unique("adv-search-path");
        try (RawPgClient c = adv.login(DEMO, app, "mallory", "analysts")) {
            assertThat(c.simple(setting).sqlState()).isNull();

            // When
            AdversarialEdge.Held held = adv.heldAndDenied(c, "INSERT INTO payouts (note) VALUES ('" + app + "')");

            // Then
            assertThat(held.answer().sqlState()).isNotNull();
        }
        assertNothingWrittenAndRecorded(app, app);
    }

    /** Attack: write payouts through an updatable view. Defence: the write counts as one to payouts. */
    @Test
    void aWriteThroughAViewNeedsApproval() throws Exception {
        // Given
        String app = unique("adv-view");

        // When / Then
        assertHeldAndNothingWritten(app, "mallory", "analysts", "INSERT INTO adv_payouts_v (note) VALUES ('" + app + "')");
    }

    /** Attack: a rule that redirects an insert into another table to payouts. Defence: the write counts as one to payouts. */
    @Test
    void aWriteThroughARuleNeedsApproval() throws Exception {
        // Given
        String app = unique("adv-rule");

        // When / Then
        assertHeldAndNothingWritten(app, "alice", "dba", "INSERT INTO adv_inbox (note) VALUES ('" + app + "')");
    }

    /** Attack: a trigger on another table whose function writes payouts. Defence: the write counts as one to payouts. */
    @Test
    void aWriteThroughATriggerNeedsApproval() throws Exception {
        // Given
        String app = unique("adv-trigger");

        // When / Then
        assertHeldAndNothingWritten(app, "alice", "dba", "INSERT INTO adv_trail (note) VALUES ('" + app + "')");
    }

    /** The same rule and trigger for someone who is not a DBA: they run code, which only DBAs may. */
    @ParameterizedTest
    @ValueSource(strings = {"INSERT INTO adv_inbox (note) VALUES ('x')", "INSERT INTO adv_trail (note) VALUES ('x')"})
    void rulesAndTriggersAreCodeThatOnlyDbasRun(String sql) throws Exception {
        // Given
        AdversarialEdge.Shared analyst = adv.shared("adv-relations-analyst", DEMO, "mallory", "analysts");

        // When
        RawPgClient.Answer answer = analyst.client().simple(sql);

        // Then
        assertDenied(answer, "server-code-only-for-dbas");
        assertThat(adv.statementsRan(analyst.app())).doesNotContain(sql);
    }

    /**
     * Attack: delete from a table that payouts references with ON DELETE CASCADE: the target deletes
     * payouts rows too. Defence: the cascade is a write that reaches payouts, so it waits for a DBA.
     */
    @Test
    void aDeleteThatCascadesIntoPayoutsNeedsApproval() throws Exception {
        // Given
        String app = unique("adv-cascade");
        String payout = unique("adv-cascaded");
        String sql = "DELETE FROM adv_accounts WHERE id = 1";
        adv.asSuperuser(DemoTarget.DATABASE, "INSERT INTO payouts (note, adv_account) VALUES ('" + payout + "', 1)");
        try {
            try (RawPgClient c = adv.login(DEMO, app, "mallory", "analysts")) {
                // When
                AdversarialEdge.Held held = adv.heldAndDenied(c, sql);

                // Then
                assertThat(held.answer().sqlState()).as(held.answer().toString()).isNotNull();
            }
            assertThat(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM payouts WHERE note = '" + payout + "'"))
                    .as("the payout the cascade would delete").isEqualTo("1");
            assertHeldAsAWriteToPayouts(app, sql);
        } finally {
            adv.asSuperuser(DemoTarget.DATABASE, "INSERT INTO adv_accounts VALUES (1) ON CONFLICT DO NOTHING",
                    "DELETE FROM payouts WHERE note = '" + payout + "'");
        }
    }

    /** Attack: CI names a relation the target's catalog does not have. Defence: uncertain, so automation is denied. */
    @ParameterizedTest
    @ValueSource(strings = {"INSERT INTO adv_nowhere VALUES (1)", "SELECT * FROM adv_empty.payouts", "UPDATE adv_ghost SET x = 1 WHERE true"})
    void aRelationThatCannotBeResolvedIsUncertain(String sql) throws Exception {
        // Given
        AdversarialEdge.Shared ci = adv.shared("adv-relations-ci", DEMO, "ci-bot", "ci");

        // When
        RawPgClient.Answer answer = ci.client().simple(sql);

        // Then
        assertDenied(answer, "automation-only-certain-sql");
        AuditEvent.CommandReceived recorded = adv.command(ci.app(), sql);
        assertThat(recorded.command().statements().getFirst().analysis().uncertain()).isTrue();
        assertThat(recorded.command().statements().getFirst().analysis().uncertainty())
                .anyMatch(reason -> reason.contains("is not in the target's catalog"));
        assertThat(adv.statementsRan(ci.app())).doesNotContain(sql);
    }

    // ---------------------------------------------------------------- helpers

    /** {@code sql}, writing a payout noted {@code app}, waits for a DBA; when one denies it, nothing reached payouts. */
    private static void assertHeldAndNothingWritten(String app, String subject, String group, String sql) throws Exception {
        try (RawPgClient c = adv.login(DEMO, app, subject, group)) {
            AdversarialEdge.Held held = adv.heldAndDenied(c, sql);
            assertThat(held.answer().sqlState()).as(held.answer().toString()).isNotNull();
        }
        assertNothingWrittenAndRecorded(app, app);
    }

    /**
     * Nothing noted {@code note} reached payouts (directly or through adv_inbox, adv_trail), nothing
     * of it is in the target's log for session {@code app}, and it was held as a write to public.payouts.
     */
    private static void assertNothingWrittenAndRecorded(String app, String note) throws Exception {
        assertThat(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM payouts WHERE note = '" + note + "'"))
                .as("payouts written").isEqualTo("0");
        assertHeldAsAWriteToPayouts(app, note);
    }

    /** The command of session {@code app} holding {@code text} did not run, and was held as a write to public.payouts. */
    private static void assertHeldAsAWriteToPayouts(String app, String text) throws Exception {
        assertThat(adv.statementsRan(app)).noneMatch(s -> s.contains(text));
        AuditEvent.CommandReceived held = adv.command(app, text);
        assertThat(held.command().statements()).anySatisfy(s -> assertThat(s.analysis().tablesWritten()).contains("public.payouts"));
        assertThat(adv.decision(held.command().id())).isInstanceOfSatisfying(Decision.RequireApproval.class,
                d -> assertThat(d.ruleId()).isEqualTo("demo-payouts-need-a-dba"));
    }
}
