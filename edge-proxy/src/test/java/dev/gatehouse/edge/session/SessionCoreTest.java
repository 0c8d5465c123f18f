package dev.gatehouse.edge.session;

import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.EdgeMetrics;
import dev.gatehouse.edge.RevocationCheck;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import dev.gatehouse.testsupport.InMemoryDecisionPort;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The session core without sockets: a recording protocol adapter, an in-memory decision port and
 * audit log, and a scheduler the test drives.
 */
class SessionCoreTest {

    private static final TargetConnection ENFORCE = new TargetConnection("demo", "127.0.0.1", 5432, "demo", "gh", "pw", false,
            null, TargetConnection.Mode.ENFORCE, Map.of("env", "demo"));
    private static final TargetConnection OBSERVE = new TargetConnection("demo-observe", "127.0.0.1", 5432, "demo", "gh", "pw",
            false, null, TargetConnection.Mode.OBSERVE, Map.of());
    private static final Identity ALICE = new Identity("alice", "https://issuer.test", List.of("dba"), List.of(),
            Map.of("exp", Instant.parse("2026-12-02T11:00:00Z").getEpochSecond()), null);

    /** What the core asked of its adapter, in order. */
    static final class RecordingProtocol implements SessionProtocol {
        final List<String> calls = new ArrayList<>();
        final List<PendingCommand> forwarded = new ArrayList<>();
        final List<Refusal> refusals = new ArrayList<>();
        CompletableFuture<TargetLogin> login = CompletableFuture.completedFuture(new TargetLogin(Map.of("client_encoding", "UTF8"), 4242));

        @Override
        public String name() {
            return "postgres";
        }

        @Override
        public String errorCode(Refusal refusal) {
            return refusal.code() != null ? refusal.code() : refusal.kind().name();
        }

        @Override
        public CompletionStage<TargetLogin> connectTarget(TargetConnection target) {
            calls.add("connectTarget");
            return login;
        }

        @Override
        public void register() {
            calls.add("register");
        }

        @Override
        public void unregister() {
            calls.add("unregister");
        }

        @Override
        public void opened() {
            calls.add("opened");
        }

        @Override
        public void forward(PendingCommand command, Decision decision) {
            calls.add("forward " + decision.verdict());
            forwarded.add(command);
        }

        @Override
        public void reject(PendingCommand command, Refusal refusal) {
            calls.add("reject " + refusal.kind());
            refusals.add(refusal);
        }

        @Override
        public void notice(String message) {
            calls.add("notice " + message);
        }

        @Override
        public void fatal(Refusal refusal) {
            calls.add("fatal " + refusal.kind());
            refusals.add(refusal);
        }

        @Override
        public void cancelAtTarget() {
            calls.add("cancelAtTarget");
        }

        @Override
        public void close() {
            calls.add("close");
        }
    }

    private final ManualScheduler scheduler = new ManualScheduler();
    private final InMemoryDecisionPort log = new InMemoryDecisionPort();
    private final RecordingProtocol protocol = new RecordingProtocol();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private Authenticator authenticator = new Authenticator() {
        @Override
        public CompletionStage<Identity> authenticate(String token) {
            return token.equals("good") ? CompletableFuture.completedFuture(ALICE)
                    : CompletableFuture.failedFuture(new AuthenticationFailure("token expired", true));
        }

        @Override
        public Optional<Instant> sessionDeadline(Identity identity) {
            return Optional.of(Instant.parse("2026-12-02T11:00:00Z"));
        }
    };

    private SessionCore core() {
        SessionPorts ports = new SessionPorts(authenticator, log, log, () -> RevocationCheck.NONE,
                new EdgeMetrics(meters, "postgres", () -> 0, () -> 0), "edge-test", Duration.ofSeconds(5),
                () -> Duration.ofSeconds(30), Duration.ofSeconds(60));
        SessionCore core = new SessionCore(ports, scheduler, protocol, SessionId.random(), "127.0.0.1:5000", "127.0.0.1");
        core.start();
        return core;
    }

    private SessionCore open(TargetConnection target) {
        SessionCore core = core();
        core.connect(new ConnectRequest("good", target, "alice", "psql", Map.of("user", "alice", "database", target.name()), false));
        scheduler.runAll();
        return core;
    }

