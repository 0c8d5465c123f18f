package dev.gatehouse.platform.revocation;

import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.Objects;

/**
 * One edge's heartbeat: its live sessions at {@code heartbeatAt}, and the revocation selector types
 * it enforces.
 *
 * @param interval      how often the edge heart-beats; an edge silent for {@link #MISSED_HEARTBEATS}
 *                      intervals is presumed dead
 * @param selectorTypes the revocation selector types the edge enforces: an edge of this version
 *                      enforces every {@link Selector.Type}; one older than the field,
 *                      {@link #LEGACY_SELECTOR_TYPES}
 */
public record EdgeSessions(String edgeId, Instant heartbeatAt, Duration interval, List<SessionInfo> sessions,
                           Set<Selector.Type> selectorTypes) {

    /** Heartbeats an edge may miss before it is presumed dead. */
    public static final int MISSED_HEARTBEATS = 3;
    /** What edges older than the heartbeat's list of selector types enforce. */
    public static final Set<Selector.Type> LEGACY_SELECTOR_TYPES = Collections.unmodifiableSet(EnumSet.of(
            Selector.Type.SUBJECT, Selector.Type.ISSUER, Selector.Type.GROUP, Selector.Type.REPOSITORY, Selector.Type.COMMIT));

    public EdgeSessions {
        Objects.requireNonNull(edgeId, "edgeId");
        Objects.requireNonNull(heartbeatAt, "heartbeatAt");
        Objects.requireNonNull(interval, "interval");
        sessions = List.copyOf(sessions);
        selectorTypes = selectorTypes.isEmpty() ? Set.of() : Collections.unmodifiableSet(EnumSet.copyOf(selectorTypes));
        heartbeatAt = heartbeatAt.truncatedTo(ChronoUnit.MICROS); // as the wire form holds it
    }

    /** The heartbeat of an edge of this version: it enforces every selector type. */
    public EdgeSessions(String edgeId, Instant heartbeatAt, Duration interval, List<SessionInfo> sessions) {
        this(edgeId, heartbeatAt, interval, sessions, EnumSet.allOf(Selector.Type.class));
    }

    /** Whether this edge enforces revocations of {@code type}. */
    public boolean enforces(Selector.Type type) {
        return selectorTypes.contains(type);
    }

    /** Whether the edge heart-beat recently enough at {@code now} to be considered alive. */
    public boolean alive(Instant now) {
        return !heartbeatAt.plus(interval.multipliedBy(MISSED_HEARTBEATS)).isBefore(now);
    }
}
