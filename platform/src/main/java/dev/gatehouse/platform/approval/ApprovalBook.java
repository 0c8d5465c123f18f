package dev.gatehouse.platform.approval;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Identity;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * The deterministic fold of {@code gatehouse.approvals}: every instance that applies the same
 * records in offset order holds the same approvals. Rules:
 * <ul>
 *   <li>a vote counts only while the approval is open (no outcome event, votes not yet decisive,
 *       cast before {@code expiresAt}), when the voter is not the requester, is in the approver
 *       group and has not voted before (see {@link Approval#refusal});</li>
 *   <li>the first counted deny decides DENIED, N distinct counted approvals decide GRANTED; the
 *       arbiter then writes the outcome event;</li>
 *   <li>the FIRST outcome event (Granted, Denied, Expired) in the log is the outcome, later ones
 *       are ignored;</li>
 *   <li>the first {@code ApprovalExecuted} of a granted approval is its execution; later ones are
 *       ignored (a deferred approval runs once).</li>
 * </ul>
 *
 * <p>Thread-safe: one thread applies, any thread reads ({@link Approval} values are immutable).
 * Records at or below the last applied offset are ignored, so a re-read is harmless.
 */
public final class ApprovalBook {

    private static final Logger LOGGER = LoggerFactory.getLogger(ApprovalBook.class);

    private final Map<String, Approval> approvals = new LinkedHashMap<>();
    private long lastOffset = -1;

    /**
     * Applies one record of {@code gatehouse.approvals}.
     *
     * @return the approval after the event, or empty when the event was ignored (already applied,
     *         not an approval event, or about an unknown approval)
     */
    public synchronized Optional<Approval> apply(long offset, AuditEvent event) {
        Objects.requireNonNull(event, "event");
        if (offset <= lastOffset) return Optional.empty();
        lastOffset = offset;
        Approval next = switch (event) {
            case AuditEvent.ApprovalRequested r -> requested(offset, r);
            case AuditEvent.ApprovalVoted v -> voted(offset, v);
            case AuditEvent.ApprovalGranted g -> outcome(g.approvalId(), new Approval.Outcome(Approval.State.GRANTED,
                    g.approvers(), g.header().timestamp(), null, g.validUntil(), offset, g.header().eventId()));
            case AuditEvent.ApprovalDenied d -> outcome(d.approvalId(), new Approval.Outcome(Approval.State.DENIED,
                    d.deniedBy() == null ? List.of() : List.of(d.deniedBy()), d.header().timestamp(), d.reason(), null,
                    offset, d.header().eventId()));
            case AuditEvent.ApprovalExpired x -> outcome(x.approvalId(), new Approval.Outcome(Approval.State.EXPIRED,
                    List.of(), x.header().timestamp(), null, null, offset, x.header().eventId()));
            case AuditEvent.ApprovalExecuted e -> executed(offset, e);
            case AuditEvent.ApprovalNotified n -> notified(n);
            default -> null;
        };
        if (next == null) return Optional.empty();
        approvals.put(next.id(), next);
        return Optional.of(next);
    }

    private Approval requested(long offset, AuditEvent.ApprovalRequested r) {
        if (r.approvalId() == null || r.approvalId().isBlank()) {
            LOGGER.warn("Ignoring approval request without id offset={} commandId={}", offset, r.commandId());
            return null;
        }
        if (approvals.containsKey(r.approvalId())) {
            LOGGER.debug("Ignoring repeated approval request approvalId={} offset={}", r.approvalId(), offset);
            return null;
        }
        return Approval.requested(r, offset);
    }

    private Approval voted(long offset, AuditEvent.ApprovalVoted v) {
        Approval a = known(v.approvalId(), "vote", offset);
        if (a == null) return null;
        Instant at = v.header().timestamp();
        Optional<Approval.Refusal> refusal = a.refusal(v.approver(), v.approverIssuer(), v.approverGroups(), at);
        refusal.ifPresent(why -> LOGGER.info("Vote does not count approvalId={} approver={} offset={} why={}",
                a.id(), v.approver(), offset, why.message()));
        return a.withVote(new Approval.Vote(v.approver() == null ? "" : v.approver(), v.approverIssuer(),
                v.approverGroups(), v.approve(), v.reason(), v.channel(), v.externalUser(), at, offset,
                refusal.isEmpty(), refusal.map(Approval.Refusal::message).orElse(null)));
    }

    private Approval outcome(String approvalId, Approval.Outcome outcome) {
        Approval a = known(approvalId, "outcome", outcome.offset());
        if (a == null) return null;
        if (a.outcome() != null) {
            LOGGER.info("Ignoring later outcome approvalId={} outcome={} offset={} (first was {} at offset {})",
                    approvalId, outcome.state().label(), outcome.offset(), a.outcome().state().label(), a.outcome().offset());
            return null;
        }
        return a.withOutcome(outcome);
    }

    private Approval executed(long offset, AuditEvent.ApprovalExecuted e) {
        Approval a = known(e.approvalId(), "execution", offset);
        if (a == null) return null;
        if (a.state() != Approval.State.GRANTED) {
            LOGGER.info("Ignoring execution approvalId={} commandId={} offset={} state={}",
                    a.id(), e.commandId(), offset, a.state().label());
            return null;
        }
        return a.withExecution(new Approval.Execution(e.commandId(), e.header().timestamp(), offset));
    }

    private Approval notified(AuditEvent.ApprovalNotified n) {
        Approval a = known(n.approvalId(), "notification", -1);
        if (a == null) return null;
        return a.withNotification(new Approval.Notification(n.channel(), n.destination(), n.delivered(), n.attempt(),
                n.error(), n.messageRef(), n.header().timestamp()));
    }

    private Approval known(String approvalId, String what, long offset) {
        Approval a = approvalId == null ? null : approvals.get(approvalId);
        if (a == null) LOGGER.warn("Ignoring {} for unknown approval approvalId={} offset={}", what, approvalId, offset);
        return a;
    }

    /** The approval with this id. */
    public synchronized Optional<Approval> get(String approvalId) {
        return Optional.ofNullable(approvals.get(approvalId));
    }

    /** Every approval, oldest request first. */
    public synchronized List<Approval> all() {
        return List.copyOf(approvals.values());
    }

    /** Pending approvals (no outcome event yet), oldest request first. */
    public synchronized List<Approval> pending() {
        return approvals.values().stream().filter(a -> a.state() == Approval.State.PENDING).toList();
    }

    /**
     * What a command needs approved, to match a deferred grant against: the originator's
     * confirmation, or {@code approvals} votes of {@code approverGroup}.
     */
    public record Requirement(boolean fromOriginator, String approverGroup, int approvals) {

        public static Requirement originator() {
            return new Requirement(true, null, 1);
        }

        public static Requirement group(String approverGroup, int approvals) {
            return new Requirement(false, Objects.requireNonNull(approverGroup, "approverGroup"), Math.max(1, approvals));
        }

        /**
         * Whether a grant of {@code a} gives what this asks: the same kind (an originator's
         * confirmation is no four-eyes approval, which the originator may not give, nor the
         * reverse), and for a group, the same group with at least as many votes.
         */
        public boolean metBy(Approval a) {
            if (a.fromOriginator() != fromOriginator) return false;
            return fromOriginator || approverGroup.equals(a.approverGroup()) && a.approvalsRequired() >= approvals;
        }
    }

    /**
     * A granted, unexpired ({@code validUntil} after {@code now}), not yet executed approval of
     * this content, requested by the same identity (issuer and subject, and in a delegated session
     * the same originator: an originator's confirmation lets the agent act for her only), that
     * gives what {@code required} asks, for deferred redemption. When several match, the earliest
     * granted one.
     */
    public synchronized Optional<Approval> findRedeemable(String fingerprint, Identity requester, Requirement required,
                                                          Instant now) {
        Objects.requireNonNull(fingerprint, "fingerprint");
        Objects.requireNonNull(requester, "requester");
        Objects.requireNonNull(required, "required");
        Objects.requireNonNull(now, "now");
        List<Approval> found = new ArrayList<>();
        for (Approval a : approvals.values()) {
            Identity who = a.requester();
            if (who == null || !fingerprint.equals(a.fingerprint())) continue;
            if (!sameRequester(who, requester) || !required.metBy(a)) continue;
            if (a.redeemableAt(now)) found.add(a);
        }
        return found.stream().min(Comparator.comparingLong(a -> a.outcome().offset()));
    }

    private static boolean sameRequester(Identity a, Identity b) {
        if (!Objects.equals(a.subject(), b.subject()) || !Objects.equals(a.issuer(), b.issuer())) return false;
        var da = a.delegation();
        var db = b.delegation();
        if (da == null || db == null) return da == db;
        return Objects.equals(da.originator(), db.originator()) && Objects.equals(da.originatorIssuer(), db.originatorIssuer());
    }

    /** The command of the first {@code ApprovalExecuted} of this approval, if any. */
    public synchronized Optional<CommandId> firstExecution(String approvalId) {
        Approval a = approvals.get(approvalId);
        return a == null ? Optional.empty() : a.executedBy();
    }

    /** The offset of the last record applied, -1 before any. */
    public synchronized long lastOffset() {
        return lastOffset;
    }
}
