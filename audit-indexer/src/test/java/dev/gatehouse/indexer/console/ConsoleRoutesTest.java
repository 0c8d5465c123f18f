package dev.gatehouse.indexer.console;

import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.handler.BodyHandler;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

class ConsoleRoutesTest {

    private final Vertx vertx = Vertx.vertx();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
    private final List<JsonObject> seenByApprovals = new CopyOnWriteArrayList<>();

    @AfterEach
    void stop() throws Exception {
        vertx.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
    }

    @Test
    void theRootRedirectsToTheConsoleWhichIsServedWithAStrictContentSecurityPolicy() throws Exception {
        // Given
        int port = console(null);

        // When
        HttpResponse<String> root = get(port, "/", null);
        HttpResponse<String> index = get(port, "/console/", null);
        HttpResponse<String> script = get(port, "/console/js/common.js", null);
        HttpResponse<String> missing = get(port, "/console/../pom.xml", null);

        // Then
        assertThat(root.statusCode()).isEqualTo(302);
        assertThat(root.headers().firstValue("Location")).hasValue("/console/");
        assertThat(index.statusCode()).isEqualTo(200);
        assertThat(index.body()).contains("<table id=\"sessions\"");
        assertThat(index.headers().firstValue("Content-Security-Policy")).hasValue(ConsoleRoutes.CONTENT_SECURITY_POLICY);
        assertThat(index.headers().firstValue("Referrer-Policy")).hasValue("no-referrer");
        assertThat(script.statusCode()).isEqualTo(200);
        assertThat(script.headers().firstValue("Content-Type").orElse("")).contains("javascript");
        assertThat(script.body()).contains("export function el(").doesNotContain("innerHTML =");
        assertThat(missing.statusCode()).isIn(400, 404);
    }

    @Test
    void approvalCallsAreForwardedWithTheCallersTokenAndTheAnswerRelayed() throws Exception {
        // Given an approval service that echoes what it got
        int approvals = fakeApprovalService();
        int port = console(URI.create("http://127.0.0.1:" + approvals));

        // When
        HttpResponse<String> list = get(port, "/api/v1/approvals?state=all", "Bearer t0k3n");
        HttpResponse<String> deny = post(port, "/api/v1/approvals/ap-1%2F2/deny", "Bearer t0k3n", "{\"reason\":\"no\"}");
        HttpResponse<String> other = post(port, "/api/v1/approvals/ap-1/escalate", "Bearer t0k3n", "{}");

        // Then
        assertThat(list.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(list.body()).getJsonArray("approvals")).isEmpty();
        assertThat(deny.statusCode()).isEqualTo(403);
        assertThat(new JsonObject(deny.body()).getString("error")).isEqualTo("not in group dba");
        assertThat(other.statusCode()).isEqualTo(404);
        assertThat(seenByApprovals).hasSize(2);
        assertThat(seenByApprovals.get(0).getString("uri")).isEqualTo("/api/v1/approvals?state=all");
        assertThat(seenByApprovals.get(0).getString("authorization")).isEqualTo("Bearer t0k3n");
        assertThat(seenByApprovals.get(1).getString("uri")).isEqualTo("/api/v1/approvals/ap-1%2F2/deny");
        assertThat(seenByApprovals.get(1).getString("body")).isEqualTo("{\"reason\":\"no\"}");
    }

    @Test
    void withoutAnApprovalServiceTheApprovalsPageIsToldSo() throws Exception {
        // Given
        int port = console(null);

        // When
        HttpResponse<String> list = get(port, "/api/v1/approvals", "Bearer t");

        // Then
        assertThat(list.statusCode()).isEqualTo(503);
        assertThat(list.body()).contains("no approval service is configured");
    }

    @Test
    void anUnreachableApprovalServiceIsABadGatewayNamingIt() throws Exception {
        // Given a port nobody listens on
        int port = console(URI.create("http://127.0.0.1:9"));

        // When
        HttpResponse<String> list = get(port, "/api/v1/approvals", "Bearer t");

        // Then
        assertThat(list.statusCode()).isEqualTo(502);
        assertThat(list.body()).contains("http://127.0.0.1:9").doesNotContain("Bearer");
    }

    private int console(URI approvals) throws Exception {
        Router router = Router.router(vertx);
        ConsoleRoutes.install(vertx, router, approvals);
        return listen(router);
    }

    private int fakeApprovalService() throws Exception {
        Router router = Router.router(vertx);
        router.route().handler(BodyHandler.create());
        router.get("/api/v1/approvals").handler(ctx -> {
            seenByApprovals.add(seen(ctx));
            ctx.response().putHeader("Content-Type", "application/json").end("{\"approvals\":[]}");
        });
        router.post("/api/v1/approvals/:id/deny").handler(ctx -> {
            seenByApprovals.add(seen(ctx).put("body", ctx.body().asString()));
            ctx.response().setStatusCode(403).putHeader("Content-Type", "application/json").end("{\"error\":\"not in group dba\"}");
        });
        return listen(router);
    }

    private static JsonObject seen(io.vertx.ext.web.RoutingContext ctx) {
        return new JsonObject().put("uri", ctx.request().uri()).put("authorization", ctx.request().getHeader("Authorization"));
    }

    private int listen(Router router) throws Exception {
        HttpServer server = vertx.createHttpServer().requestHandler(router).listen(0, "127.0.0.1")
                .toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        return server.actualPort();
    }

    private HttpResponse<String> get(int port, String path, String authorization) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10));
        if (authorization != null) b.header("Authorization", authorization);
        return http.send(b.GET().build(), HttpResponse.BodyHandlers.ofString());
    }

    private HttpResponse<String> post(int port, String path, String authorization, String body) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).timeout(Duration.ofSeconds(10))
                .header("Authorization", authorization).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