    private static CommandDraft draft(String sql, StatementKind kind, String tag) {
        StatementAnalysis analysis = new StatementAnalysis(kind, tag, null, List.of(), List.of(), List.of(), false);
        return new CommandDraft(SqlCommand.Form.SIMPLE_QUERY, List.of(CommandStatement.query(sql, analysis)), sql, true, null,
                "fp", null, "payload");
    }

    private static CommandResult ok(String tag) {
        return new CommandResult(true, List.of(tag), 1, null, null, 10, "I", null, 1, List.of());
    }

    @Test
    void aSessionOpensOnlyAfterItsConnectionWasAllowedAndRecorded() {
        // Given
        SessionCore core = core();

        // When
        core.connect(new ConnectRequest("good", ENFORCE, "alice", "psql", Map.of("user", "alice", "options", "-c x=y"), true));
        scheduler.runAll();

        // Then
        assertThat(core.state()).isInstanceOf(SessionState.Open.class);
        assertThat(protocol.calls).containsExactly("connectTarget", "register", "opened");
        assertThat(log.events()).hasExactlyElementsOfTypes(AuditEvent.SessionRequested.class, AuditEvent.DecisionMade.class,
                AuditEvent.SessionOpened.class);
        AuditEvent.SessionOpened opened = log.events(AuditEvent.SessionOpened.class).getFirst();
        assertThat(opened.startupParameters()).containsEntry("options", "-c x=y");
        assertThat(opened.targetProcessId()).isEqualTo(4242);
        assertThat(opened.targetParameters()).containsEntry("client_encoding", "UTF8");
        assertThat(opened.tls()).isTrue();
    }

    @Test
    void aConnectRuleThatDeniesRefusesTheSessionBeforeTheTargetIsReached() {
        // Given
        log.decideWith(r -> new Decision.Deny(r.requestId(), "no-prod", "not here", "v1"));

        // When
        SessionCore core = open(ENFORCE);

        // Then
        assertThat(core.isClosed()).isTrue();
        assertThat(protocol.calls).containsExactly("fatal AUTHENTICATION", "close");
        assertThat(protocol.refusals.getFirst().message()).contains("refused by policy: not here").contains("rule no-prod");
        assertThat(log.events(AuditEvent.SessionRejected.class)).hasSize(1);
        assertThat(log.events(AuditEvent.SessionOpened.class)).isEmpty();
    }

    @Test
    void aBadTokenIsABadCredentialAndNothingIsRequested() {
        // Given
        SessionCore core = core();

        // When
        core.connect(new ConnectRequest("bad", ENFORCE, "alice", null, Map.of(), false));
        scheduler.runAll();

        // Then
        assertThat(protocol.calls).containsExactly("fatal BAD_CREDENTIAL", "close");
        assertThat(log.events(AuditEvent.SessionRequested.class)).isEmpty();
        assertThat(log.events(AuditEvent.SessionRejected.class)).singleElement()
                .satisfies(r -> assertThat(r.reason()).contains("token expired"));
    }

    @Test
    void aConnectionThatDoesNotAuthenticateInTimeIsClosedAndCounted() {
        // Given
        SessionCore core = core();

        // When
        scheduler.advance(Duration.ofSeconds(59));
        boolean openBefore = !core.isClosed();
        scheduler.advance(Duration.ofSeconds(2));

        // Then
        assertThat(openBefore).isTrue();
        assertThat(core.isClosed()).isTrue();
        assertThat(protocol.calls).containsExactly("fatal AUTHENTICATION_TIMEOUT", "close");
        assertThat(meters.counter("gatehouse.edge.authentication.timeouts", "protocol", "postgres").count()).isEqualTo(1);
    }

    @Test
    void anOpenSessionIsNotClosedByTheAuthenticationTimeout() {
        // Given
        SessionCore core = open(ENFORCE);

        // When
        scheduler.advance(Duration.ofMinutes(5));

        // Then
        assertThat(core.state()).isInstanceOf(SessionState.Open.class);
    }

    @Test
    void anAllowedCommandIsRecordedBeforeItIsForwardedAndCompletedAfter() {
        // Given
        SessionCore core = open(ENFORCE);

        // When
        PendingCommand pending = core.submit(draft("SELECT 1", StatementKind.READ, "SELECT"));
        scheduler.runAll();
        int eventsAtForward = log.events().size();
        core.completed(pending, ok("SELECT 1"));

        // Then
        assertThat(protocol.forwarded).containsExactly(pending);
        assertThat(log.events().subList(0, eventsAtForward)).last().isInstanceOf(AuditEvent.DecisionMade.class);
        AuditEvent.CommandReceived received = log.events(AuditEvent.CommandReceived.class).getFirst();
        assertThat(received.command().statements()).singleElement().satisfies(s -> assertThat(s.sql()).isEqualTo("SELECT 1"));
        assertThat(received.command().protocol()).isEqualTo("postgres");
        assertThat(log.events().getLast()).isInstanceOf(AuditEvent.CommandCompleted.class);
        assertThat(core.state()).isInstanceOf(SessionState.Open.class);
    }

