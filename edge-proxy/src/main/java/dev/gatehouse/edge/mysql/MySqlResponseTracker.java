package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.mysql.codec.MySqlPacket;
import dev.gatehouse.edge.mysql.codec.MySqlProtocol;

/**
 * Follows the target's answer to one command packet by packet, as the client will read it: an
 * OK, an ERR, or result sets (column count, column definitions, an EOF unless CLIENT_DEPRECATE_EOF,
 * rows, then an EOF or the 0xFE OK), each followed by another while the server's status says more
 * results exist. Tells when the answer is complete, what it reported, and the transaction state.
 */
final class MySqlResponseTracker {

    /** What kind of answer a command gets. */
    enum Expect {
        /** COM_QUERY, COM_INIT_DB: OK, ERR or result sets. */
        RESULTS,
        /** One packet: OK, ERR or EOF (COM_SET_OPTION, COM_PING, COM_RESET_CONNECTION, COM_STMT_RESET). */
        ONE_PACKET,
        /** COM_STMT_PREPARE: ERR, or STMT_PREPARE_OK with the parameter and column definitions. */
        PREPARE,
        /** COM_STMT_FETCH: rows of an open cursor, then an EOF (or ERR). */
        FETCH
    }

    /** What the packet the tracker read last is, for those who rewrite or sample an answer. */
    enum Part {
        /** The column count that starts a result set. */
        COLUMN_COUNT,
        /** A column definition of a result set (not those of a STMT_PREPARE_OK). */
        COLUMN_DEFINITION,
        /** A row of a result set: text protocol after COM_QUERY, binary after COM_STMT_EXECUTE. */
        ROW,
        /** An ERR packet. */
        ERROR,
        /** Anything else: OK, EOF, the end of a result set, a prepare's answer, a local-file request. */
        OTHER
    }

    private enum State { IDLE, FIRST, COLUMNS, COLUMNS_EOF, ROWS, PREPARED_PARAMS, PREPARED_PARAMS_EOF, PREPARED_COLUMNS,
        PREPARED_COLUMNS_EOF }

    private final boolean deprecateEof;
    private State state = State.IDLE;
    private Part part = Part.OTHER;
    private Expect expect;
    private long columnsLeft;
    private int status;

    // what the answer in flight reported
    long rows;
    int results;
    int errorNumber;
    String errorState;
    String errorMessage;
    boolean localInfileRequested;
    /** What the last successful COM_STMT_PREPARE answered: its statement id and parameter count. */
    int preparedId;
    int preparedParams;
    private int preparedColumns;

    MySqlResponseTracker(boolean deprecateEof, int initialStatus) {
        this.deprecateEof = deprecateEof;
        this.status = initialStatus;
    }

    /** A command was sent: its answer comes next. */
    void expect(Expect what) {
        if (state != State.IDLE) throw new IllegalStateException("an answer is still in flight");
        expect = what;
        state = what == Expect.FETCH ? State.ROWS : State.FIRST;
        rows = 0;
        results = 0;
        errorNumber = 0;
        errorState = null;
        errorMessage = null;
        localInfileRequested = false;
    }

    boolean idle() {
        return state == State.IDLE;
    }

    /** The server status flags after the last complete answer. */
    int status() {
        return status;
    }

    /** Whether the last answer left a cursor open (an execute with a cursor flag, a fetch that did not read all). */
    boolean cursorOpen() {
        return (status & MySqlProtocol.SERVER_STATUS_CURSOR_EXISTS) != 0
                && (status & MySqlProtocol.SERVER_STATUS_LAST_ROW_SENT) == 0;
    }

    boolean inTransaction() {
        return (status & MySqlProtocol.SERVER_STATUS_IN_TRANS) != 0;
    }

    /** "T" in a transaction, "I" idle, as events record the transaction state. */
    String txStatus() {
        return inTransaction() ? "T" : "I";
    }

    /**
     * One packet of the answer. Throws when a packet arrives with no answer expected (the target
     * spoke out of turn).
     */
    void onPacket(MySqlPacket p) {
        int header = p.header();
        State before = state;
        part = Part.OTHER;
        read(p, header);
        if (header == MySqlProtocol.ERR && (before == State.FIRST || before == State.ROWS)) {
            part = Part.ERROR;
        } else if (before == State.FIRST && (state == State.COLUMNS)) {
            part = Part.COLUMN_COUNT;
        } else if (before == State.COLUMNS) {
            part = Part.COLUMN_DEFINITION;
        } else if (before == State.ROWS && state == State.ROWS) {
            part = Part.ROW;
        }
    }

    /** What the last packet given to {@link #onPacket} was. */
    Part lastPart() {
        return part;
    }

