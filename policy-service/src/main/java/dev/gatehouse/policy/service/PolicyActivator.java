package dev.gatehouse.policy.service;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.kafka.PolicyLog;
import dev.gatehouse.platform.kafka.Topics;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import dev.gatehouse.policy.engine.PolicyException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.List;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Applies the policy log ({@code gatehouse.policies}) to one policy-service instance: folds every
 * entry, and when the active or staged version changes, parses it and swaps it into the
 * {@link PolicyDecider}. A document that does not parse or type-check is never activated: the
 * version in force stays, the error is logged with every message and counted in
 * {@code gatehouse.policy.rejected}. Each activation is a {@code PolicyActivated} audit event naming
 * this instance and who applied the version.
 *
 * <p>Called on the log follower's thread, one entry at a time.
 */
public final class PolicyActivator implements Consumer<PolicyLog.Entry> {
    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyActivator.class);

    /** The audit key of policy events. */
    public static final SessionId POLICY_EVENTS = SessionId.system("policy");

    private final String instanceId;
    private final AuditSink audit;
    private final Counter rejected;
    private final List<PolicyLog.Entry> entries = new ArrayList<>();
    private final Map<String, PolicyEvaluator> loaded = new HashMap<>();
    private final Set<String> refused = new HashSet<>();
    private final PolicyDecider decider;
    private PolicyLog.Entry activeEntry;
    private PolicyLog.Entry stagedEntry;
    private PolicyEvaluator active;
    private PolicyEvaluator staged;

    /**
     * @param decider the decider to swap policies into; its initial evaluator stays until the log
     *                names a valid active version
     * @param audit   where activations are recorded
     */
    public PolicyActivator(PolicyDecider decider, String instanceId, AuditSink audit, MeterRegistry registry) {
        this.decider = Objects.requireNonNull(decider, "decider");
        this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.rejected = registry == null ? null : Counter.builder("gatehouse.policy.rejected")
                .description("Policy versions read from gatehouse.policies that failed to parse or type-check and were not activated")
                .register(registry);
        this.active = decider.active();
        this.staged = decider.staged().orElse(null);
    }

    @Override
    public synchronized void accept(PolicyLog.Entry entry) {
        entries.add(entry);
        apply(entry);
    }

    /**
     * Takes a batch read at start (everything up to the end of the log) and activates only the
     * state it folds to, not the versions it passes through.
     */
    public synchronized void acceptAll(List<PolicyLog.Entry> batch) {
        if (batch.isEmpty()) return;
        entries.addAll(batch);
        apply(batch.getLast());
    }

    private void apply(PolicyLog.Entry entry) {
        PolicyLog.State state = PolicyLog.State.fold(entries, e -> evaluator(e) != null);
        PolicyLog.Entry nextActive = state.active().orElse(null);
        PolicyLog.Entry nextStaged = state.staged().orElse(null);
        PolicyLog.Entry previousActive = activeEntry;
        PolicyLog.Entry previousStaged = stagedEntry;
        if (nextActive != null && !sameDocument(nextActive, activeEntry)) {
            active = evaluator(nextActive);
            activeEntry = nextActive;
        }
        if (!sameDocument(nextStaged, stagedEntry)) {
            staged = nextStaged == null ? null : evaluator(nextStaged);
            stagedEntry = nextStaged;
        }
        if (activeEntry == previousActive && stagedEntry == previousStaged) return;
        decider.activate(active, staged);
        if (activeEntry != previousActive) record(activeEntry);
        if (stagedEntry != null && stagedEntry != previousStaged) record(stagedEntry);
        if (stagedEntry == null && previousStaged != null) {
            LOGGER.info("Staged policy {} version {} withdrawn (by {}) instance={}", previousStaged.policyId(),
                    previousStaged.version(), entry.appliedBy(), instanceId);
        }
    }

    /** The compiled document of an entry, once per distinct document; null when it does not load. */
    private PolicyEvaluator evaluator(PolicyLog.Entry entry) {
        if (refused.contains(entry.sha256())) return null;
        PolicyEvaluator cached = loaded.get(entry.sha256());
        if (cached != null) return cached;
        PolicyEvaluator parsed = parse(entry);
        if (parsed == null) {
            refused.add(entry.sha256());
        } else {
            loaded.put(entry.sha256(), parsed);
        }
        return parsed;
    }

    /**
     * The log folded as an instance folds it: versions whose document does not load are skipped
     * (for the runtime's start, the admin API and the CLI).
     */
    public static PolicyLog.State fold(List<PolicyLog.Entry> entries) {
        return PolicyLog.State.fold(entries, PolicyActivator::loads);
    }

    /** Whether an entry's document parses and type-checks (for folding the log outside an instance). */
    public static boolean loads(PolicyLog.Entry entry) {
        try {
            Policy.parse(entry.document(), Topics.POLICIES + "@" + entry.offset());
            return true;
        } catch (PolicyException | RuntimeException e) {
            return false;
        }
    }

    /** The entry whose document is enforced, once one was read; null before. */
    public synchronized PolicyLog.Entry activeEntry() {
        return activeEntry;
    }

    /** The entry whose document is staged; null when none. */
    public synchronized PolicyLog.Entry stagedEntry() {
        return stagedEntry;
    }

    private PolicyEvaluator parse(PolicyLog.Entry entry) {
        String source = Topics.POLICIES + "@" + entry.offset() + " (" + entry.kind().name().toLowerCase(java.util.Locale.ROOT)
                + " version " + entry.version() + " applied by " + entry.appliedBy() + ")";
        try {
            Policy policy = Policy.parse(entry.document(), source);
            return new PolicyEvaluator(policy);
        } catch (PolicyException e) {
            if (rejected != null) rejected.increment();
            LOGGER.error("Policy version not activated, the version in force stays: {}\n  {}", source,
                    String.join("\n  ", e.errors()));
            return null;
        } catch (RuntimeException e) {
            if (rejected != null) rejected.increment();
            LOGGER.error("Policy version not activated, the version in force stays: {} error={}", source, e.toString());
            return null;
        }
    }

    private void record(PolicyLog.Entry entry) {
        boolean isStaged = entry.kind() == PolicyLog.Kind.STAGED;
        LOGGER.info("Policy {} version {} {} (applied by {} at {}) instance={}", entry.policyId(), entry.version(),
                isStaged ? "staged" : "active", entry.appliedBy(), entry.appliedAt(), instanceId);
        AuditEvent.PolicyActivated event = new AuditEvent.PolicyActivated(
                EventHeader.now(POLICY_EVENTS, "policy", instanceId), entry.policyId(), entry.version(),
                entry.appliedBy(), isStaged, entry.appliedAt(), entry.sha256());
        audit.append(event).whenComplete((ok, err) -> {
            if (err != null) {
                LOGGER.warn("PolicyActivated not recorded version={} error={}", entry.version(), err.toString());
            }
        });
    }

    private static boolean sameDocument(PolicyLog.Entry a, PolicyLog.Entry b) {
        if (a == null || b == null) return a == b;
        return a.sha256().equals(b.sha256()) && a.version().equals(b.version());
    }
}
