package dev.gatehouse.policy.approval;

import dev.gatehouse.platform.approval.ApprovalBook;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.policy.engine.Rule;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;

/**
 * Turns the rule engine's {@link Decision.RequireApproval} about a command into an approval
 * request, or, in deferred mode, redeems an earlier grant of the same content.
 *
 * <ul>
 *   <li>Hold and deferred: the decision gets its approval id ({@link #approvalIdOf}), mode, expiry
 *       (the command's arrival + the rule's {@code expires_in}) and channel, and the
 *       {@code ApprovalRequested} is written (acknowledged) before this method returns, so an
 *       approval the edge hears of always exists.</li>
 *   <li>Deferred: first a granted, unexpired, unexecuted approval of the same fingerprint requested
 *       by the same identity (and originator, in a delegated session), of the same kind (an
 *       originator's confirmation, or the same group's, with at least as many votes) is looked for; when one is redeemed first in the log the command is
 *       allowed, "approved by bob, carol (approval ap-…)".</li>
 * </ul>
 * An originator confirmation ({@code approval: {from: originator}}) is sent to the originator of
 * the delegated session (the channel shown to the client names them); in a session that is not
 * delegated there is nobody to confirm, so the command is denied at once, naming the rule.
 * Failures are thrown: the decision service denies the command (fail closed).
 */
public final class ApprovalRequests {
    private static final Logger LOGGER = LoggerFactory.getLogger(ApprovalRequests.class);

    /** The channel named to clients when no Slack channel is configured. */
    public static final String DEFAULT_CHANNEL = "gatehouse approvals";
    private static final int MAX_REDEMPTION_ATTEMPTS = 5;

    /**
     * @param channel          where approvers are asked, as shown to clients (the Slack channel)
     * @param defaultExpiry    the expiry when the rule names none
     * @param deferredValidity how long a deferred approval may be redeemed after it was granted
     */
    public record Settings(String channel, Duration defaultExpiry, Duration deferredValidity) {
        public Settings {
            channel = channel == null || channel.isBlank() ? DEFAULT_CHANNEL : channel;
            Objects.requireNonNull(defaultExpiry, "defaultExpiry");
            Objects.requireNonNull(deferredValidity, "deferredValidity");
            if (defaultExpiry.isNegative() || defaultExpiry.isZero()) throw new IllegalArgumentException("defaultExpiry must be positive");
            if (deferredValidity.isNegative() || deferredValidity.isZero()) throw new IllegalArgumentException("deferredValidity must be positive");
        }

        /** The defaults: {@value #DEFAULT_CHANNEL}, 10 minutes to answer, 1 hour to redeem. */
        public static Settings defaults() {
            return new Settings(DEFAULT_CHANNEL, Duration.ofMinutes(10), Duration.ofHours(1));
        }
    }

    private final ApprovalLog log;
    private final ApprovalFingerprint fingerprint;
    private final Settings settings;
    private final String instanceId;

    public ApprovalRequests(ApprovalLog log, ApprovalFingerprint fingerprint, Settings settings, String instanceId) {
        this.log = Objects.requireNonNull(log, "log");
        this.fingerprint = Objects.requireNonNull(fingerprint, "fingerprint");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
    }

