package dev.gatehouse.platform.identity;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.KeySourceException;
import com.nimbusds.jose.jwk.JWK;
import com.nimbusds.jose.jwk.JWKSelector;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.jwk.source.RateLimitReachedException;
import com.nimbusds.jose.proc.BadJOSEException;
import com.nimbusds.jose.proc.BadJWSException;
import com.nimbusds.jose.proc.DefaultJOSEObjectTypeVerifier;
import com.nimbusds.jose.proc.JWSKeySelector;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jose.util.DefaultResourceRetriever;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jose.util.Resource;
import com.nimbusds.jwt.EncryptedJWT;
import com.nimbusds.jwt.JWT;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.JWTParser;
import com.nimbusds.jwt.PlainJWT;
import com.nimbusds.jwt.SignedJWT;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.identity.TokenRejectedException.Reason;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.net.MalformedURLException;
import java.net.URI;
import java.net.URISyntaxException;
import java.security.Key;
import java.text.ParseException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;

/**
 * Validates compact JWS tokens (OIDC access or ID tokens) against a set of trusted issuers and
 * turns them into an {@link Identity}.
 *
 * <p>{@link #validate(String)} <b>blocks</b> while an issuer's JWKS is fetched (the first time,
 * after the cache expires, or when a token names an unknown {@code kid}; refreshes are
 * rate-limited). With the key cached, a validation costs one signature verification
 * (tens of microseconds for RS256). On an event loop use {@link #validate(Vertx, String)}.
 *
 * <p>Only asymmetric algorithms are accepted: {@code alg: none}, HMAC and encrypted tokens are
 * always refused. Refusals are {@link TokenRejectedException}s whose message never contains
 * the token. Thread-safe.
 */
public final class TokenValidator {

    private static final Logger LOGGER = LoggerFactory.getLogger(TokenValidator.class);

    /** Tokens longer than this are refused before parsing. */
    public static final int MAX_TOKEN_CHARS = 16 * 1024;

    private static final int MAX_PRINTED_CHARS = 120;
    /** nimbus' default refresh-ahead time. */
    private static final Duration REFRESH_AHEAD = Duration.ofMillis(JWKSourceBuilder.DEFAULT_REFRESH_AHEAD_TIME);

    /**
     * How the issuers' key sets are fetched and cached.
     *
     * @param httpTimeout        connect and read timeout of one JWKS fetch
     * @param cacheTtl           how long a fetched JWKS is used before it is fetched again
     * @param minRefreshInterval at most one refresh (for an unknown {@code kid}) per interval and issuer
     */
    public record JwksSettings(Duration httpTimeout, Duration cacheTtl, Duration minRefreshInterval) {

        public static final JwksSettings DEFAULT =
                new JwksSettings(Duration.ofSeconds(3), Duration.ofMinutes(5), Duration.ofSeconds(30));

        public JwksSettings {
            Objects.requireNonNull(httpTimeout, "httpTimeout");
            Objects.requireNonNull(cacheTtl, "cacheTtl");
            Objects.requireNonNull(minRefreshInterval, "minRefreshInterval");
            if (httpTimeout.isNegative() || httpTimeout.isZero() || cacheTtl.isNegative() || cacheTtl.isZero()
                    || minRefreshInterval.isNegative()) {
                throw new IllegalArgumentException("JWKS settings must be positive: " + this);
            }
            if (cacheTtl.compareTo(httpTimeout.multipliedBy(2)) <= 0) {
                throw new IllegalArgumentException("the JWKS cache TTL (" + cacheTtl + ") must be longer than twice the"
                        + " HTTP timeout (" + httpTimeout + ")");
            }
        }
    }

    private record IssuerContext(TrustedIssuer trusted, DefaultJWTProcessor<SecurityContext> processor) {
    }

    private final Map<String, IssuerContext> issuers;

    /** A validator with {@link JwksSettings#DEFAULT}. */
    public TokenValidator(Collection<TrustedIssuer> trustedIssuers) {
        this(trustedIssuers, JwksSettings.DEFAULT);
    }

