package dev.gatehouse.approval.slack;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.testsupport.FakeSlack;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

class SlackNotifierTest {

    private static final Duration WAIT = Duration.ofSeconds(10);
    private static final SlackSettings.Retry FAST = new SlackSettings.Retry(4, Duration.ofMillis(20), Duration.ofMillis(200));

    private Vertx vertx;
    private FakeSlack slack;
    private final SlackFixtures.MemoryLog log = new SlackFixtures.MemoryLog();
    private SlackNotifier notifier;

    @BeforeEach
    void start() {
        vertx = Vertx.vertx();
        slack = FakeSlack.start(vertx, "secret");
    }

    @AfterEach
    void stop() {
        if (notifier != null) notifier.close();
        slack.close();
        vertx.close().toCompletionStage().toCompletableFuture().join();
    }

    private SlackNotifier notifier(String webhook, String token, SlackSettings.Retry retry) {
        SlackSettings settings = new SlackSettings("#db-approvals", webhook, token, "secret", slack.apiUrl(),
                "http://console:18082", Map.of(), false, retry, 0);
        notifier = new SlackNotifier(vertx, settings, log, new SimpleMeterRegistry(), "a1");
        return notifier;
    }

    private Approval requested(String id) {
        AuditEvent.ApprovalRequested request = SlackFixtures.request(id, SlackFixtures.person("alice"),
                "DROP TABLE users -- <!channel>");
        log.append(request);
        return log.book.get(id).orElseThrow();
    }

    @Test
    void postsTheRequestWithTheBotTokenAndRecordsTheMessage() {
        // Given
        SlackNotifier n = notifier(null, FakeSlack.BOT_TOKEN, FAST);
        Approval a = requested("ap-bot");
        // When
        n.requested(a);
        // Then
        FakeSlack.Captured post = slack.awaitRequest(FakeSlack.POST_MESSAGE, WAIT);
        JsonObject body = post.json();
        assertThat(post.headers()).containsEntry("authorization", "Bearer " + FakeSlack.BOT_TOKEN);
        assertThat(body.getString("channel")).isEqualTo("#db-approvals");
        assertThat(body.getJsonObject("metadata").getJsonObject("event_payload").getString("approval_id")).isEqualTo("ap-bot");
        assertThat(body.getJsonArray("blocks").encode()).contains("&lt;!channel&gt;", "gatehouse_approve", "gatehouse_deny");
        await().atMost(WAIT).until(() -> !log.events(AuditEvent.ApprovalNotified.class).isEmpty());
        AuditEvent.ApprovalNotified notified = log.events(AuditEvent.ApprovalNotified.class).getFirst();
        assertThat(notified.delivered()).isTrue();
        assertThat(notified.channel()).isEqualTo("slack");
        assertThat(notified.destination()).isEqualTo("#db-approvals");
        assertThat(notified.messageRef()).startsWith(FakeSlack.CHANNEL_ID + "/");
    }

    @Test
    void retriesAfterFailuresAndRecordsEveryAttemptWithoutTheWebhookUrl() {
        // Given Slack failing twice (a 500, then a 429 with Retry-After: 1)
        SlackNotifier n = notifier(slack.webhookUrl(), null, FAST);
        Approval a = requested("ap-retry");
        slack.failNext(1, 500);
        slack.rateLimitNext(1, 1);
        // When
        n.requested(a);
        // Then the third attempt is delivered, after at least the Retry-After
        List<FakeSlack.Captured> hooks = slack.awaitRequests(FakeSlack.WEBHOOK, 1, WAIT);
        List<FakeSlack.Captured> all = slack.requests(FakeSlack.WEBHOOK);
        assertThat(all).extracting(FakeSlack.Captured::status).containsExactly(500, 429, 200);
        assertThat(Duration.between(all.get(1).at(), hooks.getFirst().at())).isGreaterThanOrEqualTo(Duration.ofMillis(900));
        await().atMost(WAIT).until(() -> log.events(AuditEvent.ApprovalNotified.class).size() == 3);
        List<AuditEvent.ApprovalNotified> notified = log.events(AuditEvent.ApprovalNotified.class);
        assertThat(notified).extracting(AuditEvent.ApprovalNotified::attempt).containsExactly(1, 2, 3);
        assertThat(notified).extracting(AuditEvent.ApprovalNotified::delivered).containsExactly(false, false, true);
        assertThat(notified.get(0).error()).contains("500");
        assertThat(notified.get(1).error()).contains("429");
        assertThat(notified).allSatisfy(e -> {
            assertThat(e.destination()).isEqualTo("#db-approvals");
            assertThat(String.valueOf(e.error())).doesNotContain("fakewebhooksecret");
        });
    }

