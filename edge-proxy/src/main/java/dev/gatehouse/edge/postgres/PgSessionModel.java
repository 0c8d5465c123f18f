package dev.gatehouse.edge.postgres;

import dev.gatehouse.platform.core.StatementAnalysis;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The state a PostgreSQL backend keeps for a session that later messages depend on, as the edge
 * tracks it: named and unnamed prepared statements and portals (one namespace each, shared by the
 * protocol's Parse/Bind and SQL's PREPARE/DECLARE, exactly as in the backend), the transaction
 * status, the search_path and whether the session may have temporary tables.
 *
 * <p>The confirmed model changes only when the target confirms a message (ParseComplete,
 * BindComplete, CloseComplete, a statement's CommandComplete, ReadyForQuery): a message the
 * target refused changes nothing. A {@link #copy()} is the speculative model a batch is built
 * against, assuming every message of it succeeds; since an error makes the target skip the rest
 * of the batch, what runs is always a prefix of what was decided, never something else.
 *
 * <p>Not thread-safe: one per session, on its event loop.
 */
final class PgSessionModel {

    /**
     * A prepared statement.
     *
     * @param sql        its text (for SQL PREPARE: the inner statement)
     * @param statements its statements as parsed, not yet resolved: the target resolves a prepared
     *                   statement's names again with the search_path of each execution (a Parse may
     *                   hold none or several; the target refuses several)
     * @param serverText what the target shows for it in {@code pg_prepared_statements.statement}: the
     *                   Parse text, or the whole text of the message that held the PREPARE
     */
    record Prepared(String name, String sql, List<PgStatement> statements, boolean sqlLevel, String serverText) {
        Prepared {
            statements = List.copyOf(statements);
        }
    }

    /**
     * A portal: a bound statement (protocol Bind) or a cursor (SQL DECLARE).
     *
     * @param statementName the prepared statement it was bound from (null for a cursor)
     * @param sql           the text it runs, fixed when it was bound or declared
     * @param statements    what that text does, resolved when it was bound or declared
     * @param parameters    its bound arguments, as recorded
     * @param digest        digest of the complete arguments, or null
     * @param resultFormats the Bind's result format codes (empty: all text)
     * @param cursor        declared with DECLARE
     * @param hold          WITH HOLD: survives the commit of its transaction
     * @param ran           executed at least once (a later Execute or FETCH continues it)
     * @param tx            the transaction it was created in ({@link #txSerial})
     * @param serverText    what the target shows for it in {@code pg_cursors.statement}
     */
    record Portal(String name, String statementName, String sql, List<PgStatement> statements, List<String> parameters,
                  String digest, short[] resultFormats, boolean cursor, boolean hold, boolean ran, long tx,
                  String serverText) {
        Portal {
            statements = List.copyOf(statements);
            parameters = parameters == null ? List.of() : java.util.Collections.unmodifiableList(new ArrayList<>(parameters));
        }

        Portal run() {
            return ran ? this : new Portal(name, statementName, sql, statements, parameters, digest, resultFormats, cursor,
                    hold, true, tx, serverText);
        }
    }

    /**
     * One statement of a text: its text, its analysis (as parsed, or resolved where the record
     * says so) and what running it does to the session.
     */
    record PgStatement(String sql, StatementAnalysis analysis, dev.gatehouse.platform.core.SessionEffect effect) {
    }

    final Map<String, Prepared> statements;
    final Map<String, Portal> portals;
    /** The status of the last ReadyForQuery: 'I', 'T' or 'E'. */
    char txStatus = 'I';
    /** Counts transactions: incremented when one ends. */
    long txSerial;
    /** The search_path now, or null when the edge cannot know it. */
    List<String> searchPath;
    /** The search_path that survives a rollback of the current transaction, or null when unknown. */
    List<String> committedSearchPath;
    /** The session's search_path at login, what RESET and DISCARD ALL return to. */
    List<String> initialSearchPath;
    /** Whether a session-level SET search_path ran in the current transaction (a rollback undoes it). */
    boolean searchPathSetInTx;
    /** The value of the last session-level SET search_path of the current transaction. */
    List<String> searchPathOfTx;
    /** Whether the session may have temporary tables (it created one, or code ran that may have). */
    boolean tempTables;
    /**
     * Whether server-side code ran (a function, procedure, DO block, trigger) since the prepared
     * statements and portals were last certain: such code can PREPARE, DEALLOCATE, open and close
     * cursors under any name, so names known from before may now run something else.
     */
    boolean namesUncertain;
    /** Whether, since the last ReadyForQuery, something ran that may have changed settings the lexer depends on. */
    boolean codeRanInPipeline;
    /** Whether the target skips messages until the next Sync (an error in an extended-protocol batch). */
    boolean targetIgnoringUntilSync;
    /** Whether anything was forwarded since the last ReadyForQuery (an implicit transaction may be open). */
    boolean forwardedSinceReady;
    /**
     * Whether a statement that may change what the catalog says (see
     * {@link PgCommandBuilder#changesCatalogForLaterStatements}) ran in the open transaction: the
     * edge's catalog, read on a connection of its own, does not see it until the commit.
     */
    boolean catalogChangedInTx;
    /** Whether a transaction that changed the catalog committed since the adapter last asked. */
    boolean catalogCommitted;

    PgSessionModel() {
        this.statements = new HashMap<>();
        this.portals = new HashMap<>();
    }

    private PgSessionModel(PgSessionModel other) {
        this.statements = new HashMap<>(other.statements);
        this.portals = new HashMap<>(other.portals);
        this.txStatus = other.txStatus;
        this.txSerial = other.txSerial;
        this.searchPath = other.searchPath;
        this.committedSearchPath = other.committedSearchPath;
        this.initialSearchPath = other.initialSearchPath;
        this.searchPathSetInTx = other.searchPathSetInTx;
        this.searchPathOfTx = other.searchPathOfTx;
        this.tempTables = other.tempTables;
        this.namesUncertain = other.namesUncertain;
        this.codeRanInPipeline = other.codeRanInPipeline;
        this.targetIgnoringUntilSync = other.targetIgnoringUntilSync;
        this.forwardedSinceReady = other.forwardedSinceReady;
        this.catalogChangedInTx = other.catalogChangedInTx;
        this.catalogCommitted = other.catalogCommitted;
    }

    /** A speculative copy for building a batch: changes to it never reach this model. */
    PgSessionModel copy() {
        return new PgSessionModel(this);
    }

    /** The search_path read from the target at login. */
    void loggedIn(List<String> path) {
        initialSearchPath = path == null ? null : List.copyOf(path);
        searchPath = initialSearchPath;
        committedSearchPath = initialSearchPath;
    }

    /** A simple Query message starts: the backend drops the unnamed statement and portal before running it. */
    void simpleQueryStarts() {
        statements.remove("");
        portals.remove("");
    }

    /**
     * A {@code SET [LOCAL] search_path} or {@code RESET search_path} ran (null value: reset to the
     * session's value at login). A LOCAL setting lasts until the transaction ends; a session-level
     * one survives only if the transaction commits.
     */
    void searchPathSet(List<String> value, boolean local) {
        List<String> path = value == null ? initialSearchPath : List.copyOf(value);
        searchPath = path;
        if (!local) {
            searchPathSetInTx = true;
            searchPathOfTx = path;
        }
    }

    /** Something ran that may have changed the search_path in a way the edge cannot follow. */
    void searchPathUnknown() {
        searchPath = null;
        searchPathSetInTx = true;
        searchPathOfTx = null;
    }

    /**
     * A ReadyForQuery: the transaction status after a batch. At the end of a transaction
     * ({@code 'I'}), its portals are gone (except cursors WITH HOLD of a committed one), and
     * the search_path is what the commit kept or the rollback restored.
     *
     * @param committed whether the transaction that just ended (if any) committed; false when it
     *                  was rolled back (ROLLBACK, an error, COMMIT of a failed transaction)
     */
    void readyForQuery(char status, boolean committed) {
        txStatus = status;
        codeRanInPipeline = false;
        targetIgnoringUntilSync = false;
        forwardedSinceReady = false;
        if (status != 'I') return;
        if (catalogChangedInTx && committed) catalogCommitted = true;
        catalogChangedInTx = false;
        long ended = txSerial;
        portals.values().removeIf(p -> !p.cursor() || !p.hold() || (!committed && p.tx() == ended));
        if (committed) {
            if (searchPathSetInTx) committedSearchPath = searchPathOfTx;
        }
        searchPath = committedSearchPath;
        searchPathSetInTx = false;
        searchPathOfTx = null;
        txSerial++;
    }

    /** A ROLLBACK TO SAVEPOINT: portals and settings of the undone part are gone, which the edge does not track. */
    void rolledBackToSavepoint() {
        if (searchPathSetInTx) searchPath = null;
    }

    /** DISCARD ALL: as a new session, but for the login settings. */
    void discardAll() {
        statements.clear();
        portals.clear();
        tempTables = false;
        searchPathSet(null, false);
    }
}
