package dev.gatehouse.platform.evidence;

import java.security.PublicKey;
import java.util.ArrayList;
import java.util.List;

import dev.gatehouse.platform.core.AuditEvent;

/**
 * Verifies a session's evidence, wherever its parts come from (an export file, the log itself):
 * the seal belongs to the session, verifies with the key, and signs the chain head and event
 * count recomputed from the records. Reports the first thing that broke.
 */
public final class SessionEvidence {

    private SessionEvidence() {
    }

    /**
     * Verifies records against a seal.
     *
     * @param sessionId     the session
     * @param records       the session's records in log order, seals excluded
     * @param recordedChain the chain value recorded after each record (e.g. in an export), to name the
     *                      first altered event; null or shorter lists check what they cover
     * @param seal          the session's seal, or null when none was found
     * @param publicKey     the key to verify with, or null when none is known
     * @param keyPinned     whether the verifier supplied that key (rather than the evidence itself)
     */
    public static Verification verify(String sessionId, List<SessionRecord> records, List<String> recordedChain,
                                      AuditEvent.SessionSealed seal, PublicKey publicKey, boolean keyPinned) {
        SessionChain.Check chain = SessionChain.verify(sessionId, records);
        List<String> warnings = new ArrayList<>(chain.warnings());
        String keyId = publicKey == null ? null : SigningKeys.keyId(publicKey);
        Problem problem = sealProblem(sessionId, seal, publicKey);
        if (problem == null) {
            problem = chain.problem();
        }
        if (problem == null && recordedChain != null) {
            problem = recordedChainProblem(records, chain.heads(), recordedChain);
        }
        if (problem == null) {
            problem = SessionSealer.verify(seal, publicKey, chain.head(), chain.events());
        }
        return new Verification(sessionId, chain.events(), chain.head(), keyId, keyPinned,
                seal == null ? null : seal.status(), warnings, problem);
    }

    private static Problem sealProblem(String sessionId, AuditEvent.SessionSealed seal, PublicKey publicKey) {
        if (seal == null) {
            return Problem.of(Problem.Kind.MISSING_SEAL, "no SessionSealed event: the session is not sealed "
                    + "(still open, or not yet closed in the indexer), or its seal was removed");
        }
        if (!sessionId.equals(seal.sealedSessionId()) || !sessionId.equals(seal.sessionId().value())) {
            return Problem.of(Problem.Kind.SEAL_FOR_OTHER_SESSION, "the seal is for session "
                    + seal.sealedSessionId() + ", not " + sessionId);
        }
        if (publicKey == null) {
            return Problem.of(Problem.Kind.WRONG_KEY, "no public key to verify the seal of key " + seal.keyId()
                    + " with: the evidence carries none and none was given");
        }
        return SessionSealer.verifySignature(seal, publicKey);
    }

    private static Problem recordedChainProblem(List<SessionRecord> records, List<String> heads,
                                                List<String> recorded) {
        for (int i = 0; i < Math.min(heads.size(), recorded.size()); i++) {
            String expected = recorded.get(i);
            if (expected != null && !expected.equals(heads.get(i))) {
                SessionRecord record = records.get(i);
                return new Problem(Problem.Kind.EVENT_ALTERED, SessionChain.describe(i, record)
                        + " does not hash to the chain value recorded for it (" + abbreviate(expected)
                        + ", recomputed " + abbreviate(heads.get(i)) + "): it"
                        + (i == 0 ? "" : ", or an event before it,") + " was changed, removed or reordered",
                        i, record.eventId());
            }
        }
        return null;
    }

    private static String abbreviate(String head) {
        return head.length() > 16 ? head.substring(0, 16) + "…" : head;
    }
}
