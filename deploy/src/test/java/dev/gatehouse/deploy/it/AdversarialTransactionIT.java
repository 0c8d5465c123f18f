package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DemoTarget;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import static dev.gatehouse.deploy.it.AdversarialEdge.DEMO;
import static dev.gatehouse.deploy.it.AdversarialEdge.assertDenied;
import static dev.gatehouse.deploy.it.AdversarialEdge.unique;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Class 5 of issue 12, transaction state: an attacker makes the edge's denial leave work of the
 * same transaction in place (an INSERT of a Flush-terminated batch, an open transaction block), so
 * that a later Sync or COMMIT commits it. The defence: a denial fails at the target as the statement
 * would have failed, so the target aborts the transaction whatever ended the previous batch; after
 * every exchange the client's ReadyForQuery and the target's pg_stat_activity agree.
 */
class AdversarialTransactionIT {
    private static final AdversarialEdge adv = AdversarialEdge.get();
    private static final String DENIED = "DELETE FROM orders";

    /** How the denied statement follows the INSERT. */
    enum Denial {
        /** Parse, Bind, Execute, Sync. */
        BATCH_UP_TO_SYNC,
        /** A simple Query. */
        SIMPLE_QUERY,
        /** Parse, Bind, Execute, Flush; then a lone Sync. */
        FLUSHED_BATCH_THEN_SYNC
    }

    /** Attack: INSERT in a Flush-terminated batch (its implicit transaction open), then a denial. Defence: the INSERT is rolled back. */
    @ParameterizedTest
    @EnumSource(Denial.class)
    void aDenialAfterAFlushedInsertRollsTheInsertBack(Denial how) throws Exception {
        // Given
        String app = unique("adv-tx-flush");
        try (RawPgClient c = adv.login(DEMO, app, "mallory", "analysts")) {
            int pid = adv.pid(app);
            insertFlushed(c, app);

            // When
            RawPgClient.Answer answer = deny(c, how);

            // Then
            assertThat(answer.status()).isEqualTo('I');
            assertThat(adv.backendState(pid)).isEqualTo(AdversarialEdge.stateOf('I'));
        }
        assertThat(customers(app)).isZero();
    }

    /** Attack: BEGIN; INSERT (simple, or in a Flush-terminated batch); a denied statement; COMMIT. Defence: COMMIT rolls back. */
    @ParameterizedTest
    @ValueSource(booleans = {false, true})
    void commitAfterADenialInsideATransactionCommitsNothing(boolean flushedInsert) throws Exception {
        // Given
        String app = unique("adv-tx-block");
        try (RawPgClient c = adv.login(DEMO, app, "mallory", "analysts")) {
            int pid = adv.pid(app);
            assertAgree(pid, c.simple("BEGIN"), 'T');
            if (flushedInsert) insertFlushed(c, app);
            else assertAgree(pid, c.simple(insert(app)), 'T');

            // When
            RawPgClient.Answer denied = deny(c, flushedInsert ? Denial.BATCH_UP_TO_SYNC : Denial.SIMPLE_QUERY);
            String afterDenial = adv.backendState(pid);
            RawPgClient.Answer commit = c.simple("COMMIT");

            // Then
            assertThat(denied.status()).isEqualTo('E');
            assertThat(afterDenial).isEqualTo(AdversarialEdge.stateOf('E'));
            assertThat(commit.tags()).containsExactly("ROLLBACK");
            assertAgree(pid, commit, 'I');
        }
        assertThat(customers(app)).isZero();
    }

    // ---------------------------------------------------------------- helpers

    /** Sends the denied statement as {@code how} says; checks the denial and returns the answer up to ReadyForQuery. */
    private static RawPgClient.Answer deny(RawPgClient c, Denial how) throws Exception {
        if (how == Denial.SIMPLE_QUERY) {
            RawPgClient.Answer answer = c.simple(DENIED);
            assertDenied(answer, "no-update-delete-without-where");
            return answer;
        }
        c.parseBindExecute(DENIED);
        if (how == Denial.BATCH_UP_TO_SYNC) {
            c.sync();
            RawPgClient.Answer answer = c.readUntilReady();
            assertDenied(answer, "no-update-delete-without-where");
            return answer;
        }
        c.flush();
        assertDenied(c.readThrough('E'), "no-update-delete-without-where");
        c.sync();
        return c.readUntilReady();
    }

    /** The client's ReadyForQuery says {@code expected}, and the target's pg_stat_activity says the same of the backend. */
    private static void assertAgree(int pid, RawPgClient.Answer answer, char expected) throws Exception {
        assertThat(answer.status()).as(answer.toString()).isEqualTo(expected);
        assertThat(adv.backendState(pid)).isEqualTo(AdversarialEdge.stateOf(expected));
    }

    /** An INSERT of a customer named {@code name} in a Flush-terminated batch: it ran, its transaction is open. */
    private static void insertFlushed(RawPgClient c, String name) throws Exception {
        c.parseBindExecute(insert(name));
        c.flush();
        RawPgClient.Answer inserted = c.readThrough('C', 'E');
        assertThat(inserted.tags()).as(inserted.toString()).containsExactly("INSERT 0 1");
    }

    private static String insert(String name) {
        return "INSERT INTO customers (name, email, country) VALUES ('" + name + "', 'tx@example.com', 'NL')";
    }

    private static long customers(String name) throws Exception {
        return Long.parseLong(adv.superuserValue(DemoTarget.DATABASE, "SELECT count(*) FROM customers WHERE name = '" + name + "'"));
    }
}
