package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.PgProtocol;

import java.util.ArrayDeque;

/**
 * Matches what the target answers to what the edge forwarded, message by message, and applies to
 * the confirmed {@link PgSessionModel} exactly what the target confirmed: a prepared statement
 * exists once its ParseComplete arrived, a portal once its BindComplete did, a cursor once its
 * DECLARE completed, a transaction ended at the ReadyForQuery that says so. After an error in an
 * extended-protocol message the target skips every message up to the next Sync, and so does the
 * tracker; with no Sync forwarded yet, the target goes on skipping whatever comes next
 * ({@link PgSessionModel#targetIgnoringUntilSync}).
 *
 * <p>A frame the tracker cannot place (an answer to nothing the edge sent) is a
 * {@link TargetProtocolException}: the edge cannot tell what the target is doing and ends the
 * session. Not thread-safe: one per session, on its event loop.
 */
final class PgResponseTracker {

    /** What the session learns from the answers. */
    interface Listener {
        /** Statement {@code statement} of the command (its index, -1 for none) completed; tag null for an empty query or a bind. */
        void completed(int statement, String tag);

        /** The target refused a forwarded message with this ErrorResponse (not the edge's own failure). */
        void error(BackendFrame frame);

        /** The target waits for COPY data from the client. */
        void copyIn();

        /** A ReadyForQuery with this transaction status. */
        void ready(char status);
    }

    /** The target sent something that answers nothing the edge forwarded. */
    static final class TargetProtocolException extends RuntimeException {
        TargetProtocolException(String message) {
            super(message);
        }
    }

    private final PgSessionModel model;
    private final ArrayDeque<PgExpected> queue = new ArrayDeque<>();
    /** Within the simple Query at the head: the next statement's index. */
    private int queryStatement;
    /** Since the last ReadyForQuery: whether any error was reported, and the last completion tag. */
    private boolean errorSinceReady;
    private String lastTag;

    PgResponseTracker(PgSessionModel model) {
        this.model = model;
    }

    void expect(PgExpected expected) {
        queue.add(expected);
    }

    /** Whether every forwarded message has been answered (or skipped). */
    boolean idle() {
        return queue.isEmpty();
    }

