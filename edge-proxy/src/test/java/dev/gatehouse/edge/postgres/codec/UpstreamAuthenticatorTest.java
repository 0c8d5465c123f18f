package dev.gatehouse.edge.postgres.codec;

import dev.gatehouse.edge.postgres.codec.FrontendMessage.PasswordMessage;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class UpstreamAuthenticatorTest {

    @Test
    void trustNeedsNoAnswer() {
        // Given
        UpstreamAuthenticator auth = new UpstreamAuthenticator("alice", null);

        // When
        Optional<FrontendMessage> answer = auth.onAuthentication(PgProtocol.AUTH_OK, new byte[0]);

        // Then
        assertThat(answer).isEmpty();
        assertThat(auth.isAuthenticated()).isTrue();
    }

    @Test
    void answersCleartextWithThePassword() {
        // Given
        UpstreamAuthenticator auth = new UpstreamAuthenticator("alice", "pw");

        // When
        Optional<FrontendMessage> answer = auth.onAuthentication(PgProtocol.AUTH_CLEARTEXT_PASSWORD, new byte[0]);

        // Then
        assertThat(answer).contains(PasswordMessage.cleartext("pw"));
    }

    @Test
    void answersMd5AsPostgresComputesIt() {
        // Given: md5("secret" + "alice") = hex below; then md5(hex + salt)
        UpstreamAuthenticator auth = new UpstreamAuthenticator("alice", "secret");
        byte[] salt = {1, 2, 3, 4};

        // When
        Optional<FrontendMessage> answer = auth.onAuthentication(PgProtocol.AUTH_MD5_PASSWORD, salt);

        // Then
        String expected = UpstreamAuthenticator.md5Password("alice", "secret", salt);
        assertThat(expected).startsWith("md5").hasSize(35);
        assertThat(((PasswordMessage) answer.orElseThrow()).asCleartext()).isEqualTo(expected);
    }

    @Test
    void refusesMethodsTheEdgeCannotSpeak() {
        // Given
        UpstreamAuthenticator auth = new UpstreamAuthenticator("alice", "pw");

        // When / Then
        assertThatThrownBy(() -> auth.onAuthentication(PgProtocol.AUTH_GSS, new byte[0]))
                .isInstanceOf(UpstreamAuthenticationException.class)
                .hasMessageContaining("GSSAPI authentication for user \"alice\"")
                .hasMessageNotContaining("pw");
        assertThatThrownBy(() -> auth.onAuthentication(PgProtocol.AUTH_SSPI, new byte[0]))
                .hasMessageContaining("SSPI");
        assertThatThrownBy(() -> auth.onAuthentication(PgProtocol.AUTH_SASL, "OAUTHBEARER\0\0".getBytes(StandardCharsets.UTF_8)))
                .hasMessageContaining("offers SASL mechanisms [OAUTHBEARER]");
    }

    @Test
    void refusesAServerThatSkipsScramVerification() {
        // Given
        UpstreamAuthenticator auth = new UpstreamAuthenticator("alice", "pw");
        auth.onAuthentication(PgProtocol.AUTH_SASL, "SCRAM-SHA-256\0\0".getBytes(StandardCharsets.UTF_8));

        // When / Then
        assertThatThrownBy(() -> auth.onAuthentication(PgProtocol.AUTH_OK, new byte[0]))
                .isInstanceOf(UpstreamAuthenticationException.class)
                .hasMessageContaining("before completing SCRAM");
        assertThat(auth.isAuthenticated()).isFalse();
    }

    @Test
    void startsScramWithoutChannelBinding() {
        // Given
        UpstreamAuthenticator auth = new UpstreamAuthenticator("alice", "pw");

        // When
        PasswordMessage first = (PasswordMessage) auth.onAuthentication(PgProtocol.AUTH_SASL,
                "SCRAM-SHA-256-PLUS\0SCRAM-SHA-256\0\0".getBytes(StandardCharsets.UTF_8)).orElseThrow();

        // Then: mechanism "SCRAM-SHA-256\0", Int32 length, then "n,,n=*,r=<nonce>"
        String body = new String(first.data(), StandardCharsets.UTF_8);
        assertThat(body).startsWith("SCRAM-SHA-256\0");
        assertThat(body.substring("SCRAM-SHA-256\0".length() + 4)).startsWith("n,,n=*,r=");
    }
}