    @Test
    void givesUpAtOnceOnAPermanentError() {
        // Given Slack answering ok=false channel_not_found
        SlackNotifier n = notifier(null, FakeSlack.BOT_TOKEN, FAST);
        Approval a = requested("ap-perm");
        slack.okFalseNext(1, "channel_not_found");
        // When
        n.requested(a);
        // Then one attempt, recorded as failed, no retry
        await().atMost(WAIT).until(() -> !log.events(AuditEvent.ApprovalNotified.class).isEmpty());
        AuditEvent.ApprovalNotified notified = log.events(AuditEvent.ApprovalNotified.class).getFirst();
        assertThat(notified.delivered()).isFalse();
        assertThat(notified.error()).contains("channel_not_found");
        await().during(Duration.ofMillis(500)).atMost(WAIT)
                .until(() -> slack.requests(FakeSlack.POST_MESSAGE).size() == 1);
    }

    @Test
    void givesUpAfterTheLastAttempt() {
        // Given Slack down for longer than the retries last
        SlackNotifier n = notifier(slack.webhookUrl(), null, FAST);
        Approval a = requested("ap-down");
        slack.failNext(10, 503);
        // When
        n.requested(a);
        // Then four attempts, all failed, all recorded
        await().atMost(WAIT).until(() -> log.events(AuditEvent.ApprovalNotified.class).size() == 4);
        assertThat(log.events(AuditEvent.ApprovalNotified.class)).noneMatch(AuditEvent.ApprovalNotified::delivered);
        await().during(Duration.ofMillis(400)).atMost(WAIT).until(() -> slack.requests(FakeSlack.WEBHOOK).size() == 4);
    }

    @Test
    void updatesThePostedMessageInPlaceWithTheOutcome() {
        // Given a request posted with the bot token, then granted (by the REST API, say)
        SlackNotifier n = notifier(null, FakeSlack.BOT_TOKEN, FAST);
        Approval a = requested("ap-upd");
        n.requested(a);
        FakeSlack.Captured post = slack.awaitRequest(FakeSlack.POST_MESSAGE, WAIT);
        await().atMost(WAIT).until(() -> !log.events(AuditEvent.ApprovalNotified.class).isEmpty());
        log.append(new AuditEvent.ApprovalVoted(EventHeader.now(SlackFixtures.SESSION, "approval", "a1"), "ap-upd",
                "bob", "https://idp.example", List.of("dba"), true, null, "rest", null));
        log.append(new AuditEvent.ApprovalGranted(EventHeader.now(SlackFixtures.SESSION, "approval", "a1"), "ap-upd",
                List.of("bob"), null));
        // When
        n.decided(log.book.get("ap-upd").orElseThrow());
        // Then
        FakeSlack.Captured update = slack.awaitRequest(FakeSlack.UPDATE, WAIT);
        assertThat(update.json().getString("channel")).isEqualTo(FakeSlack.CHANNEL_ID);
        assertThat(update.json().getString("ts")).isNotBlank();
        assertThat(update.json().getJsonArray("blocks").encode()).contains("Approved", "bob")
                .doesNotContain("gatehouse_approve");
        assertThat(post.json().getString("channel")).isEqualTo("#db-approvals");
    }

