package dev.gatehouse.deploy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gatehouse.approval.slack.SlackConfig;
import dev.gatehouse.deploy.cli.GatehouseCli;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.testsupport.FakeSlack;
import io.vertx.core.json.JsonObject;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * Human approval through Slack, end to end: a real psql waits on a held statement, the approval
 * service (configured with {@code approval.slack}, pointed at a local fake Slack) posts the request
 * with {@code chat.postMessage}, a mapped approver clicks Approve (a callback signed as Slack signs
 * it), psql's statement runs and the message is updated through the click's {@code response_url}.
 * Forged, stale and replayed callbacks are refused; Slack failing is retried and recorded, and
 * approving through the CLI works while Slack is down.
 *
 * <p>The approval service with Slack runs as its own runtime (role approval only) on the shared
 * gateway's Kafka; the gateway's own approval service is stopped meanwhile so that this one is the
 * arbiter (the one that notifies), and started again afterwards.
 */
class SlackApprovalIT {
        private static final String SECRET = "it-signing-secret-" + UUID.randomUUID();
    private static final String BOB = "U0BOB";
    private static final String CAROL = "U0CAROL";
    /** alice's Slack account, linked to her subject at the dev issuer: she confirms what her agents do. */
    private static final String ALICE = "U0ALICE";
    /** A Slack account linked to the agent's identity (an agent must never approve its own command either). */
    private static final String AGENT = "U0AGENT";
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    private static FakeSlack slack;
    private static GatehouseRuntime approvals;

    private final Gateway gw = Gateway.get();
    private final String requester = "req-" + UUID.randomUUID().toString().substring(0, 8);
    private HeldPsql held;

    @BeforeAll
    static void startSlackAndTheApprovalService() throws Exception {
        Gateway gw = Gateway.get();
        try (Connection c = gw.targetDirect(DemoTarget.DATABASE); Statement s = c.createStatement()) {
            for (String table : List.of("payouts", "payroll", "errands")) {
                s.execute("CREATE TABLE IF NOT EXISTS " + table + " (id serial PRIMARY KEY, note text, amount int DEFAULT 0)");
                s.execute("GRANT ALL ON " + table + " TO PUBLIC");
                s.execute("GRANT ALL ON SEQUENCE " + table + "_id_seq TO PUBLIC");
            }
        }
        slack = FakeSlack.start(SECRET);
        slack.user(CAROL, "carol@example.com");
        SlackConfig slackConfig = new SlackConfig("#db-approvals", null, "IT_SLACK_BOT_TOKEN", "IT_SLACK_SIGNING_SECRET",
                slack.apiUrl(), null,
                Map.of(BOB, new SlackConfig.User("bob", null, List.of("dba"), "Bob"),
                        "carol@example.com", new SlackConfig.User("carol", null, List.of("dba"), null),
                        ALICE, new SlackConfig.User("alice", gw.env.issuer().issuerUrl(), List.of("dba"), "Alice"),
                        AGENT, new SlackConfig.User("planner-agent", gw.env.issuer().issuerUrl(), List.of("dba"), null)),
                true, new SlackConfig.Retry(3, "200ms", "400ms"), null);
        GatehouseConfig base = gw.env.runtime().config();
        GatehouseConfig config = new GatehouseConfig("slack-it", Files.createTempDirectory("gatehouse-slack-it-"),
                base.kafka(), base.edge(), base.connections(), base.identity(), base.policy(),
                new GatehouseConfig.Observability("127.0.0.1", 0), base.admin(),
                new GatehouseConfig.Approval("127.0.0.1", 0, null, null, null, slackConfig), base.indexer());
        Map<String, String> env = Map.of("IT_SLACK_BOT_TOKEN", FakeSlack.BOT_TOKEN, "IT_SLACK_SIGNING_SECRET", SECRET);
        // the gateway's approval service steps aside so that this one becomes the arbiter
        gw.env.runtime().stopApproval();
        approvals = new GatehouseRuntime(config, EnumSet.of(Role.APPROVAL), env::get).start();
        await().atMost(Duration.ofSeconds(30)).until(() -> approvals.approval().arbiter().isActive());
    }

    @AfterAll
    static void stop() {
        if (approvals != null) approvals.close();
        Gateway.get().env.runtime().restartApproval();
        if (slack != null) slack.close();
    }

    @AfterEach
    void stopPsql() {
        if (held != null) held.process().destroyForcibly();
    }

