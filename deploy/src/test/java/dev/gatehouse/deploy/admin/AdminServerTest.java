package dev.gatehouse.deploy.admin;

import dev.gatehouse.platform.identity.TrustedIssuer;
import dev.gatehouse.platform.identity.BearerAuth;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.identity.TokenRejectedException;
import dev.gatehouse.platform.identity.TokenValidator;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;

/** The admin API's authentication and route registration, with real tokens from the development issuer. */
class AdminServerTest {

    @TempDir
    static Path dir;
    private static Vertx vertx;
    private static DevTokenIssuer issuer;
    private static int port;
    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @BeforeAll
    static void start() {
        vertx = Vertx.vertx();
        issuer = DevTokenIssuer.load(dir.resolve("issuer"));
        issuer.serve(vertx, "127.0.0.1", 0).await();
        TokenValidator validator = new TokenValidator(List.of(TrustedIssuer.of(issuer.issuerUrl(), issuer.jwksUri(), DevTokenIssuer.AUDIENCE)));
        BearerAuth.Validator tokens = token -> CompletableFuture.supplyAsync(() -> {
            try {
                return validator.validate(token);
            } catch (TokenRejectedException e) {
                throw new CompletionException(e);
            }
        });
        AdminRoutes echo = r -> {
            r.route(HttpMethod.GET, "/whoami", req -> AdminServer.now(AdminResponse.ok(
                    new JsonObject().put("subject", req.admin().subject()).put("q", req.queryParam("q")))));
            r.route(HttpMethod.POST, "/things/:id", req -> AdminServer.now(AdminResponse.created(
                    new JsonObject().put("id", req.pathParam("id")).put("body", req.json()))));
            r.route(HttpMethod.GET, "/broken", req -> {
                throw AdminException.notFound("nothing here");
            });
        };
        port = new AdminServer(vertx, "127.0.0.1", 0, new BearerAuth("gatehouse-admin", tokens, "gatehouse-admins")).add(echo).start().await();
    }

    @AfterAll
    static void stop() {
        vertx.close().await();
    }

    private static String token(String subject, String... groups) {
        return issuer.issue(subject, List.of(groups), Duration.ofMinutes(5), Map.of());
    }

    private static HttpResponse<String> call(String method, String path, String authorization, String body) throws Exception {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/admin/v1" + path))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (authorization != null) b.header("Authorization", authorization);
        return HTTP.send(b.build(), HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void anAdministratorReachesTheRoutesWithTheirIdentity() throws Exception {
        // When
        HttpResponse<String> get = call("GET", "/whoami?q=x", "Bearer " + token("root", "ops", "gatehouse-admins"), null);
        HttpResponse<String> post = call("POST", "/things/7", "bearer " + token("root", "gatehouse-admins"), "{\"a\":1}");

        // Then
        assertThat(get.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(get.body())).isEqualTo(new JsonObject().put("subject", "root").put("q", "x"));
        assertThat(post.statusCode()).isEqualTo(201);
        assertThat(new JsonObject(post.body()).getJsonObject("body").getInteger("a")).isEqualTo(1);
        assertThat(get.headers().firstValue("Content-Type")).contains("application/json");
    }

    @Test
    void withoutAValidTokenTheAnswerIs401WithAChallenge() throws Exception {
        // When
        HttpResponse<String> none = call("GET", "/whoami", null, null);
        HttpResponse<String> basic = call("GET", "/whoami", "Basic dXNlcjpwdw==", null);
        HttpResponse<String> forged = call("GET", "/whoami", "Bearer " + token("root", "gatehouse-admins") + "x", null);

        // Then
        for (HttpResponse<String> r : List.of(none, basic, forged)) {
            assertThat(r.statusCode()).as(r.body()).isEqualTo(401);
            assertThat(r.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h ->
                    assertThat(h).startsWith("Bearer realm=\"gatehouse-admin\""));
        }
        assertThat(none.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("invalid_request");
        assertThat(forged.headers().firstValue("WWW-Authenticate").orElseThrow()).contains("invalid_token");
        assertThat(forged.body()).doesNotContain(token("root", "gatehouse-admins").substring(0, 20));
    }

    @Test
    void outsideTheAdminGroupTheAnswerIs403() throws Exception {
        // When
        HttpResponse<String> r = call("GET", "/whoami", "Bearer " + token("eve", "dba"), null);

        // Then
        assertThat(r.statusCode()).isEqualTo(403);
        assertThat(new JsonObject(r.body()).getString("error")).isEqualTo("subject eve is not in the group gatehouse-admins");
    }

    @Test
    void handlerErrorsAndBadBodiesAreAnsweredAsJson() throws Exception {
        // Given
        String admin = "Bearer " + token("root", "gatehouse-admins");

        // When
        HttpResponse<String> notFound = call("GET", "/broken", admin, null);
        HttpResponse<String> badJson = call("POST", "/things/1", admin, "{not json");
        HttpResponse<String> noRoute = call("GET", "/nope", admin, null);

        // Then
        assertThat(notFound.statusCode()).isEqualTo(404);
        assertThat(new JsonObject(notFound.body()).getString("error")).isEqualTo("nothing here");
        assertThat(badJson.statusCode()).isEqualTo(400);
        assertThat(new JsonObject(badJson.body()).getString("error")).startsWith("the body is not a JSON object");
        assertThat(noRoute.statusCode()).isEqualTo(404);
    }
}
