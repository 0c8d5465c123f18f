package dev.gatehouse.platform.identity;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.gatehouse.dev.DevTokenIssuer;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Comparator;
import java.util.Date;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A development token issuer with a key of its own, serving its JWKS over HTTP on a Vert.x of its
 * own for one test class: {@code @RegisterExtension static final ServedIssuer SERVED = new ServedIssuer();}.
 */
final class ServedIssuer implements BeforeAllCallback, AfterAllCallback {

    private Path dir;
    private Vertx vertx;
    private DevTokenIssuer issuer;

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        dir = Files.createTempDirectory("gatehouse-issuer-");
        vertx = Vertx.vertx();
        issuer = DevTokenIssuer.load(dir.resolve("issuer"));
        issuer.serve(vertx, "127.0.0.1", 0).await(10, TimeUnit.SECONDS);
    }

    @Override
    public void afterAll(ExtensionContext context) throws Exception {
        if (vertx != null) vertx.close().await(10, TimeUnit.SECONDS);
        if (dir != null) {
            try (var paths = Files.walk(dir)) {
                paths.sorted(Comparator.reverseOrder()).forEach(p -> {
                    try {
                        Files.deleteIfExists(p);
                    } catch (IOException ignored) {
                        // a temporary directory
                    }
                });
            }
        }
    }

    DevTokenIssuer issuer() {
        return issuer;
    }

    /** The Vert.x the issuer is served on, for validators and other servers of the test. */
    Vertx vertx() {
        return vertx;
    }

    /** The given claims plus iss (this issuer), iat, nbf (5 s ago) and exp (in 5 minutes). */
    JWTClaimsSet claims(Map<String, Object> claims) {
        Instant now = Instant.now();
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder()
                .issuer(issuer.issuerUrl())
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(now.minusSeconds(5)))
                .expirationTime(Date.from(now.plus(Duration.ofMinutes(5))));
        claims.forEach(b::claim);
        return b.build();
    }
}
