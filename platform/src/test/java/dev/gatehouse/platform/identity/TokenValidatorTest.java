package dev.gatehouse.platform.identity;

import dev.gatehouse.dev.DevTokenIssuer;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.identity.TokenRejectedException.Reason;
import io.vertx.core.http.HttpServer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class TokenValidatorTest {

    private static final Duration TTL = Duration.ofMinutes(5);

    @RegisterExtension
    static final ServedIssuer SERVED = new ServedIssuer();

    @TempDir
    static Path keyDir;

    private static TokenValidator validator() {
        return new TokenValidator(List.of(TrustedIssuer.of(SERVED.issuer().issuerUrl(), SERVED.issuer().jwksUri(), DevTokenIssuer.AUDIENCE)));
    }

    @Test
    void validTokenYieldsIdentityWithGroupsRolesAndPlainClaims() throws Exception {
        // Given
        String token = SERVED.issuer().issue("alice", List.of("dba", "dev"), TTL,
                Map.of("realm_access", Map.of("roles", List.of("admin")), "email", "alice@example.com"));

        // When
        Identity identity = validator().validate(token);

        // Then
        assertThat(identity.subject()).isEqualTo("alice");
        assertThat(identity.issuer()).isEqualTo(SERVED.issuer().issuerUrl());
        assertThat(identity.groups()).containsExactly("dba", "dev");
        assertThat(identity.roles()).containsExactly("admin");
        assertThat(identity.ci()).isNull();
        assertThat(identity.claims())
                .containsEntry("sub", "alice")
                .containsEntry("email", "alice@example.com")
                .containsEntry("aud", "gatehouse")
                .containsKeys("exp", "iat", "nbf", "jti");
        assertThat(identity.claims().get("exp")).isInstanceOf(Long.class);
        assertThat(identity.claims().get("realm_access")).isEqualTo(Map.of("roles", List.of("admin")));
        assertThat(identity.claims().values()).allSatisfy(v ->
                assertThat(v.getClass().getName()).startsWith("java."));
    }

    @Test
    void groupsClaimIsConfigurableAsANestedPath() throws Exception {
        // Given
        TrustedIssuer dev = TrustedIssuer.of(SERVED.issuer().issuerUrl(), SERVED.issuer().jwksUri(), DevTokenIssuer.AUDIENCE);
        TokenValidator validator = new TokenValidator(List.of(dev.withClaims(
                ClaimMapping.of(IssuerKind.GENERIC, null, "realm_access.roles", null, null))));
        String token = SERVED.issuer().issue("bob", List.of("ignored"), TTL,
                Map.of("realm_access", Map.of("roles", List.of("ops", "oncall"))));

        // When
        Identity identity = validator.validate(token);

        // Then
        assertThat(identity.groups()).containsExactly("ops", "oncall");
    }

    @Test
    void expiredTokenIsRejectedWithItsExpiryTime() {
        // Given
        Instant expiry = Instant.now().minus(1, ChronoUnit.HOURS).truncatedTo(ChronoUnit.SECONDS);
        String token = SERVED.issuer().issue("alice", List.of(), expiry.minus(1, ChronoUnit.HOURS), expiry, Map.of());

        // When / Then
        TokenRejectedException e = rejected(validator(), token, Reason.EXPIRED);
        assertThat(e.getMessage()).contains("token expired at " + expiry).contains("gatehouse token");
    }

    @Test
    void tokenNotYetValidIsRejected() {
        // Given
        Instant notBefore = Instant.now().plus(1, ChronoUnit.HOURS);
        String token = SERVED.issuer().issue("alice", List.of(), notBefore, notBefore.plus(1, ChronoUnit.HOURS), Map.of());

        // When / Then
        rejected(validator(), token, Reason.NOT_YET_VALID);
    }

    @Test
    void tokenWithinClockSkewIsAccepted() throws Exception {
        // Given
        Instant now = Instant.now();
        String token = SERVED.issuer().issue("alice", List.of(), now.plusSeconds(10), now.plusSeconds(300), Map.of());

        // When
        Identity identity = validator().validate(token);

        // Then
        assertThat(identity.subject()).isEqualTo("alice");
    }

    @Test
    void tokenFromAnotherIssuerIsRejected() {
        // Given: same key, another iss
        DevTokenIssuer other = DevTokenIssuer.load(keyDir.resolve("issuer"), "http://127.0.0.1:1/other-issuer");
        String token = other.issue("alice", List.of(), TTL, Map.of());

        // When / Then
        TokenRejectedException e = rejected(validator(), token, Reason.UNTRUSTED_ISSUER);
        assertThat(e.getMessage()).contains("other-issuer").contains(SERVED.issuer().issuerUrl());
    }

    @Test
    void tokenForAnotherAudienceIsRejected() {
        // Given
        TrustedIssuer dev = TrustedIssuer.of(SERVED.issuer().issuerUrl(), SERVED.issuer().jwksUri(), DevTokenIssuer.AUDIENCE);
        TokenValidator validator = new TokenValidator(List.of(dev.withAudiences(Set.of("billing-gateway"))));
        String token = SERVED.issuer().issue("alice", List.of(), TTL, Map.of());

        // When / Then
        TokenRejectedException e = rejected(validator, token, Reason.WRONG_AUDIENCE);
        assertThat(e.getMessage()).contains("billing-gateway");
    }

    @Test
    void tokenSignedByAnotherKeyWithTheSameKidIsRejected() throws Exception {
        // Given
        RSAKey impostor = new RSAKeyGenerator(2048).keyID(SERVED.issuer().keyId()).generate();
        String token = sign(impostor, JWSAlgorithm.RS256, validClaims());

        // When / Then
        rejected(validator(), token, Reason.BAD_SIGNATURE);
    }

    @Test
    void tokenSignedByAnUnknownKeyIsRejectedEvenAfterTheKeysWereCached() throws Exception {
        // Given
        TokenValidator validator = validator();
        validator.validate(SERVED.issuer().issue("alice", List.of(), TTL, Map.of()));
        DevTokenIssuer impostor = DevTokenIssuer.load(keyDir.resolve("impostor"), SERVED.issuer().issuerUrl());
        String token = impostor.issue("alice", List.of(), TTL, Map.of());

        // When / Then: the first triggers a refresh, the second hits the rate limit
        rejected(validator, token, Reason.UNKNOWN_KEY);
        rejected(validator, token, Reason.UNKNOWN_KEY);
    }

    @Test
    void tokenSignedByAnUnknownKeyIsRejectedOnAColdCache() {
        // Given
        DevTokenIssuer impostor = DevTokenIssuer.load(keyDir.resolve("impostor"), SERVED.issuer().issuerUrl());
        String token = impostor.issue("alice", List.of(), TTL, Map.of());

        // When / Then
        rejected(validator(), token, Reason.UNKNOWN_KEY);
    }

    @Test
    void unsignedTokenIsRefused() {
        // Given: header {"alg":"none"}, the claims of a valid token, an empty signature
        String valid = SERVED.issuer().issue("alice", List.of("dba"), TTL, Map.of());
        String header = Base64URL.encode("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)).toString();
        String token = header + "." + valid.split("\\.")[1] + ".";

        // When / Then
        rejected(validator(), token, Reason.ALGORITHM_NOT_ALLOWED);
    }

    @Test
    void hmacTokenSignedWithThePublicKeyIsRefused() throws Exception {
        // Given: the classic key confusion, the RSA public key used as an HMAC secret
        byte[] publicKey = SERVED.issuer().publicJwkSet().getKeys().getFirst().toRSAKey().toRSAPublicKey().getEncoded();
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(SERVED.issuer().keyId()).build(),
                validClaims());
        jwt.sign(new MACSigner(publicKey));
        String token = jwt.serialize();

        // When / Then
        TokenRejectedException e = rejected(validator(), token, Reason.ALGORITHM_NOT_ALLOWED);
        assertThat(e.getMessage()).contains("HS256");
    }

    @Test
    void issuerConfiguredWithHmacIsRefused() {
        // Given
        TrustedIssuer dev = TrustedIssuer.of(SERVED.issuer().issuerUrl(), SERVED.issuer().jwksUri(), DevTokenIssuer.AUDIENCE);

        // When / Then
        assertThatThrownBy(() -> new TrustedIssuer(dev.issuer(), dev.jwksUri(), dev.audiences(),
                Set.of(JWSAlgorithm.RS256, JWSAlgorithm.HS256), null, null, null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("HS256");
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "abc", "...", "a.b.c", "eyJhbGciOiJSUzI1NiJ9.bm90IGpzb24.c2ln", "Bearer x.y.z"})
    void malformedTokensAreRejected(String token) {
        rejected(validator(), token, Reason.MALFORMED);
    }

    @Test
    void hugeJunkIsRejectedWithoutParsing() {
        // Given
        byte[] junk = new byte[100 * 1024];
        new SecureRandom().nextBytes(junk);
        String token = Base64URL.encode(junk).toString();

        // When / Then
        TokenRejectedException e = rejected(validator(), token, Reason.MALFORMED);
        assertThat(e.getMessage()).contains("more than the");
    }

    @Test
    void unreachableJwksIsReported() throws Exception {
        // Given: a real issuer whose endpoint is stopped before the keys were ever fetched
        DevTokenIssuer down = DevTokenIssuer.load(keyDir.resolve("down"));
        HttpServer server = down.serve(SERVED.vertx(), "127.0.0.1", 0).await(10, TimeUnit.SECONDS);
        server.close().await(10, TimeUnit.SECONDS);
        String token = down.issue("alice", List.of(), TTL, Map.of());
        TokenValidator validator = new TokenValidator(List.of(TrustedIssuer.of(down.issuerUrl(), down.jwksUri(), DevTokenIssuer.AUDIENCE)));

        // When / Then
        TokenRejectedException e = rejected(validator, token, Reason.JWKS_UNAVAILABLE);
        assertThat(e.getMessage()).contains(down.jwksUri().toString());
    }

    @Test
    void validationOnVertxRunsOffTheEventLoop() throws Exception {
        // Given
        TokenValidator validator = validator();
        String token = SERVED.issuer().issue("carol", List.of("dev"), TTL, Map.of());

        // When
        Identity identity = validator.validate(SERVED.vertx(), token).await(10, TimeUnit.SECONDS);
        Throwable failure = validator.validate(SERVED.vertx(), "abc")
                .transform(ar -> io.vertx.core.Future.succeededFuture(ar.cause())).await(10, TimeUnit.SECONDS);

        // Then
        assertThat(identity.subject()).isEqualTo("carol");
        assertThat(failure).isInstanceOfSatisfying(TokenRejectedException.class,
                e -> assertThat(e.reason()).isEqualTo(Reason.MALFORMED));
    }

    @Test
    void validationOnAnExecutorCompletesTheStage() throws Exception {
        // Given
        var executor = Executors.newSingleThreadExecutor();
        String token = SERVED.issuer().issue("dave", List.of(), TTL, Map.of());

        try {
            // When
            Identity identity = validator().validateAsync(token, executor).toCompletableFuture().get(10, TimeUnit.SECONDS);
            var rejected = validator().validateAsync("abc", executor).toCompletableFuture();

            // Then
            assertThat(identity.subject()).isEqualTo("dave");
            assertThatThrownBy(() -> rejected.get(10, TimeUnit.SECONDS))
                    .isInstanceOf(ExecutionException.class)
                    .hasRootCauseInstanceOf(TokenRejectedException.class);
        } finally {
            executor.shutdownNow();
        }
    }

    @Test
    void keysAreCachedSoValidationNeedsNoFetchPerToken() throws Exception {
        // Given: an issuer whose JWKS endpoint goes away after the first validation
        DevTokenIssuer cached = DevTokenIssuer.load(java.nio.file.Files.createTempDirectory("cached-issuer"));
        HttpServer server = cached.serve(SERVED.vertx(), "127.0.0.1", 0).await(10, TimeUnit.SECONDS);
        TokenValidator validator = new TokenValidator(List.of(TrustedIssuer.of(cached.issuerUrl(), cached.jwksUri(), DevTokenIssuer.AUDIENCE)));
        validator.validate(cached.issue("erin", List.of(), TTL, Map.of()));
        server.close().await(10, TimeUnit.SECONDS);

        // When
        Identity identity = validator.validate(cached.issue("frank", List.of("ops"), TTL, Map.of()));

        // Then
        assertThat(identity.subject()).isEqualTo("frank");
        assertThat(identity.groups()).containsExactly("ops");
    }

    private static JWTClaimsSet validClaims() {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder()
                .issuer(SERVED.issuer().issuerUrl())
                .audience(DevTokenIssuer.AUDIENCE)
                .subject("mallory")
                .issueTime(Date.from(now))
                .expirationTime(Date.from(now.plus(TTL)))
                .claim("groups", List.of("admin"))
                .build();
    }

    private static String sign(RSAKey key, JWSAlgorithm alg, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(alg).keyID(key.getKeyID()).type(JOSEObjectType.JWT).build(),
                claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static TokenRejectedException rejected(TokenValidator validator, String token, Reason reason) {
        Throwable thrown = org.assertj.core.api.Assertions.catchThrowable(() -> validator.validate(token));
        assertThat(thrown).isInstanceOf(TokenRejectedException.class);
        TokenRejectedException e = (TokenRejectedException) thrown;
        assertThat(e.reason()).as("reason, message: %s", e.getMessage()).isEqualTo(reason);
        if (!token.isBlank()) {
            assertThat(e.getMessage()).doesNotContain(token.strip());
            for (String part : token.split("\\.")) {
                if (part.length() > 8) {
                    assertThat(e.getMessage()).doesNotContain(part);
                }
            }
        }
        return e;
    }
}
