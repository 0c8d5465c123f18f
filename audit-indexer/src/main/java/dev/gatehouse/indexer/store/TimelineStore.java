package dev.gatehouse.indexer.store;

import dev.gatehouse.indexer.projection.Entry;
import dev.gatehouse.indexer.projection.SessionSummary;
import dev.gatehouse.indexer.projection.Timeline;
import dev.gatehouse.platform.core.AuditEvent;

import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Where the indexer keeps session timelines, the raw records they came from and the next offset of
 * every partition. {@link #project} writes all three in one transaction: that is the indexer's
 * exactly-once. Implemented by {@link JdbcTimelineStore} (embedded H2 for development,
 * PostgreSQL for a fleet). Thread-safe: one projector writes while the API reads.
 */
public interface TimelineStore extends AutoCloseable {

    /** The next offset to read, by partition, of every partition of {@code topic} projected so far. */
    Map<Integer, Long> nextOffsets(String topic);

    /**
     * Projects records of one topic in one transaction: stores each decoded record's bytes, folds it
     * into its session (skipping event ids already stored), advances the session's hash chain, and
     * stores each partition's next offset (also past records that could not be decoded). Records at
     * offsets already projected are skipped.
     *
     * @throws StoreException when the transaction failed; nothing of the batch is then stored
     */
    ProjectionResult project(String topic, List<IndexedRecord> records);

    Optional<Timeline> timeline(String sessionId);

    /** Sessions matching a query, newest first. */
    Page<SessionSummary> sessions(SearchQuery query);

    /** Commands matching a query with their sessions, newest first. */
    Page<CommandHit> commands(SearchQuery query);

    /** The stored records of a session, in log order (the evidence an export carries). */
    List<StoredEvent> events(String sessionId);

    /** sessionId → SHA-256 of the session's canonical timeline JSON; equal stores give equal digests. */
    Map<String, String> digests();

    /** Sessions still open, for the abort check. */
    List<OpenSession> openSessions();

    /**
     * Marks an open session aborted at {@code at} (its edge stopped reporting it); returns false when it
     * is no longer open.
     */
    boolean markAborted(String sessionId, Instant at);

    /** Sessions that ended (closed or aborted), are not sealed, and for which no seal was written yet. */
    List<PendingSeal> pendingSeals();

    /** Records that a seal for the session was written to the log (it is sealed once read back). */
    void sealWritten(String sessionId);

    @Override
    void close();

    /** One record of the audit topic; {@code event} is null when it could not be decoded (dead letter). */
    record IndexedRecord(int partition, long offset, byte[] value, AuditEvent event) {
    }

    /** What one {@link #project} call did. */
    record ProjectionResult(int projected, int duplicates, int skipped) {
    }

    /** A page of results and the cursor of the next page (null when this is the last). */
    record Page<T>(List<T> items, String next) {
        public Page {
            items = List.copyOf(items);
        }
    }

    /** A command found by a search, with its session. */
    record CommandHit(SessionSummary session, Entry.CommandEntry command) {
    }

    /** A stored record of the audit topic. */
    record StoredEvent(int partition, long offset, String eventId, String type, Instant timestamp, byte[] value) {
        public StoredEvent {
            Objects.requireNonNull(value, "value");
        }
    }

    /** An open session: where it lives and which edge holds it. */
    record OpenSession(String sessionId, int partition, String edgeId, Instant startedAt, Instant lastEventAt) {
    }

    /** A session to seal: its chain head over {@code events} record values, and its status. */
    record PendingSeal(String sessionId, int partition, String chainHead, long events, String status) {
    }

    /** A store operation failed. */
    final class StoreException extends RuntimeException {
        public StoreException(String message, Throwable cause) {
            super(message, cause);
        }
    }
}
