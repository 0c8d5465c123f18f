package dev.gatehouse.platform.core;

import java.util.Objects;

/**
 * A policy decision about one command.
 *
 * <p>{@code ruleId} names the rule that decided ("default" when no rule matched), {@code reason}
 * is the human-readable reason, {@code policyVersion} the version of the policy document.
 */
public sealed interface Decision {
    CommandId commandId();

    String ruleId();

    String reason();

    String policyVersion();

    Verdict verdict();

    record Allow(CommandId commandId, String ruleId, String reason, String policyVersion) implements Decision {
        public Allow {
            Objects.requireNonNull(commandId, "commandId");
        }

        public Verdict verdict() {
            return Verdict.ALLOW;
        }
    }

    record Deny(CommandId commandId, String ruleId, String reason, String policyVersion) implements Decision {
        public Deny {
            Objects.requireNonNull(commandId, "commandId");
        }

        public Verdict verdict() {
            return Verdict.DENY;
        }
    }

    record Mask(CommandId commandId, String ruleId, String reason, String policyVersion, String profile) implements Decision {
        public Mask {
            Objects.requireNonNull(commandId, "commandId");
        }

        public Verdict verdict() {
            return Verdict.MASK;
        }
    }

    /**
     * The command needs human approval.
     *
     * @param approvalId the approval request's id (null until the policy service assigns one)
     * @param mode       "hold" (the command waits) or "deferred" (refused now, runs once when re-sent
     *                   after approval); null means hold
     * @param expiresAt  when the request expires unanswered; null when not known
     * @param channel    where approvers are asked, as shown to the client (e.g. "#db-approvals"); may be null
     */
    record RequireApproval(CommandId commandId, String ruleId, String reason, String policyVersion,
                           String approverGroup, int approvals, String approvalId, String mode,
                           java.time.Instant expiresAt, String channel) implements Decision {
        /** Hold mode. */
        public static final String HOLD = "hold";
        /** Deferred mode. */
        public static final String DEFERRED = "deferred";

        public RequireApproval {
            Objects.requireNonNull(commandId, "commandId");
        }

        /** As decided by the rule engine, before an approval request exists. */
        public RequireApproval(CommandId commandId, String ruleId, String reason, String policyVersion,
                               String approverGroup, int approvals) {
            this(commandId, ruleId, reason, policyVersion, approverGroup, approvals, null, null, null, null);
        }

        /** True when the command is refused at once and runs only when re-sent after approval. */
        public boolean deferred() {
            return DEFERRED.equals(mode);
        }

        public Verdict verdict() {
            return Verdict.REQUIRE_APPROVAL;
        }
    }

    /** Builds a decision of the given verdict (mask and approval details empty). */
    static Decision of(Verdict verdict, CommandId commandId, String ruleId, String reason, String policyVersion) {
        return switch (verdict) {
            case ALLOW -> new Allow(commandId, ruleId, reason, policyVersion);
            case DENY -> new Deny(commandId, ruleId, reason, policyVersion);
            case MASK -> new Mask(commandId, ruleId, reason, policyVersion, null);
            case REQUIRE_APPROVAL -> new RequireApproval(commandId, ruleId, reason, policyVersion, null, 0);
        };
    }
}
