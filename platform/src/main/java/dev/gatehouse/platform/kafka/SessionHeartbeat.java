package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.events.FleetCodec;
import dev.gatehouse.platform.revocation.EdgeSessions;
import dev.gatehouse.platform.revocation.SessionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * Publishes one edge's live sessions to the compacted {@code gatehouse.sessions} topic, keyed by
 * the edge id: every {@code interval}, and soon after {@link #changed()} (coalesced). On a clean
 * {@link #close()} it writes a tombstone, so the edge leaves the directory at once; an edge that
 * dies stops heart-beating and readers presume it dead after a few intervals.
 */
public final class SessionHeartbeat implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(SessionHeartbeat.class);
    private static final Duration COALESCE = Duration.ofMillis(100);

    private final String topic;
    private final String edgeId;
    private final Duration interval;
    private final Supplier<List<SessionInfo>> sessions;
    private final FleetCodec codec = new FleetCodec();
    private final FleetProducer producer;
    private final ScheduledExecutorService scheduler;
    private final AtomicBoolean pending = new AtomicBoolean();

    /**
     * Starts heart-beating at once.
     *
     * @param sessions the edge's live sessions now; called on the heartbeat thread
     */
    public SessionHeartbeat(String bootstrapServers, String topic, String edgeId, Duration interval,
                            Supplier<List<SessionInfo>> sessions) {
        this.topic = Objects.requireNonNull(topic, "topic");
        this.edgeId = Objects.requireNonNull(edgeId, "edgeId");
        this.interval = Objects.requireNonNull(interval, "interval");
        this.sessions = Objects.requireNonNull(sessions, "sessions");
        if (interval.compareTo(Duration.ofMillis(100)) < 0) throw new IllegalArgumentException("heartbeat interval must be at least 100ms");
        this.producer = new FleetProducer(bootstrapServers, "gatehouse-sessions-" + edgeId, Duration.ofSeconds(10));
        this.scheduler = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("gatehouse-heartbeat-" + edgeId).factory());
        scheduler.scheduleWithFixedDelay(this::beat, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** A session opened or closed: publish soon rather than at the next interval. */
    public void changed() {
        if (pending.compareAndSet(false, true)) {
            try {
                scheduler.schedule(() -> {
                    pending.set(false);
                    beat();
                }, COALESCE.toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                pending.set(false); // closing
            }
        }
    }

    private void beat() {
        try {
            EdgeSessions snapshot = new EdgeSessions(edgeId, Instant.now(), interval, sessions.get());
            producer.send(topic, edgeId, codec.encodeSessions(snapshot)).whenComplete((ok, err) -> {
                if (err != null) LOGGER.warn("Heartbeat not published edgeId={} error={}", edgeId, err.toString());
            });
        } catch (RuntimeException e) {
            LOGGER.warn("Heartbeat failed edgeId={}", edgeId, e);
        }
    }

    /** Stops heart-beating and removes this edge from the directory (a tombstone). */
    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            producer.send(topic, edgeId, null).toCompletableFuture().get(5, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOGGER.warn("Heartbeat tombstone not published edgeId={} error={}", edgeId, e.toString());
        }
        producer.close();
    }
}
