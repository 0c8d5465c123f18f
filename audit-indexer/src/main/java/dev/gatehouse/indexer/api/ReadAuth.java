package dev.gatehouse.indexer.api;

import dev.gatehouse.platform.core.Identity;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Authenticates API callers: an OIDC bearer token (validated by the given function, typically
 * platform's {@code TokenValidator}) whose groups include the read group. Never logs the token.
 */
public final class ReadAuth {

    /** The realm named in {@code WWW-Authenticate}. */
    public static final String REALM = "gatehouse-indexer";

    private final Function<String, CompletionStage<Identity>> validator;
    private final String readGroup;

    /**
     * @param validator turns a token into an identity, failing (possibly wrapped in a
     *                  {@link CompletionException}) when it is refused; the failure's message must not hold the token
     */
    public ReadAuth(Function<String, CompletionStage<Identity>> validator, String readGroup) {
        this.validator = Objects.requireNonNull(validator, "validator");
        this.readGroup = Objects.requireNonNull(readGroup, "readGroup");
        if (readGroup.isBlank()) throw new IllegalArgumentException("the read group must not be blank");
    }

    public String readGroup() {
        return readGroup;
    }

    /** The caller an {@code Authorization} header names; fails with {@link Refused} (401 or 403). */
    public CompletionStage<Identity> authenticate(String authorizationHeader) {
        if (authorizationHeader == null || authorizationHeader.isBlank()) {
            return CompletableFuture.failedFuture(new Refused(401, "a bearer token is required (Authorization: Bearer <token>)"));
        }
        String[] parts = authorizationHeader.strip().split("\\s+", 2);
        if (parts.length != 2 || !parts[0].equalsIgnoreCase("Bearer") || parts[1].isBlank()) {
            return CompletableFuture.failedFuture(new Refused(401, "the Authorization header must be: Bearer <token>"));
        }
        CompletionStage<Identity> validated;
        try {
            validated = validator.apply(parts[1].strip());
        } catch (RuntimeException e) {
            validated = CompletableFuture.failedFuture(e);
        }
        return validated.handle((identity, err) -> {
            if (err != null) {
                Throwable cause = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
                throw new Refused(401, "token refused: " + (cause.getMessage() == null ? cause.getClass().getSimpleName() : cause.getMessage()));
            }
            if (!identity.groups().contains(readGroup)) {
                throw new Refused(403, "subject " + identity.subject() + " is not in the read group " + readGroup);
            }
            return identity;
        });
    }

    /** A refused caller: 401 (no or bad token) or 403 (not in the read group). */
    public static final class Refused extends RuntimeException {
        private final int status;

        public Refused(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }

        public int status() {
            return status;
        }
    }
}
