package dev.gatehouse.platform.identity;

import dev.gatehouse.dev.DevTokenIssuer;
import com.nimbusds.jwt.SignedJWT;
import dev.gatehouse.platform.core.Identity;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DevTokenIssuerTest {

    @TempDir
    static Path dir;

    private static Vertx vertx;
    private static DevTokenIssuer issuer;
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    @BeforeAll
    static void start() throws Exception {
        vertx = Vertx.vertx();
        issuer = DevTokenIssuer.load(dir.resolve("keys"));
        issuer.serve(vertx, "127.0.0.1", 0).await(10, TimeUnit.SECONDS);
    }

    @AfterAll
    static void stop() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void keyIsPersistedOwnerOnlyAndReusedAcrossLoads() throws Exception {
        // Given
        Path keys = dir.resolve("persisted");

        // When
        DevTokenIssuer first = DevTokenIssuer.load(keys, DevTokenIssuer.defaultIssuerUrl(8089));
        DevTokenIssuer second = DevTokenIssuer.load(keys, DevTokenIssuer.defaultIssuerUrl(8089));

        // Then
        assertThat(second.keyId()).isEqualTo(first.keyId());
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(keys.resolve(DevTokenIssuer.KEY_FILE))))
                .isEqualTo("rw-------");
        assertThat(first.issuerUrl()).isEqualTo("http://127.0.0.1:8089/dev-issuer");
        assertThat(DevTokenIssuer.load(dir.resolve("elsewhere"), first.issuerUrl()).keyId()).isNotEqualTo(first.keyId());
    }

    @Test
    void issuedTokenCarriesTheRegisteredClaims() throws Exception {
        // Given
        String token = issuer.issue("alice", List.of("dba"), Duration.ofMinutes(10), Map.of("team", "core"));

        // When
        SignedJWT jwt = SignedJWT.parse(token);

        // Then
        assertThat(jwt.getHeader().getKeyID()).isEqualTo(issuer.keyId());
        assertThat(jwt.getHeader().getAlgorithm().getName()).isEqualTo("RS256");
        var claims = jwt.getJWTClaimsSet();
        assertThat(claims.getIssuer()).isEqualTo(issuer.issuerUrl());
        assertThat(claims.getAudience()).containsExactly("gatehouse");
        assertThat(claims.getSubject()).isEqualTo("alice");
        assertThat(claims.getStringListClaim("groups")).containsExactly("dba");
        assertThat(claims.getStringClaim("team")).isEqualTo("core");
        assertThat(claims.getIssueTime()).isNotNull();
        assertThat(claims.getNotBeforeTime()).isNotNull();
        assertThat(Duration.between(claims.getIssueTime().toInstant(), claims.getExpirationTime().toInstant()))
                .isEqualTo(Duration.ofMinutes(10));
    }

    @Test
    void extraClaimsMayNotRedefineRegisteredOnes() {
        assertThatThrownBy(() -> issuer.issue("alice", List.of(), Duration.ofMinutes(1), Map.of("aud", "other")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("aud");
    }

    @Test
    void jwksServesThePublicKeyOnly() throws Exception {
        // When
        HttpResponse<String> response = get(issuer.jwksUri());

        // Then
        assertThat(response.statusCode()).isEqualTo(200);
        JsonObject key = new JsonObject(response.body()).getJsonArray("keys").getJsonObject(0);
        assertThat(key.getString("kid")).isEqualTo(issuer.keyId());
        assertThat(key.getString("n")).isNotBlank();
        assertThat(key.fieldNames()).doesNotContain("d", "p", "q", "dp", "dq", "qi");
    }

    @Test
    void discoveryDocumentPointsAtTheJwks() throws Exception {
        // When
        HttpResponse<String> response = get(URI.create(issuer.issuerUrl() + "/.well-known/openid-configuration"));

        // Then
        assertThat(response.statusCode()).isEqualTo(200);
        JsonObject doc = new JsonObject(response.body());
        assertThat(doc.getString("issuer")).isEqualTo(issuer.issuerUrl());
        assertThat(doc.getString("jwks_uri")).isEqualTo(issuer.jwksUri().toString());
    }

    @Test
    void tokenEndpointIssuesAValidToken() throws Exception {
        // Given
        HttpRequest request = HttpRequest.newBuilder(URI.create(issuer.issuerUrl() + "/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString("subject=erin&groups=dba,+ops&ttl_seconds=120"))
                .build();

        // When
        HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());

        // Then
        assertThat(response.statusCode()).isEqualTo(200);
        JsonObject body = new JsonObject(response.body());
        assertThat(body.getString("token_type")).isEqualTo("Bearer");
        assertThat(body.getLong("expires_in")).isEqualTo(120L);
        Identity identity = new TokenValidator(List.of(TrustedIssuer.of(issuer.issuerUrl(), issuer.jwksUri(), DevTokenIssuer.AUDIENCE))).validate(body.getString("access_token"));
        assertThat(identity.subject()).isEqualTo("erin");
        assertThat(identity.groups()).containsExactly("dba", "ops");
    }

    @Test
    void tokenEndpointRefusesBadInput() throws Exception {
        // Given
        HttpRequest noSubject = form("groups=dba");
        HttpRequest badTtl = form("subject=erin&ttl_seconds=forever");
        HttpRequest longTtl = form("subject=erin&ttl_seconds=999999999");

        // When / Then
        for (HttpRequest request : List.of(noSubject, badTtl, longTtl)) {
            HttpResponse<String> response = HTTP.send(request, HttpResponse.BodyHandlers.ofString());
            assertThat(response.statusCode()).isEqualTo(400);
            assertThat(new JsonObject(response.body()).getString("error")).isEqualTo("invalid_request");
        }
    }

    private static HttpRequest form(String body) {
        return HttpRequest.newBuilder(URI.create(issuer.issuerUrl() + "/token"))
                .header("content-type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body))
                .build();
    }

    private static HttpResponse<String> get(URI uri) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(uri).GET().build(), HttpResponse.BodyHandlers.ofString());
    }
}
