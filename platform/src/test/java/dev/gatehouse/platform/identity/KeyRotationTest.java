package dev.gatehouse.platform.identity;

import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.identity.TokenRejectedException.Reason;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/** Keys found by OIDC discovery, rotated and retired at the issuer. */
class KeyRotationTest {

    private static final Duration TTL = Duration.ofMinutes(5);

    @TempDir
    static Path keyDir;

    private static Vertx vertx;

    @BeforeAll
    static void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterAll
    static void stopVertx() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void theJwksIsFoundThroughOidcDiscovery() throws Exception {
        // Given: an issuer configured without jwks-uri
        DevTokenIssuer issuer = served("discovered");
        TokenValidator validator = new TokenValidator(List.of(new TrustedIssuer(issuer.issuerUrl(), null,
                Set.of(DevTokenIssuer.AUDIENCE), null, null, IssuerKind.GENERIC, null)));

        // When
        Identity identity = validator.validate(issuer.issue("alice", List.of("dba"), TTL, Map.of()));

        // Then
        assertThat(identity.subject()).isEqualTo("alice");
        assertThat(identity.groups()).containsExactly("dba");
    }

    @Test
    void aDiscoveryDocumentNamingAnotherIssuerIsNotTrusted() throws Exception {
        // Given: the configured issuer URL has a trailing slash, the served document does not
        DevTokenIssuer issuer = served("mismatch");
        TokenValidator validator = new TokenValidator(List.of(new TrustedIssuer(issuer.issuerUrl() + "/", null,
                Set.of(DevTokenIssuer.AUDIENCE), null, null, IssuerKind.GENERIC, null)));
        java.time.Instant now = java.time.Instant.now();
        String token = issuer.sign(new com.nimbusds.jwt.JWTClaimsSet.Builder().issuer(issuer.issuerUrl() + "/")
                .subject("alice").audience(DevTokenIssuer.AUDIENCE).issueTime(java.util.Date.from(now))
                .expirationTime(java.util.Date.from(now.plus(TTL))).build());

        // When
        TokenRejectedException e = catchThrowableOfType(TokenRejectedException.class, () -> validator.validate(token));

        // Then
        assertThat(e.reason()).isEqualTo(Reason.JWKS_UNAVAILABLE);
        assertThat(e.getMessage()).contains("names issuer").contains(".well-known/openid-configuration");
    }

    @Test
    void aRotatedKeyIsAcceptedAtOnceAndARetiredKeyIsRefusedOnceTheCacheExpires() throws Exception {
        // Given: a validator that has cached the issuer's first key
        DevTokenIssuer issuer = served("rotating");
        TokenValidator validator = new TokenValidator(List.of(TrustedIssuer.of(issuer.issuerUrl(), issuer.jwksUri(), DevTokenIssuer.AUDIENCE)),
                new TokenValidator.JwksSettings(Duration.ofMillis(500), Duration.ofSeconds(2), Duration.ofMillis(200)));
        String oldKid = issuer.keyId();
        String oldToken = issuer.issue("alice", List.of(), TTL, Map.of());
        validator.validate(oldToken);

        // When: the issuer rotates, tokens are signed by the new key
        String newKid = issuer.rotateKey();
        String newToken = issuer.issue("bob", List.of(), TTL, Map.of());

        // Then: the unknown kid triggers a refresh, well before the cache would expire
        assertThat(newKid).isNotEqualTo(oldKid);
        assertThat(validator.validate(newToken).subject()).isEqualTo("bob");
        assertThat(validator.validate(oldToken).subject()).isEqualTo("alice");

        // When: the issuer stops publishing the old key
        issuer.retireKey(oldKid);

        // Then: once the cached set expires, the old key's tokens are refused and the new key's are not
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(catchThrowableOfType(
                TokenRejectedException.class, () -> validator.validate(oldToken)))
                .isNotNull().extracting(TokenRejectedException::reason).isEqualTo(Reason.UNKNOWN_KEY));
        assertThat(validator.validate(newToken).subject()).isEqualTo("bob");
    }

    private static DevTokenIssuer served(String name) throws Exception {
        DevTokenIssuer issuer = DevTokenIssuer.load(keyDir.resolve(name));
        HttpServer server = issuer.serve(vertx, "127.0.0.1", 0).await(10, TimeUnit.SECONDS);
        assertThat(server.actualPort()).isPositive();
        return issuer;
    }
}