    @Test
    void anOriginatorConfirmationIsADirectMessageToTheLinkedSlackUserNamingTheAgent() {
        // Given alice linked by her Slack user id (with her issuer), carol only by e-mail
        SlackSettings settings = new SlackSettings("#db-approvals", null, FakeSlack.BOT_TOKEN, "secret", slack.apiUrl(),
                null, Map.of("U0ALICE", new SlackSettings.User("alice", "https://idp.example", List.of(), null),
                "carol@example.com", new SlackSettings.User("carol", "https://idp.example", List.of(), null)),
                false, FAST, 0);
        notifier = new SlackNotifier(vertx, settings, log, new SimpleMeterRegistry(), "a1");
        log.append(SlackFixtures.originatorRequest("ap-dm", SlackFixtures.agentFor("alice", "planner-agent"),
                "DELETE FROM errands WHERE id = 1"));
        Approval a = log.book.get("ap-dm").orElseThrow();

        // When
        assertThat(notifier.undeliverable(a)).isEmpty();
        notifier.requested(a);

        // Then: chat.postMessage to alice's user id (her DM), naming the agent, the chain and the statement
        FakeSlack.Captured post = slack.awaitRequest(FakeSlack.POST_MESSAGE, WAIT);
        JsonObject body = post.json();
        assertThat(body.getString("channel")).isEqualTo("U0ALICE");
        String blocks = body.getJsonArray("blocks").encode();
        assertThat(blocks).contains("Confirm your agent's command", "planner-agent acting for alice",
                "alice → planner-agent", "only alice", "DELETE FROM errands", "gatehouse_approve");
        assertThat(body.getString("text")).contains("agent planner-agent acting for alice");
        await().atMost(WAIT).until(() -> !log.events(AuditEvent.ApprovalNotified.class).isEmpty());
        assertThat(log.events(AuditEvent.ApprovalNotified.class).getFirst().destination())
                .isEqualTo("direct message to U0ALICE");
    }

    @Test
    void anOriginatorWithoutAnExplicitLinkCannotBeAskedAndNothingIsPosted() {
        // Given links for nobody, for carol by e-mail only, and for dave without an issuer
        SlackSettings settings = new SlackSettings("#db-approvals", null, FakeSlack.BOT_TOKEN, "secret", slack.apiUrl(),
                null, Map.of("carol@example.com", new SlackSettings.User("carol", "https://idp.example", List.of(), null),
                "U0DAVE", new SlackSettings.User("dave", null, List.of(), null)), false, FAST, 0);
        notifier = new SlackNotifier(vertx, settings, log, new SimpleMeterRegistry(), "a1");
        log.append(SlackFixtures.originatorRequest("ap-erin", SlackFixtures.agentFor("erin", "planner-agent"), "DELETE FROM t"));
        log.append(SlackFixtures.originatorRequest("ap-carol", SlackFixtures.agentFor("carol", "planner-agent"), "DELETE FROM t"));
        log.append(SlackFixtures.originatorRequest("ap-dave", SlackFixtures.agentFor("dave", "planner-agent"), "DELETE FROM t"));

        // When / Then: each says why, naming the originator and where to link them
        assertThat(notifier.undeliverable(log.book.get("ap-erin").orElseThrow())).hasValueSatisfying(why ->
                assertThat(why).contains("no Slack user is linked to the originator erin (issuer https://idp.example)",
                        "approval.slack.users"));
        assertThat(notifier.undeliverable(log.book.get("ap-carol").orElseThrow())).isPresent();
        assertThat(notifier.undeliverable(log.book.get("ap-dave").orElseThrow())).isPresent();
        // a group approval is not the originator's business
        log.append(SlackFixtures.request("ap-group", SlackFixtures.agentFor("erin", "planner-agent"), "DROP TABLE t"));
        assertThat(notifier.undeliverable(log.book.get("ap-group").orElseThrow())).isEmpty();

        // When the notifier is asked to post one anyway
        notifier.requested(log.book.get("ap-erin").orElseThrow());

        // Then nothing reaches Slack (never the channel)
        await().during(Duration.ofMillis(500)).atMost(WAIT).until(() -> slack.requests(FakeSlack.POST_MESSAGE).isEmpty());
    }

    @Test
    void aWebhookCannotSendADirectMessage() {
        // Given a webhook only, and alice linked
        SlackSettings settings = new SlackSettings("#db-approvals", slack.webhookUrl(), null, "secret", slack.apiUrl(),
                null, Map.of("U0ALICE", new SlackSettings.User("alice", "https://idp.example", List.of(), null)),
                false, FAST, 0);
        notifier = new SlackNotifier(vertx, settings, log, new SimpleMeterRegistry(), "a1");
        log.append(SlackFixtures.originatorRequest("ap-hook", SlackFixtures.agentFor("alice", "planner-agent"), "DELETE FROM t"));

        // When / Then
        assertThat(notifier.undeliverable(log.book.get("ap-hook").orElseThrow())).hasValueSatisfying(why ->
                assertThat(why).contains("direct message", "bot token"));
    }
}