    /**
     * Observes one frame from the target before it is relayed.
     *
     * @return true to relay it to the client, false to swallow it (the edge's own messages' answers)
     * @throws TargetProtocolException when the frame answers nothing that was forwarded
     */
    boolean onFrame(BackendFrame frame, Listener listener) {
        byte type = frame.type();
        PgExpected head = queue.peek();
        if (type == PgProtocol.BE_NOTICE_RESPONSE || type == PgProtocol.BE_NOTIFICATION_RESPONSE
                || type == PgProtocol.BE_PARAMETER_STATUS) {
            return !(head instanceof PgExpected.Query q && q.swallow()) && !(head instanceof PgExpected.FunctionCall f && f.swallow());
        }
        if (head == null) throw unexpected(type, "nothing was forwarded");
        switch (head) {
            case PgExpected.Parse p -> {
                if (type == PgProtocol.BE_PARSE_COMPLETE) {
                    p.onSuccess().accept(model);
                    queue.poll();
                } else if (type == PgProtocol.BE_ERROR_RESPONSE) {
                    extendedError(frame, listener);
                } else {
                    throw unexpected(type, "a Parse");
                }
            }
            case PgExpected.Bind b -> {
                if (type == PgProtocol.BE_BIND_COMPLETE) {
                    b.onSuccess().accept(model);
                    queue.poll();
                    if (b.statement() >= 0) listener.completed(b.statement(), null);
                } else if (type == PgProtocol.BE_ERROR_RESPONSE) {
                    extendedError(frame, listener);
                } else {
                    throw unexpected(type, "a Bind");
                }
            }
            case PgExpected.Describe d -> {
                switch (type) {
                    case PgProtocol.BE_PARAMETER_DESCRIPTION -> {
                        if (!d.ofStatement()) throw unexpected(type, "a Describe of a portal");
                    }
                    case PgProtocol.BE_ROW_DESCRIPTION, PgProtocol.BE_NO_DATA -> queue.poll();
                    case PgProtocol.BE_ERROR_RESPONSE -> extendedError(frame, listener);
                    default -> throw unexpected(type, "a Describe");
                }
            }
            case PgExpected.Execute e -> {
                switch (type) {
                    case PgProtocol.BE_DATA_ROW, PgProtocol.BE_COPY_DATA, PgProtocol.BE_COPY_DONE,
                         PgProtocol.BE_COPY_OUT_RESPONSE -> { }
                    case PgProtocol.BE_COPY_IN_RESPONSE -> listener.copyIn();
                    case PgProtocol.BE_COMMAND_COMPLETE -> {
                        String tag = BackendFrames.parseCommandComplete(frame.payload());
                        lastTag = tag;
                        e.onSuccess().accept(model);
                        queue.poll();
                        listener.completed(e.statement(), tag);
                    }
                    case PgProtocol.BE_EMPTY_QUERY_RESPONSE -> {
                        e.onSuccess().accept(model);
                        queue.poll();
                        listener.completed(e.statement(), null);
                    }
                    case PgProtocol.BE_PORTAL_SUSPENDED -> {
                        e.onSuspended().accept(model);
                        queue.poll();
                    }
                    case PgProtocol.BE_ERROR_RESPONSE -> extendedError(frame, listener);
                    default -> throw unexpected(type, "an Execute");
                }
            }
            case PgExpected.Close c -> {
                if (type == PgProtocol.BE_CLOSE_COMPLETE) {
                    c.onSuccess().accept(model);
                    queue.poll();
                } else if (type == PgProtocol.BE_ERROR_RESPONSE) {
                    extendedError(frame, listener);
                } else {
                    throw unexpected(type, "a Close");
                }
            }
            case PgExpected.Sync s -> {
                if (type != PgProtocol.BE_READY_FOR_QUERY) throw unexpected(type, "a Sync");
                queue.poll();
                ready(frame, listener);
            }
            case PgExpected.Query q -> {
                switch (type) {
                    case PgProtocol.BE_ROW_DESCRIPTION, PgProtocol.BE_DATA_ROW, PgProtocol.BE_COPY_OUT_RESPONSE,
                         PgProtocol.BE_COPY_DATA, PgProtocol.BE_COPY_DONE -> { }
                    case PgProtocol.BE_COPY_IN_RESPONSE -> {
                        if (q.swallow()) throw unexpected(type, "the edge's own query");
                        listener.copyIn();
                    }
                    case PgProtocol.BE_COMMAND_COMPLETE, PgProtocol.BE_EMPTY_QUERY_RESPONSE -> {
                        String tag = type == PgProtocol.BE_COMMAND_COMPLETE
                                ? BackendFrames.parseCommandComplete(frame.payload()) : null;
                        if (tag != null) lastTag = tag;
                        int i = queryStatement++;
                        if (i < q.onSuccess().size()) q.onSuccess().get(i).accept(model);
                        if (!q.swallow()) listener.completed(q.firstStatement() < 0 ? -1 : q.firstStatement() + i, tag);
                    }
                    case PgProtocol.BE_ERROR_RESPONSE -> {
                        errorSinceReady = true;
                        if (!q.swallow()) listener.error(frame);
                    }
                    case PgProtocol.BE_READY_FOR_QUERY -> {
                        queue.poll();
                        queryStatement = 0;
                        ready(frame, listener);
                        return true;
                    }
                    default -> throw unexpected(type, "a Query");
                }
                return !q.swallow();
            }
            case PgExpected.FunctionCall f -> {
                switch (type) {
                    case PgProtocol.BE_FUNCTION_CALL_RESPONSE -> {
                        f.onSuccess().accept(model);
                        if (!f.swallow()) listener.completed(f.statement(), null);
                    }
                    case PgProtocol.BE_ERROR_RESPONSE -> {
                        errorSinceReady = true;
                        if (!f.swallow()) listener.error(frame);
                    }
                    case PgProtocol.BE_READY_FOR_QUERY -> {
                        queue.poll();
                        ready(frame, listener);
                        return true;
                    }
                    default -> throw unexpected(type, "a FunctionCall");
                }
                return !f.swallow();
            }
            case PgExpected.Failure f -> {
                if (type != PgProtocol.BE_ERROR_RESPONSE) throw unexpected(type, "the edge's own failing Execute");
                queue.poll();
                skipToSync();
                return false;
            }
        }
        return true;
    }

    /** An error answering an extended-protocol message: the target skips everything up to the next Sync. */
    private void extendedError(BackendFrame frame, PgResponseTracker.Listener listener) {
        queue.poll();
        listener.error(frame);
        skipToSync();
    }

    private void skipToSync() {
        errorSinceReady = true;
        while (!queue.isEmpty() && !(queue.peek() instanceof PgExpected.Sync)) queue.poll();
        if (queue.isEmpty()) model.targetIgnoringUntilSync = true;
    }

    private void ready(BackendFrame frame, Listener listener) {
        char status = (char) BackendFrames.parseReadyForQuery(frame.payload());
        boolean rolledBack = errorSinceReady || "ROLLBACK".equals(lastTag) || "PREPARE TRANSACTION".equals(lastTag);
        if (status == 'T' && "ROLLBACK".equals(lastTag)) model.rolledBackToSavepoint();
        if ("PREPARE TRANSACTION".equals(lastTag)) model.searchPathUnknown();
        model.readyForQuery(status, !rolledBack);
        errorSinceReady = false;
        lastTag = null;
        listener.ready(status);
    }

    private static TargetProtocolException unexpected(byte type, String answering) {
        return new TargetProtocolException("the target sent a message of type '" + (char) type + "' while answering "
                + answering + "; the edge cannot follow the target's state");
    }
}