    public TokenValidator(Collection<TrustedIssuer> trustedIssuers, JwksSettings settings) {
        Objects.requireNonNull(settings, "settings");
        if (trustedIssuers.isEmpty()) {
            throw new IllegalArgumentException("at least one trusted issuer is required");
        }
        Map<String, IssuerContext> byIssuer = new LinkedHashMap<>();
        for (TrustedIssuer trusted : trustedIssuers) {
            if (byIssuer.put(trusted.issuer(), new IssuerContext(trusted, processor(trusted, settings))) != null) {
                throw new IllegalArgumentException("issuer " + trusted.issuer() + " is configured twice");
            }
        }
        this.issuers = Collections.unmodifiableMap(byIssuer);
    }

    /** When the token an identity came from expires: its {@code exp} claim (epoch seconds), if it has one. */
    public static java.util.Optional<java.time.Instant> expiry(Identity identity) {
        return identity.claims().get("exp") instanceof Number exp
                ? java.util.Optional.of(java.time.Instant.ofEpochSecond(exp.longValue()))
                : java.util.Optional.empty();
    }

    /** The trusted issuers, in configuration order. */
    public List<TrustedIssuer> trustedIssuers() {
        return issuers.values().stream().map(IssuerContext::trusted).toList();
    }

    /**
     * Validates a token on a Vert.x worker thread (the JWKS fetch may block).
     * The future fails with a {@link TokenRejectedException} when the token is refused.
     */
    public Future<Identity> validate(Vertx vertx, String token) {
        return vertx.executeBlocking(() -> validate(token), false);
    }

    /**
     * Validates a token on the given executor. The stage completes exceptionally with a
     * {@link CompletionException} whose cause is the {@link TokenRejectedException}.
     */
    public CompletionStage<Identity> validateAsync(String token, Executor executor) {
        return CompletableFuture.supplyAsync(() -> {
            try {
                return validate(token);
            } catch (TokenRejectedException e) {
                throw new CompletionException(e);
            }
        }, executor);
    }

    /**
     * Validates a token, blocking while the issuer's JWKS is fetched if it is not cached.
     *
     * @param token a compact JWS, without a {@code Bearer } prefix
     * @return the caller's identity
     * @throws TokenRejectedException when the token is refused, with the reason and what to do
     */
    public Identity validate(String token) throws TokenRejectedException {
        try {
            return doValidate(token);
        } catch (TokenRejectedException e) {
            LOGGER.debug("token rejected reason={} message={}", e.reason(), e.getMessage());
            throw e;
        }
    }

