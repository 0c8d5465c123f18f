package dev.gatehouse.platform.kafka;

import dev.gatehouse.dev.EmbeddedKafka;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DecisionUnavailableException;
import dev.gatehouse.platform.core.SessionId;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The Kafka adapters against one real embedded broker shared by the class. */
class KafkaDecisionPortTest {

    private static final int PARTITIONS = 4;

    @TempDir
    static Path dir;

    private static EmbeddedKafka kafka;
    private static KafkaAuditSink sink;
    private static KafkaProducer<String, byte[]> decisionWriter;
    private static final EventSerde<AuditEvent> SERDE = TestEvents.inMemorySerde();
    private static final SimpleMeterRegistry METERS = new SimpleMeterRegistry();

    private final List<AutoCloseable> closeAfter = new ArrayList<>();
    /** Acknowledgements given by hand, for the tests of write-ahead. */
    private final ControlledAuditSink acks = new ControlledAuditSink();

    @BeforeAll
    static void startKafka() {
        kafka = EmbeddedKafka.start(dir, 0);
        TopicInitializer.ensure(kafka.bootstrapServers(), TopicSettings.defaults(PARTITIONS, (short) 1), Duration.ofSeconds(30));
        sink = new KafkaAuditSink(KafkaAuditSink.Settings.of(kafka.bootstrapServers(), Duration.ofSeconds(5)), SERDE, METERS);
        decisionWriter = TestEvents.decisionWriter(kafka.bootstrapServers());
    }

    @AfterAll
    static void stopKafka() {
        if (decisionWriter != null) decisionWriter.close();
        if (sink != null) sink.close();
        if (kafka != null) kafka.close();
    }

    @AfterEach
    void closeResources() throws Exception {
        for (AutoCloseable c : closeAfter.reversed()) c.close();
    }

    private <T extends AutoCloseable> T closing(T resource) {
        closeAfter.add(resource);
        return resource;
    }

    private KafkaDecisionPort port(String edgeId) {
        return port(edgeId, sink);
    }

    private KafkaDecisionPort port(String edgeId, AuditSink appends) {
        return closing(new KafkaDecisionPort(KafkaDecisionPort.Settings.of(kafka.bootstrapServers(), edgeId), appends, SERDE));
    }

    private DecisionService policyLoop(Function<AuditEvent.CommandReceived, AuditEvent.DecisionMade> policy) {
        return closing(new DecisionService(DecisionService.Settings.of(kafka.bootstrapServers(), "test-policy"), SERDE,
                request -> policy.apply((AuditEvent.CommandReceived) request), null));
    }

    @Test
    void aConnectionRequestIsDecidedThroughTheSameLoopByItsRequestId() throws Exception {
        // Given: a policy that refuses every connection and allows every command
        closing(new DecisionService(DecisionService.Settings.of(kafka.bootstrapServers(), "test-policy"), SERDE,
                request -> switch (request) {
                    case AuditEvent.CommandReceived c -> TestEvents.allow(c);
                    case AuditEvent.SessionRequested r -> new AuditEvent.DecisionMade(
                            dev.gatehouse.platform.core.EventHeader.now(r.sessionId(), "policy", "test"), r.requestId(), 0,
                            new Decision.Deny(r.requestId(), "no-connects", "no connections today", "v1"), r.edgeId(),
                            r.replyPartition(), r.mode(), Duration.ZERO);
                }, null));
        KafkaDecisionPort port = port("edge-connect");
        SessionId session = SessionId.random();
        AuditEvent.SessionRequested request = new AuditEvent.SessionRequested(
                dev.gatehouse.platform.core.EventHeader.now(session, "edge", "edge-connect"),
                dev.gatehouse.platform.core.CommandId.random(), TestEvents.command(session, "edge-connect", 0).identity(),
                TestEvents.command(session, "edge-connect", 0).connection(), "127.0.0.1", "app", "psql", "edge-connect",
                port.replyPartition(), "enforce");

        // When
        Decision decision = port.decide(request, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);

        // Then
        assertThat(decision).isInstanceOf(Decision.Deny.class);
        assertThat(decision.commandId()).isEqualTo(request.requestId());
        assertThat(decision.ruleId()).isEqualTo("no-connects");
        List<AuditEvent> log = tail(session, 2);
        assertThat(log.get(0)).isEqualTo(request);
        assertThat(log.get(1)).isInstanceOfSatisfying(AuditEvent.DecisionMade.class, made -> {
            assertThat(made.commandId()).isEqualTo(request.requestId());
            assertThat(made.sequence()).isZero();
        });
    }

