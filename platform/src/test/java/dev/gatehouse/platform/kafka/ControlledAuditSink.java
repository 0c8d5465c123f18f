package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.CommandId;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

import static org.awaitility.Awaitility.await;

/**
 * An audit sink whose acknowledgements the test gives by hand: every append of a request is held
 * until the test {@linkplain #acknowledge acknowledges} or {@linkplain #fail fails} it. Nothing is
 * written anywhere; the tests write the decisions themselves.
 */
final class ControlledAuditSink implements AuditSink {

    private final Map<CommandId, CompletableFuture<Void>> appends = new ConcurrentHashMap<>();

    @Override
    public CompletionStage<Void> append(AuditEvent event) {
        CompletableFuture<Void> ack = new CompletableFuture<>();
        if (event instanceof AuditEvent.DecisionRequest request) appends.put(request.requestId(), ack);
        else ack.complete(null);
        return ack;
    }

    /** Acknowledges the request's append, as the broker's {@code acks=all} answer would. */
    void acknowledge(AuditEvent.DecisionRequest request) {
        appended(request).complete(null);
    }

    /** Turns the request's acknowledgement into a failure (a produce error). */
    void fail(AuditEvent.DecisionRequest request) {
        appended(request).completeExceptionally(new org.apache.kafka.common.errors.NotEnoughReplicasException(
                "injected: not enough in-sync replicas"));
    }

    private CompletableFuture<Void> appended(AuditEvent.DecisionRequest request) {
        // look first: Awaitility waits its poll delay even for a condition that holds at once
        if (!appends.containsKey(request.requestId())) {
            await().atMost(Duration.ofSeconds(10)).until(() -> appends.containsKey(request.requestId()));
        }
        return appends.get(request.requestId());
    }
}
