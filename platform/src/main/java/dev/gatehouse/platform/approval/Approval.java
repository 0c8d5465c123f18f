package dev.gatehouse.platform.approval;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlCommand;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * One approval request as folded from {@code gatehouse.approvals} by {@link ApprovalBook}: the
 * request itself (immutable), the votes in log order (counted or refused, with why), the outcome
 * (the first Granted / Denied / Expired event in the log), the first execution and the
 * notification attempts. Immutable; every event yields a new value.
 *
 * @param request       the {@code ApprovalRequested} event
 * @param requestOffset its offset in {@code gatehouse.approvals}
 * @param votes         every vote in log order, counted or not
 * @param outcome       the first outcome event, or null while pending
 * @param execution     the first {@code ApprovalExecuted}, or null
 * @param notifications every notification attempt in log order
 */
public record Approval(AuditEvent.ApprovalRequested request, long requestOffset, List<Vote> votes, Outcome outcome,
                       Execution execution, List<Notification> notifications) {

    /** The life cycle: PENDING, then GRANTED, DENIED or EXPIRED; GRANTED then EXECUTED when it ran. */
    public enum State {
        PENDING, GRANTED, DENIED, EXPIRED, EXECUTED;

        /** Lower-case name, as shown in the API and CLI. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * One vote as recorded.
     *
     * @param counted whether it counts towards the outcome
     * @param refusal why it does not count (null when counted)
     */
    public record Vote(String approver, String issuer, List<String> groups, boolean approve, String reason,
                       String channel, String externalUser, Instant at, long offset, boolean counted, String refusal) {
        public Vote {
            groups = groups == null ? List.of() : List.copyOf(groups);
        }
    }

    /**
     * The outcome: the first outcome event in the log.
     *
     * @param by         the approvers (granted), the denier (denied), empty (expired)
     * @param reason     the denier's reason; null otherwise
     * @param validUntil deferred grants: until when the content may run once; else null
     */
    public record Outcome(State state, List<String> by, Instant at, String reason, Instant validUntil, long offset,
                          String eventId) {
        public Outcome {
            Objects.requireNonNull(state, "state");
            by = by == null ? List.of() : List.copyOf(by);
        }
    }

    /** The first {@code ApprovalExecuted}: the command that ran on this approval. */
    public record Execution(CommandId commandId, Instant at, long offset) {
    }

    /** One attempt to notify approvers. */
    public record Notification(String channel, String destination, boolean delivered, int attempt, String error,
                               String messageRef, Instant at) {
    }

    public Approval {
        Objects.requireNonNull(request, "request");
        votes = List.copyOf(votes);
        notifications = List.copyOf(notifications);
    }

    /**
     * The approval id of a command: {@code "ap-"} and the first 12 hex digits of SHA-256 over the
     * command id, so a redelivered command yields the same request.
     */
    public static String idFor(CommandId commandId) {
        Objects.requireNonNull(commandId, "commandId");
        try {
            byte[] digest = java.security.MessageDigest.getInstance("SHA-256")
                    .digest(commandId.value().getBytes(java.nio.charset.StandardCharsets.UTF_8));
            return "ap-" + java.util.HexFormat.of().formatHex(digest).substring(0, 12);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }

    /** The approval id an approval event names; empty for any other event. */
    public static Optional<String> idOf(AuditEvent event) {
        return Optional.ofNullable(switch (event) {
            case AuditEvent.ApprovalRequested e -> e.approvalId();
            case AuditEvent.ApprovalVoted e -> e.approvalId();
            case AuditEvent.ApprovalGranted e -> e.approvalId();
            case AuditEvent.ApprovalDenied e -> e.approvalId();
            case AuditEvent.ApprovalExpired e -> e.approvalId();
            case AuditEvent.ApprovalExecuted e -> e.approvalId();
            case AuditEvent.ApprovalNotified e -> e.approvalId();
            default -> null;
        });
    }

    /** A new request, nothing else known yet. */
    public static Approval requested(AuditEvent.ApprovalRequested request, long offset) {
        return new Approval(request, offset, List.of(), null, null, List.of());
    }

    public String id() {
        return request.approvalId();
    }

    /** The requesting session. */
    public SessionId sessionId() {
        return request.sessionId();
    }

    /** The command that asked (hold: the held command). */
    public CommandId commandId() {
        return request.commandId();
    }

    public String fingerprint() {
        return request.contentFingerprint();
    }

    /** "hold" or "deferred" (null in the request means hold). */
    public String mode() {
        return Decision.RequireApproval.DEFERRED.equals(request.mode()) ? Decision.RequireApproval.DEFERRED
                : Decision.RequireApproval.HOLD;
    }

    public boolean deferred() {
        return Decision.RequireApproval.DEFERRED.equals(mode());
    }

    /** Who asked; null only for records written before the request carried it. */
    public Identity requester() {
        return request.identity();
    }

    public String approverGroup() {
        return request.approverGroup();
    }

    /**
     * Whether this is an originator confirmation: only the person a delegated session acts for may
     * answer (else it is a group approval, which neither the originator nor any actor may give).
     */
    public boolean fromOriginator() {
        return request.fromOriginator();
    }

    /** The delegation of the requesting session (its originator and earlier actors); null when not delegated. */
    public Delegation delegation() {
        Identity requester = requester();
        return requester == null ? null : requester.delegation();
    }

    public int approvalsRequired() {
        return Math.max(1, request.approvalsRequired());
    }

    public Instant requestedAt() {
        return request.header().timestamp();
    }

    public Instant expiresAt() {
        return request.expiresAt();
    }

    /** Deferred mode: how long after the grant the content may run once; may be null. */
    public Duration validFor() {
        return request.validFor();
    }

    /** Deferred grants: until when the content may run once; null otherwise. */
    public Instant validUntil() {
        return outcome == null ? null : outcome.validUntil();
    }

    public String ruleId() {
        return request.ruleId();
    }

    public String reason() {
        return request.reason();
    }

    public SqlCommand command() {
        return request.command();
    }

    public ConnectionRef connection() {
        return request.connection();
    }

    public String edgeId() {
        return request.edgeId();
    }

    public int replyPartition() {
        return request.replyPartition();
    }

    public String channel() {
        return request.channel();
    }

    /** The state: PENDING until the first outcome event, EXECUTED once a granted approval ran. */
    public State state() {
        if (outcome == null) return State.PENDING;
        if (outcome.state() == State.GRANTED && execution != null) return State.EXECUTED;
        return outcome.state();
    }

    /** The command that ran on this approval (the first execution), if any. */
    public Optional<CommandId> executedBy() {
        return execution == null ? Optional.empty() : Optional.of(execution.commandId());
    }

    /** Distinct approvers whose approval counted, in log order. */
    public List<String> approvedBy() {
        return votes.stream().filter(v -> v.counted() && v.approve()).map(Vote::approver).toList();
    }

    /** The first counted deny, if any. */
    public Optional<Vote> deniedBy() {
        return votes.stream().filter(v -> v.counted() && !v.approve()).findFirst();
    }

    /**
     * What the counted votes decide, before the outcome event is written: GRANTED when enough
     * distinct approvers approved, DENIED on the first counted deny, else PENDING. Once the votes
     * decide, further votes no longer count.
     */
    public State tally() {
        if (deniedBy().isPresent()) return State.DENIED;
        if (approvedBy().size() >= approvalsRequired()) return State.GRANTED;
        return State.PENDING;
    }

    /** Pending, and the votes do not decide it yet: a vote may still count, expiry may still strike. */
    public boolean open() {
        return outcome == null && tally() == State.PENDING;
    }

    /** The votes decided it but no outcome event is in the log yet: the arbiter owes one. */
    public boolean outcomeDue() {
        return outcome == null && tally() != State.PENDING;
    }

    /** Why a vote does not count, by kind (so an API can answer 404 / 403 / 409). */
    public record Refusal(Kind kind, String message) {
        public enum Kind {
            /** The approval already has an outcome, or its votes already decide it. */
            DECIDED,
            /** Cast at or after the approval's expiry. */
            EXPIRED,
            /**
             * The requester voted on their own request; or, in a delegated session, the originator or
             * an earlier actor voted on a group approval (four-eyes: they are parties to the request).
             */
            SELF,
            /** Someone other than the originator answered an originator confirmation. */
            NOT_ORIGINATOR,
            /** The voter is not in the approver group. */
            NOT_IN_GROUP,
            /** The voter's vote already counted. */
            ALREADY_VOTED,
            /** The vote or the request lacks what a vote needs (approver, approver group). */
            INVALID
        }

        public Refusal {
            Objects.requireNonNull(kind, "kind");
            Objects.requireNonNull(message, "message");
        }
    }

    /**
     * Why a vote by this approver would not count now, or empty when it would. The same check the
     * fold applies to each {@code ApprovalVoted}.
     *
     * @param issuer the voter's token issuer; null compares subjects only
     * @param at     when the vote is cast (its event's timestamp)
     */
    public Optional<Refusal> refusal(String subject, String issuer, List<String> groups, Instant at) {
        if (outcome != null) return refuse(Refusal.Kind.DECIDED, "approval " + id() + " is already " + state().label());
        if (tally() != State.PENDING) return refuse(Refusal.Kind.DECIDED, "approval " + id() + " is already decided ("
                + tally().label() + "), its outcome is being recorded");
        if (expiresAt() != null && at != null && !at.isBefore(expiresAt())) {
            return refuse(Refusal.Kind.EXPIRED, "approval " + id() + " expired at " + expiresAt());
        }
        if (subject == null || subject.isBlank()) return refuse(Refusal.Kind.INVALID, "the vote names no approver");
        if (fromOriginator()) return originatorRefusal(subject, issuer);
        Identity requester = requester();
        if (requester != null && subject.equals(requester.subject())
                && (issuer == null || issuer.isBlank() || issuer.equals(requester.issuer()))) {
            return refuse(Refusal.Kind.SELF, requester.delegated()
                    ? "the acting agent cannot approve its own command (" + subject + " asked for " + id()
                            + " acting for " + requester.delegation().originator() + ")"
                    : "the requester cannot approve their own request (" + subject + " asked for " + id() + ")");
        }
        Delegation delegation = delegation();
        if (delegation != null) {
            if (subject.equals(delegation.originator()) && (nullIfBlank(issuer) == null
                    || nullIfBlank(delegation.originatorIssuer()) == null || issuer.equals(delegation.originatorIssuer()))) {
                return refuse(Refusal.Kind.SELF, subject + " cannot approve their own agent's command: "
                        + requester.subject() + " acts for " + subject + " (" + delegation.chain(requester.subject())
                        + "), and " + id() + " needs approval by someone else");
            }
            // earlier actors carry no issuer of their own: their subject is enough to refuse
            if (delegation.earlierActors().contains(subject)) {
                return refuse(Refusal.Kind.SELF, subject + " is an earlier actor in the chain "
                        + delegation.chain(requester.subject()) + " and cannot approve " + id());
            }
        }
        String group = approverGroup();
        if (group == null || group.isBlank()) {
            return refuse(Refusal.Kind.INVALID, "approval " + id() + " names no approver group, so nobody may approve it");
        }
        if (groups == null || !groups.contains(group)) {
            return refuse(Refusal.Kind.NOT_IN_GROUP, subject + " is not in the approver group " + group);
        }
        for (Vote v : votes) {
            boolean sameIssuer = nullIfBlank(issuer) == null || nullIfBlank(v.issuer()) == null || issuer.equals(v.issuer());
            if (v.counted() && v.approver().equals(subject) && sameIssuer) {
                return refuse(Refusal.Kind.ALREADY_VOTED, subject + " has already voted on approval " + id());
            }
        }
        return Optional.empty();
    }

    /**
     * An originator confirmation counts only from the delegated session's originator, with the same
     * issuer: a voter without an issuer (e.g. a Slack user linked without one) never matches.
     */
    private Optional<Refusal> originatorRefusal(String subject, String issuer) {
        Delegation delegation = delegation();
        if (delegation == null) {
            return refuse(Refusal.Kind.INVALID, "approval " + id() + " asks the originator to confirm, but the session "
                    + "is not delegated: there is no originator, so nobody may confirm it");
        }
        String actor = requester().subject();
        if (!subject.equals(delegation.originator()) || nullIfBlank(issuer) == null
                || (nullIfBlank(delegation.originatorIssuer()) != null && !issuer.equals(delegation.originatorIssuer()))) {
            return refuse(Refusal.Kind.NOT_ORIGINATOR, "only " + delegation.originator() + ", for whom " + actor
                    + " acts (" + delegation.chain(actor) + "), may confirm " + id() + "; " + subject
                    + (nullIfBlank(issuer) == null ? "" : " (" + issuer + ")") + " may not");
        }
        for (Vote v : votes) {
            if (v.counted()) return refuse(Refusal.Kind.ALREADY_VOTED, subject + " has already voted on approval " + id());
        }
        return Optional.empty();
    }

    private static Optional<Refusal> refuse(Refusal.Kind kind, String message) {
        return Optional.of(new Refusal(kind, message));
    }

    private static String nullIfBlank(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    /** Whether a granted deferred approval may still run (once) at {@code now}. */
    public boolean redeemableAt(Instant now) {
        return state() == State.GRANTED && (validUntil() == null || now.isBefore(validUntil()));
    }

    Approval withVote(Vote vote) {
        List<Vote> next = new java.util.ArrayList<>(votes);
        next.add(vote);
        return new Approval(request, requestOffset, next, outcome, execution, notifications);
    }

    Approval withOutcome(Outcome o) {
        return new Approval(request, requestOffset, votes, o, execution, notifications);
    }

    Approval withExecution(Execution e) {
        return new Approval(request, requestOffset, votes, outcome, e, notifications);
    }

    Approval withNotification(Notification n) {
        List<Notification> next = new java.util.ArrayList<>(notifications);
        next.add(n);
        return new Approval(request, requestOffset, votes, outcome, execution, next);
    }
}