    @Test
    void decideRoundTripWritesCommandAheadAndReturnsTheDecision() throws Exception {
        // Given
        policyLoop(TestEvents::allow);
        KafkaDecisionPort port = port("edge-round-trip");
        AuditEvent.CommandReceived command = TestEvents.command("edge-round-trip", port.replyPartition());

        // When
        long t0 = System.nanoTime();
        Decision decision = port.decide(command, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
        System.out.println("decide() round trip: " + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - t0) + " ms");

        // Then
        assertThat(decision).isInstanceOf(Decision.Allow.class);
        assertThat(decision.commandId()).isEqualTo(command.command().id());
        assertThat(port.pendingCount()).isZero();
        List<AuditEvent> log = tail(command.sessionId(), 2);
        assertThat(log).hasSize(2);
        assertThat(log.get(0)).isEqualTo(command);
        assertThat(log.get(1)).isInstanceOfSatisfying(AuditEvent.DecisionMade.class,
                made -> assertThat(made.commandId()).isEqualTo(command.command().id()));
        assertThat(METERS.find("gatehouse.produce.latency").tag("records", "write-ahead").timer()).isNotNull();
        assertThat(METERS.find("gatehouse.produce.latency").tag("records", "write-ahead").timer().count()).isPositive();
    }

    @Test
    void writesTheRecordsNobodyWaitsForAfterTheCommandAndInTheirOrder() throws Exception {
        // Given: a command, then what the edge writes after it ran and when its session ends
        AuditEvent.CommandReceived command = TestEvents.command("edge-after-the-fact", 0);
        SessionId session = command.sessionId();
        var completed = new AuditEvent.CommandCompleted(new dev.gatehouse.platform.core.EventHeader("after-1", session,
                Instant.now(), "edge", "edge-after-the-fact"), command.command().id(), command.command().sequence(),
                new AuditEvent.Outcome(true, List.of("SELECT 1"), 1, null, null, Duration.ofMillis(1), 10, "I"));
        var closed = new AuditEvent.SessionClosed(new dev.gatehouse.platform.core.EventHeader("after-2", session,
                Instant.now(), "edge", "edge-after-the-fact"), "client terminated", 1, Duration.ofSeconds(1));
        long lingeredBefore = METERS.find("gatehouse.produce.latency").tag("records", "after-the-fact").timer().count();

        // When
        sink.append(command).toCompletableFuture().get(10, TimeUnit.SECONDS);
        var first = sink.append(completed).toCompletableFuture();
        var second = sink.append(closed).toCompletableFuture();
        first.get(10, TimeUnit.SECONDS);
        second.get(10, TimeUnit.SECONDS);

        // Then: both acknowledged through the lingering producer, in the log after the command, in order
        assertThat(KafkaAuditSink.afterTheFact(command)).isFalse();
        assertThat(KafkaAuditSink.afterTheFact(completed)).isTrue();
        assertThat(METERS.find("gatehouse.produce.latency").tag("records", "after-the-fact").timer().count())
                .isEqualTo(lingeredBefore + 2);
        assertThat(tail(session, 3)).containsExactly(command, completed, closed);
    }

