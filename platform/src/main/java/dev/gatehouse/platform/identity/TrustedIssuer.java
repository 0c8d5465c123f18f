package dev.gatehouse.platform.identity;

import com.nimbusds.jose.JWSAlgorithm;

import java.net.URI;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;

/**
 * An OIDC issuer whose tokens are accepted.
 *
 * @param issuer     the exact {@code iss} value
 * @param jwksUri    where the issuer publishes its public keys; null to discover it from
 *                   {@code <issuer>/.well-known/openid-configuration} on first use
 * @param audiences  a token's {@code aud} must contain at least one of these
 * @param algorithms accepted signature algorithms; asymmetric only ({@code none} and HMAC are
 *                   refused here, EdDSA only when Google Tink is on the class path)
 * @param clockSkew  tolerance for {@code exp} and {@code nbf}
 * @param kind       the kind of issuer, which selects the default claim mapping
 * @param claims     which claims give subject, groups, roles and CI provenance
 * @param delegation whether the issuer may assert delegation, and how its tokens name the actor
 */
public record TrustedIssuer(
        String issuer,
        URI jwksUri,
        Set<String> audiences,
        Set<JWSAlgorithm> algorithms,
        Duration clockSkew,
        IssuerKind kind,
        ClaimMapping claims,
        DelegationTrust delegation) {

    /** RS256/384/512, PS256/384/512, ES256/384/512. */
    public static final Set<JWSAlgorithm> DEFAULT_ALGORITHMS = Set.of(
            JWSAlgorithm.RS256, JWSAlgorithm.RS384, JWSAlgorithm.RS512,
            JWSAlgorithm.PS256, JWSAlgorithm.PS384, JWSAlgorithm.PS512,
            JWSAlgorithm.ES256, JWSAlgorithm.ES384, JWSAlgorithm.ES512);

    public static final Duration DEFAULT_CLOCK_SKEW = Duration.ofSeconds(30);
    public static final String DEFAULT_GROUPS_CLAIM = "groups";
    /** The path of the OIDC discovery document under the issuer URL. */
    public static final String DISCOVERY_PATH = "/.well-known/openid-configuration";
    private static final Duration MAX_CLOCK_SKEW = Duration.ofMinutes(10);

    public TrustedIssuer {
        Objects.requireNonNull(issuer, "issuer");
        if (issuer.isBlank()) {
            throw new IllegalArgumentException("trusted issuer: issuer must not be blank");
        }
        if (jwksUri != null) {
            requireHttp(issuer, "jwksUri", jwksUri);
        } else {
            requireHttp(issuer, "issuer (for discovery)", discoveryUri(issuer));
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
        kind = kind == null ? IssuerKind.GENERIC : kind;
        claims = claims == null ? ClaimMapping.defaults(kind) : claims;
        delegation = delegation == null ? DelegationTrust.NONE : delegation;
    }

    /** An issuer that asserts no delegation. */
    public TrustedIssuer(String issuer, URI jwksUri, Set<String> audiences, Set<JWSAlgorithm> algorithms, Duration clockSkew,
                         IssuerKind kind, ClaimMapping claims) {
        this(issuer, jwksUri, audiences, algorithms, clockSkew, kind, claims, null);
    }

    /** This issuer with other delegation trust. */
    public TrustedIssuer withDelegation(DelegationTrust trust) {
        return new TrustedIssuer(issuer, jwksUri, audiences, algorithms, clockSkew, kind, claims, trust);
    }

    /** A generic issuer with the default algorithms, clock skew and claim mapping. */
    public static TrustedIssuer of(String issuer, URI jwksUri, String audience) {
        return new TrustedIssuer(issuer, jwksUri, Set.of(audience), DEFAULT_ALGORITHMS, DEFAULT_CLOCK_SKEW,
                IssuerKind.GENERIC, null);
    }

    /** This issuer with another claim mapping. */
    public TrustedIssuer withClaims(ClaimMapping mapping) {
        return new TrustedIssuer(issuer, jwksUri, audiences, algorithms, clockSkew, kind, mapping, delegation);
    }

    /** This issuer of another kind, with that kind's default claim mapping. */
    public TrustedIssuer withKind(IssuerKind newKind) {
        return new TrustedIssuer(issuer, jwksUri, audiences, algorithms, clockSkew, newKind, null, delegation);
    }

    /** This issuer accepting other audiences. */
    public TrustedIssuer withAudiences(Set<String> newAudiences) {
        return new TrustedIssuer(issuer, jwksUri, newAudiences, algorithms, clockSkew, kind, claims, delegation);
    }

    /** {@code <issuer>/.well-known/openid-configuration}. */
    public static URI discoveryUri(String issuer) {
        String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
        try {
            return URI.create(base + DISCOVERY_PATH);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("trusted issuer " + issuer + ": not a URL", e);
        }
    }

    private static void requireHttp(String issuer, String what, URI uri) {
        String scheme = uri.getScheme();
        if (!"https".equalsIgnoreCase(scheme) && !"http".equalsIgnoreCase(scheme)) {
            throw new IllegalArgumentException("trusted issuer " + issuer + ": " + what + " must be http(s), got " + uri);
        }
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
