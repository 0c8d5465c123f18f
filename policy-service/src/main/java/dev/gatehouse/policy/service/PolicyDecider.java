package dev.gatehouse.policy.service;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DryRunVerdict;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.kafka.DecisionService;
import dev.gatehouse.policy.approval.ApprovalRequests;
import dev.gatehouse.policy.engine.Evaluation;
import dev.gatehouse.policy.engine.Facts;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Turns a recorded command, or a connection attempt ({@code SessionRequested}, decided by the
 * policy's {@code on: connect} rules, sequence 0), into its decision with the active policy. Pure apart from the clock
 * that times the evaluation: the Kafka loop around it ({@link DecisionService}) is a thin adapter.
 * A command the edge refused itself ({@code CommandReceived.refusal}) is never decided: the loop skips
 * it and this refuses it.
 *
 * <ul>
 *   <li>Time facts are read at the command's recorded time (its CommandReceived's timestamp) in the
 *       configured zone, never at the evaluation's wall clock.</li>
 *   <li>A staged (shadow) policy, when there is one, also evaluates every command; its decision is
 *       recorded as a {@link DryRunVerdict} ({@code staged} true, the staged version) after those of
 *       the active policy's dry-run rules, and never changes the outcome.</li>
 *   <li>Idempotent by request id (a command's id, a connection attempt's request id): the decisions of the last {@value #DEFAULT_CACHE_SIZE} commands are
 *       kept, and a redelivered CommandReceived gets the very same DecisionMade (same event id,
 *       verdict, rule, reason and version) even when another policy was activated in between.</li>
 *   <li>With {@link #useApprovals} a require_approval decision about a command in enforce mode
 *       becomes an approval request (written, blocking, before the decision is returned) or, in
 *       deferred mode, the redemption of an earlier grant ({@link ApprovalRequests}).</li>
 * </ul>
 */
public final class PolicyDecider implements Function<AuditEvent.DecisionRequest, AuditEvent.DecisionMade> {
    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyDecider.class);

    /** How many decisions are remembered for redeliveries. */
    public static final int DEFAULT_CACHE_SIZE = 100_000;

    /** The active policy and the staged one (null when none), swapped together. */
    private record Policies(PolicyEvaluator active, PolicyEvaluator staged) {
    }

    private final AtomicReference<Policies> policies;
    private final String instanceId;
    private final ZoneId zone;
    private final Map<CommandId, AuditEvent.DecisionMade> decided;
    private volatile ApprovalRequests approvals;

    /** A decider that reads time facts in UTC. */
    public PolicyDecider(PolicyEvaluator evaluator, String instanceId) {
        this(evaluator, instanceId, ZoneOffset.UTC);
    }

    /** A decider that reads time facts ({@code time.hour}, {@code time.day_of_week}, ...) in {@code zone}. */
    public PolicyDecider(PolicyEvaluator evaluator, String instanceId, ZoneId zone) {
        this(evaluator, instanceId, zone, DEFAULT_CACHE_SIZE);
    }

    PolicyDecider(PolicyEvaluator evaluator, String instanceId, ZoneId zone, int cacheSize) {
        this.policies = new AtomicReference<>(new Policies(Objects.requireNonNull(evaluator, "evaluator"), null));
        this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
        this.zone = Objects.requireNonNull(zone, "zone");
        if (cacheSize < 1) throw new IllegalArgumentException("cacheSize must be at least 1: " + cacheSize);
        this.decided = new LinkedHashMap<>(1024, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<CommandId, AuditEvent.DecisionMade> eldest) {
                return size() > cacheSize;
            }
        };
    }

    /** Swaps the active policy and drops any staged one; decisions already made keep the version that made them. */
    public void activate(PolicyEvaluator next) {
        activate(next, null);
    }

    /**
     * Swaps the active policy and the staged one ({@code staged} null: none) at once. Commands are
     * decided by {@code active}; {@code staged}'s decision about each is recorded as a dry-run verdict.
     */
    public void activate(PolicyEvaluator active, PolicyEvaluator staged) {
        Objects.requireNonNull(active, "active");
        Policies previous = policies.getAndSet(new Policies(active, staged));
        LOGGER.info("policy {} version {} active (was {}), staged {}", active.policy().id(), active.policy().version(),
                previous.active().policy().version(),
                staged == null ? "none" : staged.policy().id() + " version " + staged.policy().version());
    }

    /**
     * Turns require_approval decisions about commands in enforce mode into approval requests (and
     * redeems deferred grants); without it they are recorded as the rule engine decided them.
     */
    public PolicyDecider useApprovals(ApprovalRequests requests) {
        this.approvals = Objects.requireNonNull(requests, "requests");
        return this;
    }

    public PolicyEvaluator active() {
        return policies.get().active();
    }

    /** The staged (shadow) policy, if one is set. */
    public Optional<PolicyEvaluator> staged() {
        return Optional.ofNullable(policies.get().staged());
    }

    /** The zone time facts are read in. */
    public ZoneId zone() {
        return zone;
    }

    /**
     * The decision about {@code received}.
     *
     * @throws IllegalArgumentException for a command the edge refused itself: it is never decided
     *                                  ({@link DecisionService#awaitsDecision}; the loop skips it)
     */
    @Override
    public AuditEvent.DecisionMade apply(AuditEvent.DecisionRequest received) {
        return decide(received, true).orElseThrow();
    }

    /**
     * The decision about {@code received} for a policy that shares its process with the edge that
     * holds the session ({@code InlineDecisionPort}): the same decision as {@link #apply}, made and
     * remembered the same way, or empty when the rules ask for an approval that {@link #useApprovals}
     * would request: approval requests are written only on the decision service's path, so such a
     * command goes there (and is evaluated again there). Nothing is remembered when it is empty.
     *
     * @throws IllegalArgumentException for a command the edge refused itself, as {@link #apply}
     */
    public Optional<AuditEvent.DecisionMade> decideInline(AuditEvent.DecisionRequest received) {
        return decide(received, false);
    }

    private Optional<AuditEvent.DecisionMade> decide(AuditEvent.DecisionRequest received, boolean mayRequestApproval) {
        if (!DecisionService.awaitsDecision(received)) {
            throw new IllegalArgumentException("command " + received.requestId() + " was refused by the edge; "
                    + "it is not decided");
        }
        CommandId commandId = received.requestId();
        AuditEvent.DecisionMade earlier = remembered(commandId);
        if (earlier != null) {
            LOGGER.debug("request redelivered session={} request={}: the earlier decision stands (rule {}, version {})",
                    received.sessionId(), commandId, earlier.decision().ruleId(), earlier.decision().policyVersion());
            return Optional.of(earlier);
        }
        long start = System.nanoTime();
        Policies now = policies.get();
        Facts facts = facts(received);
        long sequence = received instanceof AuditEvent.CommandReceived c ? c.command().sequence() : 0;
        Evaluation evaluation = now.active().evaluate(facts);
        List<DryRunVerdict> dryRun = new ArrayList<>(evaluation.dryRun());
        if (now.staged() != null) {
            dryRun.add(now.staged().evaluate(facts).toDryRunVerdict(true));
        }
        Decision decision = evaluation.toDecision(commandId);
        ApprovalRequests requests = approvals;
        if (decision instanceof Decision.RequireApproval required && requests != null
                && received instanceof AuditEvent.CommandReceived command && command.awaited()) {
            // observe mode records only: no approval is asked for a command that runs anyway
            if (!mayRequestApproval) return Optional.empty();
            decision = requests.decide(command, required, evaluation.approval().expiresIn(), evaluation.approval().from());
        }
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        AuditEvent.DecisionMade made = new AuditEvent.DecisionMade(
                EventHeader.now(received.sessionId(), "policy", instanceId),
                commandId,
                sequence,
                decision,
                received.edgeId(),
                received.replyPartition(),
                received.mode(),
                took,
                dryRun);
        return Optional.of(remember(commandId, made));
    }

    /**
     * The facts of a request. A connection attempt's session started when it was requested, and
     * its time facts are those of the request.
     */
    private Facts facts(AuditEvent.DecisionRequest request) {
        return switch (request) {
            case AuditEvent.CommandReceived c -> Facts.of(c.identity(), c.connection(), c.command(),
                    new Facts.Context(c.header().timestamp(), zone, c.sessionStartedAt(), c.clientAddress()));
            case AuditEvent.SessionRequested r -> Facts.connect(r.identity(), r.connection(), r.sessionId().value(),
                    new Facts.Context(r.header().timestamp(), zone, r.header().timestamp(), r.clientAddress()));
        };
    }

    private AuditEvent.DecisionMade remembered(CommandId commandId) {
        synchronized (decided) {
            return decided.get(commandId);
        }
    }

    /** Keeps {@code made}, unless a decision about the command was kept meanwhile: then that one stands. */
    private AuditEvent.DecisionMade remember(CommandId commandId, AuditEvent.DecisionMade made) {
        synchronized (decided) {
            AuditEvent.DecisionMade first = decided.putIfAbsent(commandId, made);
            return first == null ? made : first;
        }
    }
}
