package dev.gatehouse.platform.kafka;

import dev.gatehouse.dev.EmbeddedKafka;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DecisionUnavailableException;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Decisions made by the edge's own process, against a real embedded broker, beside a decision
 * service that answers everything it decides with its own rule id ("service"), so the log shows
 * who decided what.
 */
class InlineDecisionPortTest {

    private static final int PARTITIONS = 2;
    private static final EventSerde<AuditEvent> SERDE = TestEvents.inMemorySerde();

    @TempDir
    static Path dir;

    private static EmbeddedKafka kafka;
    private static KafkaAuditSink sink;
    private static DecisionService service;

    private final List<AutoCloseable> closeAfter = new ArrayList<>();

    @BeforeAll
    static void start() {
        kafka = EmbeddedKafka.start(dir, 0);
        TopicInitializer.ensure(kafka.bootstrapServers(), TopicSettings.defaults(PARTITIONS, (short) 1), Duration.ofSeconds(30));
        sink = new KafkaAuditSink(KafkaAuditSink.Settings.of(kafka.bootstrapServers(), Duration.ofSeconds(5)), SERDE, null);
        service = new DecisionService(DecisionService.Settings.of(kafka.bootstrapServers(), "test-policy"), SERDE,
                request -> decision(request, "service", false), null);
    }

    @AfterAll
    static void stop() {
        if (service != null) service.close();
        if (sink != null) sink.close();
        if (kafka != null) kafka.close();
    }

    @AfterEach
    void closeResources() throws Exception {
        for (AutoCloseable c : closeAfter.reversed()) c.close();
    }

    /** A decision about {@code request} by {@code rule}: an Allow, or a Deny when {@code allow} is false. */
    private static AuditEvent.DecisionMade decision(AuditEvent.DecisionRequest request, String rule, boolean allow) {
        CommandId id = request.requestId();
        Decision decision = allow ? new Decision.Allow(id, rule, "allowed", "v1") : new Decision.Deny(id, rule, "denied", "v1");
        return new AuditEvent.DecisionMade(EventHeader.now(request.sessionId(), "policy", rule), id, 1, decision,
                request.edgeId(), request.replyPartition(), request.mode(), Duration.ZERO);
    }

    private KafkaDecisionPort viaService(String edgeId) {
        KafkaDecisionPort port = new KafkaDecisionPort(KafkaDecisionPort.Settings.of(kafka.bootstrapServers(), edgeId), sink, SERDE);
        closeAfter.add(port);
        return port;
    }

    private InlineDecisionPort inline(KafkaDecisionPort viaService, KafkaAuditSink sink,
                                      Function<AuditEvent.DecisionRequest, Optional<AuditEvent.DecisionMade>> decider) {
        return new InlineDecisionPort(viaService, sink, decider, "edge-and-policy-1");
    }

