package dev.gatehouse.policy.service;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.policy.engine.Evaluation;
import dev.gatehouse.policy.engine.Facts;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * Turns a recorded command into its decision with the active policy. Pure apart from the clock:
 * the Kafka loop around it ({@code DecisionService}) is a thin adapter.
 */
public final class PolicyDecider implements Function<AuditEvent.CommandReceived, AuditEvent.DecisionMade> {
    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyDecider.class);

    private final AtomicReference<PolicyEvaluator> evaluator;
    private final String instanceId;

    public PolicyDecider(PolicyEvaluator evaluator, String instanceId) {
        this.evaluator = new AtomicReference<>(Objects.requireNonNull(evaluator, "evaluator"));
        this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
    }

    /** Swaps the active policy; decisions already made keep the version that made them. */
    public void activate(PolicyEvaluator next) {
        PolicyEvaluator previous = evaluator.getAndSet(Objects.requireNonNull(next));
        LOGGER.info("policy {} version {} active (was {})", next.policy().id(), next.policy().version(),
                previous.policy().version());
    }

    public PolicyEvaluator active() {
        return evaluator.get();
    }

    @Override
    public AuditEvent.DecisionMade apply(AuditEvent.CommandReceived received) {
        long start = System.nanoTime();
        Evaluation evaluation = evaluator.get().evaluate(Facts.of(received.identity(), received.connection(), received.command()));
        Duration took = Duration.ofNanos(System.nanoTime() - start);
        return new AuditEvent.DecisionMade(
                EventHeader.now(received.sessionId(), "policy", instanceId),
                received.command().id(),
                received.command().sequence(),
                evaluation.toDecision(received.command().id()),
                received.edgeId(),
                received.replyPartition(),
                received.mode(),
                took);
    }
}
