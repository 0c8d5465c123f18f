package dev.gatehouse.deploy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import io.vertx.core.json.JsonObject;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Human approval end to end: a real psql waits on a held statement (it prints the gateway's
 * NOTICE), approvers answer through the approval service's REST API, and the statement runs, is
 * refused with the approver and reason, or expires; pending approvals survive a restart of the
 * approval service. Uses the example policy's demo rules
 * (payouts: one DBA; payroll: two; ledger: deferred; gift_cards: expires in 5s).
 */
class ApprovalIT {
        private static final HttpClient HTTP = HttpClient.newHttpClient();

    private final Gateway gw = Gateway.get();
    private final String requester = "req-" + UUID.randomUUID().toString().substring(0, 8);
    private HeldPsql held;
    private HeldPsql alsoHeld;

    @BeforeAll
    static void tables() throws Exception {
        try (Connection c = Gateway.get().targetDirect(DemoTarget.DATABASE); Statement s = c.createStatement()) {
            for (String table : List.of("payouts", "payroll", "ledger", "gift_cards")) {
                s.execute("CREATE TABLE IF NOT EXISTS " + table + " (id serial PRIMARY KEY, note text, amount int DEFAULT 0)");
                s.execute("GRANT ALL ON " + table + " TO PUBLIC");
                s.execute("GRANT ALL ON SEQUENCE " + table + "_id_seq TO PUBLIC");
            }
        }
    }

    @AfterEach
    void stopPsql() {
        if (held != null) held.process().destroyForcibly();
        if (alsoHeld != null) alsoHeld.process().destroyForcibly();
    }

    @Test
    void aHeldStatementRunsOnceADbaApproves() throws Exception {
        // Given
        String note = "payout " + UUID.randomUUID();
        held = HeldPsql.start(gw, requester, "INSERT INTO payouts (note, amount) VALUES ('" + note + "', 100) RETURNING note");
        String approvalId = held.approvalId();

        // When
        HttpResponse<String> vote = vote(approvalId, "bob", true, "looks right");

        // Then
        assertThat(vote.statusCode()).as(vote.body()).isEqualTo(200);
        Gateway.Result r = held.await();
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains(note);
        assertThat(r.stderr()).contains("approval required: request " + approvalId)
                .contains("waiting up to").contains("rule demo-payouts-need-a-dba").contains("approved by bob");
        assertThat(count("payouts", note)).isEqualTo(1);
    }

    @Test
    void aDenialReachesPsqlWithTheApproverAndTheReason() throws Exception {
        // Given
        String note = "payout " + UUID.randomUUID();
        held = HeldPsql.start(gw, requester, "INSERT INTO payouts (note) VALUES ('" + note + "')");
        String approvalId = held.approvalId();

        // When
        HttpResponse<String> vote = vote(approvalId, "carol", false, "not during the freeze");

        // Then
        assertThat(vote.statusCode()).as(vote.body()).isEqualTo(200);
        Gateway.Result r = held.await();
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("approval " + approvalId + " denied").contains("carol").contains("not during the freeze");
        assertThat(count("payouts", note)).isZero();
    }

    @Test
    void anUnansweredRequestExpiresAndTheStatementIsRefused() throws Exception {
        // Given
        String note = "gift " + UUID.randomUUID();

        // When
        held = HeldPsql.start(gw, requester, "INSERT INTO gift_cards (note) VALUES ('" + note + "')");
        String approvalId = held.approvalId();
        Gateway.Result r = held.await();

        // Then
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("approval " + approvalId).contains("expired");
        assertThat(count("gift_cards", note)).isZero();
    }

