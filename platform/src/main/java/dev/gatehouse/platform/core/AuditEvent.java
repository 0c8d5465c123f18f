package dev.gatehouse.platform.core;

import java.time.Duration;
import java.util.List;

/**
 * The immutable audit log's events, one record per Avro record of {@code schemas/}. Mapped to and
 * from Avro by one codec class; nothing else knows the wire form.
 */
public sealed interface AuditEvent {
    EventHeader header();

    default SessionId sessionId() {
        return header().sessionId();
    }

    /** A session was authenticated and connected to its target. Identity is captured here. */
    record SessionOpened(EventHeader header, Identity identity, ConnectionRef connection, String clientAddress,
                         String databaseUser, String applicationName, String mode, boolean tls) implements AuditEvent {
    }

    /** A connection attempt was refused before a session opened (bad token, unknown connection...). */
    record SessionRejected(EventHeader header, String clientAddress, String connection, String databaseUser,
                           String subject, String sqlState, String reason) implements AuditEvent {
    }

    /** A decoded command, written before anything of it reaches the target. */
    record CommandReceived(EventHeader header, SqlCommand command, Identity identity, ConnectionRef connection,
                           String edgeId, int replyPartition, String mode) implements AuditEvent {
    }

    /** The policy service's decision about a command. */
    record DecisionMade(EventHeader header, CommandId commandId, long sequence, Decision decision, String edgeId,
                        int replyPartition, String mode, Duration evaluation) implements AuditEvent {
    }

    /** What became of a command: forwarded and answered, rejected, or failed. */
    record CommandCompleted(EventHeader header, CommandId commandId, long sequence, Outcome outcome) implements AuditEvent {
    }

    /** A session ended, with the reason and how many commands it carried. */
    record SessionClosed(EventHeader header, String reason, long commands, Duration duration) implements AuditEvent {
    }

    /** Bad input from a client: malformed, truncated or oversized messages, garbage. */
    record ProtocolViolation(EventHeader header, String protocol, String clientAddress, String detail) implements AuditEvent {
    }

    /** A cancel request from a client, and whether the edge holding the session acted on it. */
    record CancelRequested(EventHeader header, String clientAddress, boolean matched) implements AuditEvent {
    }

    /** A policy version became active at a policy-service instance. */
    record PolicyActivated(EventHeader header, String policyId, String version, String appliedBy) implements AuditEvent {
    }

    /** A command needs human approval before it may run. */
    record ApprovalRequested(EventHeader header, CommandId commandId, String approvalId, String contentFingerprint,
                             String approverGroup, int approvalsRequired, java.time.Instant expiresAt, String ruleId,
                             String reason) implements AuditEvent {
    }

    record ApprovalGranted(EventHeader header, String approvalId, List<String> approvers) implements AuditEvent {
    }

    record ApprovalDenied(EventHeader header, String approvalId, String deniedBy, String reason) implements AuditEvent {
    }

    record ApprovalExpired(EventHeader header, String approvalId) implements AuditEvent {
    }

    /** Access was revoked for identities matching the selector; live sessions end. */
    record AccessRevoked(EventHeader header, String selectorType, String selectorValue, String revokedBy,
                         String reason, boolean lifted) implements AuditEvent {
    }

    /**
     * The result of a command.
     *
     * @param forwarded      whether the command reached the target
     * @param commandTags    the CommandComplete tags the target returned, in order
     * @param rows           rows returned or affected, summed over the command's statements
     * @param sqlState       SQLSTATE of the first error, or null
     * @param errorMessage   message of the first error, or null
     * @param duration       from the command's arrival to its answer
     * @param bytesToClient  bytes of response relayed to the client
     * @param txStatus       transaction status from the next ReadyForQuery: I, T or E (or null)
     */
    record Outcome(boolean forwarded, List<String> commandTags, long rows, String sqlState, String errorMessage,
                   Duration duration, long bytesToClient, String txStatus) {
        public Outcome {
            commandTags = List.copyOf(commandTags);
        }
    }
}
