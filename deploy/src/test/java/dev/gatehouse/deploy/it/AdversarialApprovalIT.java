package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DemoTarget;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.regex.Matcher;

import static dev.gatehouse.deploy.it.AdversarialEdge.DEMO;
import static dev.gatehouse.deploy.it.AdversarialEdge.unique;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Class 7 of issue 12, approvals bind to what runs: an attacker has one execution approved and runs
 * more with it: the same prepared statement with other arguments, the same arguments again, or an
 * Execute of a portal whose Bind was approved. The defence: an approval covers the one execution it
 * was asked for (its text and its arguments), once. Under the example policy ledger corrections are
 * deferred (refused now, run once when sent again after a DBA approved) and payouts are held.
 */
class AdversarialApprovalIT {
    private static final AdversarialEdge adv = AdversarialEdge.get();

    /** Attack: a deferred approval of one argument, used for another argument and for a second run. Defence: it runs once, as approved. */
    @Test
    void aDeferredApprovalCoversOneExecutionWithItsArguments() throws Exception {
        // Given: a prepared ledger correction, approved for one argument
        String app = unique("adv-deferred");
        String approved = app + "-approved";
        String other = app + "-other";
        try (RawPgClient c = adv.login(DEMO, app, "mallory", "analysts")) {
            c.parse("adv_ledger", "INSERT INTO ledger (note) VALUES ($1)");
            c.sync();
            assertThat(c.readUntilReady().sqlState()).isNull();
            RawPgClient.Answer first = bindExecute(c, "adv_ledger", approved);
            String approvalId = approvalIdIn(first);
            grant(approvalId);

            // When
            RawPgClient.Answer withOther = bindExecute(c, "adv_ledger", other);
            RawPgClient.Answer redeemed = bindExecute(c, "adv_ledger", approved);
            RawPgClient.Answer again = bindExecute(c, "adv_ledger", approved);

            // Then
            assertThat(approvalIdIn(withOther)).isNotEqualTo(approvalId);
            assertThat(redeemed.tags()).as(redeemed.toString()).containsExactly("INSERT 0 1");
            assertThat(approvalIdIn(again)).isNotEqualTo(approvalId);
        }
        assertThat(ledger(approved)).isEqualTo(1);
        assertThat(ledger(other)).isZero();
        assertThat(adv.statementsRan(app))
                .filteredOn(s -> s.startsWith("INSERT INTO ledger")).hasSize(1);
    }

    /** Attack: the same with SQL-level PREPARE and EXECUTE. Defence: the EXECUTE's arguments are part of what was approved. */
    @Test
    void aDeferredApprovalOfAnSqlExecuteCoversOneExecutionWithItsArguments() throws Exception {
        // Given
        String app = unique("adv-deferred-sql");
        String approved = app + "-approved";
        String other = app + "-other";
        try (RawPgClient c = adv.login(DEMO, app, "mallory", "analysts")) {
            RawPgClient.Answer prepare = runDeferred(c, "PREPARE adv_lp(text) AS INSERT INTO ledger (note) VALUES ($1)");
            RawPgClient.Answer first = c.simple("EXECUTE adv_lp('" + approved + "')");
            String approvalId = approvalIdIn(first);
            grant(approvalId);

            // When
            RawPgClient.Answer withOther = c.simple("EXECUTE adv_lp('" + other + "')");
            RawPgClient.Answer redeemed = c.simple("EXECUTE adv_lp('" + approved + "')");
            RawPgClient.Answer again = c.simple("EXECUTE adv_lp('" + approved + "')");

            // Then
            assertThat(prepare.sqlState()).as(prepare.toString()).isNull();
            assertThat(approvalIdIn(withOther)).isNotEqualTo(approvalId);
            assertThat(redeemed.tags()).as(redeemed.toString()).containsExactly("INSERT 0 1");
            assertThat(approvalIdIn(again)).isNotEqualTo(approvalId);
        }
        assertThat(ledger(approved)).isEqualTo(1);
        assertThat(ledger(other)).isZero();
    }

