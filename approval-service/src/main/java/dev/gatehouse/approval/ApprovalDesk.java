package dev.gatehouse.approval;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.EventHeader;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Where approvers vote and anyone authenticated reads: checks a vote against this instance's fold,
 * refuses it with a clear reason or writes {@code ApprovalVoted} and answers once the fold shows
 * it. Only the arbiter writes outcomes. Thread-safe.
 */
public final class ApprovalDesk {

    private static final Logger LOGGER = LoggerFactory.getLogger(ApprovalDesk.class);
    private static final Duration READ_BACK = Duration.ofSeconds(15);

    private final ApprovalLog log;
    private final ApprovalEvents events;
    private final String instance;
    private final Clock clock;

    public ApprovalDesk(ApprovalLog log, ApprovalEvents events, String instance, Clock clock) {
        this.log = Objects.requireNonNull(log, "log");
        this.events = Objects.requireNonNull(events, "events");
        this.instance = Objects.requireNonNull(instance, "instance");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /**
     * Casts a vote. Fails with a {@link VoteRefusedException} when the approval is unknown or the
     * vote would not count (already decided, expired, the requester's own request or, in a delegated
     * session, its originator's or an earlier actor's vote on a group approval, outside the approver
     * group, anyone but the originator on an originator confirmation, already voted) — checked before writing, and again by the fold (a
     * concurrent vote may have decided it meanwhile).
     *
     * @param channel      "cli", "rest", "slack" or "console"
     * @param externalUser the channel's own user id (Slack user id), or null
     */
    public CompletionStage<VoteResult> vote(String approvalId, Approver approver, boolean approve, String reason,
                                            String channel, String externalUser) {
        Objects.requireNonNull(approver, "approver");
        Optional<Approval> current = log.book().get(approvalId);
        if (current.isEmpty()) {
            return CompletableFuture.failedFuture(new VoteRefusedException(VoteRefusedException.UNKNOWN,
                    "no approval " + approvalId));
        }
        Approval a = current.get();
        Instant now = clock.instant();
        Optional<Approval.Refusal> refusal = a.refusal(approver.subject(), approver.issuer(), approver.groups(), now);
        if (refusal.isPresent()) {
            LOGGER.info("Vote refused approvalId={} approver={} approve={} channel={} why={}",
                    approvalId, approver.subject(), approve, channel, refusal.get().message());
            return CompletableFuture.failedFuture(VoteRefusedException.of(refusal.get()));
        }
        AuditEvent.ApprovalVoted vote = new AuditEvent.ApprovalVoted(
                EventHeader.at(a.sessionId(), now, "approval", instance),
                approvalId, approver.subject(), approver.issuer(), approver.groups(), approve, reason, channel, externalUser);
        LOGGER.info("Vote approvalId={} approver={} approve={} channel={}", approvalId, approver.subject(), approve, channel);
        return events.write(vote)
                .thenCompose(offset -> log.awaitPosition(offset + 1, READ_BACK).thenApply(v -> offset))
                .thenApply(offset -> {
                    Approval after = log.book().get(approvalId).orElseThrow();
                    Approval.Vote recorded = after.votes().stream().filter(v -> v.offset() == offset).findFirst()
                            .orElseThrow(() -> new IllegalStateException("vote at offset " + offset + " not in the fold"));
                    if (!recorded.counted()) {
                        throw new VoteRefusedException(refusalKind(after, approver, recorded.at()), recorded.refusal());
                    }
                    return new VoteResult(after, true, null);
                });
    }

    private static String refusalKind(Approval after, Approver approver, Instant at) {
        // the fold refused it because of votes ordered before it: most likely decided meanwhile
        return after.outcome() != null || after.tally() != Approval.State.PENDING ? Approval.Refusal.Kind.DECIDED.name()
                : Approval.Refusal.Kind.ALREADY_VOTED.name();
    }

    /** The approval with this id, as this instance's fold shows it. */
    public Optional<Approval> get(String approvalId) {
        return log.book().get(approvalId);
    }

    /** Approvals matching the filter, newest request first. */
    public List<Approval> list(ApprovalFilter filter) {
        return log.book().all().stream().filter(filter::matches)
                .sorted(Comparator.comparingLong(Approval::requestOffset).reversed())
                .limit(filter.limit()).toList();
    }
}
