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

    /**
     * A session was authenticated and connected to its target. Identity is captured here.
     *
     * @param startupParameters every parameter of the client's startup message, as sent (never a secret:
     *                          the token travels in the password message)
     * @param targetParameters  what the edge sent the target in its own startup message beyond user and
     *                          database: the client's parameters as forwarded and the settings the edge
     *                          pins ({@code standard_conforming_strings}, {@code client_encoding})
     * @param targetProcessId   the target's process id for this session (PostgreSQL's backend pid, the key
     *                          of its statement log), or null when not known
     */
    record SessionOpened(EventHeader header, Identity identity, ConnectionRef connection, String clientAddress,
                         String databaseUser, String applicationName, String mode, boolean tls,
                         java.util.Map<String, String> startupParameters, java.util.Map<String, String> targetParameters,
                         Integer targetProcessId) implements AuditEvent {
        public SessionOpened {
            startupParameters = startupParameters == null ? java.util.Map.of()
                    : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(startupParameters));
            targetParameters = targetParameters == null ? java.util.Map.of()
                    : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(targetParameters));
        }

        /** Without startup parameters and target process (the first event version). */
        public SessionOpened(EventHeader header, Identity identity, ConnectionRef connection, String clientAddress,
                             String databaseUser, String applicationName, String mode, boolean tls) {
            this(header, identity, connection, clientAddress, databaseUser, applicationName, mode, tls, null, null, null);
        }
    }

    /** A connection attempt was refused before a session opened (bad token, unknown connection...). */
    record SessionRejected(EventHeader header, String clientAddress, String connection, String databaseUser,
                           String subject, String sqlState, String reason) implements AuditEvent {
    }

    /**
     * A decoded command, written before anything of it reaches the target.
     *
     * @param sessionStartedAt when the session began (the edge accepted the connection); null when not recorded
     * @param clientAddress    the client's IP address (no port), for policy conditions; null when not recorded
     * @param refusal          set when the edge refused the command itself, before any decision: a
     *                         Gatehouse invariant (a pinned setting, a statement it cannot tie to analysed
     *                         SQL), not a policy rule. No decision is requested and nothing is forwarded;
     *                         the command's CommandCompleted carries the error. Null otherwise.
     */
    record CommandReceived(EventHeader header, SqlCommand command, Identity identity, ConnectionRef connection,
                           String edgeId, int replyPartition, String mode, java.time.Instant sessionStartedAt,
                           String clientAddress, String refusal) implements DecisionRequest {

        /** A command to decide (not refused by the edge). */
        public CommandReceived(EventHeader header, SqlCommand command, Identity identity, ConnectionRef connection,
                               String edgeId, int replyPartition, String mode, java.time.Instant sessionStartedAt,
                               String clientAddress) {
            this(header, command, identity, connection, edgeId, replyPartition, mode, sessionStartedAt, clientAddress, null);
        }

        /** The command's id: its DecisionMade names it. */
        @Override
        public CommandId requestId() {
            return command.id();
        }

        /** A command without the session's start and client address. */
        public CommandReceived(EventHeader header, SqlCommand command, Identity identity, ConnectionRef connection,
                               String edgeId, int replyPartition, String mode) {
            this(header, command, identity, connection, edgeId, replyPartition, mode, null, null, null);
        }
    }

    /**
     * What the edge asks the policy service to decide, written to the log before the edge acts on
     * it: a command ({@link CommandReceived}) or a connection attempt ({@link SessionRequested}).
     * The {@link DecisionMade} answering it names {@link #requestId()} as its command id.
     */
    sealed interface DecisionRequest extends AuditEvent permits CommandReceived, SessionRequested {
        /** Identifies the request; the decision about it carries it as its command id. */
        CommandId requestId();

        /** Who asks (null only in records written before identities were recorded). */
        Identity identity();

        /** The connection the request is addressed to. */
        ConnectionRef connection();

        /** The edge awaiting the decision. */
        String edgeId();

        /** The partition of the decisions topic that edge reads. */
        int replyPartition();

        /** "enforce" when the edge waits for the decision, "observe" when it only records. */
        String mode();

        /**
         * Whether the edge waits for the decision: every mode but "observe" (a record without a mode
         * predates observe mode and was waited for).
         */
        default boolean awaited() {
            return !observeMode(mode());
        }
    }

    /** Whether {@code mode} (of a request or of its decision) is observe mode: recorded, never enforced. */
    static boolean observeMode(String mode) {
        return "observe".equals(mode);
    }

    /**
     * A client asks to open a session: its token is valid and the connection exists, and nothing
     * has reached the target yet. Decided by {@code on: connect} rules; the answer is a
     * {@link DecisionMade} with {@code commandId} = {@code requestId} and sequence 0.
     *
     * @param clientAddress the client's IP address (no port), for policy conditions; null when not recorded
     * @param databaseUser  the user name the client sent in its startup message: recorded, never trusted
     */
    record SessionRequested(EventHeader header, CommandId requestId, Identity identity, ConnectionRef connection,
                            String clientAddress, String databaseUser, String applicationName, String edgeId,
                            int replyPartition, String mode) implements DecisionRequest {
        public SessionRequested {
            java.util.Objects.requireNonNull(requestId, "requestId");
        }
    }

    /**
     * The policy service's decision about a command, or about a connection attempt
     * ({@link SessionRequested}: {@code commandId} is its request id, {@code sequence} 0).
     *
     * @param dryRun what dry-run rules and a staged policy would have decided, in evaluation order;
     *               never the decision itself, empty when there are none
     */
    record DecisionMade(EventHeader header, CommandId commandId, long sequence, Decision decision, String edgeId,
                        int replyPartition, String mode, Duration evaluation, List<DryRunVerdict> dryRun)
            implements AuditEvent {

        public DecisionMade {
            dryRun = dryRun == null ? List.of() : List.copyOf(dryRun);
        }

        /** A decision without dry-run verdicts. */
        public DecisionMade(EventHeader header, CommandId commandId, long sequence, Decision decision, String edgeId,
                            int replyPartition, String mode, Duration evaluation) {
            this(header, commandId, sequence, decision, edgeId, replyPartition, mode, evaluation, List.of());
        }
    }

    /** What became of a command: forwarded and answered, rejected, or failed. */
    record CommandCompleted(EventHeader header, CommandId commandId, long sequence, Outcome outcome, ResultSampled sample)
            implements AuditEvent {
        /**
         * @param sample the command's result sample when it is one chunk (chunk 0, last, this command),
         *               written inside this event instead of as a {@link ResultSampled} of its own; null
         *               when nothing was sampled or the sample took several chunks (then written before)
         */
        public CommandCompleted {
            if (sample != null && (sample.chunk() != 0 || !sample.last()
                    || (commandId != null && !sample.commandId().equals(commandId)))) {
                throw new IllegalArgumentException("an embedded sample must be the one chunk (0, last) of command " + commandId);
            }
        }

        /** Without a sample inside. */
        public CommandCompleted(EventHeader header, CommandId commandId, long sequence, Outcome outcome) {
            this(header, commandId, sequence, outcome, null);
        }
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
    record PolicyActivated(EventHeader header, String policyId, String version, String appliedBy, boolean staged,
                           java.time.Instant appliedAt, String sha256) implements AuditEvent {
        /** An enforced version whose application time and digest are not known. */
        public PolicyActivated(EventHeader header, String policyId, String version, String appliedBy) {
            this(header, policyId, version, appliedBy, false, null, null);
        }
    }

    /**
     * A command needs human approval before it may run. Written by the policy service to
     * {@code gatehouse.approvals} (keyed by approval id) and to {@code gatehouse.audit}.
     *
     * @param mode           "hold" or "deferred" (see {@link Decision.RequireApproval})
     * @param command        what is to be approved: SQL text, bound parameters, analysis
     * @param identity       who asks; the requester never approves their own request
     * @param edgeId         the edge holding the session (hold mode)
     * @param replyPartition the waiting edge's partition of gatehouse.decisions; -1 when none
     * @param validFor       deferred mode: how long after the grant the content may run (once)
     * @param channel        where approvers are asked, as shown to the client
     */
    record ApprovalRequested(EventHeader header, CommandId commandId, String approvalId, String contentFingerprint,
                             String approverGroup, int approvalsRequired, java.time.Instant expiresAt, String ruleId,
                             String reason, String mode, SqlCommand command, Identity identity,
                             ConnectionRef connection, String edgeId, int replyPartition, Duration validFor,
                             String channel, String approverFrom) implements AuditEvent {
        /** {@link #approverFrom}: members of the approver group approve (four-eyes); null means the same. */
        public static final String FROM_GROUP = "group";
        /** {@link #approverFrom}: only the delegated session's originator may confirm. */
        public static final String FROM_ORIGINATOR = "originator";

        /** A group approval ({@link #FROM_GROUP}). */
        public ApprovalRequested(EventHeader header, CommandId commandId, String approvalId, String contentFingerprint,
                                 String approverGroup, int approvalsRequired, java.time.Instant expiresAt, String ruleId,
                                 String reason, String mode, SqlCommand command, Identity identity,
                                 ConnectionRef connection, String edgeId, int replyPartition, Duration validFor,
                                 String channel) {
            this(header, commandId, approvalId, contentFingerprint, approverGroup, approvalsRequired, expiresAt, ruleId,
                    reason, mode, command, identity, connection, edgeId, replyPartition, validFor, channel, null);
        }

        /** Whether only the originator of the delegated session may confirm ({@link #FROM_ORIGINATOR}). */
        public boolean fromOriginator() {
            return FROM_ORIGINATOR.equals(approverFrom);
        }

        /** Without the request's context (records written before it was recorded). */
        public ApprovalRequested(EventHeader header, CommandId commandId, String approvalId, String contentFingerprint,
                                 String approverGroup, int approvalsRequired, java.time.Instant expiresAt,
                                 String ruleId, String reason) {
            this(header, commandId, approvalId, contentFingerprint, approverGroup, approvalsRequired, expiresAt,
                    ruleId, reason, null, null, null, null, null, -1, null, null, null);
        }
    }

    /** @param validUntil deferred mode: until when the approved content may run (once); null in hold mode */
    record ApprovalGranted(EventHeader header, String approvalId, List<String> approvers,
                           java.time.Instant validUntil) implements AuditEvent {
        public ApprovalGranted(EventHeader header, String approvalId, List<String> approvers) {
            this(header, approvalId, approvers, null);
        }
    }

    /**
     * An approver answered (Slack, CLI, REST, console). Whether it counts is decided by the
     * approval state (requester, group, repeats and votes after the outcome never count).
     *
     * @param channel      "slack", "cli", "rest" or "console"
     * @param externalUser the channel's own user id (a Slack user id), or null
     */
    record ApprovalVoted(EventHeader header, String approvalId, String approver, String approverIssuer,
                         List<String> approverGroups, boolean approve, String reason, String channel,
                         String externalUser) implements AuditEvent {
    }

    /** One attempt to tell approvers (or update the message), failed ones included. */
    record ApprovalNotified(EventHeader header, String approvalId, String channel, String destination,
                            boolean delivered, int attempt, String error, String messageRef) implements AuditEvent {
    }

    /** An approved command was let through (hold: the held command; deferred: the one redeeming re-send). */
    record ApprovalExecuted(EventHeader header, String approvalId, CommandId commandId) implements AuditEvent {
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
     * The audit indexer sealed a finished session: a hash chain over the exact record bytes of the
     * session's events, signed with the indexer's key (see {@code dev.gatehouse.platform.evidence}).
     * Not itself part of the chain.
     *
     * @param sealedSessionId the session sealed; part of the signed message
     * @param events          how many events the chain covers
     * @param chainHead       the chain's last value, 64 lower-case hex digits
     * @param algorithm       {@code "sha256-chain/ed25519"}
     * @param signature       base64 of the Ed25519 signature
     * @param keyId           first 16 hex digits of SHA-256 over the public key's X.509 encoding
     * @param status          {@code "closed"} or {@code "aborted"}
     */
    record SessionSealed(EventHeader header, String sealedSessionId, long events, String chainHead, String algorithm,
                         String signature, String keyId, String status) implements AuditEvent {
    }

    /**
     * One chunk of a bounded sample of a command's result, captured by the edge after masking and
     * written before the command's {@link CommandCompleted}. Concatenating the rows of chunks
     * {@code 0..last} reassembles the sample; the columns are in chunk 0 only.
     *
     * @param chunk         index of this chunk, from 0
     * @param last          whether this is the last chunk
     * @param columns       column names of the first RowDescription (chunk 0 only, else empty)
     * @param rows          this chunk's rows: text values, binary ones as {@code \x} hex, SQL NULL as null
     * @param truncated     whether the result had more rows or bytes than were captured
     * @param rowsCaptured  rows in the whole sample
     * @param bytesCaptured value bytes in the whole sample (UTF-8 of the rendered values)
     * @param masked        whether the command ran under a Mask decision
     */
    record ResultSampled(EventHeader header, CommandId commandId, long sequence, int chunk, boolean last,
                         List<String> columns, List<List<String>> rows, boolean truncated, long rowsCaptured,
                         long bytesCaptured, boolean masked) implements AuditEvent {
        public ResultSampled {
            java.util.Objects.requireNonNull(commandId, "commandId");
            if (chunk < 0) throw new IllegalArgumentException("chunk must be >= 0, not " + chunk);
            columns = columns == null ? List.of() : List.copyOf(columns);
            // values may be null (SQL NULL): List.copyOf refuses nulls
            List<List<String>> copy = new java.util.ArrayList<>(rows == null ? 0 : rows.size());
            if (rows != null) {
                for (List<String> row : rows) {
                    copy.add(java.util.Collections.unmodifiableList(new java.util.ArrayList<>(row)));
                }
            }
            rows = java.util.Collections.unmodifiableList(copy);
        }
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
     * @param masking        what was masked in the result under a Mask decision, or null
     * @param statementsRun  how many of the command's statements the target ran to completion, in
     *                       order (an error stops the rest); -1 when not known
     */
    record Outcome(boolean forwarded, List<String> commandTags, long rows, String sqlState, String errorMessage,
                   Duration duration, long bytesToClient, String txStatus, Masking masking, int statementsRun) {
        public Outcome {
            commandTags = List.copyOf(commandTags);
        }

        /** An outcome without the count of statements run. */
        public Outcome(boolean forwarded, List<String> commandTags, long rows, String sqlState, String errorMessage,
                       Duration duration, long bytesToClient, String txStatus, Masking masking) {
            this(forwarded, commandTags, rows, sqlState, errorMessage, duration, bytesToClient, txStatus, masking, -1);
        }

        /** An outcome without masking. */
        public Outcome(boolean forwarded, List<String> commandTags, long rows, String sqlState, String errorMessage,
                       Duration duration, long bytesToClient, String txStatus) {
            this(forwarded, commandTags, rows, sqlState, errorMessage, duration, bytesToClient, txStatus, null);
        }
    }

    /**
     * Masking statistics of one command's result: counts only, never a value.
     *
     * @param profile   the masking profile applied
     * @param values    values changed in all
     * @param columns   values masked per column rule, by {@code schema.table.column}
     * @param detectors values in which each detector found something, by detector name
     */
    record Masking(String profile, long values, java.util.Map<String, Long> columns, java.util.Map<String, Long> detectors) {
        public Masking {
            columns = java.util.Map.copyOf(columns);
            detectors = java.util.Map.copyOf(detectors);
        }
    }
}
