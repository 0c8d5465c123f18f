package dev.gatehouse.policy.approval;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.approval.ApprovalBook;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Identity;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * The policy service's port to the approvals log ({@code gatehouse.approvals}, one partition, so
 * one total order). Calls block until the log answers; the policy loop calls them one command at
 * a time. Failures are thrown: the caller fails closed.
 */
public interface ApprovalLog {

    /**
     * Appends a request to {@code gatehouse.approvals} (key approval id) and {@code gatehouse.audit}
     * (key session id) and returns once both writes are acknowledged.
     */
    void request(AuditEvent.ApprovalRequested request);

    /**
     * A granted approval of content {@code fingerprint} requested by {@code requester} (see
     * {@link ApprovalBook#findRedeemable}) that gives what {@code required} asks, is still valid at
     * {@code at} and not yet executed, the earliest granted first; or one already executed by
     * {@code redeemer} itself (a redelivered command).
     */
    Optional<Grant> grant(String fingerprint, Identity requester, ApprovalBook.Requirement required, CommandId redeemer,
                          Instant at);

    /**
     * Appends {@code executed} to {@code gatehouse.approvals}, reads the log until it is seen, and
     * returns whether it is the first execution of that approval in the log (or the first was by
     * the same command). Only then is it also written to {@code gatehouse.audit}.
     */
    boolean redeem(AuditEvent.ApprovalExecuted executed);

    /**
     * A granted approval, redeemable once.
     *
     * @param validUntil until when the approved content may run; null: no limit recorded
     */
    record Grant(String approvalId, List<String> approvers, Instant validUntil) {
        public Grant {
            Objects.requireNonNull(approvalId, "approvalId");
            approvers = approvers == null ? List.of() : List.copyOf(approvers);
        }
    }
}