    private void read(MySqlPacket p, int header) {
        switch (state) {
            case IDLE -> throw new IllegalStateException("the target sent a packet (header 0x" + Integer.toHexString(header)
                    + ") when no answer was expected");
            case FIRST -> {
                if (expect == Expect.PREPARE) {
                    if (header == MySqlProtocol.ERR) {
                        error(p);
                        state = State.IDLE;
                        return;
                    }
                    if (header != MySqlProtocol.OK || p.size() < 9) throw new IllegalStateException("not a STMT_PREPARE_OK");
                    var b = p.payload();
                    preparedId = b.getIntLE(b.readerIndex() + 1);
                    preparedColumns = b.getUnsignedShortLE(b.readerIndex() + 5);
                    preparedParams = b.getUnsignedShortLE(b.readerIndex() + 7);
                    columnsLeft = preparedParams;
                    state = State.PREPARED_PARAMS;
                    afterPreparedDefinitions();
                    return;
                }
                if (expect == Expect.ONE_PACKET) {
                    if (header == MySqlProtocol.ERR) error(p);
                    else if (header == MySqlProtocol.OK) {
                        status = MySqlProtocol.Ok.read(p.payload()).status();
                        results++;
                    }
                    else if (header == MySqlProtocol.EOF) status = MySqlProtocol.eofStatus(p.payload());
                    state = State.IDLE;
                    return;
                }
                switch (header) {
                    case MySqlProtocol.OK -> {
                        var ok = MySqlProtocol.Ok.read(p.payload());
                        rows += ok.affectedRows();
                        endOfResult(ok.status());
                    }
                    case MySqlProtocol.ERR -> {
                        error(p);
                        state = State.IDLE;
                    }
                    case MySqlProtocol.LOCAL_INFILE -> {
                        // answered by the session with an empty packet; the target then ends with OK or ERR
                        localInfileRequested = true;
                    }
                    default -> {
                        var b = p.payload().duplicate();
                        columnsLeft = MySqlProtocol.readLenenc(b);
                        if (columnsLeft <= 0) throw new IllegalStateException("a result set of " + columnsLeft + " columns");
                        state = State.COLUMNS;
                    }
                }
            }
            case COLUMNS -> {
                if (--columnsLeft == 0) state = deprecateEof ? State.ROWS : State.COLUMNS_EOF;
            }
            case COLUMNS_EOF -> {
                if (!MySqlProtocol.isEof(p.payload())) throw new IllegalStateException("no EOF after the column definitions");
                int s = MySqlProtocol.eofStatus(p.payload());
                if ((s & MySqlProtocol.SERVER_STATUS_CURSOR_EXISTS) != 0) {
                    endOfResult(s); // an execute that opened a cursor: its rows come with COM_STMT_FETCH
                } else {
                    state = State.ROWS;
                }
            }
            case PREPARED_PARAMS, PREPARED_COLUMNS -> {
                columnsLeft--;
                afterPreparedDefinitions();
            }
            case PREPARED_PARAMS_EOF, PREPARED_COLUMNS_EOF -> {
                if (!MySqlProtocol.isEof(p.payload())) throw new IllegalStateException("no EOF after the definitions");
                if (state == State.PREPARED_PARAMS_EOF) {
                    columnsLeft = preparedColumns;
                    state = State.PREPARED_COLUMNS;
                    afterPreparedDefinitions();
                } else {
                    state = State.IDLE;
                }
            }
            case ROWS -> {
                if (header == MySqlProtocol.ERR) {
                    error(p);
                    state = State.IDLE;
                } else if (MySqlProtocol.isEof(p.payload())) {
                    int s = deprecateEof ? MySqlProtocol.Ok.read(p.payload()).status() : MySqlProtocol.eofStatus(p.payload());
                    endOfResult(s);
                } else {
                    rows++;
                }
            }
        }
    }

    /** Moves on once the definitions counted are read: an EOF after them unless CLIENT_DEPRECATE_EOF. */
    private void afterPreparedDefinitions() {
        if (columnsLeft > 0) return;
        if (state == State.PREPARED_PARAMS) {
            if (preparedParams > 0 && !deprecateEof) {
                state = State.PREPARED_PARAMS_EOF;
            } else {
                columnsLeft = preparedColumns;
                state = State.PREPARED_COLUMNS;
                afterPreparedDefinitions();
            }
        } else if (state == State.PREPARED_COLUMNS) {
            state = preparedColumns > 0 && !deprecateEof ? State.PREPARED_COLUMNS_EOF : State.IDLE;
        }
    }

    private void endOfResult(int newStatus) {
        status = newStatus;
        results++;
        state = (newStatus & MySqlProtocol.SERVER_MORE_RESULTS_EXISTS) != 0 ? State.FIRST : State.IDLE;
    }

    private void error(MySqlPacket p) {
        var e = MySqlProtocol.Error.read(p.payload());
        if (errorMessage == null) {
            errorNumber = e.number();
            errorState = e.sqlState();
            errorMessage = e.message();
        }
    }

    @Override
    public String toString() {
        return "MySqlResponseTracker[" + state + ", status=0x" + Integer.toHexString(status) + "]";
    }
}