    @Test
    void aCommandTheEdgeRefusedIsNotDecided() throws Exception {
        // Given: a policy loop that records what it is asked, and a command the edge refused itself
        List<AuditEvent.DecisionRequest> asked = new CopyOnWriteArrayList<>();
        DecisionService loop = closing(new DecisionService(DecisionService.Settings.of(kafka.bootstrapServers(),
                "test-policy"), SERDE, request -> {
            asked.add(request);
            return TestEvents.allow((AuditEvent.CommandReceived) request);
        }, null));
        KafkaDecisionPort port = port("edge-refusal");
        SessionId session = SessionId.random();
        AuditEvent.CommandReceived refused = TestEvents.command(session, "edge-refusal", port.replyPartition(), "enforce",
                "standard_conforming_strings is pinned to on by Gatehouse");
        AuditEvent.CommandReceived next = TestEvents.command(session, "edge-refusal", port.replyPartition());

        // When: the refused command is recorded, then the next one of the session is decided
        port.record(refused).toCompletableFuture().get(10, TimeUnit.SECONDS);
        Decision decision = port.decide(next, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);

        // Then: decided in log order, the refused command was skipped: never asked, no decision written
        assertThat(decision.commandId()).isEqualTo(next.command().id());
        assertThat(asked).containsExactly(next);
        List<AuditEvent> log = tail(session, 3);
        assertThat(log).hasSize(3);
        assertThat(log.get(0)).isEqualTo(refused);
        assertThat(log.get(1)).isEqualTo(next);
        assertThat(log.get(2)).isInstanceOfSatisfying(AuditEvent.DecisionMade.class,
                made -> assertThat(made.commandId()).isEqualTo(next.command().id()));
        assertThat(loop.decidedCount()).isEqualTo(1);
        assertThat(DecisionService.awaitsDecision(refused)).isFalse();
        assertThat(DecisionService.awaitsDecision(next)).isTrue();
    }

    @Test
    void anObservedCommandIsDecidedIntoTheLogButNotRoutedToTheEdge() throws Exception {
        // Given: a policy loop, and an observe-mode command the edge records without waiting
        closing(new DecisionService(DecisionService.Settings.of(kafka.bootstrapServers(), "test-policy"), SERDE,
                request -> TestEvents.allow((AuditEvent.CommandReceived) request), null));
        KafkaDecisionPort port = port("edge-observed");
        SessionId session = SessionId.random();
        AuditEvent.CommandReceived enforced = TestEvents.command(session, "edge-observed", port.replyPartition());
        AuditEvent.CommandReceived observed = TestEvents.command(session, "edge-observed", port.replyPartition(), "observe", null);

        // When: the observed command is recorded, then the next command of the session is decided
        port.record(observed).toCompletableFuture().get(10, TimeUnit.SECONDS);
        Decision decision = port.decide(enforced, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);

        // Then: both decided into the audit log, in log order; only the awaited one reached the edge's partition
        assertThat(decision.commandId()).isEqualTo(enforced.command().id());
        List<AuditEvent> log = tail(session, 4);
        assertThat(log).hasSize(4);
        assertThat(log.stream().filter(AuditEvent.DecisionMade.class::isInstance)
                .map(e -> ((AuditEvent.DecisionMade) e).commandId()))
                .containsExactly(observed.command().id(), enforced.command().id());
        List<CommandId> routed = new ArrayList<>();
        try (AuditTail decisions = new AuditTail(kafka.bootstrapServers(), Topics.DECISIONS, Duration.ofSeconds(10), SERDE)) {
            decisions.read(session, false, event -> routed.add(((AuditEvent.DecisionMade) event).commandId()));
        }
        assertThat(routed).containsExactly(enforced.command().id());
        assertThat(observed.awaited()).isFalse();
        assertThat(enforced.awaited()).isTrue();
    }

    @Test
    void noDecisionWithinTheDeadlineFailsClosed() {
        // Given no policy loop runs
        KafkaDecisionPort port = port("edge-deadline");
        AuditEvent.CommandReceived command = TestEvents.command("edge-deadline", port.replyPartition());

        // When
        CompletableFuture<Decision> stage = port.decide(command, Duration.ofMillis(700)).toCompletableFuture();

        // Then
        await().atMost(Duration.ofSeconds(5)).until(stage::isDone);
        assertThatThrownBy(stage::join).hasCauseInstanceOf(DecisionUnavailableException.class)
                .hasMessageContaining("no decision within 700ms");
        assertThat(port.pendingCount()).isZero();
    }

    @Test
    void failingPolicyIsRecordedAsDeny() throws Exception {
        // Given
        policyLoop(c -> {
            throw new IllegalStateException("rule engine exploded");
        });
        KafkaDecisionPort port = port("edge-policy-error");
        AuditEvent.CommandReceived command = TestEvents.command("edge-policy-error", port.replyPartition());

        // When
        Decision decision = port.decide(command, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);

        // Then
        assertThat(decision).isInstanceOf(Decision.Deny.class);
        assertThat(decision.reason()).isEqualTo("policy evaluation failed");
        assertThat(decision.ruleId()).isEqualTo(DecisionService.POLICY_ERROR_RULE);
    }

