package dev.gatehouse.policy.engine;

import dev.cel.runtime.CelEvaluationException;
import dev.gatehouse.platform.core.DryRunVerdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Evaluates one {@link Policy} against {@link Facts}: rules in order, the first that matches
 * decides, the policy's default when none does. Only the rules {@linkplain Rule#appliesTo for the
 * request's type} are considered: {@code on: connect} rules and {@code connect_default} for a
 * connection attempt, command rules and {@code default} for a command. A rule whose {@link RuleScope} does not cover the
 * command is skipped without running its condition, and traced as out of scope. A matching
 * {@linkplain Rule#dryRun() dry-run} rule does not decide: its would-be verdict is recorded in
 * {@link Evaluation#dryRun()} and evaluation goes on as if it had not matched. Pure and
 * thread-safe.
 *
 * <p>Fail closed: a condition that fails at run time (a missing map key, a claim of the wrong
 * type) counts as matched when the rule would not allow (deny, require_approval, mask) and as not
 * matched when it would allow; either way the error is recorded in the trace and in the reason.
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
        List<DryRunVerdict> dryRun = new ArrayList<>();
        Facts.RequestType type = facts.requestType();
        for (Rule rule : policy.rules()) {
            if (!rule.appliesTo(type)) continue; // a connect rule is not a command rule: not even traced
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
            if (!matched) continue;
            if (rule.dryRun()) {
                dryRun.add(wouldBe(rule, error));
                continue;
            }
            return new Evaluation(rule.action().verdict(), rule.action(), rule.id(), reason(rule, error),
                    policy.id(), policy.version(), rule.approval(), rule.maskProfile(), dryRun, trace);
        }
        Action fallback = policy.defaultFor(type);
        String reason = type == Facts.RequestType.CONNECT
                ? "no connect rule matched; the policy's connect_default is " + fallback.label()
                : "no rule matched; the policy's default is " + fallback.label();
        return new Evaluation(fallback.verdict(), fallback, Evaluation.DEFAULT_RULE_ID, reason,
                policy.id(), policy.version(), null, null, dryRun, trace);
    }

    private DryRunVerdict wouldBe(Rule rule, String error) {
        Rule.Approval approval = rule.approval();
        return new DryRunVerdict(rule.id(), rule.action().verdict(), reason(rule, error), policy.version(),
                false, approval == null ? null : approval.group(), approval == null ? 0 : approval.count(),
                rule.maskProfile());
    }

    private static String reason(Rule rule, String error) {
        return error == null ? rule.reason()
                : rule.reason() + " [the condition could not be evaluated, so the rule applied: " + error + "]";
    }
}
