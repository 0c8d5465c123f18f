package dev.gatehouse.platform.identity;

import dev.gatehouse.platform.core.Identity;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowable;

class BearerAuthTest {

    private static final Identity ALICE = new Identity("alice", "https://issuer", List.of("auditors"), List.of(), Map.of(), null);

    private static final BearerAuth.Validator TOKENS = token -> switch (token) {
        case "good" -> CompletableFuture.completedFuture(ALICE);
        case "expired" -> CompletableFuture.failedFuture(
                new TokenRejectedException(TokenRejectedException.Reason.EXPIRED, "token expired at 2026-11-24T07:00:00Z"));
        case "refused" -> CompletableFuture.failedFuture(new CompletionException(BearerAuth.Refused.invalidToken("access revoked")));
        default -> CompletableFuture.failedFuture(new IllegalStateException("JWKS fetch failed: secret internal detail"));
    };

    private static BearerAuth.Refused refusal(BearerAuth auth, String header) {
        Throwable t = catchThrowable(() -> auth.authenticate(header).toCompletableFuture().join());
        assertThat(t).isInstanceOf(CompletionException.class);
        assertThat(t.getCause()).isInstanceOf(BearerAuth.Refused.class);
        return (BearerAuth.Refused) t.getCause();
    }

    @Test
    void aTokenOfTheRequiredGroupIsTheCaller() {
        // Given an API that requires the group "auditors"
        BearerAuth auth = new BearerAuth("test", TOKENS, "auditors");
        // When / Then
        assertThat(auth.authenticate("Bearer good").toCompletableFuture().join()).isEqualTo(ALICE);
        assertThat(auth.authenticate("bearer   good ").toCompletableFuture().join()).isEqualTo(ALICE);
    }

    @Test
    void aMissingOrMalformedHeaderIs401WithAChallenge() {
        BearerAuth auth = new BearerAuth("test", TOKENS, null);
        for (String header : new String[]{null, "", "Basic dXNlcjpwdw==", "Bearer", "Bearer  "}) {
            BearerAuth.Refused r = refusal(auth, header);
            assertThat(r.status()).isEqualTo(401);
            assertThat(r.error()).isEqualTo("invalid_request");
            assertThat(r.challenge()).startsWith("Bearer realm=\"test\", error=\"invalid_request\"");
        }
    }

    @Test
    void aRefusedTokenSaysWhyButAnInternalErrorDoesNot() {
        BearerAuth auth = new BearerAuth("test", TOKENS, null);
        BearerAuth.Refused expired = refusal(auth, "Bearer expired");
        assertThat(expired.status()).isEqualTo(401);
        assertThat(expired.getMessage()).isEqualTo("token expired at 2026-11-24T07:00:00Z");
        assertThat(expired.challenge()).contains("error=\"invalid_token\"");
        assertThat(refusal(auth, "Bearer refused").getMessage()).isEqualTo("access revoked");
        BearerAuth.Refused internal = refusal(auth, "Bearer other");
        assertThat(internal.getMessage()).isEqualTo("the token could not be validated");
        assertThat(internal.challenge()).doesNotContain("secret internal detail");
    }

    @Test
    void aValidTokenOutsideTheRequiredGroupIs403WithoutAChallenge() {
        BearerAuth auth = new BearerAuth("test", TOKENS, "admins");
        BearerAuth.Refused r = refusal(auth, "Bearer good");
        assertThat(r.status()).isEqualTo(403);
        assertThat(r.getMessage()).isEqualTo("subject alice is not in the group admins");
        assertThat(r.challenge()).isNull();
    }

    @Test
    void aBlankRequiredGroupIsAConfigurationError() {
        assertThatThrownBy(() -> new BearerAuth("test", TOKENS, " ")).isInstanceOf(IllegalArgumentException.class);
    }
}