    @Test
    void edgesSharingAReplyPartitionEachGetOnlyTheirOwnDecisions() throws Exception {
        // Given two edge ids on the same partition
        String first = "edge-shared-0";
        String second = null;
        for (int i = 1; second == null; i++) {
            if (KafkaDecisionPort.replyPartitionFor("edge-shared-" + i, PARTITIONS) == KafkaDecisionPort.replyPartitionFor(first, PARTITIONS)) {
                second = "edge-shared-" + i;
            }
        }
        policyLoop(TestEvents::allow);
        KafkaDecisionPort a = port(first);
        KafkaDecisionPort b = port(second);
        AuditEvent.CommandReceived forA = TestEvents.command(first, a.replyPartition());
        AuditEvent.CommandReceived forB = TestEvents.command(second, b.replyPartition());

        // When
        CompletableFuture<Decision> decisionA = a.decide(forA, Duration.ofSeconds(10)).toCompletableFuture();
        CompletableFuture<Decision> decisionB = b.decide(forB, Duration.ofSeconds(10)).toCompletableFuture();

        // Then
        assertThat(a.replyPartition()).isEqualTo(b.replyPartition());
        assertThat(decisionA.get(15, TimeUnit.SECONDS).commandId()).isEqualTo(forA.command().id());
        assertThat(decisionB.get(15, TimeUnit.SECONDS).commandId()).isEqualTo(forB.command().id());
        assertThat(a.pendingCount()).isZero();
        assertThat(b.pendingCount()).isZero();
    }

    @Test
    void recordAppendsWithoutWaitingForADecision() throws Exception {
        // Given
        KafkaDecisionPort port = port("edge-observe");
        AuditEvent.CommandReceived command = TestEvents.command("edge-observe", port.replyPartition());

        // When
        port.record(command).toCompletableFuture().get(10, TimeUnit.SECONDS);

        // Then
        assertThat(tail(command.sessionId(), 1)).containsExactly(command);
        assertThat(port.pendingCount()).isZero();
    }

