package dev.gatehouse.platform.evidence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.security.Signature;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;

import org.junit.jupiter.api.Test;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;

class SessionSealerTest {

    private static final String HEAD = SessionChain.head("s-1", java.util.List.of(new byte[] {42}));
    private final SigningKeys keys = SigningKeys.generate();
    private final SessionSealer sealer = new SessionSealer(keys, "indexer-1",
            Clock.fixed(Instant.parse("2025-03-01T12:00:00Z"), ZoneOffset.UTC));

    @Test
    void signsTheDocumentedMessageWithEd25519() throws Exception {
        // Given
        byte[] expected = ("gatehouse-seal/v1\ns-1\n1\n" + HEAD + "\nclosed").getBytes(StandardCharsets.UTF_8);

        // When
        AuditEvent.SessionSealed seal = sealer.seal(new SessionId("s-1"), HEAD, 1, SessionSealer.CLOSED);

        // Then
        Signature verifier = Signature.getInstance("Ed25519");
        verifier.initVerify(keys.publicKey());
        verifier.update(expected);
        assertThat(verifier.verify(Base64.getDecoder().decode(seal.signature()))).isTrue();
        assertThat(seal.header().service()).isEqualTo("indexer");
        assertThat(seal.header().instance()).isEqualTo("indexer-1");
        assertThat(seal.header().timestamp()).isEqualTo(Instant.parse("2025-03-01T12:00:00Z"));
        assertThat(seal.sessionId().value()).isEqualTo("s-1");
        assertThat(seal).extracting(AuditEvent.SessionSealed::sealedSessionId, AuditEvent.SessionSealed::events,
                        AuditEvent.SessionSealed::chainHead, AuditEvent.SessionSealed::algorithm,
                        AuditEvent.SessionSealed::keyId, AuditEvent.SessionSealed::status)
                .containsExactly("s-1", 1L, HEAD, "sha256-chain/ed25519", keys.keyId(), "closed");
        assertThat(SessionSealer.verify(seal, keys.publicKey(), HEAD, 1)).isNull();
    }

    @Test
    void aSealSurvivesTheLogUnchanged() {
        // Given
        AuditEventCodec codec = new AuditEventCodec();
        AuditEvent.SessionSealed seal = sealer.seal(new SessionId("s-1"), HEAD, 1, SessionSealer.ABORTED);

        // When
        AuditEvent decoded = codec.decode(codec.encode(seal));

        // Then
        assertThat(decoded).isEqualTo(seal);
        assertThat(SessionSealer.verify((AuditEvent.SessionSealed) decoded, keys.publicKey(), HEAD, 1)).isNull();
    }

    @Test
    void detectsAnAlteredSeal() {
        // Given
        AuditEvent.SessionSealed seal = sealer.seal(new SessionId("s-1"), HEAD, 1, SessionSealer.ABORTED);
        AuditEvent.SessionSealed relabelled = new AuditEvent.SessionSealed(seal.header(), seal.sealedSessionId(),
                seal.events(), seal.chainHead(), seal.algorithm(), seal.signature(), seal.keyId(), "closed");

        // When
        Problem problem = SessionSealer.verify(relabelled, keys.publicKey(), HEAD, 1);

        // Then
        assertThat(problem.kind()).isEqualTo(Problem.Kind.BAD_SIGNATURE);
        assertThat(problem.message()).startsWith("the seal's signature does not verify with key " + keys.keyId());
    }

    @Test
    void detectsAnotherKey() {
        // Given
        AuditEvent.SessionSealed seal = sealer.seal(new SessionId("s-1"), HEAD, 1, SessionSealer.CLOSED);
        SigningKeys other = SigningKeys.generate();

        // When
        Problem problem = SessionSealer.verify(seal, other.publicKey(), HEAD, 1);

        // Then
        assertThat(problem.kind()).isEqualTo(Problem.Kind.WRONG_KEY);
        assertThat(problem.message()).isEqualTo("the seal was made with key " + keys.keyId()
                + " but the verifying key is " + other.keyId());
    }

    @Test
    void detectsAnotherKeyClaimingTheTrustedKeyId() {
        // Given: a forger signs with his own key but writes the trusted key's id
        AuditEvent.SessionSealed forged = new SessionSealer(SigningKeys.generate(), "x")
                .seal(new SessionId("s-1"), HEAD, 1, SessionSealer.CLOSED);
        AuditEvent.SessionSealed claimed = new AuditEvent.SessionSealed(forged.header(), forged.sealedSessionId(),
                forged.events(), forged.chainHead(), forged.algorithm(), forged.signature(), keys.keyId(), "closed");

        // When
        Problem problem = SessionSealer.verify(claimed, keys.publicKey(), HEAD, 1);

        // Then
        assertThat(problem.kind()).isEqualTo(Problem.Kind.BAD_SIGNATURE);
    }

    @Test
    void detectsAnotherCountOrHead() {
        // Given
        AuditEvent.SessionSealed seal = sealer.seal(new SessionId("s-1"), HEAD, 1, SessionSealer.CLOSED);

        // When
        Problem fewer = SessionSealer.verify(seal, keys.publicKey(), HEAD, 0);
        Problem otherHead = SessionSealer.verify(seal, keys.publicKey(), SessionChain.genesis("s-1"), 1);

        // Then
        assertThat(fewer.kind()).isEqualTo(Problem.Kind.EVENT_COUNT);
        assertThat(fewer.message()).isEqualTo("the seal covers 1 events but 0 were found: events were removed");
        assertThat(otherHead.kind()).isEqualTo(Problem.Kind.CHAIN_MISMATCH);
        assertThat(otherHead.message()).contains("but the seal signs " + HEAD);
    }

    @Test
    void refusesAnUnknownStatusOrAMalformedHead() {
        assertThatThrownBy(() -> sealer.seal(new SessionId("s-1"), HEAD, 1, "open"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("got open");
        assertThatThrownBy(() -> sealer.seal(new SessionId("s-1"), "beef", 1, "closed"))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("64 hex digits");
    }
}