    @Test
    void aDeniedCommandIsRejectedNeverForwarded() {
        // Given
        SessionCore core = open(ENFORCE);
        log.decideWith(r -> new Decision.Deny(r.requestId(), "no-ddl", "no DDL", "v2"));

        // When
        core.submit(draft("DROP TABLE t", StatementKind.DDL, "DROP TABLE"));
        scheduler.runAll();

        // Then
        assertThat(protocol.forwarded).isEmpty();
        assertThat(protocol.calls).contains("reject DENIED");
        assertThat(protocol.refusals.getLast().message()).isEqualTo("gatehouse: denied by rule \"no-ddl\": no DDL");
    }

    @Test
    void noDecisionFailsClosed() {
        // Given
        SessionCore core = open(ENFORCE);
        log.decideWith(r -> null);

        // When
        core.submit(draft("SELECT 1", StatementKind.READ, "SELECT"));
        scheduler.runAll();

        // Then
        assertThat(protocol.forwarded).isEmpty();
        assertThat(protocol.calls).contains("reject FAILED_CLOSED");
        assertThat(meters.counter("gatehouse.edge.commands", "protocol", "postgres", "verdict", "failed_closed").count()).isEqualTo(1);
    }

    @Test
    void anUnreachableLogFailsClosedInObserveModeToo() {
        // Given
        SessionCore core = open(OBSERVE);
        log.failAppends(true);

        // When
        core.submit(draft("SELECT 1", StatementKind.READ, "SELECT"));
        scheduler.runAll();

        // Then
        assertThat(protocol.forwarded).isEmpty();
        assertThat(protocol.calls).contains("reject FAILED_CLOSED");
    }

    @Test
    void observeModeForwardsOnceRecordedWithoutWaitingForADecision() {
        // Given
        log.decideWith(r -> r instanceof AuditEvent.CommandReceived ? null
                : new Decision.Allow(r.requestId(), "x", "x", "v"));
        SessionCore core = open(OBSERVE);

        // When
        core.submit(draft("DELETE FROM t", StatementKind.WRITE, "DELETE"));
        scheduler.runAll();

        // Then
        assertThat(protocol.calls).contains("forward ALLOW");
        assertThat(log.events(AuditEvent.CommandReceived.class)).singleElement()
                .satisfies(c -> assertThat(c.mode()).isEqualTo("observe"));
        assertThat(log.events(AuditEvent.DecisionMade.class)).isEmpty();
    }

    @Test
    void aCommandTheAdapterRefusesIsRecordedWithTheReasonAndNeverDecided() {
        // Given
        SessionCore core = open(ENFORCE);
        int decisionsBefore = log.events(AuditEvent.DecisionMade.class).size();
        Refusal why = new Refusal(Refusal.Kind.EDGE, "gatehouse: portal \"p\" does not exist", null, "34000");

        // When
        core.submit(draft("SELECT 1", StatementKind.READ, "SELECT").refused(why));
        scheduler.runAll();

        // Then
        assertThat(protocol.calls).contains("reject EDGE");
        assertThat(protocol.forwarded).isEmpty();
        assertThat(log.events(AuditEvent.CommandReceived.class)).singleElement()
                .satisfies(c -> assertThat(c.refusal()).isEqualTo("gatehouse: portal \"p\" does not exist"));
        assertThat(log.events(AuditEvent.DecisionMade.class)).hasSize(decisionsBefore);
    }

