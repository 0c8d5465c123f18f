package dev.gatehouse.approval;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.approval.ApprovalBook;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.kafka.CompactedTopicReader;
import dev.gatehouse.platform.kafka.ConsumerLoop;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Follows {@code gatehouse.approvals} from the beginning (no consumer group: every instance reads
 * the whole topic) and folds it into an {@link ApprovalBook}. The constructor returns once the
 * topic is read to its end of that moment. Listeners hear every applied event on the reader's
 * thread and must be quick.
 */
public final class ApprovalLog implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(ApprovalLog.class);

    /** Hears each applied record. */
    @FunctionalInterface
    public interface Listener {
        /**
         * @param approval the approval after the event; empty when the fold ignored the event
         */
        void onEvent(long offset, AuditEvent event, Optional<Approval> approval);
    }

    private record Waiter(long position, CompletableFuture<Void> done) {
    }

    private final ApprovalBook book = new ApprovalBook();
    private final EventSerde<AuditEvent> serde;
    private final List<Listener> listeners = new CopyOnWriteArrayList<>();
    private final List<Waiter> waiters = new CopyOnWriteArrayList<>();
    private volatile long position;
    private final CompactedTopicReader<byte[]> reader;

    /**
     * Reads the topic to its end and starts following it.
     *
     * @param clientId consumer client id (also the follower thread's name)
     * @throws IllegalStateException when the topic is missing or cannot be read in time
     */
    public ApprovalLog(String bootstrapServers, String topic, String clientId, EventSerde<AuditEvent> serde) {
        this.serde = Objects.requireNonNull(serde, "serde");
        this.reader = new CompactedTopicReader<>(new CompactedTopicReader.Settings(bootstrapServers,
                topic == null ? Topics.APPROVALS : topic, clientId, Duration.ofSeconds(30)), bytes -> bytes, this::onRecord);
        LOGGER.info("Approval log read topic={} position={} approvals={} pending={}", topic, position,
                book.all().size(), book.pending().size());
    }

    private void onRecord(String key, byte[] value, long offset) {
        try {
            if (value == null) return;
            AuditEvent event;
            try {
                event = serde.decode(value);
            } catch (RuntimeException e) {
                LOGGER.warn("Skipping undecodable approval record key={} offset={} error={}", key, offset, e.toString());
                return;
            }
            Optional<Approval> after = book.apply(offset, event);
            for (Listener l : listeners) {
                try {
                    l.onEvent(offset, event, after);
                } catch (RuntimeException e) {
                    LOGGER.error("Approval log listener failed offset={} approvalId={}", offset, key, e);
                }
            }
        } finally {
            position = Math.max(position, offset + 1);
            for (Waiter w : waiters) {
                if (position >= w.position()) {
                    waiters.remove(w);
                    w.done().complete(null);
                }
            }
        }
    }

    /** The fold (read it any time). */
    public ApprovalBook book() {
        return book;
    }

    /** The offset of the next record to read. */
    public long position() {
        return position;
    }

    public void addListener(Listener listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    public void removeListener(Listener listener) {
        listeners.remove(listener);
    }

    /**
     * Completes once every record before {@code nextOffset} has been applied, or fails with a
     * {@link TimeoutException} after {@code timeout}.
     */
    public CompletableFuture<Void> awaitPosition(long nextOffset, Duration timeout) {
        if (position >= nextOffset) return CompletableFuture.completedFuture(null);
        Waiter w = new Waiter(nextOffset, new CompletableFuture<>());
        waiters.add(w);
        if (position >= nextOffset && waiters.remove(w)) w.done().complete(null);
        return w.done().orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((v, e) -> waiters.remove(w));
    }

    /** The follower's health: ready while it follows the topic, having read it to its end. */
    public ConsumerLoop.Health health() {
        return reader.health();
    }

    @Override
    public void close() {
        reader.close();
        waiters.forEach(w -> w.done().completeExceptionally(new IllegalStateException("approval log closed")));
        waiters.clear();
    }
}