    @Test
    void controlMessagesReachEverySubscriber() {
        // Given
        EventSerde<ControlMessage> serde = TestEvents.inMemorySerde();
        List<ControlMessage> seenByOne = new CopyOnWriteArrayList<>();
        List<ControlMessage> seenByTwo = new CopyOnWriteArrayList<>();
        ControlChannel one = closing(new ControlChannel(ControlChannel.Settings.of(kafka.bootstrapServers(), "edge-1"), serde, seenByOne::add));
        closing(new ControlChannel(ControlChannel.Settings.of(kafka.bootstrapServers(), "edge-2"), serde, seenByTwo::add));
        ControlMessage kill = new ControlMessage.KillSession(SessionId.random(), "revoked");

        // When
        one.publish(kill);

        // Then
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            assertThat(seenByOne).containsExactly(kill);
            assertThat(seenByTwo).containsExactly(kill);
        });
    }

    @Test
    void topicInitializerIsIdempotentAndWarnsOnPartitionMismatch() {
        // Given the topics exist with PARTITIONS partitions

        // When
        java.util.List<TopicSettings> settings = TopicSettings.defaults(PARTITIONS + 2, (short) 1);
        TopicInitializer.Report report = TopicInitializer.ensure(kafka.bootstrapServers(), settings, Duration.ofSeconds(30));

        // Then
        assertThat(report.created()).isEmpty();
        assertThat(report.existing()).contains(Topics.AUDIT, Topics.DECISIONS, Topics.CONTROL, Topics.POLICIES,
                Topics.REVOCATIONS, Topics.SESSIONS)
                .containsExactlyInAnyOrderElementsOf(settings.stream().map(TopicSettings::name).toList());
        long scaled = settings.stream().filter(t -> t.partitions() == PARTITIONS + 2).count();
        assertThat(report.warnings()).hasSize((int) scaled).allSatisfy(w -> assertThat(w).contains("partitions, configuration says " + (PARTITIONS + 2)));
    }

    @Test
    void auditTailWithoutFollowStopsAtTheEndCapturedAtStart() throws Exception {
        // Given
        SessionId session = SessionId.random();
        AuditEvent.CommandReceived one = TestEvents.command(session, "edge-tail", 0);
        AuditEvent.CommandReceived two = TestEvents.command(session, "edge-tail", 0);
        sink.append(one).toCompletableFuture().get(10, TimeUnit.SECONDS);
        sink.append(TestEvents.command("edge-tail", 0)).toCompletableFuture().get(10, TimeUnit.SECONDS);
        sink.append(two).toCompletableFuture().get(10, TimeUnit.SECONDS);

        // When
        List<AuditEvent> all = new ArrayList<>();
        List<AuditEvent> mine = new ArrayList<>();
        try (AuditTail tail = new AuditTail(kafka.bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(10), SERDE)) {
            tail.read(null, false, all::add);
        }
        try (AuditTail tail = new AuditTail(kafka.bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(10), SERDE)) {
            tail.read(session, false, mine::add);
        }

        // Then
        assertThat(mine).containsExactly(one, two);
        assertThat(all).hasSizeGreaterThanOrEqualTo(3).contains(one, two);
    }

    @Test
    void auditTailFollowDeliversNewEventsUntilClosed() throws Exception {
        // Given
        SessionId session = SessionId.random();
        AuditEvent.CommandReceived later = TestEvents.command(session, "edge-follow", 0);
        List<AuditEvent> seen = new CopyOnWriteArrayList<>();
        AuditTail tail = new AuditTail(kafka.bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(10), SERDE);
        CompletableFuture<Long> reading = CompletableFuture.supplyAsync(() -> tail.read(session, true, seen::add));

        // When
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            sink.append(later).toCompletableFuture().get(10, TimeUnit.SECONDS);
            assertThat(seen).contains(later);
        });
        tail.close();

        // Then
        assertThat(reading.get(10, TimeUnit.SECONDS)).isPositive();
    }

    @Test
    void aDecisionBeforeTheAcknowledgementWaitsForIt() throws Exception {
        // Given: a decision has arrived for a command whose append is not acknowledged yet
        KafkaDecisionPort port = port("edge-ack-late", acks);
        AuditEvent.CommandReceived command = TestEvents.command("edge-ack-late", port.replyPartition());
        CompletableFuture<Decision> stage = decidedButNotAcknowledged(port, command, allow(command), Duration.ofSeconds(30));
        CompletableFuture<String> completedOn = stage.thenApply(d -> Thread.currentThread().getName());

        // When
        boolean doneBeforeAck = stage.isDone();
        acks.acknowledge(command);

        // Then
        assertThat(doneBeforeAck).as("completed on the decision alone").isFalse();
        assertThat(stage.get(10, TimeUnit.SECONDS)).isEqualTo(allow(command));
        // on the thread that settled it (here: the acknowledgement's), without a hand-off to another thread
        assertThat(completedOn.get(10, TimeUnit.SECONDS)).isEqualTo(Thread.currentThread().getName());
        assertNothingLeft(port);
    }

    @Test
    void anAcknowledgementThatFailsAfterTheDecisionArrivedFailsClosed() throws Exception {
        // Given
        KafkaDecisionPort port = port("edge-ack-fails", acks);
        AuditEvent.CommandReceived command = TestEvents.command("edge-ack-fails", port.replyPartition());
        CompletableFuture<Decision> stage = decidedButNotAcknowledged(port, command, allow(command), Duration.ofSeconds(30));

        // When
        acks.fail(command);

        // Then
        assertThatThrownBy(() -> stage.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(DecisionUnavailableException.class)
                .hasMessageContaining("audit log unreachable: injected: not enough in-sync replicas");
        assertNothingLeft(port);
    }

    @Test
    void aConnectionAttemptWhoseAcknowledgementFailsAfterItsDecisionIsRefused() throws Exception {
        // Given
        KafkaDecisionPort port = port("edge-connect-ack", acks);
        AuditEvent.SessionRequested request = TestEvents.sessionRequest("edge-connect-ack", port.replyPartition());
        CompletableFuture<Decision> stage = decidedButNotAcknowledged(port, request,
                new Decision.Allow(request.requestId(), "connect-ok", "allowed by test", "v1"), Duration.ofSeconds(30));

        // When
        acks.fail(request);

        // Then
        assertThatThrownBy(() -> stage.get(10, TimeUnit.SECONDS))
                .cause().isInstanceOf(DecisionUnavailableException.class).hasMessageContaining("audit log unreachable");
        assertNothingLeft(port);
    }

    @Test
    void anAcknowledgementBeforeTheDecisionCompletesWithTheDecision() throws Exception {
        // Given: the append is acknowledged while no decision has been written
        KafkaDecisionPort port = port("edge-ack-first", acks);
        AuditEvent.CommandReceived command = TestEvents.command("edge-ack-first", port.replyPartition());
        CompletableFuture<Decision> stage = port.decide(command, Duration.ofSeconds(30)).toCompletableFuture();
        acks.acknowledge(command);
        boolean doneOnTheAckAlone = stage.isDone();

        // When
        reply(command, allow(command));

        // Then
        assertThat(doneOnTheAckAlone).isFalse();
        assertThat(stage.get(10, TimeUnit.SECONDS)).isEqualTo(allow(command));
        assertNothingLeft(port);
    }

    @Test
    void theDeadlinePassingWhileTheAcknowledgementIsAwaitedFailsClosed() throws Exception {
        // Given: the decision arrived, the acknowledgement does not come
        KafkaDecisionPort port = port("edge-ack-deadline", acks);
        AuditEvent.CommandReceived command = TestEvents.command("edge-ack-deadline", port.replyPartition());
        CompletableFuture<Decision> stage = decidedButNotAcknowledged(port, command, allow(command), Duration.ofSeconds(5));

        // When
        await().atMost(Duration.ofSeconds(15)).until(stage::isDone);
        acks.acknowledge(command); // too late

        // Then
        assertThatThrownBy(stage::join).hasCauseInstanceOf(DecisionUnavailableException.class)
                .hasMessageContaining("the audit log did not acknowledge the request within 5s");
        assertNothingLeft(port);
    }

    @Test
    void aHeldApprovalDecidedBeforeTheAcknowledgementStillGetsItsOutcome() throws Exception {
        // Given: the RequireApproval and, right behind it, the approval's Allow arrive before the acknowledgement
        KafkaDecisionPort port = port("edge-held-ack", acks);
        AuditEvent.CommandReceived command = TestEvents.command("edge-held-ack", port.replyPartition());
        CommandId id = command.command().id();
        CompletionStage<Decision> stage = port.decide(command, Duration.ofSeconds(30));
        Decision.RequireApproval held = held(id);
        Decision.Allow approved = new Decision.Allow(id, "approve-ddl", "approved by carol", "v1");
        reply(command, held);
        reply(command, approved);
        decisionsReadUpToHere(port);

        // When
        acks.acknowledge(command);
        Decision first = stage.toCompletableFuture().get(10, TimeUnit.SECONDS);
        Decision outcome = port.awaitOutcome(id, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);

        // Then
        assertThat(first).isEqualTo(held);
        assertThat(outcome).isEqualTo(approved);
        assertThat(port.pendingCount()).isZero();
    }

    @Test
    void aHeldApprovalWhoseAcknowledgementFailsLeavesNoOutcomeWaiter() throws Exception {
        // Given
        KafkaDecisionPort port = port("edge-held-fails", acks);
        AuditEvent.CommandReceived command = TestEvents.command("edge-held-fails", port.replyPartition());
        CompletableFuture<Decision> stage = decidedButNotAcknowledged(port, command, held(command.command().id()),
                Duration.ofSeconds(30));
        int waitersBefore = port.outcomeCount();

        // When
        acks.fail(command);

        // Then
        assertThatThrownBy(() -> stage.get(10, TimeUnit.SECONDS))
                .cause().isInstanceOf(DecisionUnavailableException.class);
        assertThat(waitersBefore).isEqualTo(1);
        assertThat(port.outcomeCount()).isZero();
        assertNothingLeft(port);
    }

    @Test
    void anAppendRefusedAtOnceFailsClosed() {
        // Given a sink that throws instead of returning a failed stage
        KafkaDecisionPort port = port("edge-refused", event -> {
            throw new IllegalStateException("producer closed");
        });
        AuditEvent.CommandReceived command = TestEvents.command("edge-refused", port.replyPartition());

        // When
        CompletableFuture<Decision> stage = port.decide(command, Duration.ofSeconds(30)).toCompletableFuture();

        // Then
        await().atMost(Duration.ofSeconds(5)).until(stage::isDone);
        assertThatThrownBy(stage::join).hasCauseInstanceOf(DecisionUnavailableException.class)
                .hasMessageContaining("audit log unreachable: producer closed");
        assertNothingLeft(port);
    }

    @Test
    void exactlyTheAcknowledgedRequestsAreDecidedWhateverTheOrder() throws Exception {
        // Given: requests whose acknowledgements come or fail before, with or after their decisions
        long seed = System.nanoTime();
        System.out.println("exactlyTheAcknowledgedRequestsAreDecidedWhateverTheOrder seed=" + seed);
        Random random = new Random(seed);
        KafkaDecisionPort port = port("edge-ack-shuffle", acks);
        List<AuditEvent.CommandReceived> commands = new ArrayList<>();
        List<CompletableFuture<Decision>> stages = new ArrayList<>();
        List<Boolean> acknowledged = new ArrayList<>();
        for (int i = 0; i < 200; i++) {
            AuditEvent.CommandReceived command = TestEvents.command("edge-ack-shuffle", port.replyPartition());
            commands.add(command);
            stages.add(port.decide(command, Duration.ofSeconds(60)).toCompletableFuture());
            acknowledged.add(random.nextInt(4) != 0);
        }

        // When
        List<Runnable> steps = new ArrayList<>();
        for (int i = 0; i < commands.size(); i++) {
            AuditEvent.CommandReceived command = commands.get(i);
            boolean ack = acknowledged.get(i);
            steps.add(() -> {
                if (ack) acks.acknowledge(command);
                else acks.fail(command);
            });
            steps.add(() -> {
                try {
                    reply(command, allow(command));
                } catch (Exception e) {
                    throw new IllegalStateException(e);
                }
            });
        }
        java.util.Collections.shuffle(steps, random);
        steps.forEach(Runnable::run);

        // Then
        await().atMost(Duration.ofSeconds(60)).until(() -> stages.stream().allMatch(CompletableFuture::isDone));
        for (int i = 0; i < commands.size(); i++) {
            assertThat(stages.get(i).isCompletedExceptionally()).as("request %d, acknowledged: %s (seed %d)", i,
                    acknowledged.get(i), seed).isEqualTo(!acknowledged.get(i));
        }
        assertNothingLeft(port);
    }

    /**
     * Asks for a decision about {@code request} and writes {@code decision}, and returns once the
     * port has read it, with the request's append not acknowledged.
     */
    private CompletableFuture<Decision> decidedButNotAcknowledged(KafkaDecisionPort port, AuditEvent.DecisionRequest request,
                                                                  Decision decision, Duration deadline) throws Exception {
        CompletableFuture<Decision> stage = port.decide(request, deadline).toCompletableFuture();
        reply(request, decision);
        decisionsReadUpToHere(port);
        return stage;
    }

    /**
     * Returns once the port has read every decision written so far to its partition: a marker
     * request, acknowledged at once, is decided behind them and its stage completes.
     */
    private void decisionsReadUpToHere(KafkaDecisionPort port) throws Exception {
        AuditEvent.CommandReceived marker = TestEvents.command("marker", port.replyPartition());
        CompletionStage<Decision> stage = port.decide(marker, Duration.ofSeconds(30));
        acks.acknowledge(marker);
        reply(marker, allow(marker));
        stage.toCompletableFuture().get(15, TimeUnit.SECONDS);
    }

    /** No request pending and no timer queued: settled requests leave nothing behind. */
    private static void assertNothingLeft(KafkaDecisionPort port) {
        await().atMost(Duration.ofSeconds(5)).untilAsserted(() -> {
            assertThat(port.pendingCount()).isZero();
            assertThat(port.scheduledCount()).as("queued timers").isZero();
        });
    }

    private static void reply(AuditEvent.DecisionRequest request, Decision decision) throws Exception {
        TestEvents.reply(decisionWriter, SERDE, request, decision);
    }

    private static Decision.Allow allow(AuditEvent.CommandReceived command) {
        return new Decision.Allow(command.command().id(), "test-allow", "allowed by test", "v1");
    }

    private static Decision.RequireApproval held(CommandId id) {
        return new Decision.RequireApproval(id, "approve-ddl", "DDL needs a DBA", "v1", "dba", 1, "ap-1",
                Decision.RequireApproval.HOLD, Instant.now().plus(Duration.ofMinutes(10)), "#db-approvals");
    }

    private static List<AuditEvent> tail(SessionId session, int expected) {
        return TestEvents.tail(kafka.bootstrapServers(), SERDE, session, expected);
    }
}
