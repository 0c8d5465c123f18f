package dev.gatehouse.platform.core;

import java.time.Duration;
import java.util.concurrent.CompletionStage;

/**
 * How protocol code hands a command to the log and learns its fate. Protocol code never sees
 * Kafka; the Kafka adapter implements this port.
 */
public interface DecisionPort {

    /** The reply partition decisions for this edge arrive on; named in CommandReceived. */
    int replyPartition();

    /**
     * Writes the command to the audit log and waits for its decision. The returned stage fails
     * with {@link DecisionUnavailableException} when the log is unreachable or no decision
     * arrives within the deadline: callers fail closed.
     */
    CompletionStage<Decision> decide(AuditEvent.CommandReceived command, Duration deadline);

    /**
     * Writes the command to the audit log without waiting for a decision (observe mode). The
     * stage completes once the write is durable, and fails when it is not.
     */
    CompletionStage<Void> record(AuditEvent.CommandReceived command);
}
