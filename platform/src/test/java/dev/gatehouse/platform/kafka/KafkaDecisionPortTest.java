package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DecisionUnavailableException;
import dev.gatehouse.platform.core.SessionId;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
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
    private static final EventSerde<AuditEvent> SERDE = TestEvents.inMemorySerde();
    private static final SimpleMeterRegistry METERS = new SimpleMeterRegistry();

    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    @BeforeAll
    static void startKafka() {
        kafka = EmbeddedKafka.start(dir, 0);
        TopicInitializer.ensure(kafka.bootstrapServers(), TopicSettings.defaults(PARTITIONS, (short) 1), Duration.ofSeconds(30));
        sink = new KafkaAuditSink(KafkaAuditSink.Settings.of(kafka.bootstrapServers(), Duration.ofSeconds(5)), SERDE, METERS);
    }

    @AfterAll
    static void stopKafka() {
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
        return closing(new KafkaDecisionPort(KafkaDecisionPort.Settings.of(kafka.bootstrapServers(), edgeId), sink, SERDE));
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
        assertThat(METERS.find("gatehouse.produce.latency").timer()).isNotNull();
        assertThat(METERS.find("gatehouse.produce.latency").timer().count()).isPositive();
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
        AuditEvent.CommandReceived plain = TestEvents.command(session, "edge-refusal", port.replyPartition());
        AuditEvent.CommandReceived refused = new AuditEvent.CommandReceived(
                dev.gatehouse.platform.core.EventHeader.now(session, "edge", "edge-refusal"),
                TestEvents.command(session, "edge-refusal", port.replyPartition()).command(), plain.identity(),
                plain.connection(), plain.edgeId(), plain.replyPartition(), plain.mode(), null, null,
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

    private static List<AuditEvent> tail(SessionId session, int expected) {
        List<AuditEvent> events = new ArrayList<>();
        await().atMost(Duration.ofSeconds(10)).until(() -> {
            events.clear();
            try (AuditTail tail = new AuditTail(kafka.bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(10), SERDE)) {
                tail.read(session, false, events::add);
            }
            return events.size() >= expected;
        });
        return events;
    }
}
