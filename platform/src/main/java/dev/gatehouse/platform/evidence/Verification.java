package dev.gatehouse.platform.evidence;

import java.util.List;

/**
 * The verdict on one session's evidence.
 *
 * @param sessionId the session
 * @param events    how many events were chained (up to the problem, if any)
 * @param chainHead the recomputed chain head
 * @param keyId     the key id of the verifying public key, or null when there was none
 * @param keyPinned whether that key was given by the verifier rather than taken from the evidence
 * @param status    the seal's status ("closed", "aborted"), or null without a seal
 * @param warnings  what did not break the evidence but is worth saying
 * @param problem   the first problem, or null when the evidence holds
 */
public record Verification(String sessionId, long events, String chainHead, String keyId, boolean keyPinned,
                           String status, List<String> warnings, Problem problem) {

    public Verification {
        warnings = List.copyOf(warnings);
    }

    public boolean ok() {
        return problem == null;
    }

    /**
     * One line for people: {@code verified: N events, chain head H, signed by key K} or
     * {@code NOT verified: <what broke>}.
     */
    public String describe() {
        if (problem != null) {
            return "NOT verified: session " + sessionId + ": " + problem.message();
        }
        return "verified: " + events + " events, chain head " + chainHead + ", signed by key " + keyId
                + (keyPinned ? "" : " (key taken from the evidence itself; pass a trusted public key to pin it)")
                + ", session " + status;
    }
}
