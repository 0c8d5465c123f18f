package dev.gatehouse.edge;

import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.SessionInfo;

import java.util.List;

/**
 * What the fleet needs of one protocol listener of an edge (PostgreSQL, MySQL): revocations
 * checked at login and enforced on live sessions, its live sessions for the session directory, and
 * control messages routed to it.
 */
public interface EdgeListener extends AutoCloseable {

    /** The revocations consulted at each login; set before the listener starts. */
    void useRevocations(RevocationCheck check);

    /** A revocation came into force: ends the live sessions it covers; returns how many. Any thread. */
    int enforce(Revocation revocation);

    /** The listener's live sessions. */
    List<SessionInfo> liveSessions();

    /** Called after a session opened or closed (on that session's thread); must be quick. */
    void onSessionsChanged(Runnable listener);

    /** A control message from the fleet (a kill, another edge's cancel). */
    void onControl(ControlMessage message);

    /**
     * Graceful shutdown: stops taking connections, ends each session with the target's own shutdown
     * error as soon as no command of it is in flight, and after {@code timeout} ends the rest at once.
     * Blocks until done (call it off the event loops); {@link #close()} follows.
     *
     * @return the sessions ended with a command in flight because the timeout passed
     */
    int drain(java.time.Duration timeout);

    @Override
    void close();
}