    @Test
    void aHeldCommandWaitsWithNoticesAndRunsOnlyAfterTheGrantWasRecorded() {
        // Given
        SessionCore core = open(ENFORCE);
        log.decideWith(r -> new Decision.RequireApproval(r.requestId(), "payouts", "payouts need a DBA", "v3", "dba", 1,
                "ap-1", Decision.RequireApproval.HOLD, Instant.parse("2026-12-02T10:10:00Z"), "#db"));

        // When
        PendingCommand pending = core.submit(draft("INSERT INTO payouts VALUES (1)", StatementKind.WRITE, "INSERT"));
        scheduler.runAll();
        scheduler.advance(Duration.ofSeconds(31));
        boolean forwardedWhileHeld = !protocol.forwarded.isEmpty();
        log.outcome(pending.command().id(), new Decision.Allow(pending.command().id(), "approval", "approved by bob", "v3"));
        scheduler.runAll();

        // Then
        assertThat(forwardedWhileHeld).isFalse();
        assertThat(protocol.calls).anyMatch(c -> c.startsWith("notice approval required: request ap-1 sent to #db"))
                .anyMatch(c -> c.startsWith("notice still waiting for approval ap-1"));
        assertThat(protocol.forwarded).containsExactly(pending);
        assertThat(log.events(AuditEvent.ApprovalExecuted.class)).singleElement()
                .satisfies(e -> assertThat(e.approvalId()).isEqualTo("ap-1"));
        assertThat(core.state()).isInstanceOf(SessionState.Running.class);
    }

    @Test
    void aHeldCommandCancelledByTheClientIsAbandonedWithTheTargetsOwnAnswer() {
        // Given
        SessionCore core = open(ENFORCE);
        log.decideWith(r -> new Decision.RequireApproval(r.requestId(), "payouts", "payouts", "v3", "dba", 1,
                "ap-2", Decision.RequireApproval.HOLD, null, null));
        core.submit(draft("INSERT INTO payouts VALUES (1)", StatementKind.WRITE, "INSERT"));
        scheduler.runAll();

        // When
        core.cancel();
        scheduler.advance(Duration.ofMinutes(2));

        // Then
        assertThat(protocol.calls).contains("reject CANCELED").doesNotContain("cancelAtTarget");
        assertThat(protocol.refusals.getLast().message()).isEqualTo("canceling statement due to user request");
        assertThat(protocol.calls.stream().filter(c -> c.startsWith("notice still"))).isEmpty();
        assertThat(protocol.forwarded).isEmpty();
    }

    @Test
    void aDeferredApprovalIsRefusedAtOnceWithItsId() {
        // Given
        SessionCore core = open(ENFORCE);
        log.decideWith(r -> new Decision.RequireApproval(r.requestId(), "ledger", "ledger", "v3", "dba", 1,
                "ap-3", Decision.RequireApproval.DEFERRED, null, null));

        // When
        core.submit(draft("UPDATE ledger SET x = 1 WHERE id = 1", StatementKind.WRITE, "UPDATE"));
        scheduler.runAll();

        // Then
        assertThat(protocol.calls).contains("reject DENIED");
        assertThat(protocol.refusals.getLast().message()).contains("approval required: request ap-3");
    }

    @Test
    void theSessionEndsWhenItsTokenExpiresAndARunningCommandIsCompletedWithTheReason() {
        // Given
        SessionCore core = open(ENFORCE);
        PendingCommand pending = core.submit(draft("SELECT pg_sleep(3600)", StatementKind.READ, "SELECT"));
        scheduler.runAll();

        // When
        scheduler.advance(Duration.ofHours(1));

        // Then
        assertThat(core.isClosed()).isTrue();
        assertThat(protocol.calls).containsSequence("fatal SHUTDOWN", "unregister", "close");
        assertThat(pending.completed()).isTrue();
        AuditEvent.CommandCompleted completed = log.events(AuditEvent.CommandCompleted.class).getFirst();
        assertThat(completed.outcome().errorMessage()).contains("token expired");
        assertThat(log.events().getLast()).isInstanceOf(AuditEvent.SessionClosed.class);
        assertThat(scheduler.pendingTimers()).isZero();
    }

    @Test
    void aCommandCannotBeSubmittedWhileAnotherIsInFlight() {
        // Given
        SessionCore core = open(ENFORCE);
        core.submit(draft("SELECT 1", StatementKind.READ, "SELECT"));

        // When / Then
        assertThatThrownBy(() -> core.submit(draft("SELECT 2", StatementKind.READ, "SELECT")))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("Deciding");
    }

    @Test
    void aSessionTheLogCannotRecordNeverOpens() {
        // Given
        log.failAppends(true);

        // When
        SessionCore core = open(ENFORCE);

        // Then
        assertThat(core.isClosed()).isTrue();
        assertThat(protocol.calls).doesNotContain("opened", "register").contains("fatal FAILED_CLOSED");
    }
}