    private Identity doValidate(String token) throws TokenRejectedException {
        if (token == null || token.isBlank()) {
            throw new TokenRejectedException(Reason.MALFORMED,
                    "no token given; pass a JWT from your identity provider (in development: `gatehouse token`)");
        }
        String compact = token.strip();
        if (compact.length() > MAX_TOKEN_CHARS) {
            throw new TokenRejectedException(Reason.MALFORMED, "token is " + compact.length()
                    + " characters long, more than the " + MAX_TOKEN_CHARS + " accepted; pass a compact JWT");
        }
        JWT jwt;
        try {
            jwt = JWTParser.parse(compact);
        } catch (ParseException | RuntimeException e) {
            throw malformed();
        }
        if (jwt instanceof PlainJWT) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED,
                    "token is unsigned (alg none); only tokens signed by a trusted issuer are accepted");
        }
        if (jwt instanceof EncryptedJWT || !(jwt instanceof SignedJWT signed)) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED,
                    "encrypted tokens (JWE) are not accepted; pass a signed JWT");
        }
        JWSAlgorithm alg = signed.getHeader().getAlgorithm();
        if (!TrustedIssuer.isAsymmetric(alg)) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED, "token is signed with "
                    + printable(alg.getName()) + "; only asymmetric algorithms (RS*, PS*, ES*, EdDSA) are accepted");
        }
        JWTClaimsSet unverified;
        try {
            unverified = signed.getJWTClaimsSet();
        } catch (ParseException | RuntimeException e) {
            throw malformed();
        }
        String iss;
        try {
            iss = unverified.getStringClaim("iss");
        } catch (ParseException e) {
            throw new TokenRejectedException(Reason.MALFORMED, "token `iss` claim is not a string");
        }
        if (iss == null) {
            throw new TokenRejectedException(Reason.MISSING_CLAIM, "token has no `iss` claim; trusted issuers: "
                    + issuers.keySet());
        }
        IssuerContext issuer = issuers.get(iss);
        if (issuer == null) {
            throw new TokenRejectedException(Reason.UNTRUSTED_ISSUER, "token issuer " + printable(iss)
                    + " is not trusted; trusted issuers: " + issuers.keySet());
        }
        if (!issuer.trusted().algorithms().contains(alg)) {
            throw new TokenRejectedException(Reason.ALGORITHM_NOT_ALLOWED, "token is signed with " + alg.getName()
                    + ", which is not configured for issuer " + iss + " (allowed: "
                    + new TreeSet<>(issuer.trusted().algorithms().stream().map(JWSAlgorithm::getName).toList()) + ")");
        }
        JWTClaimsSet claims = verify(issuer, signed);
        return toIdentity(issuer.trusted(), claims);
    }

    private static JWTClaimsSet verify(IssuerContext issuer, SignedJWT signed) throws TokenRejectedException {
        String iss = issuer.trusted().issuer();
        String kid = signed.getHeader().getKeyID();
        try {
            return issuer.processor().process(signed, null);
        } catch (ClaimsVerifier.Rejected e) {
            throw new TokenRejectedException(e.reason, e.getMessage());
        } catch (BadJWSException e) {
            throw new TokenRejectedException(Reason.BAD_SIGNATURE, "token signature does not verify with the key "
                    + describeKid(kid) + " of issuer " + iss + "; the token was altered or signed by another key");
        } catch (UnknownKeyException | RateLimitReachedException e) {
            throw new TokenRejectedException(Reason.UNKNOWN_KEY, "issuer " + iss + " publishes no key "
                    + describeKid(kid) + " for " + signed.getHeader().getAlgorithm().getName() + " at "
                    + jwksLocation(issuer.trusted()) + "; the token was signed by another key or the issuer rotated its keys"
                    + " (get a new token)");
        } catch (KeySourceException e) {
            LOGGER.warn("JWKS unavailable issuer={} jwks={} error={}", iss, jwksLocation(issuer.trusted()), e.toString());
            throw new TokenRejectedException(Reason.JWKS_UNAVAILABLE, "the keys of issuer " + iss + " could not be"
                    + " fetched from " + jwksLocation(issuer.trusted()) + " (" + e.getMessage()
                    + "); check that the issuer is reachable, then retry", e);
        } catch (BadJOSEException e) {
            throw new TokenRejectedException(Reason.MALFORMED, "token was rejected: unsupported token type `"
                    + printable(String.valueOf(signed.getHeader().getType())) + "` or structure; pass an access or ID token");
        } catch (JOSEException | RuntimeException e) {
            throw new TokenRejectedException(Reason.BAD_SIGNATURE, "token signature could not be verified with the key "
                    + describeKid(kid) + " of issuer " + iss);
        }
    }

    private static String describeKid(String kid) {
        return kid == null ? "(no kid)" : printable(kid);
    }

    private static TokenRejectedException malformed() {
        return new TokenRejectedException(Reason.MALFORMED,
                "token is not a JWT (expected three base64url parts separated by dots: header, claims, signature)");
    }

    private static String jwksLocation(TrustedIssuer trusted) {
        return trusted.jwksUri() != null ? trusted.jwksUri().toString()
                : "the jwks_uri of " + TrustedIssuer.discoveryUri(trusted.issuer());
    }

    private static DefaultJWTProcessor<SecurityContext> processor(TrustedIssuer trusted, JwksSettings settings) {
        JWKSource<SecurityContext> jwks = trusted.jwksUri() != null ? jwkSource(trusted, trusted.jwksUri(), settings)
                : new DiscoveredJWKSource(trusted, settings);
        DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();
        processor.setJWSTypeVerifier(new DefaultJOSEObjectTypeVerifier<>(new HashSet<>(Arrays.asList(
                null, JOSEObjectType.JWT, new JOSEObjectType("at+jwt"), new JOSEObjectType("application/at+jwt")))));
        processor.setJWSKeySelector(new KeySelector(new JWSVerificationKeySelector<>(trusted.algorithms(), jwks)));
        processor.setJWTClaimsSetVerifier(new ClaimsVerifier(trusted));
        return processor;
    }

    /**
     * A cached JWKS: fetched again after {@code cacheTtl}, and at once (rate-limited) when a
     * token names a {@code kid} the cached set lacks, so a key the issuer starts to publish is
     * accepted without waiting for the cache to expire; a key the issuer stops publishing is
     * refused once the cache has expired.
     */
    private static JWKSource<SecurityContext> jwkSource(TrustedIssuer trusted, URI jwksUri, JwksSettings settings) {
        int timeoutMillis = Math.toIntExact(settings.httpTimeout().toMillis());
        try {
            return JWKSourceBuilder.<SecurityContext>create(jwksUri.toURL(),
                            new DefaultResourceRetriever(timeoutMillis, timeoutMillis, 512 * 1024))
                    .cache(settings.cacheTtl().toMillis(), settings.httpTimeout().toMillis() * 2)
                    // refresh in the background before the cache expires, when the TTL leaves room for it
                    .refreshAheadCache(settings.cacheTtl().compareTo(
                            REFRESH_AHEAD.plus(settings.httpTimeout().multipliedBy(2))) > 0)
                    .rateLimited(settings.minRefreshInterval().toMillis())
                    .build();
        } catch (MalformedURLException e) {
            throw new IllegalArgumentException("issuer " + trusted.issuer() + ": bad jwksUri " + jwksUri, e);
        }
    }

    /**
     * Finds the issuer's {@code jwks_uri} in its OIDC discovery document on first use (and again
     * after a failure, at most every {@link #RETRY_AFTER_FAILURE}), then delegates to a
     * {@link #jwkSource cached JWKS}. The document's {@code issuer} must equal the configured one.
     */
    private static final class DiscoveredJWKSource implements JWKSource<SecurityContext> {
        private static final Duration RETRY_AFTER_FAILURE = Duration.ofSeconds(5);

        private final TrustedIssuer trusted;
        private final JwksSettings settings;
        private volatile JWKSource<SecurityContext> delegate;
        private KeySourceException lastFailure;
        private long lastFailureNanos;

        DiscoveredJWKSource(TrustedIssuer trusted, JwksSettings settings) {
            this.trusted = trusted;
            this.settings = settings;
        }

        @Override
        public List<JWK> get(JWKSelector selector, SecurityContext context) throws KeySourceException {
            return delegate().get(selector, context);
        }

        private JWKSource<SecurityContext> delegate() throws KeySourceException {
            JWKSource<SecurityContext> current = delegate;
            if (current != null) {
                return current;
            }
            synchronized (this) {
                if (delegate != null) {
                    return delegate;
                }
                if (lastFailure != null && System.nanoTime() - lastFailureNanos < RETRY_AFTER_FAILURE.toNanos()) {
                    throw lastFailure;
                }
                try {
                    delegate = jwkSource(trusted, discover(), settings);
                    lastFailure = null;
                    return delegate;
                } catch (KeySourceException e) {
                    lastFailure = e;
                    lastFailureNanos = System.nanoTime();
                    throw e;
                }
            }
        }

        private URI discover() throws KeySourceException {
            URI discovery = TrustedIssuer.discoveryUri(trusted.issuer());
            int timeoutMillis = Math.toIntExact(settings.httpTimeout().toMillis());
            Map<String, Object> doc;
            try {
                Resource resource = new DefaultResourceRetriever(timeoutMillis, timeoutMillis, 256 * 1024)
                        .retrieveResource(discovery.toURL());
                doc = JSONObjectUtils.parse(resource.getContent());
            } catch (IOException | ParseException | RuntimeException e) {
                throw new KeySourceException("OIDC discovery at " + discovery + " failed: " + e.getMessage(), e);
            }
            Object issuer = doc.get("issuer");
            if (!trusted.issuer().equals(issuer)) {
                throw new KeySourceException("the discovery document at " + discovery + " names issuer "
                        + printable(String.valueOf(issuer)) + ", not " + trusted.issuer());
            }
            if (!(doc.get("jwks_uri") instanceof String jwksUri)) {
                throw new KeySourceException("the discovery document at " + discovery + " has no jwks_uri");
            }
            try {
                URI uri = new URI(jwksUri);
                if (!"https".equalsIgnoreCase(uri.getScheme()) && !"http".equalsIgnoreCase(uri.getScheme())) {
                    throw new KeySourceException("the discovery document at " + discovery + " has a jwks_uri that is not http(s)");
                }
                LOGGER.info("discovered JWKS issuer={} jwksUri={}", trusted.issuer(), uri);
                return uri;
            } catch (URISyntaxException e) {
                throw new KeySourceException("the discovery document at " + discovery + " has a malformed jwks_uri", e);
            }
        }
    }

    /** Signals that the key set, even after a refresh, has no key for the token. */
    private static final class UnknownKeyException extends KeySourceException {
        UnknownKeyException() {
            super("no matching key");
        }
    }

    /** Turns "no matching key" into an exception instead of nimbus' generic refusal. */
    private record KeySelector(JWSVerificationKeySelector<SecurityContext> delegate)
            implements JWSKeySelector<SecurityContext> {
        @Override
        public List<? extends Key> selectJWSKeys(JWSHeader header, SecurityContext context) throws KeySourceException {
            List<Key> keys = delegate.selectJWSKeys(header, context);
            if (keys.isEmpty()) {
                throw new UnknownKeyException();
            }
            return keys;
        }
    }

    // ---- identity ----

    private static Identity toIdentity(TrustedIssuer trusted, JWTClaimsSet claimsSet) throws TokenRejectedException {
        @SuppressWarnings("unchecked")
        Map<String, Object> claims = (Map<String, Object>) plain(claimsSet.toJSONObject());
        Identity self = trusted.claims().toIdentity(trusted.issuer(), claims);
        return trusted.delegation().apply(self, claims, trusted.claims().groupsClaim());
    }

    /** Deep copy of a JSON value into plain, unmodifiable JDK types; null members are dropped. */
    private static Object plain(Object value) {
        return switch (value) {
            case null -> null;
            case String s -> s;
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> i.longValue();
            case Double d -> d;
            case BigInteger b -> b;
            case BigDecimal b -> b;
            case Number n -> number(n);
            case Map<?, ?> map -> {
                Map<String, Object> copy = new LinkedHashMap<>();
                map.forEach((k, v) -> {
                    Object p = plain(v);
                    if (p != null) {
                        copy.put(String.valueOf(k), p);
                    }
                });
                yield Collections.unmodifiableMap(copy);
            }
            case Collection<?> list -> Collections.unmodifiableList(
                    new ArrayList<>(list.stream().map(TokenValidator::plain).filter(Objects::nonNull).toList()));
            case java.util.Date date -> date.getTime() / 1000;
            default -> String.valueOf(value);
        };
    }

    private static Number number(Number n) {
        BigDecimal d = new BigDecimal(n.toString());
        try {
            return d.longValueExact();
        } catch (ArithmeticException e) {
            return d.doubleValue();
        }
    }

    /** A claim value fit for an error message: bounded, without control characters. */
    static String printable(String value) {
        if (value == null) {
            return "(none)";
        }
        String cleaned = value.codePoints()
                .map(c -> Character.isISOControl(c) ? '?' : c)
                .collect(StringBuilder::new, StringBuilder::appendCodePoint, StringBuilder::append)
                .toString();
        return cleaned.length() <= MAX_PRINTED_CHARS ? "`" + cleaned + "`"
                : "`" + cleaned.substring(0, MAX_PRINTED_CHARS) + "` (truncated)";
    }
}