    @Test
    void theRequesterCannotApproveTheirOwnStatement() throws Exception {
        // Given
        String note = "payout " + UUID.randomUUID();
        held = HeldPsql.start(gw, requester, "INSERT INTO payouts (note) VALUES ('" + note + "')");
        String approvalId = held.approvalId();

        // When
        HttpResponse<String> own = vote(approvalId, requester, true, "trust me");

        // Then
        assertThat(own.statusCode()).as(own.body()).isBetween(400, 499);
        assertThat(held.process().isAlive()).isTrue();
        assertThat(vote(approvalId, "bob", true, null).statusCode()).isEqualTo(200);
        assertThat(held.await().exitCode()).isZero();
        assertThat(count("payouts", note)).isEqualTo(1);
    }

    @Test
    void aRuleWithCountTwoNeedsASecondDistinctApprover() throws Exception {
        // Given
        String note = "payroll " + UUID.randomUUID();
        held = HeldPsql.start(gw, requester, "INSERT INTO payroll (note) VALUES ('" + note + "')");
        String approvalId = held.approvalId();

        // When
        assertThat(vote(approvalId, "bob", true, null).statusCode()).isEqualTo(200);
        HttpResponse<String> again = vote(approvalId, "bob", true, null);

        // Then
        assertThat(again.statusCode()).as(again.body()).isBetween(400, 499);
        assertThat(held.process().waitFor(2, TimeUnit.SECONDS)).as("still held after one approval").isFalse();
        assertThat(count("payroll", note)).isZero();
        assertThat(vote(approvalId, "carol", true, null).statusCode()).isEqualTo(200);
        Gateway.Result r = held.await();
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(count("payroll", note)).isEqualTo(1);
    }

    @Test
    void aDeferredApprovalRunsTheSameStatementExactlyOnce() throws Exception {
        // Given: the first attempt is refused at once with the approval id
        String note = "correction " + UUID.randomUUID();
        String sql = "INSERT INTO ledger (note) VALUES ('" + note + "')";
        Gateway.Result refused = gw.psql(requester, "demo", null, "-c", sql);
        Matcher m = HeldPsql.APPROVAL_ID.matcher(refused.stderr());
        assertThat(m.find()).as(refused.toString()).isTrue();
        String approvalId = m.group(1);
        assertThat(refused.stderr()).contains("run the same statement again once it is approved");
        assertThat(vote(approvalId, "bob", true, null).statusCode()).isEqualTo(200);
        await().atMost(Duration.ofSeconds(20)).until(() -> "granted".equals(approval(approvalId).getString("state")));

        // When
        Gateway.Result first = gw.psql(requester, "demo", null, "-c", sql);
        Gateway.Result second = gw.psql(requester, "demo", null, "-c", sql);

        // Then
        assertThat(refused.exitCode()).isNotZero();
        assertThat(first.exitCode()).as(first.toString()).isZero();
        assertThat(second.exitCode()).as(second.toString()).isNotZero();
        assertThat(second.stderr()).contains("approval required").doesNotContain(approvalId);
        assertThat(count("ledger", note)).isEqualTo(1);
        await().atMost(Duration.ofSeconds(20)).until(() -> "executed".equals(approval(approvalId).getString("state")));
    }

