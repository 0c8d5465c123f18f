package dev.gatehouse.approval;

import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.identity.TokenValidator;
import io.vertx.core.Vertx;

import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * Turns a bearer token into an identity; the stage fails (with a
 * {@link dev.gatehouse.platform.identity.TokenRejectedException}, possibly wrapped) when it is
 * refused. Never logs the token.
 */
@FunctionalInterface
public interface BearerAuth {
    CompletionStage<Identity> authenticate(String token);

    /** A refused token; the message says why and is safe to show to the caller (never the token). */
    final class Refused extends RuntimeException {
        public Refused(String message) {
            super(message, null, false, false);
        }
    }

    /** OIDC tokens of the trusted issuers, validated on a Vert.x worker thread. */
    static BearerAuth of(TokenValidator validator, Vertx vertx) {
        Objects.requireNonNull(validator, "validator");
        Objects.requireNonNull(vertx, "vertx");
        return token -> validator.validate(vertx, token).toCompletionStage();
    }
}
