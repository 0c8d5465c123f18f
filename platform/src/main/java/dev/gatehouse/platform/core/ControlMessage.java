package dev.gatehouse.platform.core;

/** Requests addressed to whichever edge holds a session, through {@code gatehouse.control}. */
public sealed interface ControlMessage {

    /** A PostgreSQL CancelRequest that arrived at an edge not holding the session. */
    record CancelQuery(int processId, int secretKey, String fromEdge) implements ControlMessage {
    }

    /** End a live session (revocation, operator kill). */
    record KillSession(SessionId sessionId, String reason) implements ControlMessage {
    }
}
