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

    record RequireApproval(CommandId commandId, String ruleId, String reason, String policyVersion,
                           String approverGroup, int approvals) implements Decision {
        public RequireApproval {
            Objects.requireNonNull(commandId, "commandId");
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