    /** Attack: a deferred approval of one statement, used for the same statement with another literal. Defence: not covered. */
    @Test
    void aDeferredApprovalOfAQueryDoesNotCoverAnotherLiteral() throws Exception {
        // Given
        String app = unique("adv-deferred-literal");
        String approved = app + "-approved";
        String other = app + "-other";
        try (RawPgClient c = adv.login(DEMO, app, "mallory", "analysts")) {
            String approvalId = approvalIdIn(c.simple("INSERT INTO ledger (note) VALUES ('" + approved + "')"));
            grant(approvalId);

            // When
            RawPgClient.Answer withOther = c.simple("INSERT INTO ledger (note) VALUES ('" + other + "')");
            RawPgClient.Answer redeemed = c.simple("INSERT INTO ledger (note) VALUES ('" + approved + "')");

            // Then
            assertThat(approvalIdIn(withOther)).isNotEqualTo(approvalId);
            assertThat(redeemed.tags()).as(redeemed.toString()).containsExactly("INSERT 0 1");
        }
        assertThat(ledger(approved)).isEqualTo(1);
        assertThat(ledger(other)).isZero();
    }

    /** Attack: send the held command again after it ran. Defence: the approval ran it once; the second waits anew. */
    @Test
    void aHeldApprovalRunsTheHeldCommandOnce() throws Exception {
        // Given
        String app = unique("adv-held-once");
        String sql = "INSERT INTO payouts (note) VALUES ('" + app + "')";
        try (RawPgClient c = adv.login(DEMO, app, "mallory", "analysts")) {
            RawPgClient.Answer first = adv.runApproving(c, sql);

            // When
            AdversarialEdge.Held second = adv.heldAndDenied(c, sql);

            // Then
            assertThat(first.tags()).as(first.toString()).containsExactly("INSERT 0 1");
            assertThat(second.answer().sqlState()).isNotNull();
        }
        assertThat(payouts(app)).isEqualTo(1);
        assertThat(adv.statementsRan(app)).filteredOn(sql::equals).hasSize(1);
    }

    /** Attack: have the Bind of a payout approved (nothing runs at Bind), then Execute the portal. Defence: the Execute waits anew. */
    @Test
    void anApprovedBindDoesNotCoverTheExecuteOfItsPortal() throws Exception {
        // Given
        String app = unique("adv-held-bind");
        try (RawPgClient c = adv.login(DEMO, app, "mallory", "analysts")) {
            c.simple("BEGIN");
            c.parse("adv_pay", "INSERT INTO payouts (note) VALUES ($1)");
            c.bind("adv_pay_portal", "adv_pay", app);
            c.sync();
            RawPgClient.Answer bind = adv.answerVoting(c, true);

            // When
            c.execute("adv_pay_portal", 0);
            c.sync();
            String approvalId = AdversarialEdge.awaitApprovalNotice(c);
            adv.vote(approvalId, "bob", false);
            RawPgClient.Answer execute = c.readUntilReady();
            c.simple("COMMIT");

            // Then
            assertThat(bind.sqlState()).as(bind.toString()).isNull();
            assertThat(execute.sqlState()).as(execute.toString()).isNotNull();
        }
        assertThat(payouts(app)).isZero();
    }

    // ---------------------------------------------------------------- helpers

    private static RawPgClient.Answer bindExecute(RawPgClient c, String statement, String argument) throws Exception {
        c.bind("", statement, argument);
        c.execute("", 0);
        c.sync();
        return c.readUntilReady();
    }

    /** Runs a simple Query; when it is refused for a deferred approval, a DBA approves and it is sent again. */
    private static RawPgClient.Answer runDeferred(RawPgClient c, String sql) throws Exception {
        RawPgClient.Answer answer = c.simple(sql);
        if (answer.sqlState() == null) return answer;
        String approvalId = approvalIdIn(answer);
        grant(approvalId);
        return c.simple(sql);
    }

    /** A DBA (bob) approves a deferred approval; returns once the approval service has granted it. */
    private static void grant(String approvalId) throws Exception {
        adv.vote(approvalId, "bob", true);
        await().atMost(Duration.ofSeconds(30)).until(() -> "granted".equals(adv.approvalState(approvalId)));
    }

    /** The approval a deferred refusal names; fails when the answer is not such a refusal. */
    private static String approvalIdIn(RawPgClient.Answer answer) {
        assertThat(answer.sqlState()).as(answer.toString()).isNotNull();
        return approvalIdOf(answer.error().get('M'));
    }

    private static String approvalIdOf(String message) {
        Matcher m = HeldPsql.APPROVAL_ID.matcher(message);
        assertThat(m.find()).as(message).isTrue();
        return m.group(1);
    }

    private static int ledger(String note) throws Exception {
        return Integer.parseInt(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM ledger WHERE note = '" + note + "'"));
    }

    private static int payouts(String note) throws Exception {
        return Integer.parseInt(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM payouts WHERE note = '" + note + "'"));
    }
}
