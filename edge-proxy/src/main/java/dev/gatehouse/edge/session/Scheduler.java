package dev.gatehouse.edge.session;

import java.time.Duration;
import java.time.Instant;

/**
 * The session's thread and clock: everything a session does runs through {@link #execute} on one
 * thread (a Vert.x event loop in production, a test's own executor in tests), and its timers fire
 * on that thread too.
 */
public interface Scheduler {
    /** Runs {@code task} on the session's thread, after what is already queued. */
    void execute(Runnable task);

    /** Runs {@code task} once after {@code delay}, on the session's thread; returns a timer id. */
    long setTimer(Duration delay, Runnable task);

    /** Runs {@code task} every {@code period}, on the session's thread; returns a timer id. */
    long setPeriodic(Duration period, Runnable task);

    /** Cancels a timer; unknown or fired ids are ignored. */
    void cancelTimer(long id);

    /** The current time. */
    default Instant now() {
        return Instant.now();
    }
}
