package dev.gatehouse.indexer.projection;

import dev.gatehouse.indexer.store.TimelineStore.OpenSession;
import dev.gatehouse.platform.revocation.EdgeSessions;
import dev.gatehouse.platform.revocation.SessionInfo;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * Decides which open sessions are dead because their edge no longer reports them: the edge
 * stopped heart-beating ({@link EdgeSessions#alive}), left the session directory without closing
 * the session, or heart-beats without it. Every case must hold for {@code grace} before it counts,
 * so a SessionClosed still on its way wins. No I/O; the caller passes the clock's time.
 */
public final class AbortDetector {

    /** A session to mark aborted, and why (for the log; the timeline's reason is fixed). */
    public record Abort(String sessionId, String edgeId, String why) {
    }

    private final Duration grace;
    private final Map<String, Instant> suspectSince = new HashMap<>();

    public AbortDetector(Duration grace) {
        this.grace = Objects.requireNonNull(grace, "grace");
        if (grace.isNegative()) throw new IllegalArgumentException("abort grace must not be negative: " + grace);
    }

    /**
     * The sessions to abort now.
     *
     * @param open  open sessions whose partitions the caller has fully read
     * @param edges the latest heartbeat of every edge in the session directory
     */
    public List<Abort> check(List<OpenSession> open, List<EdgeSessions> edges, Instant now) {
        Map<String, EdgeSessions> byEdge = new HashMap<>();
        for (EdgeSessions e : edges) byEdge.put(e.edgeId(), e);
        List<Abort> aborts = new ArrayList<>();
        Set<String> seen = new HashSet<>();
        for (OpenSession s : open) {
            if (s.edgeId() == null) continue;
            seen.add(s.sessionId());
            String why = suspicion(s, byEdge.get(s.edgeId()), now);
            if (why == null) {
                suspectSince.remove(s.sessionId());
                continue;
            }
            Instant since = suspectSince.computeIfAbsent(s.sessionId(), k -> now);
            if (!since.plus(grace).isAfter(now)) {
                aborts.add(new Abort(s.sessionId(), s.edgeId(), why));
                suspectSince.remove(s.sessionId());
            }
        }
        suspectSince.keySet().retainAll(seen);
        return aborts;
    }

    private String suspicion(OpenSession s, EdgeSessions edge, Instant now) {
        if (edge == null) {
            return "edge " + s.edgeId() + " is not in the session directory (stopped, or never reported)";
        }
        if (!edge.alive(now)) {
            return "edge " + s.edgeId() + " stopped heart-beating (last heartbeat " + edge.heartbeatAt() + ", interval "
                    + edge.interval() + ")";
        }
        boolean listed = false;
        for (SessionInfo info : edge.sessions()) {
            if (info.sessionId().equals(s.sessionId())) {
                listed = true;
                break;
            }
        }
        // a heartbeat older than the session's last event may not know it yet
        if (!listed && edge.heartbeatAt().isAfter(s.lastEventAt())) {
            return "edge " + s.edgeId() + " no longer reports the session (heartbeat " + edge.heartbeatAt() + ")";
        }
        return null;
    }
}
