package dev.gatehouse.deploy.admin;

import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.platform.core.Identity;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * Authenticates admin API callers: an OIDC bearer token of a trusted issuer (validated like the
 * edge validates a client's token) whose groups include the admin group.
 */
public final class AdminAuth {

    /** The realm named in {@code WWW-Authenticate}. */
    public static final String REALM = "gatehouse-admin";

    private final Authenticator authenticator;
    private final String adminGroup;

    public AdminAuth(Authenticator authenticator, String adminGroup) {
        this.authenticator = Objects.requireNonNull(authenticator, "authenticator");
        this.adminGroup = Objects.requireNonNull(adminGroup, "adminGroup");
    }

    public String adminGroup() {
        return adminGroup;
    }

    /**
     * The administrator an {@code Authorization} header names. Fails with
     * {@link Unauthenticated} (401) for a missing or refused token and with an
     * {@link AdminException} 403 when the caller is not in the admin group.
     */
    public CompletionStage<Identity> authenticate(String authorizationHeader) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            return CompletableFuture.failedFuture(new Unauthenticated("invalid_request",
                    "a bearer token is required (Authorization: Bearer <token>)"));
        }
        String[] parts = authorizationHeader.strip().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer") || parts[1].isBlank()) {
            return CompletableFuture.failedFuture(new Unauthenticated("invalid_request",
                    "the Authorization header must be: Bearer <token>"));
        }
        return authenticator.authenticate(parts[1].strip()).handle((identity, err) -> {
            if (err != null) {
                Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                String why = cause instanceof Authenticator.AuthenticationFailure f ? f.getMessage() : "the token could not be validated";
                throw new Unauthenticated("invalid_token", why);
            }
            if (!identity.groups().contains(adminGroup)) {
                throw new AdminException(403, "subject " + identity.subject() + " is not in the admin group " + adminGroup);
            }
            return identity;
        });
    }

    /** No token, or a refused one: answered 401 with a {@code WWW-Authenticate} challenge. */
    public static final class Unauthenticated extends RuntimeException {
        private final String error;

        public Unauthenticated(String error, String message) {
            super(message, null, false, false);
            this.error = error;
        }

        /** RFC 6750 error code: {@code invalid_request} or {@code invalid_token}. */
        public String error() {
            return error;
        }

        /** The {@code WWW-Authenticate} header value. */
        public String challenge() {
            return "Bearer realm=\"" + REALM + "\", error=\"" + error + "\", error_description=\""
                    + getMessage().replace("\"", "'") + "\"";
        }
    }
}