    /** The approval id of a command's request: {@code "ap-"} + the first 12 hex digits of SHA-256 over its id. */
    public static String approvalIdOf(CommandId commandId) {
        try {
            byte[] digest = MessageDigest.getInstance("SHA-256").digest(commandId.value().getBytes(StandardCharsets.UTF_8));
            return "ap-" + HexFormat.of().formatHex(digest).substring(0, 12);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /**
     * The decision about {@code received} when the rule engine requires approval.
     *
     * @param required  the rule engine's decision (group, count, mode)
     * @param expiresIn the rule's {@code expires_in}; null: {@link Settings#defaultExpiry()}
     */
    public Decision decide(AuditEvent.CommandReceived received, Decision.RequireApproval required, Duration expiresIn) {
        return decide(received, required, expiresIn, Rule.Approval.From.GROUP);
    }

    /**
     * The decision about {@code received} when the rule engine requires approval from {@code from}:
     * the approver group, or the originator of the delegated session.
     *
     * @param expiresIn the rule's {@code expires_in}; null: {@link Settings#defaultExpiry()}
     */
    public Decision decide(AuditEvent.CommandReceived received, Decision.RequireApproval required, Duration expiresIn,
                           Rule.Approval.From from) {
        Objects.requireNonNull(received, "received");
        Objects.requireNonNull(required, "required");
        Objects.requireNonNull(from, "from");
        CommandId commandId = received.command().id();
        boolean fromOriginator = from == Rule.Approval.From.ORIGINATOR;
        Delegation delegation = received.identity() == null ? null : received.identity().delegation();
        if (fromOriginator && delegation == null) {
            LOGGER.warn("Originator confirmation impossible, command denied: the session is not delegated sessionId={} "
                    + "commandId={} rule={}", received.sessionId(), commandId, required.ruleId());
            return new Decision.Deny(commandId, required.ruleId(), "rule " + required.ruleId() + " asks the originator "
                    + "to confirm this command, but the session is not delegated: there is no originator to confirm it",
                    required.policyVersion());
        }
        String mode = Decision.RequireApproval.DEFERRED.equals(required.mode())
                ? Decision.RequireApproval.DEFERRED : Decision.RequireApproval.HOLD;
        String content = fingerprint.of(received.connection(), received.identity(), received.command());
        Instant arrived = received.command().receivedAt() != null ? received.command().receivedAt() : received.header().timestamp();
        if (Decision.RequireApproval.DEFERRED.equals(mode)) {
            // another policy instance may redeem the same grant at the same moment: the log decides
            for (int attempt = 0; attempt < MAX_REDEMPTION_ATTEMPTS; attempt++) {
                var grant = log.grant(content, received.identity(), fromOriginator ? ApprovalBook.Requirement.originator()
                        : ApprovalBook.Requirement.group(required.approverGroup(), required.approvals()), commandId, arrived);
                if (grant.isEmpty()) break;
                String approvalId = grant.get().approvalId();
                if (log.redeem(new AuditEvent.ApprovalExecuted(header(received), approvalId, commandId))) {
                    LOGGER.info("Deferred approval redeemed sessionId={} commandId={} approvalId={} rule={}",
                            received.sessionId(), commandId, approvalId, required.ruleId());
                    List<String> approvers = grant.get().approvers();
                    return new Decision.Allow(commandId, required.ruleId(), "approved by "
                            + (approvers.isEmpty() ? "the approvers" : String.join(", ", approvers))
                            + " (approval " + approvalId + ")", required.policyVersion());
                }
                LOGGER.info("Deferred approval already redeemed by another command sessionId={} commandId={} approvalId={}",
                        received.sessionId(), commandId, approvalId);
            }
        }
        String approvalId = approvalIdOf(commandId);
        Instant expiresAt = arrived.plus(expiresIn != null ? expiresIn : settings.defaultExpiry());
        String channel = fromOriginator ? originatorChannel(delegation) : settings.channel();
        log.request(new AuditEvent.ApprovalRequested(header(received), commandId, approvalId, content,
                fromOriginator ? null : required.approverGroup(), fromOriginator ? 1 : required.approvals(), expiresAt,
                required.ruleId(), required.reason(), mode, received.command(), received.identity(), received.connection(),
                received.edgeId(), received.replyPartition(),
                Decision.RequireApproval.DEFERRED.equals(mode) ? settings.deferredValidity() : null, channel,
                fromOriginator ? AuditEvent.ApprovalRequested.FROM_ORIGINATOR : AuditEvent.ApprovalRequested.FROM_GROUP));
        return new Decision.RequireApproval(commandId, required.ruleId(), required.reason(), required.policyVersion(),
                fromOriginator ? null : required.approverGroup(), fromOriginator ? 1 : required.approvals(), approvalId,
                mode, expiresAt, channel);
    }

    /** Where an originator confirmation goes, as shown to the client: "the originator alice". */
    static String originatorChannel(Delegation delegation) {
        return "the originator " + delegation.originator();
    }

    private EventHeader header(AuditEvent.CommandReceived received) {
        return EventHeader.now(received.sessionId(), "policy", instanceId);
    }
}
