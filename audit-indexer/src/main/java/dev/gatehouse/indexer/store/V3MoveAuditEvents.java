package dev.gatehouse.indexer.store;

import dev.gatehouse.indexer.store.TimelineStore.StoredEvent;
import org.flywaydb.core.api.MigrationVersion;
import org.flywaydb.core.api.migration.BaseJavaMigration;
import org.flywaydb.core.api.migration.Context;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/**
 * Schema version 3: moves the raw records a store of version 1 or 2 holds in {@code audit_events}
 * into {@code audit_chunks} and {@code audit_event_ids} (a session's consecutive records on a
 * partition into chunks, as the projection writes them), then drops {@code audit_events}.
 * Streams the rows in session order, so a large store needs no more memory than a chunk.
 */
final class V3MoveAuditEvents extends BaseJavaMigration {

    /** The version and description come from the methods below, not from the class's name. */
    @Override
    protected void init() {
    }

    @Override
    public MigrationVersion getVersion() {
        return MigrationVersion.fromVersion("3");
    }

    @Override
    public String getDescription() {
        return "move audit events into chunks";
    }

    @Override
    public void migrate(Context context) throws Exception {
        Connection c = context.getConnection();
        try (PreparedStatement read = c.prepareStatement("SELECT session_id, kafka_partition, kafka_offset, event_id, event_type,"
                + " event_time_us, record_value FROM audit_events ORDER BY session_id, kafka_partition, kafka_offset");
             PreparedStatement chunk = c.prepareStatement(AuditChunk.INSERT_V3);
             PreparedStatement id = c.prepareStatement("INSERT INTO audit_event_ids (event_time_us, event_id) VALUES (?, ?)")) {
            read.setFetchSize(500);
            String session = null;
            int partition = -1;
            List<StoredEvent> pending = new ArrayList<>();
            int bytes = 0;
            try (ResultSet rs = read.executeQuery()) {
                while (rs.next()) {
                    StoredEvent e = new StoredEvent(rs.getInt(2), rs.getLong(3), rs.getString(4), rs.getString(5),
                            JdbcTimelineStore.instant(rs.getLong(6)), rs.getBytes(7));
                    String s = rs.getString(1);
                    if (!s.equals(session) || e.partition() != partition || bytes + AuditChunk.size(e) > AuditChunk.MAX_BYTES) {
                        write(chunk, session, pending);
                        session = s;
                        partition = e.partition();
                        bytes = 0;
                    }
                    pending.add(e);
                    bytes += AuditChunk.size(e);
                    id.setLong(1, rs.getLong(6));
                    id.setString(2, e.eventId());
                    id.executeUpdate();
                }
            }
            write(chunk, session, pending);
        }
        try (Statement st = c.createStatement()) {
            st.execute("DROP TABLE audit_events");
        }
    }

    private static void write(PreparedStatement chunk, String session, List<StoredEvent> events) throws Exception {
        if (events.isEmpty()) return;
        AuditChunk.bind(chunk, session, events);
        chunk.executeUpdate();
        events.clear();
    }
}
