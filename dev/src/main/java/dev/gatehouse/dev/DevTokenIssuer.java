package dev.gatehouse.dev;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JOSEObjectType;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.KeyUse;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.text.ParseException;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.UUID;

/**
 * The development token issuer of {@code gatehouse dev}: an RS256 key generated once and kept
 * in a directory (so tokens survive restarts), a {@link #issue signer}, and a small HTTP
 * endpoint (discovery document, JWKS with the public key only, a token endpoint).
 *
 * <p>It mints a token for anyone who asks: never expose it beyond the loopback interface.
 * Thread-safe.
 */
public final class DevTokenIssuer {

    private static final Logger LOGGER = LoggerFactory.getLogger(DevTokenIssuer.class);

    /** The {@code aud} of every development token. */
    public static final String AUDIENCE = "gatehouse";
    /** The path under which the issuer lives, and the last segment of its default URL. */
    public static final String DEFAULT_PATH = "/dev-issuer";
    /** The file, in the key directory, holding the private key as a JWK (mode 600). */
    public static final String KEY_FILE = "dev-issuer-key.jwk.json";
    /** The longest token lifetime the HTTP token endpoint hands out. */
    public static final Duration MAX_HTTP_TTL = Duration.ofDays(1);

    private static final Duration DEFAULT_HTTP_TTL = Duration.ofHours(1);
    private static final Set<String> RESERVED_CLAIMS =
            Set.of("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "groups");
    private static final Set<PosixFilePermission> OWNER_ONLY_FILE = PosixFilePermissions.fromString("rw-------");
    private static final Set<PosixFilePermission> OWNER_ONLY_DIR = PosixFilePermissions.fromString("rwx------");

    /** The signing key and the public keys served; replaced as a whole on rotation. */
    private record Keys(RSAKey signing, RSASSASigner signer, JWKSet published) {
        static Keys of(RSAKey signing, List<RSAKey> alsoPublished) {
            try {
                List<com.nimbusds.jose.jwk.JWK> pub = new java.util.ArrayList<>();
                pub.add(signing.toPublicJWK());
                alsoPublished.forEach(k -> pub.add(k.toPublicJWK()));
                return new Keys(signing, new RSASSASigner(signing), new JWKSet(pub));
            } catch (JOSEException | IllegalArgumentException e) {
                throw new IllegalStateException("the development issuer key is not usable for RS256: " + e.getMessage(), e);
            }
        }
    }

    private volatile Keys keys;
    private final List<RSAKey> previousKeys = new java.util.concurrent.CopyOnWriteArrayList<>();
    private volatile String issuerUrl;

    private DevTokenIssuer(RSAKey key, String issuerUrl) {
        this.keys = Keys.of(key, List.of());
        this.issuerUrl = issuerUrl;
    }

    /** {@code http://127.0.0.1:<port>/dev-issuer}. */
    public static String defaultIssuerUrl(int port) {
        return "http://127.0.0.1:" + port + DEFAULT_PATH;
    }

    /**
     * Loads the key from {@code dir}, generating and persisting it (mode 600) on first use.
     *
     * @param issuerUrl the {@code iss} of every token, e.g. {@link #defaultIssuerUrl(int)}
     */
    public static DevTokenIssuer load(Path dir, String issuerUrl) {
        Objects.requireNonNull(issuerUrl, "issuerUrl");
        URI.create(issuerUrl);
        return new DevTokenIssuer(loadOrCreateKey(dir), stripTrailingSlash(issuerUrl));
    }

    /**
     * Like {@link #load(Path, String)}, with the issuer URL decided by {@link #serve}: the
     * address it binds ({@code http://<host>:<actual port>/dev-issuer}). Useful with port 0.
     * {@link #issue} fails until then.
     */
    public static DevTokenIssuer load(Path dir) {
        return new DevTokenIssuer(loadOrCreateKey(dir), null);
    }

    /** The {@code iss} of the tokens; null while it awaits {@link #serve}. */
    public String issuerUrl() {
        return issuerUrl;
    }

    /** Where the JWKS is served: the issuer URL + {@code /jwks}. */
    public URI jwksUri() {
        return URI.create(requireIssuer() + "/jwks");
    }

    /** The {@code kid} of the signing key (its RFC 7638 thumbprint). */
    public String keyId() {
        return keys.signing().getKeyID();
    }

    /** The public key set as served at {@link #jwksUri()}: the signing key first, then the keys still published after a rotation. */
    public JWKSet publicJwkSet() {
        return keys.published();
    }

    /**
     * Starts signing with a newly generated key and publishes it next to the previous ones, as an
     * issuer rotating its keys does. Rotated keys live in memory only; the key file keeps the
     * original key.
     *
     * @return the new key's {@code kid}
     */
    public synchronized String rotateKey() {
        Keys current = keys;
        previousKeys.addFirst(current.signing());
        keys = Keys.of(generateKey(), previousKeys);
        LOGGER.info("development issuer rotated its key kid={} previous={}", keyId(), current.signing().getKeyID());
        return keyId();
    }

    /**
     * Stops publishing a previous key, as an issuer does at the end of a rotation: tokens it signed
     * are refused once validators no longer cache it.
     *
     * @throws IllegalArgumentException for the current signing key or an unknown kid
     */
    public synchronized void retireKey(String kid) {
        if (keyId().equals(kid)) {
            throw new IllegalArgumentException("key " + kid + " signs the tokens; rotate before retiring it");
        }
        if (!previousKeys.removeIf(k -> k.getKeyID().equals(kid))) {
            throw new IllegalArgumentException("no previous key " + kid + " is published");
        }
        keys = Keys.of(keys.signing(), previousKeys);
        LOGGER.info("development issuer retired key kid={}", kid);
    }

    /**
     * An RFC 8693 {@code act} claim: {@code actor} acting now, with its groups, and the actors before
     * it (nearest first) as nested {@code act} claims.
     */
    public static Map<String, Object> actClaim(String actor, List<String> actorGroups, List<String> earlierActors) {
        Objects.requireNonNull(actor, "actor");
        if (actor.isBlank()) throw new IllegalArgumentException("actor must not be blank");
        Map<String, Object> inner = null;
        List<String> earlier = earlierActors == null ? List.of() : earlierActors;
        for (int i = earlier.size() - 1; i >= 0; i--) {
            Map<String, Object> act = new java.util.LinkedHashMap<>();
            act.put("sub", earlier.get(i));
            if (inner != null) act.put("act", inner);
            inner = act;
        }
        Map<String, Object> act = new java.util.LinkedHashMap<>();
        act.put("sub", actor);
        if (actorGroups != null && !actorGroups.isEmpty()) act.put("groups", List.copyOf(actorGroups));
        if (inner != null) act.put("act", inner);
        return act;
    }

    /**
     * Signs a token valid from now for {@code ttl}.
     *
     * @param groups      the {@code groups} claim
     * @param extraClaims further claims (JSON-compatible values); may not redefine
     *                    iss, sub, aud, exp, nbf, iat, jti or groups
     */
    public String issue(String subject, List<String> groups, Duration ttl, Map<String, Object> extraClaims) {
        Objects.requireNonNull(ttl, "ttl");
        if (ttl.isNegative() || ttl.isZero()) {
            throw new IllegalArgumentException("ttl must be positive, got " + ttl);
        }
        Instant now = Instant.now();
        return issue(subject, groups, now, now.plus(ttl), extraClaims);
    }

    /**
     * Signs a token with an explicit validity window ({@code nbf}, {@code exp}); {@code iat} is now.
     * For tests and back-dated tokens.
     */
    public String issue(String subject, List<String> groups, Instant notBefore, Instant expiresAt,
                        Map<String, Object> extraClaims) {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(notBefore, "notBefore");
        Objects.requireNonNull(expiresAt, "expiresAt");
        if (subject.isBlank()) {
            throw new IllegalArgumentException("subject must not be blank");
        }
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder();
        if (extraClaims != null) {
            for (Map.Entry<String, Object> claim : extraClaims.entrySet()) {
                if (RESERVED_CLAIMS.contains(claim.getKey())) {
                    throw new IllegalArgumentException("extra claim `" + claim.getKey() + "` may not redefine a "
                            + "registered claim; reserved: " + RESERVED_CLAIMS);
                }
                claims.claim(claim.getKey(), claim.getValue());
            }
        }
        Instant now = Instant.now();
        claims.issuer(requireIssuer())
                .subject(subject)
                .audience(AUDIENCE)
                .issueTime(Date.from(now))
                .notBeforeTime(Date.from(notBefore))
                .expirationTime(Date.from(expiresAt))
                .jwtID(UUID.randomUUID().toString())
                .claim("groups", groups == null ? List.of() : List.copyOf(groups));
        Keys signing = keys;
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(signing.signing().getKeyID()).type(JOSEObjectType.JWT).build(),
                claims.build());
        try {
            jwt.sign(signing.signer());
        } catch (JOSEException e) {
            throw new IllegalStateException("signing a development token failed: " + e.getMessage(), e);
        }
        LOGGER.debug("issued development token subject={} groups={} exp={}", subject, groups, expiresAt);
        return jwt.serialize();
    }

