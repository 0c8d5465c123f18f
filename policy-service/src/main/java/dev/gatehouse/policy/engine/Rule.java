package dev.gatehouse.policy.engine;

import java.util.Objects;

/**
 * One rule of a {@link Policy}: within its {@link RuleScope}, when its condition holds, its action
 * applies. Built only by {@link Policy#parse}, with the condition already compiled and
 * type-checked. Immutable.
 */
public final class Rule {

    private final String id;
    private final String description;
    private final RuleScope scope;
    private final String condition;
    private final Action action;
    private final String reason;
    private final Conditions.Compiled compiled;

    Rule(String id, String description, RuleScope scope, String condition, Action action, String reason,
         Conditions.Compiled compiled) {
        this.id = Objects.requireNonNull(id, "id");
        this.description = description;
        this.scope = Objects.requireNonNull(scope, "scope");
        this.condition = Objects.requireNonNull(condition, "condition");
        this.action = Objects.requireNonNull(action, "action");
        this.reason = Objects.requireNonNull(reason, "reason");
        this.compiled = Objects.requireNonNull(compiled, "compiled");
    }

    /** Unique within the policy; names the rule in decisions and audit events. */
    public String id() {
        return id;
    }

    /** For humans; null when the document has none. */
    public String description() {
        return description;
    }

    /** Where the rule applies; {@link RuleScope#UNRESTRICTED} when it has no {@code scope}. */
    public RuleScope scope() {
        return scope;
    }

    /** The CEL condition as written (the {@code when} field). */
    public String condition() {
        return condition;
    }

    public Action action() {
        return action;
    }

    /** The reason given to the client and recorded in the audit log when this rule decides. */
    public String reason() {
        return reason;
    }

    Conditions.Compiled compiled() {
        return compiled;
    }

    @Override
    public String toString() {
        return "Rule[" + id + ": " + action.label() + " when " + condition
                + (scope.isUnrestricted() ? "" : " within " + scope) + "]";
    }
}
