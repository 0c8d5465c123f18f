package dev.gatehouse.platform.revocation;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;

/**
 * One edge's heartbeat: its live sessions at {@code heartbeatAt}.
 *
 * @param interval how often the edge heart-beats; an edge silent for {@link #MISSED_HEARTBEATS}
 *                 intervals is presumed dead
 */
public record EdgeSessions(String edgeId, Instant heartbeatAt, Duration interval, List<SessionInfo> sessions) {

    /** Heartbeats an edge may miss before it is presumed dead. */
    public static final int MISSED_HEARTBEATS = 3;

    public EdgeSessions {
        Objects.requireNonNull(edgeId, "edgeId");
        Objects.requireNonNull(heartbeatAt, "heartbeatAt");
        Objects.requireNonNull(interval, "interval");
        sessions = List.copyOf(sessions);
        heartbeatAt = heartbeatAt.truncatedTo(ChronoUnit.MICROS); // as the wire form holds it
    }

    /** Whether the edge heart-beat recently enough at {@code now} to be considered alive. */
    public boolean alive(Instant now) {
        return !heartbeatAt.plus(interval.multipliedBy(MISSED_HEARTBEATS)).isBefore(now);
    }
}