    /**
     * Signs exactly the given claims with the current key (RS256, {@code typ: JWT}, the key's
     * {@code kid}): for tests and simulations that need another provider's claim set, such as a
     * GitHub Actions or GitLab CI token. Nothing is added or checked.
     */
    public String sign(JWTClaimsSet claims) {
        Objects.requireNonNull(claims, "claims");
        Keys signing = keys;
        SignedJWT jwt = new SignedJWT(
                new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(signing.signing().getKeyID()).type(JOSEObjectType.JWT).build(),
                claims);
        try {
            jwt.sign(signing.signer());
        } catch (JOSEException e) {
            throw new IllegalStateException("signing a development token failed: " + e.getMessage(), e);
        }
        return jwt.serialize();
    }

    /**
     * Serves the discovery document ({@code <path>/.well-known/openid-configuration}), the JWKS
     * ({@code <path>/jwks}, public key only) and the token endpoint ({@code POST <path>/token},
     * form fields {@code subject}, {@code groups} (comma-separated), {@code ttl_seconds}).
     * Keep a reference to {@code vertx}; close the returned server (or Vert.x) to stop.
     */
    public Future<HttpServer> serve(Vertx vertx, String host, int port) {
        Objects.requireNonNull(vertx, "vertx");
        Objects.requireNonNull(host, "host");
        if (!isLoopback(host)) {
            LOGGER.warn("the development token issuer mints tokens for anyone and is bound to {}, not a loopback address", host);
        }
        String path = issuerUrl == null ? DEFAULT_PATH : stripTrailingSlash(URI.create(issuerUrl).getRawPath());
        Router router = Router.router(vertx);
        router.get(path + "/.well-known/openid-configuration").handler(this::discovery);
        router.get(path + "/jwks").handler(ctx -> ctx.response()
                .putHeader("content-type", "application/json")
                .putHeader("cache-control", "max-age=60")
                .end(new JsonObject(keys.published().toJSONObject(true)).encode()));
        router.post(path + "/token").handler(BodyHandler.create(false).setBodyLimit(16 * 1024)).handler(this::token);
        return vertx.createHttpServer()
                .requestHandler(router)
                .listen(port, host)
                .onSuccess(server -> {
                    if (issuerUrl == null) {
                        String urlHost = host.equals("0.0.0.0") || host.equals("::") ? "127.0.0.1" : host;
                        issuerUrl = "http://" + (urlHost.contains(":") ? "[" + urlHost + "]" : urlHost) + ":"
                                + server.actualPort() + DEFAULT_PATH;
                    }
                    LOGGER.info("development token issuer listening issuer={} port={}", issuerUrl, server.actualPort());
                });
    }