    @Test
    void aSlackApproverReleasesTheHeldStatementAndTheMessageShowsWhoDecided() throws Exception {
        // Given: a statement whose text needs escaping in Slack
        String note = "payout <b>&" + UUID.randomUUID();
        held = HeldPsql.start(gw, requester, "INSERT INTO payouts (note, amount) VALUES ('" + note + "', 100) RETURNING note");
        String approvalId = held.approvalId();
        FakeSlack.Captured post = posted(approvalId);

        // When
        HttpResponse<String> click = slack.click(interactivityUrl(), BOB, approvalId, true);

        // Then: the message carried the escaped SQL, the buttons and the approval id
        assertThat(post.headers()).containsEntry("authorization", "Bearer " + FakeSlack.BOT_TOKEN);
        JsonObject message = post.json();
        assertThat(message.getString("channel")).isEqualTo("#db-approvals");
        String blocks = message.getJsonArray("blocks").encode();
        assertThat(blocks).contains("payout &lt;b&gt;&amp;").doesNotContain("<b>")
                .contains("gatehouse_approve").contains("gatehouse_deny").contains(approvalId);
        assertThat(message.getJsonObject("metadata").getJsonObject("event_payload").getString("approval_id"))
                .isEqualTo(approvalId);
        // Then: psql's statement ran once, approved by bob
        assertThat(click.statusCode()).as(click.body()).isEqualTo(200);
        Gateway.Result r = held.await();
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains(note);
        assertThat(r.stderr()).contains("approval required: request " + approvalId).contains("approved by bob");
        assertThat(count("payouts", note)).isEqualTo(1);
        // Then: the message was replaced through the click's response_url with who decided
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(slack.requests(FakeSlack.RESPONSE_URL))
                .anySatisfy(c -> {
                    assertThat(c.accepted()).isTrue();
                    assertThat(c.body()).contains(approvalId).contains("Approved").contains("bob");
                    assertThat(c.json().getBoolean("replace_original", false)).isTrue();
                }));
        assertThat(approval(approvalId).getString("state")).isIn("granted", "executed");
    }

    @Test
    void forgedStaleAndReplayedCallbacksAreRefusedAndCastNoVote() throws Exception {
        // Given: a payroll change, which needs two DBAs
        String note = "payroll " + UUID.randomUUID();
        held = HeldPsql.start(gw, requester, "INSERT INTO payroll (note) VALUES ('" + note + "')");
        String approvalId = held.approvalId();
        posted(approvalId);
        String body = FakeSlack.formBody(FakeSlack.blockActions(BOB, approvalId, true, slack.responseUrl()));
        String now = Long.toString(Instant.now().getEpochSecond());
        String stale = Long.toString(Instant.now().minus(Duration.ofMinutes(10)).getEpochSecond());

        // When
        HttpResponse<String> forged = slack.post(interactivityUrl(), body, now, FakeSlack.sign("not-the-secret", now, body));
        HttpResponse<String> old = slack.post(interactivityUrl(), body, stale, FakeSlack.sign(SECRET, stale, body));
        HttpResponse<String> unsigned = slack.post(interactivityUrl(), body, null, null);

        // Then: refused, and nobody has voted
        assertThat(forged.statusCode()).as(forged.body()).isEqualTo(401);
        assertThat(old.statusCode()).as(old.body()).isEqualTo(401);
        assertThat(unsigned.statusCode()).as(unsigned.body()).isEqualTo(401);
        JsonObject pending = approval(approvalId);
        assertThat(pending.getString("state")).isEqualTo("pending");
        assertThat(pending.getJsonArray("approvedBy")).isEmpty();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(gw.audit().stream()
                .filter(e -> e instanceof AuditEvent.ProtocolViolation v && "slack".equals(v.protocol()))
                .map(e -> ((AuditEvent.ProtocolViolation) e).detail()).toList())
                .anySatisfy(d -> assertThat(d).contains("bad-signature"))
                .anySatisfy(d -> assertThat(d).contains("stale")));

        // When: bob's genuine click counts once, and the same signed request sent again is a replay
        String signedAt = Long.toString(Instant.now().getEpochSecond());
        String signature = FakeSlack.sign(SECRET, signedAt, body);
        HttpResponse<String> genuine = slack.post(interactivityUrl(), body, signedAt, signature);
        await().atMost(Duration.ofSeconds(20)).until(() -> approval(approvalId).getJsonArray("approvedBy").contains("bob"));
        HttpResponse<String> replayed = slack.post(interactivityUrl(), body, signedAt, signature);

        // Then: one of two approvals, still pending, and the statement has not run
        assertThat(genuine.statusCode()).as(genuine.body()).isEqualTo(200);
        assertThat(replayed.statusCode()).as(replayed.body()).isEqualTo(401);
        JsonObject half = approval(approvalId);
        assertThat(half.getString("state")).isEqualTo("pending");
        assertThat(half.getJsonArray("approvedBy").getList()).containsExactly("bob");
        assertThat(held.process().isAlive()).isTrue();
        assertThat(count("payroll", note)).isZero();

        // When: carol, known to Slack only by her e-mail address, approves too
        HttpResponse<String> carol = slack.click(interactivityUrl(), CAROL, approvalId, true);

        // Then
        assertThat(carol.statusCode()).as(carol.body()).isEqualTo(200);
        Gateway.Result r = held.await();
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(count("payroll", note)).isEqualTo(1);
        awaitOutcomeShown(approvalId);
    }

    @Test
    void slackFailingIsRetriedAndRecordedAndTheCliStillApprovesWhileSlackIsDown() throws Exception {
        // Given: Slack answers 503 twice, then works
        slack.failNext(2, 503);
        String first = "payout " + UUID.randomUUID();
        held = HeldPsql.start(gw, requester, "INSERT INTO payouts (note) VALUES ('" + first + "')");
        String retriedId = held.approvalId();

        // When
        FakeSlack.Captured post = posted(retriedId);

        // Then: attempts 1 and 2 were recorded as failed, the third as delivered
        assertThat(post.accepted()).isTrue();
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(notified(retriedId))
                .extracting(AuditEvent.ApprovalNotified::attempt, AuditEvent.ApprovalNotified::delivered)
                .startsWith(org.assertj.core.groups.Tuple.tuple(1, false), org.assertj.core.groups.Tuple.tuple(2, false),
                        org.assertj.core.groups.Tuple.tuple(3, true)));
        assertThat(notified(retriedId)).allSatisfy(n -> {
            assertThat(n.channel()).isEqualTo("slack");
            assertThat(n.destination()).isEqualTo("#db-approvals").doesNotContain(FakeSlack.BOT_TOKEN);
        });
        assertThat(notified(retriedId).get(0).error()).contains("503");
        assertThat(cli("approve", retriedId, "--as", "bob", "--groups", "dba").code()).isZero();
        assertThat(held.await().exitCode()).isZero();
        awaitOutcomeShown(retriedId);

        // Given: Slack is down for every attempt of the next request
        slack.failNext(3, 503);
        String second = "payout " + UUID.randomUUID();
        held = HeldPsql.start(gw, requester, "INSERT INTO payouts (note) VALUES ('" + second + "') RETURNING note");
        String downId = held.approvalId();
        await().atMost(Duration.ofSeconds(20)).until(() -> notified(downId).size() >= 3);
        assertThat(notified(downId)).extracting(AuditEvent.ApprovalNotified::delivered).containsExactly(false, false, false);

        // When: a DBA approves from the command line
        CliResult listed = cli("list");
        CliResult approved = cli("approve", downId, "--as", "carol", "--groups", "dba", "--reason", "slack is down");

        // Then
        assertThat(listed.code()).as(listed.toString()).isZero();
        assertThat(listed.out()).contains(downId);
        assertThat(approved.code()).as(approved.toString()).isZero();
        assertThat(approved.out()).contains("approved " + downId).contains("granted by carol");
        Gateway.Result r = held.await();
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains(second);
        assertThat(count("payouts", second)).isEqualTo(1);
        // Then: once Slack answers again, the outcome is posted (the request never was) and recorded as delivered
        awaitOutcomeShown(downId);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(notified(downId))
                .extracting(AuditEvent.ApprovalNotified::delivered).containsExactly(false, false, false, true));
    }

    @Test
    void theOriginatorConfirmsHerAgentsCommandInADirectMessageAndNobodyElseMay() throws Exception {
        // Given: planner-agent, acting for alice (a delegation token from the dev issuer), changes errands
        String note = "errand " + UUID.randomUUID();
        held = HeldPsql.start(gw, "planner-agent", delegationToken("alice", "planner-agent"),
                "INSERT INTO errands (note) VALUES ('" + note + "') RETURNING note");
        String approvalId = held.approvalId();
        FakeSlack.Captured post = posted(approvalId);

        // Then: the request went to alice alone, as a direct message naming the agent, the chain and the statement
        assertThat(held.stderr()).contains("approval required: request " + approvalId + " sent to the originator alice");
        JsonObject message = post.json();
        assertThat(message.getString("channel")).isEqualTo(ALICE);
        assertThat(message.getJsonArray("blocks").encode()).contains("Confirm your agent's command",
                "planner-agent acting for alice", "alice → planner-agent", "only alice", note);

        // When: bob, a DBA, clicks Approve on it
        slack.click(interactivityUrl(), BOB, approvalId, true);

        // Then: bob is told only alice may confirm; nothing counted, the statement still waits
        assertThat(reply(approvalId)).contains("was not counted", "only alice", "alice → planner-agent", "bob may not");
        assertThat(approval(approvalId).getJsonArray("approvedBy")).isEmpty();
        assertThat(held.process().isAlive()).isTrue();
        assertThat(count("errands", note)).isZero();

        // When: alice clicks Approve in her direct message
        HttpResponse<String> confirmed = slack.click(interactivityUrl(), ALICE, approvalId, true);

        // Then: the agent's statement runs once, confirmed by alice
        assertThat(confirmed.statusCode()).as(confirmed.body()).isEqualTo(200);
        Gateway.Result r = held.await();
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains(note);
        assertThat(r.stderr()).contains("approved by alice");
        assertThat(count("errands", note)).isEqualTo(1);
        JsonObject done = approval(approvalId);
        assertThat(done.getString("approverFrom")).isEqualTo("originator");
        assertThat(done.getJsonObject("requester").getString("chain")).isEqualTo("alice → planner-agent");
    }

    @Test
    void anOriginatorConfirmationWithoutAnOriginatorOrALinkedSlackUserIsDeniedWithTheReason() throws Exception {
        // Given: alice herself (no delegation), and an agent acting for erin, whom no Slack user is linked to
        String mine = "errand " + UUID.randomUUID();
        String erins = "errand " + UUID.randomUUID();

        // When
        Gateway.Result own = gw.psql("alice", "demo", null, "-c", "INSERT INTO errands (note) VALUES ('" + mine + "')");
        held = HeldPsql.start(gw, "planner-agent", delegationToken("erin", "planner-agent"),
                "INSERT INTO errands (note) VALUES ('" + erins + "')");
        Gateway.Result agent = held.await();

        // Then: both fail closed, each saying why, and nothing was posted for erin's agent
        assertThat(own.exitCode()).as(own.toString()).isNotZero();
        assertThat(own.stderr()).contains("no originator to confirm it");
        assertThat(agent.exitCode()).as(agent.toString()).isNotZero();
        assertThat(agent.stderr()).contains("denied by gatehouse: nobody can confirm it: no Slack user is linked to "
                + "the originator erin");
        String approvalId = HeldPsql.APPROVAL_ID.matcher(agent.stderr()).results().findFirst().orElseThrow().group(1);
        assertThat(slack.requests(FakeSlack.POST_MESSAGE)).noneMatch(c -> c.body().contains(approvalId));
        assertThat(count("errands", mine)).isZero();
        assertThat(count("errands", erins)).isZero();
    }

    @Test
    void aFourEyesApprovalRefusesTheOriginatorAndTheAgentAndADbaCounts() throws Exception {
        // Given: planner-agent, acting for alice (both linked to Slack and both in dba), changes payouts
        String note = "payout " + UUID.randomUUID();
        held = HeldPsql.start(gw, "planner-agent", delegationToken("alice", "planner-agent"),
                "INSERT INTO payouts (note) VALUES ('" + note + "') RETURNING note");
        String approvalId = held.approvalId();
        FakeSlack.Captured post = posted(approvalId);
        assertThat(post.json().getString("channel")).isEqualTo("#db-approvals");
        assertThat(post.json().getJsonArray("blocks").encode()).contains("planner-agent acting for alice",
                "alice → planner-agent", "not the agent, nor alice");

        // When: alice approves her own agent's command, then the agent approves it
        slack.click(interactivityUrl(), ALICE, approvalId, true);
        String aliceRefused = reply(approvalId);
        slack.clear();
        slack.click(interactivityUrl(), AGENT, approvalId, true);
        String agentRefused = reply(approvalId);

        // Then: both refused, nothing counted, still waiting
        assertThat(aliceRefused).contains("was not counted", "alice cannot approve their own agent's command");
        assertThat(agentRefused).contains("was not counted", "the acting agent cannot approve its own command");
        assertThat(approval(approvalId).getJsonArray("approvedBy")).isEmpty();
        assertThat(held.process().isAlive()).isTrue();

        // When: bob, a DBA, approves
        slack.click(interactivityUrl(), BOB, approvalId, true);

        // Then: his vote counts and the statement runs
        Gateway.Result r = held.await();
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stderr()).contains("approved by bob");
        assertThat(count("payouts", note)).isEqualTo(1);
        assertThat(approval(approvalId).getJsonArray("approvedBy").getList()).containsExactly("bob");
    }

    // ---------------------------------------------------------------- helpers

    /** A delegation token from the dev issuer: {@code actor} (group agents) acting for {@code originator} (group dba). */
    private String delegationToken(String originator, String actor) {
        return gw.env.issuer().issue(originator, List.of("dba"), Duration.ofMinutes(30),
                Map.of("act", DevTokenIssuer.actClaim(actor, List.of("dba", "agents"), List.of())));
    }

    /** The text of the ephemeral reply to a refused click on this approval. */
    private static String reply(String approvalId) {
        return await().atMost(Duration.ofSeconds(20)).until(() -> slack.requests(FakeSlack.RESPONSE_URL).stream()
                .map(FakeSlack.Captured::json)
                .filter(j -> "ephemeral".equals(j.getString("response_type")) && j.getString("text", "").contains(approvalId))
                .map(j -> j.getString("text")).findFirst(), Optional::isPresent).orElseThrow();
    }

    /** The accepted chat.postMessage of this approval. */
    private static FakeSlack.Captured posted(String approvalId) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> slack.requests(FakeSlack.POST_MESSAGE).stream()
                .filter(c -> c.accepted() && c.body().contains(approvalId)).findFirst(), Optional::isPresent).orElseThrow();
    }

    /** Waits until Slack was told the outcome (response_url, chat.update or a new message). */
    private static void awaitOutcomeShown(String approvalId) {
        await().atMost(Duration.ofSeconds(20)).until(() -> slack.requests().stream()
                .anyMatch(c -> c.accepted() && c.body().contains(approvalId) && c.body().contains("Approved")));
    }

    /** The ApprovalNotified events of this approval in gatehouse.audit, in log order. */
    private List<AuditEvent.ApprovalNotified> notified(String approvalId) {
        return gw.audit().stream()
                .filter(e -> e instanceof AuditEvent.ApprovalNotified n && n.approvalId().equals(approvalId))
                .map(AuditEvent.ApprovalNotified.class::cast).toList();
    }

    private record CliResult(int code, String out, String err) {
    }

    /** {@code gatehouse approvals ...} in-process against the Slack-enabled approval service. */
    private CliResult cli(String... args) {
        List<String> all = new java.util.ArrayList<>(List.of("approvals"));
        all.add(args[0]);
        all.addAll(List.of("--url", approvalsUrl(), "--data-dir", gw.dataDir.toAbsolutePath().toString()));
        all.addAll(List.of(args).subList(1, args.length));
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StringWriter err = new StringWriter();
        synchronized (SlackApprovalIT.class) {
            try {
                System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
                CommandLine cli = GatehouseCli.commandLine();
                cli.setErr(new PrintWriter(err, true));
                int code = cli.execute(all.toArray(String[]::new));
                return new CliResult(code, captured.toString(StandardCharsets.UTF_8), err.toString());
            } finally {
                System.setOut(stdout);
            }
        }
    }

    private static String approvalsUrl() {
        return "http://127.0.0.1:" + approvals.approvalPort();
    }

    private static String interactivityUrl() {
        return approvalsUrl() + "/slack/interactivity";
    }

    private JsonObject approval(String approvalId) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create(approvalsUrl() + "/api/v1/approvals/" + approvalId))
                .header("Authorization", "Bearer " + gw.token("auditor", "dba")).GET().build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        return new JsonObject(response.body());
    }



    private int count(String table, String note) throws Exception {
        try (Connection c = gw.targetDirect(DemoTarget.DATABASE); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table + " WHERE note = '" + note.replace("'", "''") + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
