package dev.gatehouse.approval.slack;

import dev.gatehouse.testsupport.FakeSlack;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;

import static org.assertj.core.api.Assertions.assertThat;

class SlackSignatureVerifierTest {

    private static final String SECRET = "8f742231b10e8888abcd99yyyzzz85a5";
    private static final Instant NOW = Instant.parse("2026-03-01T12:00:00Z");
    private static final byte[] BODY = "payload=%7B%22type%22%3A%22block_actions%22%7D".getBytes(StandardCharsets.UTF_8);

    private final SlackSignatureVerifier verifier = new SlackSignatureVerifier(SECRET,
            Clock.fixed(NOW, ZoneOffset.UTC), Duration.ofMinutes(5), 1000);

    private static String ts(Instant at) {
        return Long.toString(at.getEpochSecond());
    }

    @Test
    void signatureMatchesSlacksDocumentedExample() {
        // Given Slack's documented example (api.slack.com "Verifying requests from Slack")
        String body = "token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V"
                + "&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text="
                + "&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN"
                + "&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c";
        // When
        String signature = SlackSignatureVerifier.sign(SECRET, "1531420618", body.getBytes(StandardCharsets.UTF_8));
        // Then
        assertThat(signature).isEqualTo("v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503");
    }

    @Test
    void acceptsAValidSignature() {
        // Given a request signed now by the fake (an independent implementation)
        String sig = FakeSlack.sign(SECRET, ts(NOW), new String(BODY, StandardCharsets.UTF_8));
        // When
        SlackSignatureVerifier.Verdict verdict = verifier.verify(ts(NOW), sig, BODY);
        // Then
        assertThat(verdict.valid()).as(verdict.detail()).isTrue();
    }

    @Test
    void refusesAWrongSecret() {
        // Given
        String sig = FakeSlack.sign("another-secret", ts(NOW), new String(BODY, StandardCharsets.UTF_8));
        // When
        SlackSignatureVerifier.Verdict verdict = verifier.verify(ts(NOW), sig, BODY);
        // Then
        assertThat(verdict.refusal()).isEqualTo(SlackSignatureVerifier.Refusal.BAD_SIGNATURE);
        assertThat(verdict.detail()).doesNotContain(SECRET);
    }

    @Test
    void refusesATamperedBody() {
        // Given a valid signature over another body
        String sig = SlackSignatureVerifier.sign(SECRET, ts(NOW), BODY);
        byte[] tampered = "payload=%7B%22type%22%3A%22block_actionz%22%7D".getBytes(StandardCharsets.UTF_8);
        // When
        SlackSignatureVerifier.Verdict verdict = verifier.verify(ts(NOW), sig, tampered);
        // Then
        assertThat(verdict.refusal()).isEqualTo(SlackSignatureVerifier.Refusal.BAD_SIGNATURE);
    }

    @Test
    void refusesAStaleTimestampEvenWhenSignedCorrectly() {
        // Given a request signed six minutes ago
        Instant then = NOW.minus(Duration.ofMinutes(6));
        String sig = SlackSignatureVerifier.sign(SECRET, ts(then), BODY);
        // When
        SlackSignatureVerifier.Verdict verdict = verifier.verify(ts(then), sig, BODY);
        // Then
        assertThat(verdict.refusal()).isEqualTo(SlackSignatureVerifier.Refusal.STALE);
        assertThat(verdict.refusal().tag()).isEqualTo("stale");
    }

    @Test
    void refusesATimestampInTheFuture() {
        // Given
        Instant later = NOW.plus(Duration.ofMinutes(6));
        String sig = SlackSignatureVerifier.sign(SECRET, ts(later), BODY);
        // When
        SlackSignatureVerifier.Verdict verdict = verifier.verify(ts(later), sig, BODY);
        // Then
        assertThat(verdict.refusal()).isEqualTo(SlackSignatureVerifier.Refusal.FUTURE);
    }

    @Test
    void acceptsTheEdgesOfTheWindow() {
        // Given requests 4m59s old and 4m59s ahead
        Instant early = NOW.minusSeconds(299);
        Instant late = NOW.plusSeconds(299);
        // When / Then
        assertThat(verifier.verify(ts(early), SlackSignatureVerifier.sign(SECRET, ts(early), BODY), BODY).valid()).isTrue();
        assertThat(verifier.verify(ts(late), SlackSignatureVerifier.sign(SECRET, ts(late), BODY), BODY).valid()).isTrue();
    }

    @Test
    void refusesAReplayedRequest() {
        // Given a request accepted once
        String sig = SlackSignatureVerifier.sign(SECRET, ts(NOW), BODY);
        assertThat(verifier.verify(ts(NOW), sig, BODY).valid()).isTrue();
        // When the same bytes come again
        SlackSignatureVerifier.Verdict verdict = verifier.verify(ts(NOW), sig, BODY);
        // Then
        assertThat(verdict.refusal()).isEqualTo(SlackSignatureVerifier.Refusal.REPLAYED);
    }

    @Test
    void refusesMissingOrMalformedHeaders() {
        // Given / When / Then
        assertThat(verifier.verify(null, "v0=00", BODY).refusal()).isEqualTo(SlackSignatureVerifier.Refusal.MISSING_HEADERS);
        assertThat(verifier.verify(ts(NOW), null, BODY).refusal()).isEqualTo(SlackSignatureVerifier.Refusal.MISSING_HEADERS);
        assertThat(verifier.verify("yesterday", "v0=00", BODY).refusal())
                .isEqualTo(SlackSignatureVerifier.Refusal.MALFORMED_TIMESTAMP);
    }
}
