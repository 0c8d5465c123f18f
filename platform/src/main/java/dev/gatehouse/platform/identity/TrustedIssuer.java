package dev.gatehouse.platform.identity;

import com.nimbusds.jose.JWSAlgorithm;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * An OIDC issuer whose tokens are accepted.
 *
 * @param issuer      the exact {@code iss} value
 * @param jwksUri     where the issuer publishes its public keys
 * @param audiences   a token's {@code aud} must contain at least one of these
 * @param algorithms  accepted signature algorithms; asymmetric only ({@code none} and HMAC are
 *                    refused here, EdDSA only when Google Tink is on the class path)
 * @param clockSkew   tolerance for {@code exp} and {@code nbf}
 * @param groupsClaim the claim holding the caller's groups (a list or a single string); a dotted
 *                    path such as {@code realm_access.roles} reaches into nested objects
 */
public record TrustedIssuer(
        String issuer,
        URI jwksUri,
        Set<String> audiences,
        Set<JWSAlgorithm> algorithms,
        Duration clockSkew,
        String groupsClaim) {

    /** RS256/384/512, PS256/384/512, ES256/384/512. */
    public static final Set<JWSAlgorithm> DEFAULT_ALGORITHMS = Set.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);
    public static final String DEFAULT_GROUPS_CLAIM = "groups";
    private static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(10);

    public TrustedIssuer {
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(jwksUri, "jwksUri");
        if (issuer.isBlank()) {
            throw new IllegalArgumentException("trusted issuer: issuer must not be blank");
        }
        String scheme = jwksUri.getScheme();
        if (!"https".equalsIgnoreCase(scheme) && !"http".equalsIgnoreCase(scheme)) {
            throw new IllegalArgumentException("trusted issuer " + issuer + ": jwksUri must be http(s), got " + jwksUri);
        }
        audiences = Set.copyOf(audiences);
        if (audiences.isEmpty()) {
            throw new IllegalArgumentException("trusted issuer " + issuer + ": at least one audience is required");
        }
        algorithms = Set.copyOf(algorithms == null || algorithms.isEmpty() ? DEFAULT_ALGORITHMS : algorithms);
        for (JWSAlgorithm alg : algorithms) {
            requireAsymmetric(issuer, alg);
        }
        clockSkew = clockSkew == null ? DEFAULT_CLOCK_SKEW : clockSkew;
        if (clockSkew.isNegative() || clockSkew.compareTo(MAX_CLOCK_SKEW) > 0) {
            throw new IllegalArgumentException("trusted issuer " + issuer + ": clockSkew must be between 0 and "
                    + MAX_CLOCK_SKEW + ", got " + clockSkew);
        }
        groupsClaim = groupsClaim == null || groupsClaim.isBlank() ? DEFAULT_GROUPS_CLAIM : groupsClaim;
    }

    /** An issuer with the default algorithms, clock skew and groups claim. */
    public static TrustedIssuer of(String issuer, URI jwksUri, String audience) {
        return new TrustedIssuer(issuer, jwksUri, Set.of(audience), DEFAULT_ALGORITHMS, DEFAULT_CLOCK_SKEW,
                DEFAULT_GROUPS_CLAIM);
    }

    /** Algorithms by name, as written in configuration ("RS256", "ES256", ...). */
    public static Set<JWSAlgorithm> algorithms(Set<String> names) {
        return names.stream().map(JWSAlgorithm::parse).collect(java.util.stream.Collectors.toUnmodifiableSet());
    }

    static boolean isAsymmetric(JWSAlgorithm alg) {
        return JWSAlgorithm.Family.RSA.contains(alg)
                || JWSAlgorithm.Family.EC.contains(alg)
                || JWSAlgorithm.Family.ED.contains(alg);
    }

    private static void requireAsymmetric(String issuer, JWSAlgorithm alg) {
        if (!isAsymmetric(alg)) {
            throw new IllegalArgumentException("trusted issuer " + issuer + ": algorithm " + alg
                    + " is not allowed; only asymmetric algorithms (RS*, PS*, ES*, EdDSA) are accepted");
        }
        if (JWSAlgorithm.Family.ED.contains(alg) && !tinkPresent()) {
            throw new IllegalArgumentException("trusted issuer " + issuer + ": algorithm " + alg
                    + " needs com.google.crypto.tink:tink on the class path");
        }
    }

    private static boolean tinkPresent() {
        try {
            Class.forName("com.google.crypto.tink.subtle.Ed25519Verify", false, TrustedIssuer.class.getClassLoader());
            return true;
        } catch (ClassNotFoundException e) {
            return false;
        }
    }
}
