package dev.gatehouse.edge;

import dev.gatehouse.platform.core.Identity;

import java.util.concurrent.CompletionStage;

/**
 * Turns the token a client presents (as its password) into an identity. Fails with an
 * {@link AuthenticationFailure} whose message a user can act on and which never contains the
 * token.
 */
@FunctionalInterface
public interface Authenticator {
    CompletionStage<Identity> authenticate(String token);

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