    @Test
    void aRequestDecidedHereIsWrittenWithItsDecisionAndNoDecisionServiceDecidesItAgain() throws Exception {
        // Given
        KafkaDecisionPort viaService = viaService("edge-inline");
        InlineDecisionPort port = inline(viaService, sink, request -> Optional.of(decision(request, "inline", true)));
        SessionId session = SessionId.random();
        AuditEvent.CommandReceived first = TestEvents.command(session, "edge-inline", port.replyPartition());
        AuditEvent.CommandReceived second = TestEvents.command(session, "edge-inline", port.replyPartition());

        // When: the first command is decided here; the second goes through the decision service,
        // which reads the session's partition in order, so it has read the first when it answers
        Decision here = port.decide(first, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
        Decision there = viaService.decide(second, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);

        // Then: each has exactly one decision in the log, after its command
        assertThat(here.ruleId()).isEqualTo("inline");
        assertThat(there.ruleId()).isEqualTo("service");
        List<AuditEvent> log = tail(session, 4);
        assertThat(log).hasSize(4);
        assertThat(log.get(0)).isEqualTo(first);
        assertThat(log.get(1)).isInstanceOfSatisfying(AuditEvent.DecisionMade.class, made -> {
            assertThat(made.commandId()).isEqualTo(first.requestId());
            assertThat(made.decision().ruleId()).isEqualTo("inline");
        });
        assertThat(log.get(2)).isEqualTo(second);
        assertThat(log.get(3)).isInstanceOfSatisfying(AuditEvent.DecisionMade.class, made ->
                assertThat(made.commandId()).isEqualTo(second.requestId()));
    }

    @Test
    void anObserveModeRequestIsRecordedWithItsDecision() throws Exception {
        // Given
        InlineDecisionPort port = inline(viaService("edge-observe"), sink, request -> Optional.of(decision(request, "inline", false)));
        SessionId session = SessionId.random();
        AuditEvent.CommandReceived command = TestEvents.command(session, "edge-observe", port.replyPartition(), "observe", null);

        // When
        port.record(command).toCompletableFuture().get(15, TimeUnit.SECONDS);

        // Then
        List<AuditEvent> log = tail(session, 2);
        assertThat(log.get(0)).isEqualTo(command);
        assertThat(log.get(1)).isInstanceOfSatisfying(AuditEvent.DecisionMade.class, made ->
                assertThat(made.decision().ruleId()).isEqualTo("inline"));
    }

    @Test
    void whatTheDeciderLeavesOrFailsOnIsDecidedByTheDecisionService() throws Exception {
        // Given: a decider that leaves the first request (it would ask for an approval) and fails on the second
        List<AuditEvent.DecisionRequest> seen = new ArrayList<>();
        InlineDecisionPort port = inline(viaService("edge-leaves"), sink, request -> {
            seen.add(request);
            if (seen.size() == 1) return Optional.empty();
            throw new IllegalStateException("policy broken");
        });
        AuditEvent.CommandReceived left = TestEvents.command("edge-leaves", port.replyPartition());
        AuditEvent.CommandReceived failed = TestEvents.command("edge-leaves", port.replyPartition());

        // When
        Decision first = port.decide(left, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);
        Decision second = port.decide(failed, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);

        // Then
        assertThat(seen).containsExactly(left, failed);
        assertThat(first.ruleId()).isEqualTo("service");
        assertThat(second.ruleId()).isEqualTo("service");
    }

    @Test
    void aStreamDecidedInlinePausesTheServicesPollingAndARequestToDecideIsStillDecidedByIt() throws Exception {
        // Given: a stream of commands decided here
        KafkaDecisionPort viaService = viaService("edge-stream");
        InlineDecisionPort port = inline(viaService, sink, request -> Optional.of(decision(request, "inline", true)));
        SessionId session = SessionId.random();
        long pausesBefore = service.pauses();
        for (int i = 0; i < 30; i++) {
            Decision here = port.decide(TestEvents.command(session, "edge-stream", port.replyPartition()), Duration.ofSeconds(10))
                    .toCompletableFuture().get(15, TimeUnit.SECONDS);
            assertThat(here.ruleId()).isEqualTo("inline");
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> service.pauses() > pausesBefore);

        // When: a command comes that only the decision service decides
        AuditEvent.CommandReceived command = TestEvents.command(session, "edge-stream", port.replyPartition());
        Decision there = viaService.decide(command, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS);

        // Then: the service read it, paused or not, and decided it once
        assertThat(there.ruleId()).isEqualTo("service");
        List<AuditEvent> log = tail(session, 62);
        assertThat(log.get(60)).isEqualTo(command);
        assertThat(log.stream().filter(e -> e instanceof AuditEvent.DecisionMade made
                && made.commandId().equals(command.requestId()))).hasSize(1);
    }

    @Test
    void aRequestThatCannotBeWrittenFailsClosed() {
        // Given: a sink that can no longer write
        KafkaAuditSink closed = new KafkaAuditSink(KafkaAuditSink.Settings.of(kafka.bootstrapServers(), Duration.ofSeconds(5)), SERDE, null);
        closed.close();
        InlineDecisionPort port = inline(viaService("edge-closed"), closed, request -> Optional.of(decision(request, "inline", true)));
        AuditEvent.CommandReceived command = TestEvents.command("edge-closed", port.replyPartition());

        // When / Then: no decision is handed out, so nothing runs
        assertThatThrownBy(() -> port.decide(command, Duration.ofSeconds(10)).toCompletableFuture().get(15, TimeUnit.SECONDS))
                .isInstanceOf(ExecutionException.class)
                .cause().isInstanceOf(DecisionUnavailableException.class)
                .hasMessageContaining("not written to the audit log");
    }

    private static List<AuditEvent> tail(SessionId session, int expected) {
        return TestEvents.tail(kafka.bootstrapServers(), SERDE, session, expected);
    }
}
