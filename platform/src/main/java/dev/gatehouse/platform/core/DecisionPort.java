package dev.gatehouse.platform.core;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * How protocol code hands a command, or a connection attempt, to the log and learns its fate.
 * Protocol code never sees Kafka; the Kafka adapter implements this port. Decisions are matched
 * to requests by {@link AuditEvent.DecisionRequest#requestId()}.
 */
public interface DecisionPort {

    /** The reply partition decisions for this edge arrive on; named in CommandReceived and SessionRequested. */
    int replyPartition();

    /**
     * Writes the request (a command or a connection attempt) to the audit log and waits for its
     * decision. Write-ahead, exactly: the returned stage completes with the decision only once
     * <em>both</em> the decision has arrived <em>and</em> the log has acknowledged the request's own
     * write as durable, whichever comes first; a caller may act on the decision at once (forward,
     * connect). The stage fails with {@link DecisionUnavailableException} when the write reports
     * failure, <em>even if a decision arrived</em>, and when the decision, the acknowledgement or
     * both are not there within {@code deadline} (which covers both): callers fail closed, so
     * nothing runs that the log may not hold.
     */
    CompletionStage<Decision> decide(AuditEvent.DecisionRequest request, Duration deadline);

    /**
     * Writes the request to the audit log without waiting for a decision (observe mode). The
     * stage completes once the write is durable, and fails when it is not.
     */
    CompletionStage<Void> record(AuditEvent.DecisionRequest request);

    /**
     * Waits for the final decision about a command whose decision was a held
     * {@link Decision.RequireApproval} (the approval service's Allow or Deny, a second decision for
     * the same command). The port keeps a waiter from the moment the RequireApproval arrives, so
     * an outcome that comes before this call is not lost. The stage fails with
     * {@link DecisionUnavailableException} when no approval is awaited for the command or no outcome
     * arrives within {@code deadline}: callers fail closed.
     */
    CompletionStage<Decision> awaitOutcome(CommandId commandId, Duration deadline);
}
