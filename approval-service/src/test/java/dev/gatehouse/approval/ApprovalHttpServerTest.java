package dev.gatehouse.approval;

import dev.gatehouse.platform.identity.TrustedIssuer;
import dev.gatehouse.platform.identity.BearerAuth;
import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.identity.TokenValidator;
import dev.gatehouse.testsupport.KafkaFixture;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

@ExtendWith(KafkaFixture.class)
class ApprovalHttpServerTest {

    @TempDir
    static Path keys;
    private static Vertx vertx;
    private static DevTokenIssuer issuer;
    private static ApprovalService service;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        issuer = DevTokenIssuer.load(keys);
        issuer.serve(vertx, "127.0.0.1", 0).await();
        BearerAuth.Validator auth = BearerAuth.tokens(new TokenValidator(List.of(TrustedIssuer.of(issuer.issuerUrl(), issuer.jwksUri(), DevTokenIssuer.AUDIENCE))), vertx);
        service = ApprovalTestKit.start(vertx, "rest", auth);
        await().atMost(Duration.ofSeconds(30)).until(() -> service.arbiter().isActive());
    }

    @AfterAll
    static void stop() {
        service.close();
        vertx.close().await();
    }

    private static String token(String subject, String... groups) {
        return issuer.issue(subject, List.of(groups), Duration.ofMinutes(5), Map.of());
    }

    private static HttpResponse<String> call(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + service.port() + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) b.header("Authorization", "Bearer " + token);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    private static AuditEvent.ApprovalRequested pendingRequestBy(String subject) {
        AuditEvent.ApprovalRequested r = ApprovalTestKit.request(subject, issuer.issuerUrl(), 1, Instant.now().plusSeconds(300), 2);
        service.events().append(r).toCompletableFuture().join();
        await().atMost(Duration.ofSeconds(10)).until(() -> service.desk().get(r.approvalId()).isPresent());
        return r;
    }

    @Test
    void withoutAValidTokenTheApiAnswers401WithAChallenge() throws Exception {
        // Given / When no token, then a forged one
        HttpResponse<String> none = call("GET", "/api/v1/approvals", null, null);
        HttpResponse<String> forged = call("GET", "/api/v1/approvals", "eyJhbGciOiJub25lIn0.e30.", null);

        // Then both are refused with a challenge
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(v -> assertThat(v).startsWith("Bearer"));
        assertThat(new JsonObject(none.body()).getString("error")).contains("bearer token is required");
        assertThat(forged.statusCode()).isEqualTo(401);
    }

    @Test
    void theRequesterCannotApproveTheirOwnRequest() throws Exception {
        // Given alice's pending request; alice is even in the approver group
        AuditEvent.ApprovalRequested r = pendingRequestBy("alice");

        // When alice approves it
        HttpResponse<String> response = call("POST", "/api/v1/approvals/" + r.approvalId() + "/approve",
                token("alice", "dba"), "{}");

        // Then it is refused with a clear message and nothing counts
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(new JsonObject(response.body()).getString("error"))
                .isEqualTo("the requester cannot approve their own request (alice asked for " + r.approvalId() + ")");
        assertThat(service.desk().get(r.approvalId()).orElseThrow().votes()).isEmpty();
    }

    @Test
    void aCallerOutsideTheApproverGroupIsRefused() throws Exception {
        // Given a pending request for group dba
        AuditEvent.ApprovalRequested r = pendingRequestBy("alice");

        // When eve, in group dev only, approves
        HttpResponse<String> response = call("POST", "/api/v1/approvals/" + r.approvalId() + "/approve",
                token("eve", "dev"), null);

        // Then 403 names the group
        assertThat(response.statusCode()).isEqualTo(403);
        assertThat(new JsonObject(response.body()).getString("error")).isEqualTo("eve is not in the approver group dba");
    }

    @Test
    void anApproverApprovesAndLaterVotesAreRefused() throws Exception {
        // Given a pending request
        AuditEvent.ApprovalRequested r = pendingRequestBy("alice");
        String path = "/api/v1/approvals/" + r.approvalId();

        // When listing pending, then bob approves, then carol tries to deny
        HttpResponse<String> pending = call("GET", "/api/v1/approvals?state=pending", token("carol"), null);
        HttpResponse<String> approve = call("POST", path + "/approve", token("bob", "dba"), "{\"reason\":\"looks fine\"}");
        await().atMost(Duration.ofSeconds(10)).until(() ->
                service.desk().get(r.approvalId()).orElseThrow().state() == Approval.State.GRANTED);
        HttpResponse<String> late = call("POST", path + "/deny", token("carol", "dba"), "{\"reason\":\"no\"}");
        HttpResponse<String> show = call("GET", path, token("carol"), null);

        // Then the list had it, bob's vote counted, carol's is 409, and it shows granted by bob
        assertThat(pending.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(pending.body()).getJsonArray("approvals").stream()
                .map(o -> ((JsonObject) o).getString("id"))).contains(r.approvalId());
        assertThat(approve.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(approve.body()).getBoolean("counted")).isTrue();
        assertThat(new JsonObject(approve.body()).getString("tally")).isEqualTo("granted");
        assertThat(late.statusCode()).isEqualTo(409);
        assertThat(new JsonObject(late.body()).getString("error")).isEqualTo("approval " + r.approvalId() + " is already granted");
        JsonObject shown = new JsonObject(show.body());
        assertThat(shown.getString("state")).isEqualTo("granted");
        assertThat(shown.getJsonObject("outcome").getJsonArray("by").getList()).containsExactly("bob");
        assertThat(shown.getString("sql")).isEqualTo("DROP TABLE orders");
    }

    @Test
    void denyingNeedsAReasonAndUnknownApprovalsAre404() throws Exception {
        // Given a pending request
        AuditEvent.ApprovalRequested r = pendingRequestBy("alice");

        // When bob denies without a reason, and someone asks for an unknown approval
        HttpResponse<String> noReason = call("POST", "/api/v1/approvals/" + r.approvalId() + "/deny", token("bob", "dba"), "{}");
        HttpResponse<String> unknown = call("GET", "/api/v1/approvals/ap-000000000000", token("bob", "dba"), null);
        HttpResponse<String> unknownVote = call("POST", "/api/v1/approvals/ap-000000000000/approve", token("bob", "dba"), null);

        // Then 400 and 404
        assertThat(noReason.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(noReason.body()).getString("error")).contains("a reason is required to deny");
        assertThat(unknown.statusCode()).isEqualTo(404);
        assertThat(unknownVote.statusCode()).isEqualTo(404);
        assertThat(service.desk().get(r.approvalId()).orElseThrow().state()).isEqualTo(Approval.State.PENDING);
    }
}
