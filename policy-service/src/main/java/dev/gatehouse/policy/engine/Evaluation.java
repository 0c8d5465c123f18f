package dev.gatehouse.policy.engine;

import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DryRunVerdict;
import dev.gatehouse.platform.core.Verdict;
import java.util.List;
import java.util.Objects;

/**
 * The outcome of evaluating a policy against one command's facts.
 *
 * @param verdict       what the deciding rule's action (or the policy's default) decides
 * @param action        the action of the deciding rule as written, or the policy's default
 * @param ruleId        the deciding rule, {@value #DEFAULT_RULE_ID} when no rule matched
 * @param reason        the human-readable reason, for the client and the audit log
 * @param policyId      the policy's id
 * @param policyVersion the policy's version
 * @param approval      for REQUIRE_APPROVAL, the deciding rule's approval parameters; else null
 * @param maskProfile   for MASK, the deciding rule's masking profile; else null
 * @param dryRun        what each matching {@code dry_run} rule before the deciding one would have
 *                      decided, in order (never staged: that is the decider's business)
 * @param trace         every rule considered, in order, up to and including the deciding one (rules
 *                      out of scope are listed, marked {@link RuleTrace#inScope()} false; matching
 *                      dry-run rules are listed as matched)
 */
public record Evaluation(Verdict verdict, Action action, String ruleId, String reason, String policyId,
                         String policyVersion, Rule.Approval approval, String maskProfile,
                         List<DryRunVerdict> dryRun, List<RuleTrace> trace) {

    /** The rule id recorded when no rule matched and the policy's default applied. */
    public static final String DEFAULT_RULE_ID = "default";

    public Evaluation {
        Objects.requireNonNull(verdict, "verdict");
        Objects.requireNonNull(action, "action");
        Objects.requireNonNull(ruleId, "ruleId");
        Objects.requireNonNull(reason, "reason");
        Objects.requireNonNull(policyVersion, "policyVersion");
        if ((verdict == Verdict.REQUIRE_APPROVAL) != (approval != null)) {
            throw new IllegalArgumentException("approval parameters go with REQUIRE_APPROVAL, and only with it");
        }
        if ((verdict == Verdict.MASK) != (maskProfile != null)) {
            throw new IllegalArgumentException("a mask profile goes with MASK, and only with it");
        }
        dryRun = List.copyOf(dryRun);
        trace = List.copyOf(trace);
    }

    /** True when the policy's default decided. */
    public boolean isDefault() {
        return DEFAULT_RULE_ID.equals(ruleId);
    }

    /**
     * The decision about command {@code commandId}: {@link Decision.Allow}, {@link Decision.Deny},
     * {@link Decision.RequireApproval} (approver group, count and mode; the approval id, expiry and
     * channel are the policy service's to fill in) or {@link Decision.Mask} (profile).
     */
    public Decision toDecision(CommandId commandId) {
        return switch (verdict) {
            case ALLOW -> new Decision.Allow(commandId, ruleId, reason, policyVersion);
            case DENY -> new Decision.Deny(commandId, ruleId, reason, policyVersion);
            case MASK -> new Decision.Mask(commandId, ruleId, reason, policyVersion, maskProfile);
            case REQUIRE_APPROVAL -> new Decision.RequireApproval(commandId, ruleId, reason, policyVersion,
                    approval.group(), approval.count(), null, approval.mode().label(), null, null);
        };
    }

    /** This decision as a would-be verdict, e.g. a staged policy's ({@code staged} true). */
    public DryRunVerdict toDryRunVerdict(boolean staged) {
        return new DryRunVerdict(ruleId, verdict, reason, policyVersion, staged,
                approval == null ? null : approval.group(), approval == null ? 0 : approval.count(), maskProfile);
    }

    /**
     * One rule's evaluation.
     *
     * @param ruleId  the rule
     * @param matched whether it applied (an erroring deny rule applies: fail closed)
     * @param error   CEL's evaluation error, or null when the condition evaluated
     * @param inScope false when the command was outside the rule's scope: its condition was not run
     */
    public record RuleTrace(String ruleId, boolean matched, String error, boolean inScope) {
        public RuleTrace {
            Objects.requireNonNull(ruleId, "ruleId");
            if (!inScope && (matched || error != null)) {
                throw new IllegalArgumentException("a rule out of scope neither matches nor errors: " + ruleId);
            }
        }

        /** A rule in scope whose condition was run. */
        public RuleTrace(String ruleId, boolean matched, String error) {
            this(ruleId, matched, error, true);
        }

        /** A rule skipped because the command was outside its scope. */
        public static RuleTrace outOfScope(String ruleId) {
            return new RuleTrace(ruleId, false, null, false);
        }

        public boolean errored() {
            return error != null;
        }
    }
}
