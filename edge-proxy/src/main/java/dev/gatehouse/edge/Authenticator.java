package dev.gatehouse.edge;

import dev.gatehouse.platform.core.Identity;

import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * Turns the token a client presents (as its password) into an identity. Fails with an
 * {@link AuthenticationFailure} whose message a user can act on and which never contains the
 * token.
 */
@FunctionalInterface
public interface Authenticator {
    CompletionStage<Identity> authenticate(String token);

    /**
     * When a session opened by {@code identity} must end because its token expired: the token's
     * expiry plus a grace. Empty (the default) when sessions are not bounded by their token.
     */
    default Optional<Instant> sessionDeadline(Identity identity) {
        return Optional.empty();
    }

    /** A refused token: the reason is safe to show to the client. */
    final class AuthenticationFailure extends RuntimeException {
        private final boolean badPassword;

        public AuthenticationFailure(String message, boolean badPassword) {
            super(message, null, false, false);
            this.badPassword = badPassword;
        }

        /** True when the credential itself is bad (28P01), false for other refusals (28000). */
        public boolean badPassword() {
            return badPassword;
        }
    }
}
