package dev.gatehouse.platform.core;

/** Requests addressed to whichever edge holds a session, through {@code gatehouse.control}. */
public sealed interface ControlMessage {

    /** A PostgreSQL CancelRequest that arrived at an edge not holding the session. */
    record CancelQuery(int processId, int secretKey, String fromEdge) implements ControlMessage {
    }

    /**
     * A MySQL {@code KILL [QUERY | CONNECTION] id} whose connection id no session of the receiving
     * edge has: the edge holding a session with that id acts on it only when its identity is the
     * requester's ({@code subject}, {@code issuer}).
     */
    record KillConnection(int connectionId, boolean query, String subject, String issuer, String requestedBy,
                          String fromEdge) implements ControlMessage {
    }

    /** End a live session (revocation, operator kill). */
    record KillSession(SessionId sessionId, String reason) implements ControlMessage {
    }
}
