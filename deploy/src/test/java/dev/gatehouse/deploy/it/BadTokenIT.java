package dev.gatehouse.deploy.it;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.MACSigner;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.Base64URL;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.dev.DevTokenIssuer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * Bad tokens through the real edge: each is refused at login with an authentication SQLSTATE
 * and a message the user can act on, never echoing the token, and recorded as SessionRejected.
 */
class BadTokenIT {

    private static final Gateway gw = Gateway.get();

    /** A bad token, the SQLSTATE it gets and words of the message that tell the user what is wrong. */
    enum BadToken {
        EXPIRED("28P01", "token expired at"),
        NOT_YET_VALID("28P01", "not valid before"),
        WRONGLY_SIGNED("28P01", "signature does not verify"),
        WRONG_AUDIENCE("28000", "request a token for this gateway's audience"),
        WRONG_ISSUER("28000", "is not trusted"),
        UNKNOWN_KID("28P01", "publishes no key"),
        ALG_NONE("28P01", "unsigned (alg none)"),
        HMAC_WITH_RSA_PUBLIC_KEY("28P01", "HS256"),
        MALFORMED("28P01", "is not a JWT");

        final String sqlState;
        final String says;

        BadToken(String sqlState, String says) {
            this.sqlState = sqlState;
            this.says = says;
        }
    }

    @ParameterizedTest
    @EnumSource(BadToken.class)
    void aBadTokenIsRefusedAtLoginAndRecorded(BadToken bad) throws Exception {
        // Given
        String token = token(bad);
        String user = "bad-" + bad.name().toLowerCase() + "-" + UUID.randomUUID().toString().substring(0, 8);

        // When
        SQLException e = catchThrowableOfType(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + gw.edgePort() + "/demo?sslmode=disable&connectTimeout=30", user, token)
                .close());

        // Then
        assertThat((Throwable) e).as("login with a %s token", bad).isNotNull();
        assertThat(e.getSQLState()).as(e.getMessage()).isEqualTo(bad.sqlState);
        assertThat(e.getMessage()).contains("Gatehouse authentication failed").contains(bad.says);
        assertNoPartOfTheTokenIn(e.getMessage(), token);
        AuditEvent.SessionRejected rejected = await().atMost(Duration.ofSeconds(30)).until(() -> gw.audit().stream()
                .filter(ev -> ev instanceof AuditEvent.SessionRejected r && user.equals(r.databaseUser()))
                .map(AuditEvent.SessionRejected.class::cast).findFirst().orElse(null), r -> r != null);
        assertThat(rejected.sqlState()).isEqualTo(bad.sqlState);
        assertThat(rejected.reason()).contains(bad.says);
        assertThat(rejected.connection()).isEqualTo("demo");
        assertThat(rejected.subject()).isNull();
        assertNoPartOfTheTokenIn(rejected.reason(), token);
    }

    @Test
    void psqlShowsTheReasonOfARefusal() throws Exception {
        // Given
        String token = token(BadToken.EXPIRED);

        // When
        Gateway.Result result = gw.run(token, null, "psql", "-X", "-w", "-U", "alice", "-d", "demo", "-c", "SELECT 1");

        // Then
        assertThat(result.exitCode()).as(result.toString()).isEqualTo(2);
        assertThat(result.stderr()).contains("Gatehouse authentication failed: token expired at")
                .contains("get a new one from");
        assertNoPartOfTheTokenIn(result.stderr(), token);
    }

    private static String token(BadToken bad) throws Exception {
        DevTokenIssuer issuer = gw.env.issuer();
        Instant now = Instant.now();
        return switch (bad) {
            case EXPIRED -> issuer.issue("alice", List.of("dba"), now.minus(Duration.ofHours(2)), now.minus(Duration.ofHours(1)), Map.of());
            case NOT_YET_VALID -> issuer.issue("alice", List.of("dba"), now.plus(Duration.ofHours(1)), now.plus(Duration.ofHours(2)), Map.of());
            case WRONGLY_SIGNED -> sign(new RSAKeyGenerator(2048).keyID(issuer.keyId()).generate(), validClaims(issuer.issuerUrl(), "gatehouse"));
            case WRONG_AUDIENCE -> issuer.sign(validClaims(issuer.issuerUrl(), "billing"));
            case WRONG_ISSUER -> DevTokenIssuer.load(Files.createTempDirectory("other-issuer"), "http://127.0.0.1:1/other-issuer")
                    .issue("alice", List.of("dba"), Duration.ofMinutes(5), Map.of());
            case UNKNOWN_KID -> DevTokenIssuer.load(Files.createTempDirectory("impostor"), issuer.issuerUrl())
                    .issue("alice", List.of("dba"), Duration.ofMinutes(5), Map.of());
            case ALG_NONE -> Base64URL.encode("{\"alg\":\"none\"}".getBytes(StandardCharsets.UTF_8)) + "."
                    + issuer.issue("alice", List.of("dba"), Duration.ofMinutes(5), Map.of()).split("\\.")[1] + ".";
            case HMAC_WITH_RSA_PUBLIC_KEY -> {
                SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.HS256).keyID(issuer.keyId()).build(),
                        validClaims(issuer.issuerUrl(), "gatehouse"));
                jwt.sign(new MACSigner(issuer.publicJwkSet().getKeys().getFirst().toRSAKey().toRSAPublicKey().getEncoded()));
                yield jwt.serialize();
            }
            case MALFORMED -> "not-a-jwt-" + UUID.randomUUID();
        };
    }

    private static JWTClaimsSet validClaims(String iss, String audience) {
        Instant now = Instant.now();
        return new JWTClaimsSet.Builder().issuer(iss).audience(audience).subject("mallory")
                .issueTime(Date.from(now)).expirationTime(Date.from(now.plus(Duration.ofMinutes(5))))
                .claim("groups", List.of("admin")).build();
    }

    private static String sign(RSAKey key, JWTClaimsSet claims) throws Exception {
        SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
        jwt.sign(new RSASSASigner(key));
        return jwt.serialize();
    }

    private static void assertNoPartOfTheTokenIn(String text, String token) {
        assertThat(text).doesNotContain(token);
        for (String part : token.split("\\.")) {
            if (part.length() > 8) {
                assertThat(text).doesNotContain(part);
            }
        }
    }
}
