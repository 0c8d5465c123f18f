package dev.gatehouse.edge.postgres;

import java.util.List;
import java.util.function.Consumer;

/**
 * What the target will answer to one message the edge forwarded, and what that message does to
 * the session once the target confirms it. The edge keeps one queue of these in forwarding order
 * ({@link PgResponseTracker}); the target answers in the same order.
 */
sealed interface PgExpected {

    /** No change to the session model. */
    Consumer<PgSessionModel> NOTHING = m -> { };

    /** Parse: ParseComplete ('1'). */
    record Parse(Consumer<PgSessionModel> onSuccess) implements PgExpected {
    }

    /** Bind: BindComplete ('2'). {@code statement}: index of its record in the command, or -1. */
    record Bind(Consumer<PgSessionModel> onSuccess, int statement) implements PgExpected {
    }

    /** Describe of a statement ('t' then 'T' or 'n') or a portal ('T' or 'n'). */
    record Describe(boolean ofStatement) implements PgExpected {
    }

    /**
     * Execute: rows, then CommandComplete, EmptyQueryResponse or PortalSuspended (a COPY in
     * between). {@code onSuccess} runs on completion, {@code onSuspended} when the row limit
     * suspended the portal; {@code statement} is the index of its record in the command.
     */
    record Execute(Consumer<PgSessionModel> onSuccess, Consumer<PgSessionModel> onSuspended, int statement)
            implements PgExpected {
    }

    /** Close: CloseComplete ('3'). */
    record Close(Consumer<PgSessionModel> onSuccess) implements PgExpected {
    }

    /** Sync: ReadyForQuery ('Z'). */
    record Sync() implements PgExpected {
    }

    /**
     * A simple Query: per statement its results and a CommandComplete (or EmptyQueryResponse), an
     * error ending it early, then ReadyForQuery. {@code onSuccess.get(i)} runs when statement
     * {@code i} completes; {@code firstStatement} is the index of statement 0's record in the
     * command (-1: none). {@code swallow}: the edge's own query, nothing of it but ReadyForQuery
     * reaches the client.
     */
    record Query(List<Consumer<PgSessionModel>> onSuccess, int firstStatement, boolean swallow) implements PgExpected {
        public Query {
            onSuccess = List.copyOf(onSuccess);
        }
    }

    /** FunctionCall: FunctionCallResponse ('V') or an error, then ReadyForQuery. {@code swallow}: the edge's own. */
    record FunctionCall(Consumer<PgSessionModel> onSuccess, int statement, boolean swallow) implements PgExpected {
    }

    /**
     * The edge's own Execute of a portal that does not exist, sent in place of a rejected batch so
     * that the target fails the batch exactly as it would have failed it: its ErrorResponse is
     * swallowed.
     */
    record Failure() implements PgExpected {
    }
}
