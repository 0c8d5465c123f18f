package dev.gatehouse.approval;

import dev.gatehouse.platform.approval.Approval;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Optional;

/**
 * Tells approvers about requests and outcomes (Slack, ...). Called by the active arbiter only, once
 * per request and once per outcome, after the event is in its fold; on takeover again for pending
 * approvals that have no {@code ApprovalNotified} yet. Called on the arbiter's thread: an
 * implementation must not block it (hand slow work to its own executor) and records each attempt
 * with {@link ApprovalEvents#append} as an {@code ApprovalNotified}.
 */
public interface ApprovalNotifier {

    /** A new approval request: ask the approvers. */
    void requested(Approval approval);

    /** The approval reached its outcome (granted, denied or expired): update what was posted. */
    void decided(Approval approval);

    /**
     * Why this notifier cannot ask the people who may answer this request (e.g. no Slack user is
     * linked to the originator of an originator confirmation), or empty when it can. The arbiter
     * denies an undeliverable request at once (fail closed) instead of letting it wait to expire.
     */
    default Optional<String> undeliverable(Approval approval) {
        return Optional.empty();
    }

    /** A notifier that only logs (no channel configured). */
    ApprovalNotifier LOGGING = new ApprovalNotifier() {
        private static final Logger LOGGER = LoggerFactory.getLogger(ApprovalNotifier.class);

        @Override
        public void requested(Approval a) {
            LOGGER.info("Approval requested (no notifier configured) approvalId={} from={} group={} required={} "
                    + "expiresAt={} rule={}", a.id(), a.fromOriginator() ? "originator" : "group", a.approverGroup(),
                    a.approvalsRequired(), a.expiresAt(), a.ruleId());
        }

        @Override
        public void decided(Approval a) {
            LOGGER.info("Approval decided (no notifier configured) approvalId={} state={} by={}",
                    a.id(), a.state().label(), a.outcome() == null ? java.util.List.of() : a.outcome().by());
        }
    };
}
