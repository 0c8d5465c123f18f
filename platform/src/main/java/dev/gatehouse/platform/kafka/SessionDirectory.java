package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.events.FleetCodec;
import dev.gatehouse.platform.revocation.EdgeSessions;

import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The fleet's live sessions, as the edges report them on the compacted {@code gatehouse.sessions}
 * topic (one heartbeat record per edge, see {@link SessionHeartbeat}). Reads the topic fully at
 * start, then follows it; {@link #edges()} is the latest heartbeat of every edge that has not
 * stopped cleanly, alive or not (see {@link EdgeSessions#alive}).
 */
public final class SessionDirectory implements AutoCloseable {

    private final Map<String, EdgeSessions> byEdge = new ConcurrentHashMap<>();
    private final CompactedTopicReader<EdgeSessions> reader;

    public SessionDirectory(String bootstrapServers, String instanceId, String topic, Duration timeout) {
        FleetCodec codec = new FleetCodec();
        this.reader = new CompactedTopicReader<>(new CompactedTopicReader.Settings(bootstrapServers, topic,
                "gatehouse-sessions-reader-" + instanceId, timeout), codec::decodeSessions, (edge, sessions) -> {
                    if (sessions == null) byEdge.remove(edge);
                    else byEdge.put(edge, sessions);
                });
    }

    /** The latest heartbeat of each known edge, by edge id. */
    public List<EdgeSessions> edges() {
        return byEdge.values().stream().sorted(Comparator.comparing(EdgeSessions::edgeId)).toList();
    }

    /** The reader's health: not ready when it stopped following the topic. */
    public ConsumerLoop.Health health() {
        return reader.health();
    }

    @Override
    public void close() {
        reader.close();
    }
}
