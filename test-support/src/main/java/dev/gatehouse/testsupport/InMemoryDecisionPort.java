package dev.gatehouse.testsupport;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DecisionPort;
import dev.gatehouse.platform.core.DecisionUnavailableException;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Function;

/**
 * The decision port and audit log of a session, in memory: every event appended is kept in order,
 * every request is decided at once by a policy function (a Java function standing for the policy
 * service). What the edge relies on holds as with Kafka: a request is in the log before its
 * decision is handed out; {@link #failAppends(boolean)} makes the log unreachable (appends fail, so
 * decisions fail closed). Thread-safe.
 */
public final class InMemoryDecisionPort implements DecisionPort, AuditSink {

    private final List<AuditEvent> log = new ArrayList<>();
    private final Map<CommandId, CompletableFuture<Decision>> outcomes = new ConcurrentHashMap<>();
    private volatile Function<AuditEvent.DecisionRequest, Decision> policy;
    private volatile boolean failAppends;

    /** A port that allows everything. */
    public InMemoryDecisionPort() {
        this(request -> new Decision.Allow(request.requestId(), "allow-all", "allowed", "test"));
    }

    /** A port deciding with {@code policy}; a null decision means none arrives (the request fails closed). */
    public InMemoryDecisionPort(Function<AuditEvent.DecisionRequest, Decision> policy) {
        this.policy = policy;
    }

    /** Decides from now on with {@code next}. */
    public void decideWith(Function<AuditEvent.DecisionRequest, Decision> next) {
        this.policy = next;
    }

    /** While true, every append fails as if the log were unreachable. */
    public void failAppends(boolean fail) {
        this.failAppends = fail;
    }

    @Override
    public CompletionStage<Void> append(AuditEvent event) {
        if (failAppends) return CompletableFuture.failedFuture(new IllegalStateException("audit log unreachable (test)"));
        synchronized (log) {
            log.add(event);
        }
        return CompletableFuture.completedFuture(null);
    }

    @Override
    public int replyPartition() {
        return 0;
    }

    @Override
    public CompletionStage<Decision> decide(AuditEvent.DecisionRequest request, Duration deadline) {
        CompletableFuture<Decision> decision = new CompletableFuture<>();
        append(request).whenComplete((ok, err) -> {
            if (err != null) {
                decision.completeExceptionally(new DecisionUnavailableException("audit log unreachable: " + err.getMessage(), err));
                return;
            }
            Decision d = policy.apply(request);
            if (d == null) {
                decision.completeExceptionally(new DecisionUnavailableException("no decision within " + deadline.toMillis() + "ms"));
                return;
            }
            if (d instanceof Decision.RequireApproval ra && !ra.deferred() && ra.approvalId() != null) {
                outcomes.put(request.requestId(), new CompletableFuture<>());
            }
            append(new AuditEvent.DecisionMade(dev.gatehouse.platform.core.EventHeader.now(request.sessionId(), "policy", "test"),
                    request.requestId(), request instanceof AuditEvent.CommandReceived c ? c.command().sequence() : 0, d,
                    request.edgeId(), 0, request.mode(), Duration.ZERO));
            decision.complete(d);
        });
        return decision;
    }

    @Override
    public CompletionStage<Void> record(AuditEvent.DecisionRequest request) {
        return append(request).exceptionallyCompose(err -> CompletableFuture.failedFuture(
                new DecisionUnavailableException("audit log unreachable: " + err.getMessage(), err)));
    }

    @Override
    public CompletionStage<Decision> awaitOutcome(CommandId commandId, Duration deadline) {
        CompletableFuture<Decision> outcome = outcomes.get(commandId);
        if (outcome == null) {
            return CompletableFuture.failedFuture(new DecisionUnavailableException("no approval is awaited for command " + commandId));
        }
        return outcome;
    }

    /** The approval service's outcome for a held command: {@link Decision.Allow} or {@link Decision.Deny}. */
    public void outcome(CommandId commandId, Decision outcome) {
        CompletableFuture<Decision> waiting = outcomes.get(commandId);
        if (waiting == null) throw new IllegalStateException("command " + commandId + " is not held for approval");
        waiting.complete(outcome);
    }

    /** Every event appended so far, in order. */
    public List<AuditEvent> events() {
        synchronized (log) {
            return List.copyOf(log);
        }
    }

    /** The events of one type, in order. */
    public <T extends AuditEvent> List<T> events(Class<T> type) {
        return events().stream().filter(type::isInstance).map(type::cast).toList();
    }
}
