package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DecisionPort;
import dev.gatehouse.platform.core.DecisionUnavailableException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;

/**
 * The edge's decisions when the policy role runs in the same process: the process's own policy
 * decides a request before it is written, and the request and its {@code DecisionMade} are
 * appended together ({@link KafkaAuditSink#appendDecided}); the stage completes when both are
 * durable. Compared with the path through the decision service ({@link KafkaDecisionPort}: append,
 * a decision service polls it, decides, writes the decision to the audit log and the edge's reply
 * partition, the edge polls that) this saves two Kafka round trips, a produce and a fetch per
 * command, and a decode of every command by the decision service.
 *
 * <p>The log holds the same records either way: the request, then its decision, both durable
 * before the command can run (write-ahead), so "nothing lost" and fail-closed hold as on the other
 * path. The request carries the header {@value #DECIDED_HEADER} (the deciding instance's id);
 * every {@link DecisionService}, in this process or another one that is assigned the partition,
 * skips such a request unread ({@link #decidedInline}), so no command is decided twice.
 *
 * <p>What the decider does not decide goes the other way, to {@code viaService}: a request whose
 * decision would ask for an approval (approval requests are written by the decision service's path
 * only), and any request the decider fails on (the decision service then decides it, or denies it
 * as a policy error, as it does for every other edge). Held approvals ({@link #awaitOutcome}) are
 * therefore always {@code viaService}'s.
 *
 * <p>Threads: the decider runs on the caller's thread (an event loop: CEL evaluation, tens of
 * microseconds); the stage completes on the producer's I/O thread, or the deadline's timer thread.
 */
public final class InlineDecisionPort implements DecisionPort {

    private static final Logger LOGGER = LoggerFactory.getLogger(InlineDecisionPort.class);

    /** The header a request decided by its own process's policy carries; its value is the deciding instance's id. */
    public static final String DECIDED_HEADER = "gatehouse.decided-inline";

    private final DecisionPort viaService;
    private final KafkaAuditSink sink;
    private final Function<AuditEvent.DecisionRequest, Optional<AuditEvent.DecisionMade>> decider;
    private final String instanceId;

    /**
     * @param viaService the path through the decision service, for what is not decided here
     * @param sink       the process's audit sink, which writes request and decision together
     * @param decider    the process's policy: a decision, or empty when the request must go
     *                   {@code viaService} (it would ask for an approval)
     * @param instanceId this instance's id, written in {@value #DECIDED_HEADER}
     */
    public InlineDecisionPort(DecisionPort viaService, KafkaAuditSink sink,
                              Function<AuditEvent.DecisionRequest, Optional<AuditEvent.DecisionMade>> decider,
                              String instanceId) {
        this.viaService = Objects.requireNonNull(viaService, "viaService");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.decider = Objects.requireNonNull(decider, "decider");
        this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
    }

    /** Whether {@code record} is a request that its edge's own process decided (a decision service skips it). */
    public static boolean decidedInline(ConsumerRecord<?, ?> record) {
        return record.headers().lastHeader(DECIDED_HEADER) != null;
    }

    @Override
    public int replyPartition() {
        return viaService.replyPartition();
    }

    @Override
    public CompletionStage<Decision> decide(AuditEvent.DecisionRequest request, Duration deadline) {
        AuditEvent.DecisionMade made = decideHere(request);
        if (made == null) return viaService.decide(request, deadline);
        return written(request, made, deadline).thenApply(ignored -> made.decision());
    }

    @Override
    public CompletionStage<Void> record(AuditEvent.DecisionRequest request) {
        AuditEvent.DecisionMade made = decideHere(request);
        if (made == null) return viaService.record(request);
        return written(request, made, null);
    }

    @Override
    public CompletionStage<Decision> awaitOutcome(CommandId commandId, Duration deadline) {
        return viaService.awaitOutcome(commandId, deadline);
    }

    /** The decision made here, or null when the request goes to the decision service. */
    private AuditEvent.DecisionMade decideHere(AuditEvent.DecisionRequest request) {
        if (!DecisionService.awaitsDecision(request)) return null; // refused by the edge: recorded undecided
        try {
            return decider.apply(request).orElse(null);
        } catch (RuntimeException e) {
            LOGGER.warn("Policy evaluation failed here, the decision service decides sessionId={} requestId={} error={}",
                    request.sessionId(), request.requestId(), e.toString());
            return null;
        }
    }

    /** Request and decision appended; fails with {@link DecisionUnavailableException} (fail closed). */
    private CompletionStage<Void> written(AuditEvent.DecisionRequest request, AuditEvent.DecisionMade made, Duration deadline) {
        CompletableFuture<Void> both = sink.appendDecided(request, made, instanceId).toCompletableFuture();
        if (deadline != null) both = both.orTimeout(deadline.toNanos(), TimeUnit.NANOSECONDS);
        return both.handle((ok, error) -> {
            if (error == null) return null;
            Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
            throw new DecisionUnavailableException(cause instanceof TimeoutException
                    ? "request and decision not durable in the audit log within " + deadline
                    : "request and decision not written to the audit log: " + cause.getMessage(), cause);
        });
    }
}