    private void discovery(RoutingContext ctx) {
        String issuer = requireIssuer();
        JsonObject doc = new JsonObject()
                .put("issuer", issuer)
                .put("jwks_uri", issuer + "/jwks")
                .put("token_endpoint", issuer + "/token")
                .put("response_types_supported", new JsonArray().add("token"))
                .put("grant_types_supported", new JsonArray().add("urn:gatehouse:dev"))
                .put("subject_types_supported", new JsonArray().add("public"))
                .put("id_token_signing_alg_values_supported", new JsonArray().add(JWSAlgorithm.RS256.getName()))
                .put("claims_supported", new JsonArray(List.of("iss", "sub", "aud", "exp", "nbf", "iat", "jti", "groups")));
        ctx.response().putHeader("content-type", "application/json").end(doc.encode());
    }

    private void token(RoutingContext ctx) {
        String subject = ctx.request().getFormAttribute("subject");
        if (subject == null || subject.isBlank()) {
            badRequest(ctx, "form field `subject` is required");
            return;
        }
        String groupsField = ctx.request().getFormAttribute("groups");
        List<String> groups = groupsField == null ? List.of() : Arrays.stream(groupsField.split(","))
                .map(String::strip).filter(g -> !g.isEmpty()).toList();
        Duration ttl = DEFAULT_HTTP_TTL;
        String ttlField = ctx.request().getFormAttribute("ttl_seconds");
        if (ttlField != null && !ttlField.isBlank()) {
            try {
                ttl = Duration.ofSeconds(Long.parseLong(ttlField.strip()));
            } catch (NumberFormatException e) {
                badRequest(ctx, "form field `ttl_seconds` must be a whole number of seconds");
                return;
            }
            if (ttl.isNegative() || ttl.isZero() || ttl.compareTo(MAX_HTTP_TTL) > 0) {
                badRequest(ctx, "form field `ttl_seconds` must be between 1 and " + MAX_HTTP_TTL.toSeconds());
                return;
            }
        }
        String token = issue(subject.strip(), groups, ttl, Map.of());
        ctx.response()
                .putHeader("content-type", "application/json")
                .putHeader("cache-control", "no-store")
                .end(new JsonObject()
                        .put("access_token", token)
                        .put("token_type", "Bearer")
                        .put("expires_in", ttl.toSeconds())
                        .encode());
    }

