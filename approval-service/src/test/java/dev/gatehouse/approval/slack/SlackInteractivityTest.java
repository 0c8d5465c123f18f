package dev.gatehouse.approval.slack;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.testsupport.FakeSlack;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.ext.web.Router;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.http.HttpResponse;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class SlackInteractivityTest {

    private static final String SECRET = "slack-signing-secret";
    private static final Duration WAIT = Duration.ofSeconds(10);

    private Vertx vertx;
    private FakeSlack slack;
    private HttpServer server;
    private SlackNotifier notifier;
    private final SlackFixtures.MemoryLog log = new SlackFixtures.MemoryLog();
    private final SlackFixtures.MemoryLog violations = new SlackFixtures.MemoryLog();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private String url;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        slack = FakeSlack.start(vertx, SECRET);
        slack.user("U0CAROL", "Carol@Example.com");
        SlackSettings settings = new SlackSettings("#db-approvals", null, FakeSlack.BOT_TOKEN, SECRET, slack.apiUrl(),
                null, Map.of(
                "U0BOB", new SlackSettings.User("bob", "https://idp.example", List.of("dba"), "Bob"),
                "U0ALICE", new SlackSettings.User("alice", "https://idp.example", List.of("dba"), null),
                "carol@example.com", new SlackSettings.User("carol", "https://idp.example", List.of("dba"), null)),
                true, new SlackSettings.Retry(3, Duration.ofMillis(20), Duration.ofMillis(100)), 0);
        notifier = new SlackNotifier(vertx, settings, log, meters, "a1");
        Router router = Router.router(vertx);
        SlackInteractivity.create(settings, notifier, log, violations, meters, "a1").register(router);
        server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
                .toCompletionStage().toCompletableFuture().get();
        url = "http://127.0.0.1:" + server.actualPort() + SlackInteractivity.PATH;
        log.append(SlackFixtures.request("ap-click", SlackFixtures.person("alice"), "DROP TABLE users"));
    }

    @AfterEach
    void stop() {
        notifier.close();
        slack.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    private double rejected(String reason) {
        var counter = meters.find("gatehouse.approval.slack.rejected").tag("reason", reason).counter();
        return counter == null ? 0 : counter.count();
    }

    @Test
    void aSignedClickVotesAndUpdatesTheMessageThroughResponseUrl() {
        // Given / When bob clicks Approve
        HttpResponse<String> response = slack.click(url, "U0BOB", "ap-click", true);
        // Then Slack gets its 200 at once, the vote is in the log, the message is replaced
        assertThat(response.statusCode()).isEqualTo(200);
        FakeSlack.Captured update = slack.awaitRequest(FakeSlack.RESPONSE_URL, WAIT);
        assertThat(update.json().getBoolean("replace_original")).isTrue();
        assertThat(update.json().getJsonArray("blocks").encode()).contains("Approved", "bob")
                .doesNotContain("gatehouse_approve");
        AuditEvent.ApprovalVoted vote = log.events(AuditEvent.ApprovalVoted.class).getFirst();
        assertThat(vote.approver()).isEqualTo("bob");
        assertThat(vote.approve()).isTrue();
        assertThat(vote.channel()).isEqualTo("slack");
        assertThat(vote.externalUser()).isEqualTo("U0BOB");
        await().atMost(WAIT).until(() -> log.events(AuditEvent.ApprovalNotified.class).stream()
                .anyMatch(AuditEvent.ApprovalNotified::delivered));
    }

    @Test
    void mapsAnUnconfiguredUserByEmailThroughUsersInfo() {
        // Given carol is configured by e-mail only / When she clicks Deny
        HttpResponse<String> response = slack.click(url, "U0CAROL", "ap-click", false);
        // Then
        assertThat(response.statusCode()).isEqualTo(200);
        FakeSlack.Captured update = slack.awaitRequest(FakeSlack.RESPONSE_URL, WAIT);
        assertThat(update.json().getJsonArray("blocks").encode()).contains("Denied", "carol");
        assertThat(log.events(AuditEvent.ApprovalVoted.class).getFirst().approver()).isEqualTo("carol");
    }

    @Test
    void theRequesterCannotApproveTheirOwnRequest() {
        // Given / When alice, who asked, clicks Approve
        slack.click(url, "U0ALICE", "ap-click", true);
        // Then an ephemeral refusal, no vote
        FakeSlack.Captured reply = slack.awaitRequest(FakeSlack.RESPONSE_URL, WAIT);
        assertThat(reply.json().getString("response_type")).isEqualTo("ephemeral");
        assertThat(reply.json().getBoolean("replace_original")).isFalse();
        assertThat(reply.json().getString("text")).contains("own request");
        assertThat(log.events(AuditEvent.ApprovalVoted.class)).isEmpty();
    }

    @Test
    void anUnmappedSlackUserIsToldSo() {
        // Given / When
        slack.click(url, "U0NOBODY", "ap-click", true);
        // Then
        FakeSlack.Captured reply = slack.awaitRequest(FakeSlack.RESPONSE_URL, WAIT);
        assertThat(reply.json().getString("text")).contains("not a Gatehouse approver");
        assertThat(log.events(AuditEvent.ApprovalVoted.class)).isEmpty();
    }

    @Test
    void onlyTheOriginatorsLinkedSlackUserConfirmsAnAgentsCommand() {
        // Given planner-agent, acting for alice, waits for alice's confirmation
        log.append(SlackFixtures.originatorRequest("ap-agent", SlackFixtures.agentFor("alice", "planner-agent"),
                "DELETE FROM errands WHERE id = 1"));

        // When bob clicks Approve
        slack.click(url, "U0BOB", "ap-agent", true);

        // Then bob is told only alice may confirm, and nothing is counted
        FakeSlack.Captured reply = slack.awaitRequest(FakeSlack.RESPONSE_URL, WAIT);
        assertThat(reply.json().getString("response_type")).isEqualTo("ephemeral");
        assertThat(reply.json().getString("text")).contains("was not counted", "only alice", "alice → planner-agent");
        assertThat(log.events(AuditEvent.ApprovalVoted.class)).isEmpty();

        // When alice, linked by her Slack user id, clicks Approve
        slack.clear();
        slack.click(url, "U0ALICE", "ap-agent", true);

        // Then her confirmation counts and the message shows it
        FakeSlack.Captured update = slack.awaitRequest(FakeSlack.RESPONSE_URL, WAIT);
        assertThat(update.json().getJsonArray("blocks").encode()).contains("Approved", "alice");
        assertThat(log.events(AuditEvent.ApprovalVoted.class)).singleElement()
                .satisfies(v -> assertThat(v.approver()).isEqualTo("alice"));
        assertThat(log.book.get("ap-agent").orElseThrow().approvedBy()).containsExactly("alice");
    }

    @Test
    void aSlackUserMatchedByEmailNeverConfirmsForAnOriginator() {
        // Given planner-agent acts for carol, whose Slack account is configured only by e-mail address
        log.append(SlackFixtures.originatorRequest("ap-carol", SlackFixtures.agentFor("carol", "planner-agent"),
                "DELETE FROM errands WHERE id = 2"));

        // When carol clicks Approve
        slack.click(url, "U0CAROL", "ap-carol", true);

        // Then she is refused: e-mail addresses never link a person
        FakeSlack.Captured reply = slack.awaitRequest(FakeSlack.RESPONSE_URL, WAIT);
        assertThat(reply.json().getString("text")).contains("matched by e-mail address", "linked by its user id");
        assertThat(log.events(AuditEvent.ApprovalVoted.class)).isEmpty();
    }

    @Test
    void refusesAForgedCallback() {
        // Given a body signed with the wrong secret
        String body = FakeSlack.formBody(FakeSlack.blockActions("U0BOB", "ap-click", true, slack.responseUrl()));
        String ts = Long.toString(Instant.now().getEpochSecond());
        // When
        HttpResponse<String> response = slack.post(url, body, ts, FakeSlack.sign("not-the-secret", ts, body));
        // Then
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(rejected("bad-signature")).isEqualTo(1.0);
        assertThat(violations.events(AuditEvent.ProtocolViolation.class)).singleElement()
                .satisfies(v -> {
                    assertThat(v.protocol()).isEqualTo("slack");
                    assertThat(v.detail()).contains("bad-signature").doesNotContain(SECRET);
                });
        assertThat(log.events(AuditEvent.ApprovalVoted.class)).isEmpty();
    }

    @Test
    void refusesAStaleCallback() {
        // Given a correctly signed body from ten minutes ago
        String body = FakeSlack.formBody(FakeSlack.blockActions("U0BOB", "ap-click", true, slack.responseUrl()));
        String ts = Long.toString(Instant.now().minus(Duration.ofMinutes(10)).getEpochSecond());
        // When
        HttpResponse<String> response = slack.post(url, body, ts, FakeSlack.sign(SECRET, ts, body));
        // Then
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(rejected("stale")).isEqualTo(1.0);
        assertThat(log.events(AuditEvent.ApprovalVoted.class)).isEmpty();
    }

    @Test
    void refusesAReplayedCallback() {
        // Given a click accepted once
        String body = FakeSlack.formBody(FakeSlack.blockActions("U0BOB", "ap-click", true, slack.responseUrl()));
        String ts = Long.toString(Instant.now().getEpochSecond());
        String signature = FakeSlack.sign(SECRET, ts, body);
        assertThat(slack.post(url, body, ts, signature).statusCode()).isEqualTo(200);
        // When the same request is sent again
        HttpResponse<String> replay = slack.post(url, body, ts, signature);
        // Then
        assertThat(replay.statusCode()).isEqualTo(401);
        assertThat(rejected("replayed")).isEqualTo(1.0);
        slack.awaitRequest(FakeSlack.RESPONSE_URL, WAIT);
        assertThat(log.events(AuditEvent.ApprovalVoted.class)).hasSize(1);
    }

    @Test
    void refusesAnUnsignedCallback() {
        // Given / When
        HttpResponse<String> response = slack.post(url, "payload=%7B%7D", null, null);
        // Then
        assertThat(response.statusCode()).isEqualTo(401);
        assertThat(rejected("missing-headers")).isEqualTo(1.0);
    }
}
