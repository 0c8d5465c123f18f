package dev.gatehouse.platform.evidence;

import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.PublicKey;
import java.security.Signature;
import java.time.Clock;
import java.util.Base64;
import java.util.Objects;
import java.util.Set;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;

/**
 * Seals a finished session: signs its chain head with the indexer's Ed25519 key and builds the
 * {@link AuditEvent.SessionSealed} event (service {@code "indexer"}). The signed message is
 * <pre>
 *   "gatehouse-seal/v1\n" + sessionId + "\n" + events + "\n" + chainHead + "\n" + status     (UTF-8)
 * </pre>
 * with {@code events} in decimal and {@code chainHead} as 64 lower-case hex digits. Thread-safe.
 */
public final class SessionSealer {

    /** The {@code algorithm} every seal carries. */
    public static final String ALGORITHM = "sha256-chain/ed25519";
    /** The service name seals are written under. */
    public static final String SERVICE = "indexer";
    /** Seal status of a session that ended normally. */
    public static final String CLOSED = "closed";
    /** Seal status of a session whose edge stopped heart-beating. */
    public static final String ABORTED = "aborted";

    private static final Set<String> STATUSES = Set.of(CLOSED, ABORTED);

    private final SigningKeys keys;
    private final String instance;
    private final Clock clock;

    /**
     * @param keys     the signing key pair
     * @param instance the sealing indexer instance, for the event header
     * @param clock    the time source of the event header
     */
    public SessionSealer(SigningKeys keys, String instance, Clock clock) {
        this.keys = Objects.requireNonNull(keys, "keys");
        this.instance = Objects.requireNonNull(instance, "instance");
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    /** A sealer on the system clock. */
    public SessionSealer(SigningKeys keys, String instance) {
        this(keys, instance, Clock.systemUTC());
    }

    /** The key id seals of this sealer carry. */
    public String keyId() {
        return keys.keyId();
    }

    public PublicKey publicKey() {
        return keys.publicKey();
    }

    /**
     * Signs a session's chain head.
     *
     * @param sessionId  the session
     * @param chainHead  the head after the session's last event ({@link SessionChain})
     * @param eventCount how many events the chain covers
     * @param status     {@link #CLOSED} or {@link #ABORTED}
     */
    public AuditEvent.SessionSealed seal(SessionId sessionId, String chainHead, long eventCount, String status) {
        Objects.requireNonNull(sessionId, "sessionId");
        SessionChain.next(chainHead, new byte[0]); // validates the head's form
        if (!STATUSES.contains(status)) {
            throw new IllegalArgumentException("seal status must be one of " + STATUSES + ", got " + status);
        }
        if (eventCount < 0) {
            throw new IllegalArgumentException("event count must not be negative, got " + eventCount);
        }
        byte[] signature;
        try {
            Signature signer = Signature.getInstance(SigningKeys.ALGORITHM);
            signer.initSign(keys.privateKey());
            signer.update(message(sessionId.value(), eventCount, chainHead, status));
            signature = signer.sign();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("cannot sign the seal of session " + sessionId + " with key "
                    + keys.keyId() + ": " + e.getMessage(), e);
        }
        EventHeader header = EventHeader.at(sessionId,
                clock.instant().truncatedTo(java.time.temporal.ChronoUnit.MICROS), SERVICE,
                instance);
        return new AuditEvent.SessionSealed(header, sessionId.value(), eventCount, chainHead, ALGORITHM,
                Base64.getEncoder().encodeToString(signature), keys.keyId(), status);
    }

    /** The exact bytes a seal signs. */
    public static byte[] message(String sessionId, long events, String chainHead, String status) {
        return ("gatehouse-seal/v1\n" + sessionId + "\n" + events + "\n" + chainHead + "\n" + status)
                .getBytes(StandardCharsets.UTF_8);
    }

    /**
     * Checks a seal against a public key and what the verifier recomputed from the events: the
     * algorithm, the key id, the signature, then the event count and the chain head.
     *
     * @param seal           the seal
     * @param publicKey      the key it must verify with
     * @param recomputedHead the chain head recomputed from the session's events
     * @param count          how many events were chained
     * @return the first problem, or null when the seal holds
     */
    public static Problem verify(AuditEvent.SessionSealed seal, PublicKey publicKey, String recomputedHead,
                                 long count) {
        Problem problem = verifySignature(seal, publicKey);
        if (problem != null) {
            return problem;
        }
        if (seal.events() != count) {
            return Problem.of(Problem.Kind.EVENT_COUNT, "the seal covers " + seal.events() + " events but "
                    + count + " were found: events were " + (count < seal.events() ? "removed" : "added"));
        }
        if (!seal.chainHead().equals(recomputedHead)) {
            return Problem.of(Problem.Kind.CHAIN_MISMATCH, "the events hash to chain head " + recomputedHead
                    + " but the seal signs " + seal.chainHead()
                    + ": an event was changed, removed, added or reordered");
        }
        return null;
    }

    /**
     * Checks the seal itself: algorithm, key id and signature, without the events.
     *
     * @return the first problem, or null when the signature holds
     */
    public static Problem verifySignature(AuditEvent.SessionSealed seal, PublicKey publicKey) {
        if (!ALGORITHM.equals(seal.algorithm())) {
            return Problem.of(Problem.Kind.UNSUPPORTED_ALGORITHM, "the seal uses algorithm '" + seal.algorithm()
                    + "', this verifier knows only " + ALGORITHM);
        }
        String keyId = SigningKeys.keyId(publicKey);
        if (!keyId.equals(seal.keyId())) {
            return Problem.of(Problem.Kind.WRONG_KEY, "the seal was made with key " + seal.keyId()
                    + " but the verifying key is " + keyId);
        }
        boolean valid;
        try {
            byte[] signature = Base64.getDecoder().decode(seal.signature());
            Signature verifier = Signature.getInstance(SigningKeys.ALGORITHM);
            verifier.initVerify(publicKey);
            verifier.update(message(seal.sealedSessionId(), seal.events(), seal.chainHead(), seal.status()));
            valid = verifier.verify(signature);
        } catch (IllegalArgumentException | GeneralSecurityException e) {
            valid = false;
        }
        if (!valid) {
            return Problem.of(Problem.Kind.BAD_SIGNATURE, "the seal's signature does not verify with key " + keyId
                    + ": the seal (session, event count, chain head or status) was altered or forged");
        }
        return null;
    }
}
