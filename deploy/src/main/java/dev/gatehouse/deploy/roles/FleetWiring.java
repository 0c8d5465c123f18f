package dev.gatehouse.deploy.roles;

import dev.gatehouse.edge.EdgeListener;
import dev.gatehouse.platform.kafka.RevocationLog;
import dev.gatehouse.platform.kafka.SessionHeartbeat;
import dev.gatehouse.platform.kafka.Topics;

import java.time.Duration;

/**
 * Connects an edge to the fleet's revocation log and session directory: revocations are checked
 * at each login and end live sessions as they arrive; the edge's live sessions are published as
 * a heartbeat. The edge itself knows only its ports ({@code RevocationCheck}, listeners).
 */
final class FleetWiring {

    /** How often an edge publishes its live sessions (and soon after each change). */
    static final Duration HEARTBEAT_INTERVAL = Duration.ofSeconds(2);

    private FleetWiring() {
    }

    /**
     * Call before the edge's listeners start: one heartbeat publishes the live sessions of all of
     * them (the PostgreSQL listener and, when configured, the MySQL one).
     */
    static void attach(java.util.List<? extends EdgeListener> listeners, RevocationLog revocations, String bootstrapServers,
                       String edgeId, Closer closer) {
        for (EdgeListener edge : listeners) {
            edge.useRevocations(revocations.active()::matching);
            revocations.addListener(edge::enforce);
        }
        SessionHeartbeat heartbeat = closer.add(new SessionHeartbeat(bootstrapServers, Topics.SESSIONS, edgeId,
                HEARTBEAT_INTERVAL, () -> listeners.stream().flatMap(l -> l.liveSessions().stream()).toList()));
        for (EdgeListener edge : listeners) edge.onSessionsChanged(heartbeat::changed);
    }
}
