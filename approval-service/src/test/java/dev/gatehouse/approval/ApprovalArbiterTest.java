package dev.gatehouse.approval;

import dev.gatehouse.platform.identity.BearerAuth;
import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.kafka.Topics;
import dev.gatehouse.testsupport.KafkaFixture;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(KafkaFixture.class)
class ApprovalArbiterTest {

    private static final String ISSUER = "https://idp.test";
    private static final BearerAuth.Validator NO_TOKENS = token -> CompletableFuture.failedFuture(new IllegalStateException("no tokens here"));
    private static Vertx vertx;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() {
        vertx.close().await();
    }

    private static Approver approver(String subject) {
        return new Approver(subject, ISSUER, List.of("dba"), null);
    }

    @Test
    void aPendingApprovalSurvivesARestartAndExpiresOnTime() {
        // Given a running service with a request expiring in 8 s
        AuditEvent.ApprovalRequested request = ApprovalTestKit.request("alice", ISSUER, 1, Instant.now().plusSeconds(8), 1);
        long decisionsFrom = ApprovalTestKit.endOffset(Topics.DECISIONS, 1);
        try (ApprovalService first = ApprovalTestKit.start(vertx, "restart-a", NO_TOKENS)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> first.arbiter().isActive());
            first.events().append(request).toCompletableFuture().join();
            await().atMost(Duration.ofSeconds(10)).until(() -> first.desk().get(request.approvalId()).isPresent());
        }