    private static void badRequest(RoutingContext ctx, String description) {
        ctx.response().setStatusCode(400).putHeader("content-type", "application/json")
                .end(new JsonObject().put("error", "invalid_request").put("error_description", description).encode());
    }

    private String requireIssuer() {
        String url = issuerUrl;
        if (url == null) {
            throw new IllegalStateException("the development issuer has no URL yet: load it with an issuer URL or serve it first");
        }
        return url;
    }

    // ---- key file ----

    private static RSAKey loadOrCreateKey(Path dir) {
        Objects.requireNonNull(dir, "dir");
        Path file = dir.resolve(KEY_FILE);
        try {
            if (Files.exists(file)) {
                return readKey(file);
            }
            Files.createDirectories(dir);
            restrict(dir, OWNER_ONLY_DIR);
            RSAKey generated = generateKey();
            Path tmp = Files.createTempFile(dir, ".dev-issuer-key", ".tmp");
            try {
                restrict(tmp, OWNER_ONLY_FILE);
                Files.writeString(tmp, generated.toJSONString(), StandardCharsets.UTF_8);
                try {
                    Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE);
                } catch (AtomicMoveNotSupportedException e) {
                    Files.move(tmp, file);
                }
            } catch (FileAlreadyExistsException e) {
                return readKey(file);
            } finally {
                Files.deleteIfExists(tmp);
            }
            // Another process may have won a race and replaced the file: the file is the truth.
            RSAKey stored = readKey(file);
            LOGGER.info("generated development issuer key kid={} file={}", stored.getKeyID(), file);
            return stored;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read or create the development issuer key " + file, e);
        }
    }

    private static RSAKey generateKey() {
        try {
            RSAKey generated = new RSAKeyGenerator(2048)
                    .keyUse(KeyUse.SIGNATURE)
                    .algorithm(JWSAlgorithm.RS256)
                    .keyIDFromThumbprint(true)
                    .generate();
            return generated;
        } catch (JOSEException e) {
            throw new IllegalStateException("generating the development issuer key failed: " + e.getMessage(), e);
        }
    }

    private static RSAKey readKey(Path file) throws IOException {
        if (Files.getFileStore(file).supportsFileAttributeView("posix")) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(file);
            if (!OWNER_ONLY_FILE.containsAll(perms)) {
                LOGGER.warn("development issuer key {} was readable by others ({}); restricting it to the owner",
                        file, PosixFilePermissions.toString(perms));
                restrict(file, OWNER_ONLY_FILE);
            }
        }
        try {
            RSAKey stored = RSAKey.parse(Files.readString(file, StandardCharsets.UTF_8));
            if (!stored.isPrivate()) {
                throw new IllegalStateException("development issuer key " + file + " holds no private key; delete it to generate a new one");
            }
            return stored.getKeyID() != null ? stored
                    : new RSAKey.Builder(stored).keyIDFromThumbprint().build();
        } catch (ParseException | JOSEException e) {
            throw new IllegalStateException("development issuer key " + file + " is not a valid RSA JWK ("
                    + e.getMessage() + "); delete it to generate a new one", e);
        }
    }

    private static void restrict(Path path, Set<PosixFilePermission> perms) throws IOException {
        if (Files.getFileStore(path).supportsFileAttributeView("posix")) {
            Files.setPosixFilePermissions(path, perms);
        }
    }

    private static String stripTrailingSlash(String url) {
        return url.endsWith("/") ? url.substring(0, url.length() - 1) : url;
    }

    private static boolean isLoopback(String host) {
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}
