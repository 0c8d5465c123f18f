package dev.gatehouse.policy.engine;

import dev.cel.runtime.CelEvaluationException;
import dev.gatehouse.platform.core.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates one {@link Policy} against {@link Facts}: rules in order, the first that matches
 * decides, the policy's default when none does. A rule whose {@link RuleScope} does not cover the
 * command is skipped without running its condition, and traced as out of scope. Pure and
 * thread-safe.
 *
 * <p>Fail closed: a condition that fails at run time (a missing map key, a claim of the wrong
 * type) counts as matched when the rule would deny (deny, require_approval, mask) and as not
 * matched when it would allow; either way the error is recorded in the trace. Rules with
 * {@code require_approval} or {@code mask} yield DENY with the reason
 * "&lt;action&gt; is not available yet: ..." until the approval service and masking exist.
 */
public final class PolicyEvaluator {

    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyEvaluator.class);

    private final Policy policy;

    public PolicyEvaluator(Policy policy) {
        this.policy = Objects.requireNonNull(policy, "policy");
    }

    public Policy policy() {
        return policy;
    }

    /** Decides on one command. Never throws for a rule's runtime error (see the class comment). */
    public Evaluation evaluate(Facts facts) {
        Objects.requireNonNull(facts, "facts");
        List<Evaluation.RuleTrace> trace = new ArrayList<>();
        for (Rule rule : policy.rules()) {
            if (!rule.scope().matches(facts)) {
                trace.add(Evaluation.RuleTrace.outOfScope(rule.id()));
                continue;
            }
            String error = null;
            boolean matched;
            try {
                Object result = rule.compiled().evaluate(facts.variables());
                if (result instanceof Boolean b) {
                    matched = b;
                } else {
                    error = "condition evaluated to " + (result == null ? "null" : result.getClass().getSimpleName())
                            + ", not bool";
                    matched = rule.action() != Action.ALLOW;
                }
            } catch (CelEvaluationException | RuntimeException e) {
                error = Objects.requireNonNullElse(e.getMessage(), e.getClass().getSimpleName());
                matched = rule.action() != Action.ALLOW;
            }
            if (error != null) {
                LOGGER.debug("rule condition failed policy={} version={} rule={} matched={} error={}",
                        policy.id(), policy.version(), rule.id(), matched, error);
            }
            trace.add(new Evaluation.RuleTrace(rule.id(), matched, error));
            if (matched) return decide(rule, error, trace);
        }
        Verdict verdict = policy.defaultAction() == Action.ALLOW ? Verdict.ALLOW : Verdict.DENY;
        return new Evaluation(verdict, policy.defaultAction(), Evaluation.DEFAULT_RULE_ID,
                "no rule matched; the policy's default is " + policy.defaultAction().label(),
                policy.id(), policy.version(), trace);
    }

    private Evaluation decide(Rule rule, String error, List<Evaluation.RuleTrace> trace) {
        String reason = switch (rule.action()) {
            case ALLOW, DENY -> rule.reason();
            case REQUIRE_APPROVAL -> "require_approval is not available yet: the approval service is not deployed"
                    + " (rule reason: " + rule.reason() + ")";
            case MASK -> "mask is not available yet: masking is not deployed (rule reason: " + rule.reason() + ")";
        };
        if (error != null) {
            reason = reason + " [the condition could not be evaluated, so the rule applied: " + error + "]";
        }
        Verdict verdict = rule.action() == Action.ALLOW ? Verdict.ALLOW : Verdict.DENY;
        return new Evaluation(verdict, rule.action(), rule.id(), reason, policy.id(), policy.version(), trace);
    }
}
