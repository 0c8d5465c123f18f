package dev.gatehouse.policy.engine;

import java.time.Duration;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;

/**
 * One rule of a {@link Policy}: within its {@link RuleScope}, when its condition holds, its action
 * applies. A rule decides commands ({@code on: command}, the default), connection attempts
 * ({@code on: connect}: allow or deny only) or both ({@code on: [connect, command]}). Built only by {@link Policy#parse}, with the condition already compiled and
 * type-checked, and its action's parameters validated ({@link Approval} for require_approval, a
 * mask profile for mask). A {@linkplain #dryRun() dry-run} rule never decides: when it matches, what
 * it would have decided is recorded and evaluation goes on. Immutable.
 */
public final class Rule {

    private final String id;
    private final String description;
    private final RuleScope scope;
    private final String condition;
    private final Action action;
    private final String reason;
    private final Conditions.Compiled compiled;
    private final boolean dryRun;
    private final Approval approval;
    private final String maskProfile;
    private final Set<Facts.RequestType> on;

    Rule(String id, String description, RuleScope scope, String condition, Action action, String reason,
         Conditions.Compiled compiled, boolean dryRun, Approval approval, String maskProfile) {
        this(id, description, scope, condition, action, reason, compiled, dryRun, approval, maskProfile,
                EnumSet.of(Facts.RequestType.COMMAND));
    }

    Rule(String id, String description, RuleScope scope, String condition, Action action, String reason,
         Conditions.Compiled compiled, boolean dryRun, Approval approval, String maskProfile,
         Set<Facts.RequestType> on) {
        this.id = Objects.requireNonNull(id, "id");
        this.description = description;
        this.scope = Objects.requireNonNull(scope, "scope");
        this.condition = Objects.requireNonNull(condition, "condition");
        this.action = Objects.requireNonNull(action, "action");
        this.reason = Objects.requireNonNull(reason, "reason");
        this.compiled = Objects.requireNonNull(compiled, "compiled");
        this.dryRun = dryRun;
        this.approval = approval;
        this.maskProfile = maskProfile;
        if (on == null || on.isEmpty()) throw new IllegalArgumentException("rule " + id + ": 'on' names no request type");
        this.on = Set.copyOf(on);
        if (this.on.contains(Facts.RequestType.CONNECT) && (action == Action.MASK || action == Action.REQUIRE_APPROVAL)) {
            throw new IllegalArgumentException("rule " + id + ": a connect rule allows or denies");
        }
        if ((action == Action.REQUIRE_APPROVAL) != (approval != null)) {
            throw new IllegalArgumentException("rule " + id + ": an approval goes with require_approval, and only with it");
        }
        if ((action == Action.MASK) != (maskProfile != null)) {
            throw new IllegalArgumentException("rule " + id + ": a mask profile goes with mask, and only with it");
        }
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

    /** True for {@code dry_run: true}: a match is recorded with its would-be verdict, and does not decide. */
    public boolean dryRun() {
        return dryRun;
    }

    /** For require_approval, who must approve and how; null for other actions. */
    public Approval approval() {
        return approval;
    }

    /** For mask, the masking profile applied to the result; null for other actions. */
    public String maskProfile() {
        return maskProfile;
    }

    /** What the rule decides: connection attempts, commands, or both ({@code on}; commands by default). */
    public Set<Facts.RequestType> on() {
        return on;
    }

    /** Whether the rule decides requests of this type. */
    public boolean appliesTo(Facts.RequestType type) {
        return on.contains(type);
    }

    Conditions.Compiled compiled() {
        return compiled;
    }

    @Override
    public String toString() {
        return "Rule[" + id + ": " + action.label()
                + (approval == null ? "" : " by " + approval.describe())
                + (maskProfile == null ? "" : " with profile " + maskProfile)
                + " when " + condition
                + (scope.isUnrestricted() ? "" : " within " + scope)
                + (on.contains(Facts.RequestType.CONNECT) ? " on " + on.stream().map(Facts.RequestType::label).sorted().toList() : "")
                + (dryRun ? ", dry run" : "") + "]";
    }

    /**
     * The parameters of a require_approval rule: {@code approval: {group: dba, count: 2, mode: hold,
     * expires_in: 10m}} (a four-eyes approval by members of a group), or {@code approval: {from:
     * originator, mode: hold, expires_in: 10m}} (the person a delegated session acts for confirms
     * the agent's command).
     *
     * @param from      who answers: the approver group, or the originator of a delegated session
     * @param group     the group whose members may approve; null when {@code from} is the originator
     * @param count     how many distinct approvals are needed, {@value #MIN_COUNT} to {@value #MAX_COUNT}
     *                  (always 1 from the originator)
     * @param mode      whether the client waits for the approval ({@link Mode#HOLD}) or retries later
     * @param expiresIn how long the request stays open
     */
    public record Approval(From from, String group, int count, Mode mode, Duration expiresIn) {
        public static final int MIN_COUNT = 1;
        public static final int MAX_COUNT = 10;
        public static final int DEFAULT_COUNT = 1;
        public static final Duration DEFAULT_EXPIRES_IN = Duration.ofMinutes(10);

        public Approval {
            Objects.requireNonNull(from, "from");
            Objects.requireNonNull(mode, "mode");
            Objects.requireNonNull(expiresIn, "expiresIn");
            if (from == From.GROUP) Objects.requireNonNull(group, "group");
            if (from == From.ORIGINATOR && (group != null || count != 1)) {
                throw new IllegalArgumentException("an approval from the originator names no group and needs one answer");
            }
            if (count < MIN_COUNT || count > MAX_COUNT) {
                throw new IllegalArgumentException("approval count must be " + MIN_COUNT + " to " + MAX_COUNT + ": " + count);
            }
        }

        /** A group (four-eyes) approval. */
        public Approval(String group, int count, Mode mode, Duration expiresIn) {
            this(From.GROUP, group, count, mode, expiresIn);
        }

        /** A confirmation by the originator of a delegated session. */
        public static Approval fromOriginator(Mode mode, Duration expiresIn) {
            return new Approval(From.ORIGINATOR, null, 1, mode, expiresIn);
        }

        /** "2 of dba" or "the originator", for people. */
        public String describe() {
            return from == From.ORIGINATOR ? "the originator" : count + " of " + group;
        }

        /** Who answers an approval request. */
        public enum From {
            /** Members of the approver group, never the requester, the originator or an earlier actor. */
            GROUP,
            /** The originator of the delegated session (the person the agent acts for), alone. */
            ORIGINATOR;

            public String label() {
                return name().toLowerCase(Locale.ROOT);
            }
        }

        /** How a command waiting for approval is handled. */
        public enum Mode {
            /** The client's command waits (held) until it is approved, denied or expires. */
            HOLD,
            /** The command is refused now; once approved, the client runs it again. */
            DEFERRED;

            public String label() {
                return name().toLowerCase(Locale.ROOT);
            }
        }
    }
}
