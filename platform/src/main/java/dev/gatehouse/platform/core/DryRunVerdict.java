package dev.gatehouse.platform.core;

import java.util.Objects;

/**
 * What a policy would have decided about a command, recorded without deciding: a matching
 * {@code dry_run: true} rule of the active policy, or the decision of a staged (shadow) policy.
 * Never changes the command's outcome; lets a policy author see a rule's effect before it applies.
 *
 * @param ruleId        the rule that would have decided ("default" for a staged policy's default)
 * @param verdict       what it would have decided
 * @param reason        the reason it would have given
 * @param policyVersion the version of the policy the rule belongs to
 * @param staged        true when the verdict is a staged policy's decision, false for a dry-run rule
 * @param approverGroup for REQUIRE_APPROVAL, the group that would have approved; else null
 * @param approvals     for REQUIRE_APPROVAL, how many approvals it would have needed; else 0
 * @param maskProfile   for MASK, the profile that would have been applied; else null
 */
public record DryRunVerdict(String ruleId, Verdict verdict, String reason, String policyVersion, boolean staged,
                            String approverGroup, int approvals, String maskProfile) {

    public DryRunVerdict {
        Objects.requireNonNull(ruleId, "ruleId");
        Objects.requireNonNull(verdict, "verdict");
        if (approvals < 0) throw new IllegalArgumentException("approvals must not be negative: " + approvals);
    }

    /** The dry-run form of a decision: what {@code decision} would have done. */
    public static DryRunVerdict of(Decision decision, boolean staged) {
        return switch (decision) {
            case Decision.RequireApproval r -> new DryRunVerdict(r.ruleId(), r.verdict(), r.reason(), r.policyVersion(),
                    staged, r.approverGroup(), r.approvals(), null);
            case Decision.Mask m -> new DryRunVerdict(m.ruleId(), m.verdict(), m.reason(), m.policyVersion(), staged,
                    null, 0, m.profile());
            case Decision.Allow a -> new DryRunVerdict(a.ruleId(), a.verdict(), a.reason(), a.policyVersion(), staged,
                    null, 0, null);
            case Decision.Deny d -> new DryRunVerdict(d.ruleId(), d.verdict(), d.reason(), d.policyVersion(), staged,
                    null, 0, null);
        };
    }
}