    @Test
    void pendingApprovalsAndTheirTimersSurviveARestartOfTheApprovalService() throws Exception {
        // Given: a payout held for a DBA (10m to answer) and a gift card change held for 5s
        String note = "payout " + UUID.randomUUID();
        held = HeldPsql.start(gw, requester, "INSERT INTO payouts (note, amount) VALUES ('" + note + "', 100) RETURNING note");
        String approvalId = held.approvalId();
        String gift = "gift " + UUID.randomUUID();
        alsoHeld = HeldPsql.start(gw, requester, "INSERT INTO gift_cards (note) VALUES ('" + gift + "')");
        String giftId = alsoHeld.approvalId();
        JsonObject before = approval(approvalId);
        Instant giftExpiresAt = Instant.parse(approval(giftId).getString("expiresAt"));

        // When: the approval service stops and a new instance takes its place
        gw.env.runtime().restartApproval();
        Instant restarted = Instant.now();

        // Then: the new instance still lists the payout, with its expiry, and a DBA approves through it
        assertThat(before.getString("state")).as(before.encodePrettily()).isEqualTo("pending");
        assertThat(giftExpiresAt).as("the gift card's approval was still due when the restart finished").isAfter(restarted);
        JsonObject listed = pending().stream().filter(a -> approvalId.equals(a.getString("id"))).findFirst()
                .orElseThrow(() -> new AssertionError(approvalId + " is not pending after the restart"));
        assertThat(listed.getString("expiresAt")).isNotNull().isEqualTo(before.getString("expiresAt"));
        assertThat(listed.getString("ruleId")).isEqualTo("demo-payouts-need-a-dba");
        HttpResponse<String> vote = vote(approvalId, "bob", true, "approved after the restart");
        assertThat(vote.statusCode()).as(vote.body()).isEqualTo(200);
        Gateway.Result r = held.await();
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains(note);
        assertThat(r.stderr()).contains("approved by bob");
        assertThat(count("payouts", note)).isEqualTo(1);

        // Then: the gift card's timer fired in the new instance, once
        Gateway.Result g = alsoHeld.await();
        assertThat(g.exitCode()).as(g.toString()).isNotZero();
        assertThat(g.stderr()).contains("approval " + giftId).contains("expired");
        assertThat(count("gift_cards", gift)).isZero();
        List<AuditEvent.ApprovalExpired> expired = approvalsLog().stream()
                .filter(e -> e instanceof AuditEvent.ApprovalExpired x && x.approvalId().equals(giftId))
                .map(AuditEvent.ApprovalExpired.class::cast).toList();
        assertThat(expired).as("ApprovalExpired events of " + giftId).hasSize(1);
        assertThat(expired.getFirst().header().timestamp()).isAfterOrEqualTo(giftExpiresAt);
        assertThat(approval(giftId).getString("state")).isEqualTo("expired");
    }

    // ---------------------------------------------------------------- helpers



    private HttpResponse<String> vote(String approvalId, String approver, boolean approve, String reason) throws Exception {
        JsonObject body = new JsonObject();
        if (reason != null) body.put("reason", reason);
        HttpRequest request = HttpRequest.newBuilder(api("/api/v1/approvals/" + approvalId + (approve ? "/approve" : "/deny")))
                .header("Authorization", "Bearer " + gw.token(approver, "dba"))
                .header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    private JsonObject approval(String approvalId) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(api("/api/v1/approvals/" + approvalId))
                .header("Authorization", "Bearer " + gw.token("auditor", "dba")).GET().build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        return response.statusCode() == 200 ? new JsonObject(response.body()) : new JsonObject();
    }

    private List<JsonObject> pending() throws Exception {
        HttpRequest request = HttpRequest.newBuilder(api("/api/v1/approvals?state=pending"))
                .header("Authorization", "Bearer " + gw.token("auditor", "dba")).GET().build();
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
        List<JsonObject> items = new ArrayList<>();
        new JsonObject(response.body()).getJsonArray("approvals").forEach(a -> items.add((JsonObject) a));
        return items;
    }

    /** Every event in gatehouse.approvals so far, in log order. */
    private List<AuditEvent> approvalsLog() {
        AuditEventCodec codec = new AuditEventCodec();
        List<AuditEvent> events = new ArrayList<>();
        try (AuditTail tail = new AuditTail(gw.env.kafka().bootstrapServers(), Topics.APPROVALS, Duration.ofSeconds(30),
                EventSerde.of(codec::encode, codec::decode))) {
            tail.read(null, false, events::add);
        }
        return events;
    }

    private URI api(String path) {
        return URI.create("http://127.0.0.1:" + gw.env.runtime().approvalPort() + path);
    }

    private int count(String table, String note) throws Exception {
        try (Connection c = gw.targetDirect(DemoTarget.DATABASE); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table + " WHERE note = '" + note + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