        // When a new instance starts after the first stopped
        try (ApprovalService second = ApprovalTestKit.start(vertx, "restart-b", NO_TOKENS)) {

            // Then the approval is still there, pending, and expires at its time
            assertThat(second.desk().get(request.approvalId())).hasValueSatisfying(a ->
                    assertThat(a.state()).isIn(Approval.State.PENDING, Approval.State.EXPIRED));
            await().atMost(Duration.ofSeconds(30)).until(() ->
                    second.desk().get(request.approvalId()).orElseThrow().state() == Approval.State.EXPIRED);
            Approval expired = second.desk().get(request.approvalId()).orElseThrow();
            // the log carries microseconds: the expiry read back is the request's, truncated to them
            Instant expiresAt = request.expiresAt().truncatedTo(java.time.temporal.ChronoUnit.MICROS);
            assertThat(expired.outcome().at()).isAfterOrEqualTo(expiresAt)
                    .isBefore(expiresAt.plusSeconds(5));
            await().atMost(Duration.ofSeconds(10)).until(() -> ApprovalTestKit.decisions(request, decisionsFrom).size() == 1);
            Decision decision = ApprovalTestKit.decisions(request, decisionsFrom).getFirst().decision();
            assertThat(decision).isInstanceOf(Decision.Deny.class);
            assertThat(decision.ruleId()).isEqualTo(ApprovalArbiter.EXPIRED_RULE);
            assertThat(decision.reason()).isEqualTo("approval " + request.approvalId() + " expired after 8s unanswered");
        }
    }

    @Test
    void twoInstancesWithConcurrentApproveAndDenyRecordExactlyOneOutcomeAndOneFinalDecision() throws Exception {
        // Given two instances, one of them the arbiter, and three pending requests
        try (ApprovalService a = ApprovalTestKit.start(vertx, "pair-a", NO_TOKENS);
             ApprovalService b = ApprovalTestKit.start(vertx, "pair-b", NO_TOKENS)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> a.arbiter().isActive() || b.arbiter().isActive());
            assertThat(a.arbiter().isActive() && b.arbiter().isActive()).isFalse();
            List<AuditEvent.ApprovalRequested> requests = List.of(
                    ApprovalTestKit.request("alice", ISSUER, 1, Instant.now().plusSeconds(120), 0),
                    ApprovalTestKit.request("alice", ISSUER, 1, Instant.now().plusSeconds(120), 0),
                    ApprovalTestKit.request("alice", ISSUER, 1, Instant.now().plusSeconds(120), 0));
            long decisionsFrom = ApprovalTestKit.endOffset(Topics.DECISIONS, 0);
            for (AuditEvent.ApprovalRequested r : requests) a.events().append(r).toCompletableFuture().join();
            await().atMost(Duration.ofSeconds(10)).until(() -> requests.stream().allMatch(r ->
                    a.desk().get(r.approvalId()).isPresent() && b.desk().get(r.approvalId()).isPresent()));

            // When bob approves on one instance while carol denies on the other, at the same moment
            for (AuditEvent.ApprovalRequested r : requests) {
                CountDownLatch go = new CountDownLatch(1);
                CompletableFuture<Boolean> approve = CompletableFuture.supplyAsync(() -> cast(go, a, r, "bob", true));
                CompletableFuture<Boolean> deny = CompletableFuture.supplyAsync(() -> cast(go, b, r, "carol", false));
                go.countDown();
                // Then exactly one of the two votes counts
                assertThat(approve.get(20, TimeUnit.SECONDS) ^ deny.get(20, TimeUnit.SECONDS)).isTrue();
            }

            // Then each approval has exactly one outcome event, both instances agree, and one final decision went out
            for (AuditEvent.ApprovalRequested r : requests) {
                await().atMost(Duration.ofSeconds(15)).until(() -> a.desk().get(r.approvalId()).orElseThrow().outcome() != null
                        && b.desk().get(r.approvalId()).orElseThrow().outcome() != null);
                assertThat(a.desk().get(r.approvalId())).isEqualTo(b.desk().get(r.approvalId()));
                await().during(Duration.ofSeconds(2)).atMost(Duration.ofSeconds(15)).until(() ->
                        ApprovalTestKit.outcomes(r.approvalId()).size() == 1
                                && ApprovalTestKit.decisions(r, decisionsFrom).size() == 1);
                Approval decided = a.desk().get(r.approvalId()).orElseThrow();
                Decision decision = ApprovalTestKit.decisions(r, decisionsFrom).getFirst().decision();
                if (decided.state() == Approval.State.GRANTED) {
                    assertThat(decision).isInstanceOf(Decision.Allow.class);
                    assertThat(decision.reason()).isEqualTo("approved by bob (approval " + r.approvalId() + ")");
                } else {
                    assertThat(decided.state()).isEqualTo(Approval.State.DENIED);
                    assertThat(decision.ruleId()).isEqualTo(ApprovalArbiter.DENIED_RULE);
                    assertThat(decision.reason()).startsWith("denied by carol");
                }
            }
        }
    }

    @Test
    void anInstanceThatCannotJoinTheElectionIsNotReady() {
        // Given a session timeout below the brokers' group.min.session.timeout.ms (6 s by default)
        var settings = new ApprovalService.Settings(dev.gatehouse.testsupport.KafkaFixture.bootstrapServers(), "too-quick",
                "127.0.0.1", 0, Duration.ofSeconds(1), Duration.ofHours(1));
        // When it starts
        try (ApprovalService service = ApprovalService.start(settings, ApprovalTestKit.SERDE, vertx, NO_TOKENS, List.of(),
                java.time.Clock.systemUTC())) {
            // Then the brokers refuse its membership, and readiness says so instead of hiding it
            await().atMost(Duration.ofSeconds(30)).until(() -> !service.isRunning());
            assertThat(service.arbiter().isMember()).isFalse();
            assertThat(service.arbiter().isActive()).isFalse();
        }
    }

    /** Casts a vote once {@code go} opens; true when it counted, false when refused as already decided. */
    private static boolean cast(CountDownLatch go, ApprovalService service, AuditEvent.ApprovalRequested r, String who,
                                boolean approve) {
        try {
            go.await();
            service.desk().vote(r.approvalId(), approver(who), approve, approve ? null : "not during business hours",
                    "rest", null).toCompletableFuture().join();
            return true;
        } catch (CompletionException e) {
            assertThat(e.getCause()).isInstanceOf(VoteRefusedException.class);
            assertThat(((VoteRefusedException) e.getCause()).status()).isEqualTo(409);
            return false;
        } catch (InterruptedException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void aGrantNeedsTheRequiredNumberOfDistinctApprovers() {
        // Given a request needing two approvals
        try (ApprovalService s = ApprovalTestKit.start(vertx, "two-of", NO_TOKENS)) {
            await().atMost(Duration.ofSeconds(30)).until(() -> s.arbiter().isActive());
            AuditEvent.ApprovalRequested r = ApprovalTestKit.request("alice", ISSUER, 2, Instant.now().plusSeconds(120), 3);
            long decisionsFrom = ApprovalTestKit.endOffset(Topics.DECISIONS, 3);
            s.events().append(r).toCompletableFuture().join();
            await().atMost(Duration.ofSeconds(10)).until(() -> s.desk().get(r.approvalId()).isPresent());

            // When bob approves, bob tries again, then carol approves
            VoteResult first = s.desk().vote(r.approvalId(), approver("bob"), true, null, "cli", null).toCompletableFuture().join();
            CompletableFuture<VoteResult> again = s.desk().vote(r.approvalId(), approver("bob"), true, null, "cli", null)
                    .toCompletableFuture();
            VoteResult second = s.desk().vote(r.approvalId(), approver("carol"), true, null, "cli", null).toCompletableFuture().join();

            // Then one approval is not enough, the repeat is refused, and two grant it
            assertThat(first.tally()).isEqualTo(Approval.State.PENDING);
            assertThat(again).failsWithin(Duration.ofSeconds(5)).withThrowableThat()
                    .havingCause().isInstanceOf(VoteRefusedException.class).withMessageContaining("already voted");
            assertThat(second.tally()).isEqualTo(Approval.State.GRANTED);
            await().atMost(Duration.ofSeconds(10)).until(() -> ApprovalTestKit.decisions(r, decisionsFrom).size() == 1);
            assertThat(ApprovalTestKit.decisions(r, decisionsFrom).getFirst().decision().reason())
                    .isEqualTo("approved by bob, carol (approval " + r.approvalId() + ")");
            assertThat(s.desk().get(r.approvalId()).orElseThrow().state()).isEqualTo(Approval.State.GRANTED);
        }
    }

    @Test
    void anOriginatorConfirmationNobodyCanReceiveIsDeniedAtOnceWithTheReason() {
        // Given a notifier that cannot reach this originator, and two originator confirmations: one of an
        // agent acting for alice, one of a session that is not delegated
        ApprovalNotifier unreachable = new ApprovalNotifier() {
            @Override
            public void requested(Approval approval) {
                throw new AssertionError("an undeliverable request must not be posted");
            }

            @Override
            public void decided(Approval approval) {
            }

            @Override
            public java.util.Optional<String> undeliverable(Approval approval) {
                return approval.fromOriginator() ? java.util.Optional.of("no Slack user is linked to the originator alice")
                        : java.util.Optional.empty();
            }
        };
        ApprovalPlugin plugin = new ApprovalPlugin() {
            @Override
            public ApprovalNotifier notifier(Parts parts) {
                return unreachable;
            }
        };
        AuditEvent.ApprovalRequested agent = ApprovalTestKit.originatorRequest(ApprovalTestKit.agentFor("alice", "planner-agent"),
                Instant.now().plusSeconds(600), 1);
        AuditEvent.ApprovalRequested notDelegated = ApprovalTestKit.originatorRequest(
                new dev.gatehouse.platform.core.Identity("alice", ISSUER, List.of("dba"), List.of(), java.util.Map.of(), null),
                Instant.now().plusSeconds(600), 1);
        long decisionsFrom = ApprovalTestKit.endOffset(Topics.DECISIONS, 1);

        try (ApprovalService service = ApprovalService.start(new ApprovalService.Settings(KafkaFixture.bootstrapServers(),
                "undeliverable", "127.0.0.1", 0, Duration.ofSeconds(6), Duration.ofHours(1)), ApprovalTestKit.SERDE, vertx,
                NO_TOKENS, List.of(plugin), java.time.Clock.systemUTC())) {
            await().atMost(Duration.ofSeconds(30)).until(() -> service.arbiter().isActive());

            // When
            service.events().append(agent).toCompletableFuture().join();
            service.events().append(notDelegated).toCompletableFuture().join();

            // Then both are denied by gatehouse, with why, and each held command gets its final deny
            await().atMost(Duration.ofSeconds(20)).until(() -> List.of(agent, notDelegated).stream().allMatch(r ->
                    service.desk().get(r.approvalId()).map(a -> a.state() == Approval.State.DENIED).orElse(false)));
            Approval denied = service.desk().get(agent.approvalId()).orElseThrow();
            assertThat(denied.outcome().by()).containsExactly(ApprovalArbiter.UNDELIVERABLE_BY);
            assertThat(denied.outcome().reason()).isEqualTo("nobody can confirm it: no Slack user is linked to the originator alice");
            assertThat(service.desk().get(notDelegated.approvalId()).orElseThrow().outcome().reason())
                    .contains("not delegated", "no originator");
            await().atMost(Duration.ofSeconds(10)).until(() -> ApprovalTestKit.decisions(agent, decisionsFrom).size() == 1);
            Decision decision = ApprovalTestKit.decisions(agent, decisionsFrom).getFirst().decision();
            assertThat(decision).isInstanceOf(Decision.Deny.class);
            assertThat(decision.ruleId()).isEqualTo(ApprovalArbiter.DENIED_RULE);
            assertThat(decision.reason()).contains("denied by gatehouse: nobody can confirm it: no Slack user is linked");
        }
    }
}
