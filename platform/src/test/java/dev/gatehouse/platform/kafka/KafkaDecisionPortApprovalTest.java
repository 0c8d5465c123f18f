package dev.gatehouse.platform.kafka;

import dev.gatehouse.dev.EmbeddedKafka;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DecisionUnavailableException;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Held approvals through the decision port: the outcome, a second decision for the same command, is never lost. */
class KafkaDecisionPortApprovalTest {

    @TempDir
    static Path dir;

    private static EmbeddedKafka kafka;
    private static KafkaAuditSink sink;
    private static KafkaProducer<String, byte[]> producer;
    private static final EventSerde<AuditEvent> SERDE = TestEvents.inMemorySerde();

    @BeforeAll
    static void startKafka() {
        kafka = EmbeddedKafka.start(dir, 0);
        TopicInitializer.ensure(kafka.bootstrapServers(), TopicSettings.defaults(2, (short) 1), Duration.ofSeconds(30));
        sink = new KafkaAuditSink(KafkaAuditSink.Settings.of(kafka.bootstrapServers(), Duration.ofSeconds(5)), SERDE,
                new SimpleMeterRegistry());
        producer = TestEvents.decisionWriter(kafka.bootstrapServers());
    }

    @AfterAll
    static void stopKafka() {
        if (producer != null) producer.close();
        if (sink != null) sink.close();
        if (kafka != null) kafka.close();
    }

    @Test
    void anOutcomeArrivingRightBehindTheRequireApprovalIsHandedToTheLaterWaiter() throws Exception {
        try (KafkaDecisionPort port = port("edge-held")) {
            // Given: the policy's RequireApproval and, at once, the approval service's Allow
            AuditEvent.CommandReceived command = TestEvents.command("edge-held", port.replyPartition());
            CompletionStage<Decision> first = port.decide(command, Duration.ofSeconds(10));
            CommandId id = command.command().id();
            reply(command, held(id, Instant.now().plus(Duration.ofMinutes(10))));
            reply(command, new Decision.Allow(id, "approve-ddl", "approved by carol (approval ap-1)", "v1"));
            Decision decided = first.toCompletableFuture().get(15, TimeUnit.SECONDS);

            // When
            Decision outcome = awaitWhenArrived(port, id);

            // Then
            assertThat(decided).isInstanceOf(Decision.RequireApproval.class);
            assertThat(outcome).isEqualTo(new Decision.Allow(id, "approve-ddl", "approved by carol (approval ap-1)", "v1"));
        }
    }

    @Test
    void aRedeliveredRequireApprovalIsNotTakenForTheOutcome() throws Exception {
        try (KafkaDecisionPort port = port("edge-redelivered")) {
            // Given
            AuditEvent.CommandReceived command = TestEvents.command("edge-redelivered", port.replyPartition());
            CommandId id = command.command().id();
            CompletionStage<Decision> first = port.decide(command, Duration.ofSeconds(10));
            Decision.RequireApproval held = held(id, Instant.now().plus(Duration.ofMinutes(10)));
            reply(command, held);
            first.toCompletableFuture().get(15, TimeUnit.SECONDS);
            CompletionStage<Decision> outcome = port.awaitOutcome(id, Duration.ofSeconds(20));

            // When
            reply(command, held);
            reply(command, new Decision.Deny(id, "approval-denied", "denied by carol: not during business hours", "v1"));

            // Then
            assertThat(outcome.toCompletableFuture().get(15, TimeUnit.SECONDS))
                    .isEqualTo(new Decision.Deny(id, "approval-denied", "denied by carol: not during business hours", "v1"));
        }
    }

    @Test
    void noOutcomeWithinTheDeadlineFailsClosed() throws Exception {
        try (KafkaDecisionPort port = port("edge-no-outcome")) {
            // Given
            AuditEvent.CommandReceived command = TestEvents.command("edge-no-outcome", port.replyPartition());
            CommandId id = command.command().id();
            CompletionStage<Decision> first = port.decide(command, Duration.ofSeconds(10));
            reply(command, held(id, Instant.now().plus(Duration.ofMinutes(10))));
            first.toCompletableFuture().get(15, TimeUnit.SECONDS);

            // When
            CompletionStage<Decision> outcome = port.awaitOutcome(id, Duration.ofMillis(300));

            // Then
            assertThatThrownBy(() -> outcome.toCompletableFuture().get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(DecisionUnavailableException.class).hasMessageContaining("no approval outcome within");
            assertThat(port.outcomeCount()).isZero();
        }
    }

    @Test
    void nothingIsAwaitedForADeferredApprovalOrAnUnknownCommand() throws Exception {
        try (KafkaDecisionPort port = port("edge-deferred")) {
            // Given
            AuditEvent.CommandReceived command = TestEvents.command("edge-deferred", port.replyPartition());
            CommandId id = command.command().id();
            CompletionStage<Decision> first = port.decide(command, Duration.ofSeconds(10));
            reply(command, new Decision.RequireApproval(id, "approve-deletes", "deletes need a DBA", "v1", "dba", 1,
                    "ap-2", Decision.RequireApproval.DEFERRED, Instant.now().plus(Duration.ofMinutes(10)), "#db"));
            first.toCompletableFuture().get(15, TimeUnit.SECONDS);

            // When
            CompletionStage<Decision> deferred = port.awaitOutcome(id, Duration.ofSeconds(5));
            CompletionStage<Decision> unknown = port.awaitOutcome(CommandId.random(), Duration.ofSeconds(5));

            // Then
            assertThatThrownBy(() -> deferred.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .cause().isInstanceOf(DecisionUnavailableException.class).hasMessageContaining("no approval is awaited");
            assertThatThrownBy(() -> unknown.toCompletableFuture().get(5, TimeUnit.SECONDS))
                    .cause().isInstanceOf(DecisionUnavailableException.class);
        }
    }

    private static KafkaDecisionPort port(String edgeId) {
        return new KafkaDecisionPort(KafkaDecisionPort.Settings.of(kafka.bootstrapServers(), edgeId), sink, SERDE);
    }

    /** Asks for the outcome once the Allow was written right behind the RequireApproval (it has most likely arrived). */
    private static Decision awaitWhenArrived(KafkaDecisionPort port, CommandId id) throws Exception {
        return port.awaitOutcome(id, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
    }

    private static Decision.RequireApproval held(CommandId id, Instant expiresAt) {
        return new Decision.RequireApproval(id, "approve-ddl", "DDL needs a DBA", "v1", "dba", 1, "ap-1",
                Decision.RequireApproval.HOLD, expiresAt, "#db-approvals");
    }

    private static void reply(AuditEvent.CommandReceived command, Decision decision) throws Exception {
        TestEvents.reply(producer, SERDE, command, decision);
    }
}
