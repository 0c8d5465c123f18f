package dev.gatehouse.platform.evidence;

import java.util.Objects;

/**
 * What broke a session's evidence, in words a responder can act on.
 *
 * @param kind    the class of failure
 * @param message what exactly broke, naming the event (index, id, offset) where there is one
 * @param index   the position (from 0) of the first event concerned, or -1 when none
 * @param eventId that event's id, or null
 */
public record Problem(Kind kind, String message, long index, String eventId) {

    /** The classes of failure. */
    public enum Kind {
        /** The export is not valid JSON of the documented format. */
        MALFORMED,
        /** No seal: the session was not sealed (yet), or the seal was removed. */
        MISSING_SEAL,
        /** The seal names another session. */
        SEAL_FOR_OTHER_SESSION,
        /** The seal uses an algorithm this verifier does not know. */
        UNSUPPORTED_ALGORITHM,
        /** The seal was made with another key than the trusted one, or names another key than it carries. */
        WRONG_KEY,
        /** The signature does not verify: the seal was altered or forged. */
        BAD_SIGNATURE,
        /** An event belongs to another session, or is a seal itself. */
        FOREIGN_EVENT,
        /** Events are out of log order. */
        OUT_OF_ORDER,
        /** An event's bytes do not hash to the chain value recorded for it. */
        EVENT_ALTERED,
        /** The number of events differs from the number sealed. */
        EVENT_COUNT,
        /** The events do not hash to the sealed chain head. */
        CHAIN_MISMATCH
    }

    public Problem {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(message, "message");
    }

    /** A problem not tied to one event. */
    static Problem of(Kind kind, String message) {
        return new Problem(kind, message, -1, null);
    }
}
