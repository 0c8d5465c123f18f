package dev.gatehouse.platform.identity;

import dev.gatehouse.platform.core.Identity;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Authenticates the callers of an HTTP API (admin, approvals, audit indexer) by an OIDC bearer
 * token (RFC 6750), optionally requiring a group: the one place that reads the
 * {@code Authorization} header, turns refusals into 401 (with a {@code WWW-Authenticate}
 * challenge) or 403, and decides which refusal reasons may be shown. Never logs the token.
 */
public final class BearerAuth {

    private static final Logger LOGGER = LoggerFactory.getLogger(BearerAuth.class);

    /**
     * Turns a token into an identity. The stage fails with a {@link TokenRejectedException} or a
     * {@link Refused} whose message is safe to show to the caller; any other failure is answered
     * "the token could not be validated" (and logged).
     */
    @FunctionalInterface
    public interface Validator {
        CompletionStage<Identity> validate(String token);
    }

    private final String realm;
    private final Validator validator;
    private final String requiredGroup;

    /**
     * @param realm         named in the challenge, e.g. "gatehouse-admin"
     * @param requiredGroup a group the caller must be in (403 otherwise); null when any valid token will do
     */
    public BearerAuth(String realm, Validator validator, String requiredGroup) {
        this.realm = Objects.requireNonNull(realm, "realm");
        this.validator = Objects.requireNonNull(validator, "validator");
        if (requiredGroup != null && requiredGroup.isBlank()) {
            throw new IllegalArgumentException("the required group must not be blank (null for none)");
        }
        this.requiredGroup = requiredGroup;
    }

    /** A validator for tokens of the trusted issuers, validated on a Vert.x worker thread. */
    public static Validator tokens(TokenValidator tokens, Vertx vertx) {
        Objects.requireNonNull(tokens, "tokens");
        Objects.requireNonNull(vertx, "vertx");
        return token -> tokens.validate(vertx, token).toCompletionStage();
    }

    public String realm() {
        return realm;
    }

    /** The group callers must be in, or null. */
    public String requiredGroup() {
        return requiredGroup;
    }

    /**
     * The caller an {@code Authorization} header names. Fails with {@link Refused}: 401 for a
     * missing, malformed or refused token, 403 when the caller is not in the required group.
     */
    public CompletionStage<Identity> authenticate(String authorizationHeader) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            return CompletableFuture.failedFuture(new Refused(401, "invalid_request",
                    "a bearer token is required (Authorization: Bearer <token>)", realm));
        }
        String[] parts = authorizationHeader.strip().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer") || parts[1].isBlank()) {
            return CompletableFuture.failedFuture(new Refused(401, "invalid_request",
                    "the Authorization header must be: Bearer <token>", realm));
        }
        CompletionStage<Identity> validated;
        try {
            validated = validator.validate(parts[1].strip());
        } catch (RuntimeException e) {
            validated = CompletableFuture.failedFuture(e);
        }
        return validated.handle((identity, err) -> {
            if (err != null) {
                Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                String why = switch (cause) {
                    case TokenRejectedException t -> t.getMessage();
                    case Refused r -> r.getMessage();
                    default -> {
                        LOGGER.warn("Bearer token could not be validated realm={} error={}", realm, cause.toString());
                        yield "the token could not be validated";
                    }
                };
                throw new Refused(401, "invalid_token", why, realm);
            }
            if (requiredGroup != null && !identity.groups().contains(requiredGroup)) {
                throw new Refused(403, "insufficient_scope",
                        "subject " + identity.subject() + " is not in the group " + requiredGroup, realm);
            }
            return identity;
        });
    }

    /** A refused caller: 401 (no, malformed or refused token) or 403 (not in the required group). */
    public static final class Refused extends RuntimeException {
        private final int status;
        private final String error;
        private final String realm;

        private Refused(int status, String error, String message, String realm) {
            super(message, null, false, false);
            this.status = status;
            this.error = error;
            this.realm = realm;
        }

        /** For validators: a refused token whose reason may be shown to the caller. */
        public static Refused invalidToken(String message) {
            return new Refused(401, "invalid_token", message, null);
        }

        public int status() {
            return status;
        }

        /** RFC 6750 error code: invalid_request, invalid_token or insufficient_scope. */
        public String error() {
            return error;
        }

        /** The {@code WWW-Authenticate} value to send with a 401; null for a 403. */
        public String challenge() {
            if (status != 401) return null;
            return "Bearer realm=\"" + (realm == null ? "gatehouse" : realm) + "\", error=\"" + error
                    + "\", error_description=\"" + getMessage().replace("\"", "'") + "\"";
        }
    }
}
