package dev.gatehouse.indexer.store;

import dev.gatehouse.indexer.store.TimelineStore.StoredEvent;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * The stored form of a session's raw audit records: one row of {@code audit_chunks} holds
 * consecutive records of one session on one partition (those of one projected batch, split at
 * {@link #MAX_BYTES}), instead of a row per record. A row per record cost the projection more than
 * all of the timeline did (three rows and six index entries per command, each written twice by the
 * database's commit); a chunk costs one row for tens of records.
 *
 * <p>Layout: a version byte (1), the record count, then per record its offset, event id, event type,
 * timestamp (µs since the epoch) and value, in {@link DataOutputStream}'s encodings.
 */
final class AuditChunk {

    private static final int VERSION = 1;

    /** A chunk is closed once its records reach this many bytes, so rows stay inside the database's pages. */
    static final int MAX_BYTES = 48 * 1024;

    /** The statement {@link #bind} and {@link #bindTimes} fill: one chunk row. */
    static final String INSERT = "INSERT INTO audit_chunks (session_id, kafka_partition, first_offset, last_offset,"
            + " record_count, records, min_time_us, max_time_us) VALUES (?, ?, ?, ?, ?, ?, ?, ?)";

    /** A chunk row as schema version 3 has it (no times): what {@link V3MoveAuditEvents} writes, with {@link #bind}. */
    static final String INSERT_V3 = "INSERT INTO audit_chunks (session_id, kafka_partition, first_offset, last_offset,"
            + " record_count, records) VALUES (?, ?, ?, ?, ?, ?)";

    private AuditChunk() {
    }

    /** Sets {@code insert}'s ({@link #INSERT} or {@link #INSERT_V3}) first six parameters to the chunk of {@code events} (of one partition, in offset order). */
    static void bind(PreparedStatement insert, String sessionId, List<StoredEvent> events) throws SQLException {
        insert.setString(1, sessionId);
        insert.setInt(2, events.getFirst().partition());
        insert.setLong(3, events.getFirst().offset());
        insert.setLong(4, events.getLast().offset());
        insert.setInt(5, events.size());
        insert.setBytes(6, encode(events));
    }

    /** Sets {@link #INSERT}'s last two parameters: the earliest and the latest header time of {@code events}, µs. */
    static void bindTimes(PreparedStatement insert, List<StoredEvent> events) throws SQLException {
        long min = Long.MAX_VALUE;
        long max = Long.MIN_VALUE;
        for (StoredEvent e : events) {
            long micros = JdbcTimelineStore.micros(e.timestamp());
            min = Math.min(min, micros);
            max = Math.max(max, micros);
        }
        insert.setLong(7, min);
        insert.setLong(8, max);
    }

    /** Encodes {@code events}, in offset order, all of one partition. */
    static byte[] encode(List<StoredEvent> events) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream(events.size() * 1024);
        try (DataOutputStream out = new DataOutputStream(bytes)) {
            out.writeByte(VERSION);
            out.writeInt(events.size());
            for (StoredEvent e : events) {
                out.writeLong(e.offset());
                out.writeUTF(e.eventId());
                out.writeUTF(e.type());
                out.writeLong(JdbcTimelineStore.micros(e.timestamp()));
                out.writeInt(e.value().length);
                out.write(e.value());
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return bytes.toByteArray();
    }

    /** The records of a chunk stored for {@code partition}. */
    static List<StoredEvent> decode(int partition, byte[] chunk) {
        try (DataInputStream in = new DataInputStream(new ByteArrayInputStream(chunk))) {
            int version = in.readUnsignedByte();
            if (version != VERSION) throw new IllegalStateException("audit chunk of unknown version " + version);
            int count = in.readInt();
            List<StoredEvent> events = new ArrayList<>(count);
            for (int i = 0; i < count; i++) {
                long offset = in.readLong();
                String eventId = in.readUTF();
                String type = in.readUTF();
                long micros = in.readLong();
                byte[] value = new byte[in.readInt()];
                in.readFully(value);
                events.add(new StoredEvent(partition, offset, eventId, type, JdbcTimelineStore.instant(micros), value));
            }
            return events;
        } catch (IOException e) {
            throw new UncheckedIOException("a stored audit chunk is damaged", e);
        }
    }

    /** The bytes {@code event} adds to a chunk (near enough to split on). */
    static int size(StoredEvent event) {
        return 8 + 2 + event.eventId().length() + 2 + event.type().length() + 8 + 4 + event.value().length;
    }
}
