package dev.gatehouse.indexer.store;

import dev.gatehouse.indexer.projection.Entry;
import dev.gatehouse.indexer.projection.SessionSummary;
import dev.gatehouse.indexer.projection.Timeline;
import dev.gatehouse.indexer.projection.TimelineJson;
import dev.gatehouse.indexer.projection.TimelineProjection;
import dev.gatehouse.indexer.projection.TimelineWriter;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.evidence.SessionChain;
import org.flywaydb.core.Flyway;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.TreeMap;

/**
 * The {@link TimelineStore} on a JDBC database: an embedded H2 file database for development, or
 * PostgreSQL for a fleet. One schema (Flyway migrations under {@code db/migration}, the large
 * types filled in per database), the same SQL for both. The projector writes on a connection of
 * its own; reads open a connection each.
 *
 * <p>To rebuild from the log: stop the indexer, delete the H2 files (or drop the tables of the
 * PostgreSQL schema), start it again; it re-projects {@code gatehouse.audit} from the beginning.
 */
public final class JdbcTimelineStore implements TimelineStore {

    private static final Logger LOGGER = LoggerFactory.getLogger(JdbcTimelineStore.class);

    /**
     * The term_postings type of a command's approval id ('k' and 'o' are a statement's kind and
     * objects): how an approval's events, which name the approval, find their command.
     */
    private static final String APPROVAL_TERM = "a";

    /** The database products the store supports. */
    public enum Dialect {
        H2("CLOB", "BLOB", "BIGINT ARRAY") {
            @Override
            String contains(String array, String value) {
                return "ARRAY_CONTAINS(" + array + ", " + value + ")";
            }
        },
        POSTGRESQL("TEXT", "BYTEA", "BIGINT[]") {
            @Override
            String contains(String array, String value) {
                return value + " = ANY(" + array + ")";
            }
        };

        private final String text;
        private final String bytes;
        private final String offsets;

        Dialect(String text, String bytes, String offsets) {
            this.text = text;
            this.bytes = bytes;
            this.offsets = offsets;
        }

        /** The condition "{@code array} (of offsets) holds {@code value}" in this database's SQL. */
        abstract String contains(String array, String value);

        /** The Flyway placeholders of the schema's migrations: the large and the array types. */
        public Map<String, String> placeholders() {
            return Map.of("text", text, "bytes", bytes, "offsets", offsets);
        }
    }

    private final String url;
    private final String user;
    private final String password;
    private final Dialect dialect;
    private final Connection writer;
    private final Object writeLock = new Object();
    /** The writer connection's statements, prepared once each (used under {@link #writeLock}). */
    private final Map<String, PreparedStatement> writerStatements = new HashMap<>();

    private JdbcTimelineStore(String url, String user, String password, Dialect dialect) {
        this.url = Objects.requireNonNull(url, "url");
        this.user = user;
        this.password = password;
        this.dialect = dialect;
        migrate();
        try {
            this.writer = connect();
            writer.setAutoCommit(false);
        } catch (SQLException e) {
            throw new StoreException("cannot connect to the indexer store " + url + ": " + e.getMessage(), e);
        }
    }

    /**
     * H2 keeps a CLOB or BLOB value up to this many bytes inside its row instead of in its separate
     * LOB map: almost every audit record and timeline body fits, and an insert costs about a sixth
     * of the CPU (measured: 1.2 KB text + 700 B binary per row, 3 vs 19 µs warm).
     */
    static final int H2_INPLACE_LOB_BYTES = 64 * 1024;

    /** H2's page cache, KiB (its default is 16 MiB): the indexes of a busy store outgrow that quickly. */
    static final int H2_CACHE_KB = 64 * 1024;

    /**
     * How long H2 gathers committed changes before writing them to its file (its default: 500 ms).
     * A page changed by many batches in that time is written once. Safe for the projection: the
     * stored offsets are in the same transactions as the rows, so a crash loses both together and
     * the records are read again from Kafka.
     */
    static final int H2_WRITE_DELAY_MS = 2000;

    /** The embedded store: an H2 database in {@code directory} (created if missing). */
    public static JdbcTimelineStore embedded(Path directory) {
        Path file = directory.toAbsolutePath().resolve("timelines");
        return new JdbcTimelineStore("jdbc:h2:file:" + file + ";DB_CLOSE_ON_EXIT=FALSE;MAX_LENGTH_INPLACE_LOB="
                + H2_INPLACE_LOB_BYTES + ";CACHE_SIZE=" + H2_CACHE_KB + ";WRITE_DELAY=" + H2_WRITE_DELAY_MS, "sa", "", Dialect.H2);
    }

    /** A store on PostgreSQL ({@code jdbc:postgresql://host:port/db}); migrates the schema on open. */
    public static JdbcTimelineStore postgres(String url, String user, String password) {
        if (!url.startsWith("jdbc:postgresql:")) {
            throw new IllegalArgumentException("the indexer's PostgreSQL URL must start with jdbc:postgresql:, was " + url);
        }
        return new JdbcTimelineStore(url, user, password, Dialect.POSTGRESQL);
    }

    private void migrate() {
        var result = Flyway.configure(getClass().getClassLoader())
                .dataSource(url, user, password)
                .locations("classpath:db/migration")
                .placeholders(dialect.placeholders())
                .table("indexer_schema_history")
                .javaMigrations(new V3MoveAuditEvents())
                .load()
                .migrate();
        LOGGER.info("Indexer store ready dialect={} schemaVersion={} migrationsApplied={}", dialect,
                result.targetSchemaVersion, result.migrationsExecuted);
    }

    /** The writer connection's statement for {@code sql}, prepared on first use and kept open; callers hold {@link #writeLock}. */
    private PreparedStatement writerStatement(String sql) throws SQLException {
        PreparedStatement ps = writerStatements.get(sql);
        if (ps == null) {
            ps = writer.prepareStatement(sql);
            writerStatements.put(sql, ps);
        }
        return ps;
    }

    private Connection connect() throws SQLException {
        return DriverManager.getConnection(url, user, password);
    }

    // ---------------------------------------------------------------- projection (the writer)

    @Override
    public Map<Integer, Long> nextOffsets(String topic) {
        Map<Integer, Long> offsets = new TreeMap<>();
        try (Connection c = connect();
             PreparedStatement ps = c.prepareStatement("SELECT kafka_partition, next_offset FROM indexer_offsets WHERE topic = ?")) {
            ps.setString(1, topic);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) offsets.put(rs.getInt(1), rs.getLong(2));
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read the stored offsets of " + topic + ": " + e.getMessage(), e);
        }
        return offsets;
    }

    /**
     * Projects {@code records} in one transaction. A record whose event id was stored before is
     * skipped as a duplicate (the producers are idempotent, so only a record written twice by its
     * producer's own code is one; it carries the same header, time included). Whether it was is
     * decided without a key per record: a record of a session whose header time is later than every
     * record the store holds of that session ({@code sessions.last_event_us}) cannot have been
     * stored; only the others (a producer's record that arrives after a later one of another
     * producer, at a batch's edge; a session's first record; fleet events, which have no session
     * row) are looked up, in the session's chunks that span their time. New commands are
     * optimistic: a command's first record is taken as new without a lookup; a command stored
     * before makes the insert of its unique key fail, and then the batch is rolled back and
     * projected again with lookups.
     */
    @Override
    public ProjectionResult project(String topic, List<IndexedRecord> records) {
        synchronized (writeLock) {
            try {
                return project(topic, records, false);
            } catch (SQLException optimistic) {
                rollback();
                LOGGER.debug("Projecting again with every new command looked up error={}", optimistic.toString());
            } catch (RuntimeException e) {
                rollback();
                throw new StoreException("projecting " + records.size() + " records of " + topic + " failed: " + e.getMessage(), e);
            }
            try {
                return project(topic, records, true);
            } catch (SQLException | RuntimeException e) {
                rollback();
                throw new StoreException("projecting " + records.size() + " records of " + topic + " failed: " + e.getMessage(), e);
            }
        }
    }

    private ProjectionResult project(String topic, List<IndexedRecord> records, boolean lookUpCommands) throws SQLException {
        Batch batch = new Batch(lookUpCommands);
        Map<Integer, Long> stored = readOffsets(topic);
        Map<Integer, Long> next = new TreeMap<>(stored);
        int projected = 0;
        int duplicates = 0;
        int skipped = 0;
        for (IndexedRecord r : records) {
            Long from = stored.get(r.partition());
            if (from != null && r.offset() < from) {
                skipped++;
                continue;
            }
            next.merge(r.partition(), r.offset() + 1, Math::max);
            if (r.event() == null) continue;
            if (!batch.storeEvent(r)) {
                duplicates++;
                continue;
            }
            projected++;
        }
        batch.flush();
        writeOffsets(topic, stored, next);
        writer.commit();
        return new ProjectionResult(projected, duplicates, skipped);
    }

    private void rollback() {
        try {
            for (PreparedStatement ps : writerStatements.values()) ps.clearBatch();
            writer.rollback();
        } catch (SQLException e) {
            LOGGER.warn("Rollback failed error={}", e.toString());
        }
    }

    private Map<Integer, Long> readOffsets(String topic) throws SQLException {
        Map<Integer, Long> offsets = new HashMap<>();
        PreparedStatement ps = writerStatement("SELECT kafka_partition, next_offset FROM indexer_offsets WHERE topic = ?");
        ps.setString(1, topic);
        try (ResultSet rs = ps.executeQuery()) {
            while (rs.next()) offsets.put(rs.getInt(1), rs.getLong(2));
        }
        return offsets;
    }

    private void writeOffsets(String topic, Map<Integer, Long> stored, Map<Integer, Long> next) throws SQLException {
        PreparedStatement update = writerStatement("UPDATE indexer_offsets SET next_offset = ? WHERE topic = ? AND kafka_partition = ?");
        PreparedStatement insert = writerStatement("INSERT INTO indexer_offsets (topic, kafka_partition, next_offset) VALUES (?, ?, ?)");
        for (var e : next.entrySet()) {
            if (e.getValue().equals(stored.get(e.getKey()))) continue;
            if (stored.containsKey(e.getKey())) {
                update.setLong(1, e.getValue());
                update.setString(2, topic);
                update.setInt(3, e.getKey());
                update.executeUpdate();
            } else {
                insert.setString(1, topic);
                insert.setInt(2, e.getKey());
                insert.setLong(3, e.getValue());
                insert.executeUpdate();
            }
        }
    }

    /** A session row as the batch holds it. */
    private static final class SessionRow {
        SessionSummary summary;
        final int partition;
        String chainHead;
        long chainEvents;
        boolean sealRequested;
        long lastEventUs;
        /** The latest header time of the session's stored records as of this batch's start; MIN_VALUE for a new session. */
        final long storedLastEventUs;
        final boolean inDb;
        List<String> storedGroups;
        /** The delegated session's earlier actors as stored (session_earlier_actors). */
        List<String> storedEarlierActors;
        boolean dirty;

        SessionRow(SessionSummary summary, int partition, String chainHead, long chainEvents, boolean sealRequested,
                   long lastEventUs, boolean inDb, List<String> storedGroups) {
            this.summary = summary;
            this.partition = partition;
            this.chainHead = chainHead;
            this.chainEvents = chainEvents;
            this.sealRequested = sealRequested;
            this.lastEventUs = lastEventUs;
            this.storedLastEventUs = inDb ? lastEventUs : Long.MIN_VALUE;
            this.inDb = inDb;
            this.storedGroups = storedGroups;
            this.storedEarlierActors = inDb ? earlierActors(summary) : List.of();
        }
    }

    /** The actors before a delegated session's current one, nearest first; empty when not delegated. */
    private static List<String> earlierActors(SessionSummary summary) {
        return summary.identity() == null || summary.identity().delegation() == null ? List.of()
                : summary.identity().delegation().earlierActors();
    }

    /** Where a batch's raw records of one session go: its chunks on that partition. */
    private record RawKey(String sessionId, int partition) {
    }

    /** One command row as the batch holds it. */
    private static final class CommandRow {
        final String sessionId;
        Entry.CommandEntry entry;
        final boolean inDb;
        /** The approval id the store has a term for (null: none). */
        String storedApproval;
        boolean dirty;

        /** @param stored the row as the store holds it; null when it is not stored */
        CommandRow(String sessionId, Entry.CommandEntry entry, Entry.CommandEntry stored) {
            this.sessionId = sessionId;
            this.entry = entry;
            this.inDb = stored != null;
            this.storedApproval = stored == null || stored.approval() == null ? null : stored.approval().approvalId();
        }
    }

    /** A row of term_postings: a session and a term (its type character, then its value). */
    private record PostingKey(String sessionId, String term) {
    }

    /**
     * The writes of one transaction, cached so each row is read and written once per batch; inserts
     * are sent as JDBC batches when the batch is flushed.
     */
    private final class Batch implements TimelineWriter {
        private final Set<PreparedStatement> pending = new LinkedHashSet<>();
        private final Map<String, SessionRow> sessions = new LinkedHashMap<>();
        private final Map<String, CommandRow> commands = new LinkedHashMap<>(); // sessionId \0 commandId
        private final Map<String, CommandRow> byApproval = new HashMap<>(); // sessionId \0 approvalId, of the rows above
        /** Commands (sessionId \0 commandId) looked up and not stored: a new command's first event is one. */
        private final Set<String> absent = new HashSet<>();
        private final List<Object[]> events = new ArrayList<>(); // sessionId, EventEntry
        /** The batch's term postings: per session and term (type character + value), its commands' offsets. */
        private final Map<PostingKey, TreeSet<Long>> postings = new LinkedHashMap<>();
        private final Set<String> eventIds = new HashSet<>();
        /** The raw records to store, by session and partition, in offset order. */
        private final Map<RawKey, List<StoredEvent>> raw = new LinkedHashMap<>();
        private final boolean lookUpCommands;
        private IndexedRecord current;

        /** @param lookUpCommands whether a command's first record in the batch is looked up before it is taken as new (see {@link #project}) */
        Batch(boolean lookUpCommands) {
            this.lookUpCommands = lookUpCommands;
        }

        /** {@code ps} with its current parameters added to the statements sent at {@link #flush}. */
        private void later(PreparedStatement ps) throws SQLException {
            ps.addBatch();
            pending.add(ps);
        }

        /** Stores and folds one record; false when its event id was stored before. */
        boolean storeEvent(IndexedRecord r) throws SQLException {
            AuditEvent event = r.event();
            String eventId = event.header().eventId();
            String sessionId = event.sessionId().value();
            if (!eventIds.add(eventId) || storedBefore(event, eventId, micros(event.header().timestamp()))) {
                LOGGER.debug("Duplicate event skipped eventId={} partition={} offset={}", eventId, r.partition(), r.offset());
                return false;
            }
            raw.computeIfAbsent(new RawKey(sessionId, r.partition()), k -> new ArrayList<>()).add(new StoredEvent(r.partition(),
                    r.offset(), eventId, event.getClass().getSimpleName(), event.header().timestamp(), r.value()));
            if (!TimelineProjection.projects(event)) return true;
            current = r;
            TimelineProjection.apply(event, r.offset(), this);
            SessionRow row = row(sessionId);
            if (row != null) {
                if (!(event instanceof AuditEvent.SessionSealed)) {
                    row.chainHead = SessionChain.next(row.chainHead, r.value());
                    row.chainEvents++;
                }
                row.lastEventUs = Math.max(row.lastEventUs, micros(event.header().timestamp()));
                row.dirty = true;
            }
            return true;
        }

        /**
         * Whether {@code event} ({@code eventId}, header time {@code micros}) was stored before this
         * batch (see {@link JdbcTimelineStore#project(String, List)}).
         */
        private boolean storedBefore(AuditEvent event, String eventId, long micros) throws SQLException {
            String sessionId = event.sessionId().value();
            if (TimelineProjection.projects(event)) {
                // every stored record of a projected session moved its row's last_event_us (same
                // transaction); a session without a row (its first record) is looked up
                SessionRow row = row(sessionId);
                if (row != null && micros > row.storedLastEventUs) return false;
            }
            // records stored before schema version 7 have their ids' keys; later ones are in chunks with their times
            PreparedStatement legacy = writerStatement("SELECT 1 FROM audit_event_ids WHERE event_time_us = ? AND event_id = ?");
            legacy.setLong(1, micros);
            legacy.setString(2, eventId);
            try (ResultSet rs = legacy.executeQuery()) {
                if (rs.next()) return true;
            }
            PreparedStatement chunks = writerStatement("SELECT kafka_partition, records FROM audit_chunks"
                    + " WHERE session_id = ? AND max_time_us >= ? AND min_time_us <= ?");
            chunks.setString(1, sessionId);
            chunks.setLong(2, micros);
            chunks.setLong(3, micros);
            try (ResultSet rs = chunks.executeQuery()) {
                while (rs.next()) {
                    for (StoredEvent stored : AuditChunk.decode(rs.getInt(1), rs.getBytes(2))) {
                        if (stored.eventId().equals(eventId)) return true;
                    }
                }
            }
            return false;
        }

        private SessionRow row(String sessionId) {
            SessionRow row = sessions.get(sessionId);
            if (row != null) return row;
            try {
                row = loadSession(writerStatement(LOAD_SESSION), sessionId);
            } catch (SQLException e) {
                throw new StoreException("cannot read session " + sessionId + ": " + e.getMessage(), e);
            }
            if (row != null) sessions.put(sessionId, row);
            return row;
        }

        @Override
        public Optional<SessionSummary> session(String sessionId) {
            return Optional.ofNullable(row(sessionId)).map(r -> r.summary);
        }

        @Override
        public void putSession(SessionSummary summary) {
            SessionRow row = row(summary.sessionId());
            if (row == null) {
                row = new SessionRow(summary, current.partition(), SessionChain.genesis(summary.sessionId()), 0, false,
                        micros(current.event().header().timestamp()), false, List.of());
                sessions.put(summary.sessionId(), row);
            }
            row.summary = summary;
            row.dirty = true;
        }

        @Override
        public Optional<Entry.CommandEntry> command(String sessionId, String commandId) {
            String key = sessionId + '\0' + commandId;
            CommandRow row = commands.get(key);
            if (row == null) {
                if (absent.contains(key)) return Optional.empty();
                Entry.CommandEntry loaded = loadCommand(sessionId, commandId);
                if (loaded == null) {
                    absent.add(key);
                    return Optional.empty();
                }
                row = new CommandRow(sessionId, loaded, loaded);
                commands.put(key, row);
                indexApproval(row);
            }
            return Optional.of(row.entry);
        }

        /**
         * Optimistic, like event ids (see {@link #project}): a new command is taken as new without a
         * lookup; the unique key on (session_id, command_id) fails the batch if it was stored before,
         * and the batch is projected again with lookups.
         */
        @Override
        public boolean commandStored(String sessionId, String commandId) {
            String key = sessionId + '\0' + commandId;
            if (lookUpCommands || commands.containsKey(key)) return command(sessionId, commandId).isPresent();
            absent.add(key);
            return false;
        }

        @Override
        public Optional<Entry.CommandEntry> commandByApproval(String sessionId, String approvalId) {
            CommandRow row = byApproval.get(sessionId + '\0' + approvalId);
            if (row != null) return Optional.of(row.entry);
            Entry.CommandEntry loaded = loadCommandByApproval(sessionId, approvalId);
            if (loaded == null) return Optional.empty();
            return command(sessionId, loaded.commandId());
        }

        private void indexApproval(CommandRow row) {
            if (row.entry.approval() != null) byApproval.put(row.sessionId + '\0' + row.entry.approval().approvalId(), row);
        }

        private Entry.CommandEntry loadCommand(String sessionId, String commandId) {
            return readCommand(sessionId, "SELECT body FROM timeline_entries WHERE session_id = ? AND command_id = ?"
                    + " AND entry_type = 'command'", sessionId, commandId);
        }

        /** Through the command's approval term (an approval's events name the approval, not the command). */
        private Entry.CommandEntry loadCommandByApproval(String sessionId, String approvalId) {
            return readCommand(sessionId, "SELECT e.body FROM term_postings t JOIN timeline_entries e ON " + posted("t")
                    + " WHERE t.term_type = '" + APPROVAL_TERM + "' AND t.term = ? AND t.session_id = ?"
                    + " AND e.entry_type = 'command'", approvalId, sessionId);
        }

        /** The command {@code query} finds with {@code params} (a command of session {@code sessionId}). */
        private Entry.CommandEntry readCommand(String sessionId, String query, String... params) {
            try {
                PreparedStatement ps = writerStatement(query);
                for (int i = 0; i < params.length; i++) ps.setString(i + 1, params[i]);
                try (ResultSet rs = ps.executeQuery()) {
                    return rs.next() ? TimelineJson.read(rs.getString(1), Entry.CommandEntry.class) : null;
                }
            } catch (SQLException e) {
                throw new StoreException("cannot read a command of session " + sessionId + ": " + e.getMessage(), e);
            }
        }

        @Override
        public void putCommand(String sessionId, Entry.CommandEntry entry) {
            String key = sessionId + '\0' + entry.commandId();
            CommandRow row = commands.get(key);
            if (row == null) {
                Entry.CommandEntry stored = absent.contains(key) ? null : loadCommand(sessionId, entry.commandId());
                row = new CommandRow(sessionId, entry, stored);
                commands.put(key, row);
            }
            row.entry = entry;
            row.dirty = true;
            indexApproval(row);
        }

        @Override
        public void addEvent(String sessionId, Entry.EventEntry entry) {
            events.add(new Object[] {sessionId, entry});
        }

        void flush() throws SQLException {
            writeRaw();
            for (SessionRow row : sessions.values()) {
                if (row.dirty) writeSession(row);
            }
            for (CommandRow row : commands.values()) {
                if (row.dirty) writeCommand(row.sessionId, row);
            }
            PreparedStatement ps = writerStatement("INSERT INTO timeline_entries (session_id, kafka_offset,"
                    + " entry_type, at_us, body) VALUES (?, ?, 'event', ?, ?)");
            for (Object[] ev : events) {
                Entry.EventEntry entry = (Entry.EventEntry) ev[1];
                ps.setString(1, (String) ev[0]);
                ps.setLong(2, entry.offset());
                ps.setLong(3, micros(entry.at()));
                setText(ps, 4, TimelineJson.write(entry));
                later(ps);
            }
            writePostings();
            for (PreparedStatement p : pending) p.executeBatch();
            pending.clear();
        }

        /** One row per session and term of the batch, with the offsets of its commands that have the term. */
        private void writePostings() throws SQLException {
            PreparedStatement ps = writerStatement("INSERT INTO term_postings (term_type, term, session_id, first_offset,"
                    + " last_offset, offsets) VALUES (?, ?, ?, ?, ?, ?)");
            for (var e : postings.entrySet()) {
                TreeSet<Long> offsets = e.getValue();
                String term = e.getKey().term();
                ps.setString(1, term.substring(0, 1));
                ps.setString(2, term.substring(1));
                ps.setString(3, e.getKey().sessionId());
                ps.setLong(4, offsets.first());
                ps.setLong(5, offsets.last());
                ps.setArray(6, writer.createArrayOf("BIGINT", offsets.toArray()));
                later(ps);
            }
        }

        /** The batch's raw records as chunks of each session. */
        private void writeRaw() throws SQLException {
            PreparedStatement chunk = writerStatement(AuditChunk.INSERT);
            for (var e : raw.entrySet()) {
                String sessionId = e.getKey().sessionId();
                List<StoredEvent> events = e.getValue();
                int from = 0;
                int bytes = 0;
                for (int i = 0; i < events.size(); i++) {
                    StoredEvent event = events.get(i);
                    if (i > from && bytes + AuditChunk.size(event) > AuditChunk.MAX_BYTES) {
                        addChunk(chunk, sessionId, events.subList(from, i));
                        from = i;
                        bytes = 0;
                    }
                    bytes += AuditChunk.size(event);
                }
                addChunk(chunk, sessionId, events.subList(from, events.size()));
            }
        }

        private void addChunk(PreparedStatement ps, String sessionId, List<StoredEvent> events) throws SQLException {
            AuditChunk.bind(ps, sessionId, events);
            AuditChunk.bindTimes(ps, events);
            later(ps);
        }

        private void writeSession(SessionRow row) throws SQLException {
            SessionSummary s = row.summary;
            String sql = row.inDb
                    ? "UPDATE sessions SET status = ?, started_us = ?, ended_us = ?, last_event_us = ?, edge_id = ?, subject = ?,"
                      + " issuer = ?, ci_repository = ?, ci_commit = ?, connection_name = ?, summary = ?, chain_head = ?,"
                      + " chain_events = ?, sealed = ?, seal_requested = ?, originator = ?, actor = ? WHERE session_id = ?"
                    : "INSERT INTO sessions (status, started_us, ended_us, last_event_us, edge_id, subject, issuer, ci_repository,"
                      + " ci_commit, connection_name, summary, chain_head, chain_events, sealed, seal_requested, originator,"
                      + " actor, session_id, kafka_partition) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)";
            PreparedStatement ps = writerStatement(sql);
            ps.setString(1, s.status());
            ps.setLong(2, s.startedAt() == null ? row.lastEventUs : micros(s.startedAt()));
            if (s.endedAt() == null) ps.setNull(3, java.sql.Types.BIGINT);
            else ps.setLong(3, micros(s.endedAt()));
            ps.setLong(4, row.lastEventUs);
            ps.setString(5, s.edgeId());
            ps.setString(6, s.identity() == null ? null : s.identity().subject());
            ps.setString(7, s.identity() == null ? null : s.identity().issuer());
            ps.setString(8, s.identity() == null || s.identity().ci() == null ? null : s.identity().ci().repository());
            ps.setString(9, s.identity() == null || s.identity().ci() == null ? null : s.identity().ci().commitSha());
            ps.setString(10, s.connection() == null ? null : s.connection().name());
            setText(ps, 11, TimelineJson.write(s));
            ps.setString(12, row.chainHead);
            ps.setLong(13, row.chainEvents);
            ps.setBoolean(14, s.sealed());
            ps.setBoolean(15, row.sealRequested);
            SessionSummary.DelegationInfo delegation = s.identity() == null ? null : s.identity().delegation();
            ps.setString(16, delegation == null ? null : delegation.originator());
            ps.setString(17, delegation == null ? null : s.identity().subject());
            ps.setString(18, s.sessionId());
            if (!row.inDb) ps.setInt(19, row.partition);
            ps.executeUpdate();
            List<String> earlier = earlierActors(s);
            if (replaceNames("session_earlier_actors", "actor_name", s.sessionId(), earlier, row.storedEarlierActors)) {
                row.storedEarlierActors = earlier;
            }
            List<String> groups = s.identity() == null ? List.of() : s.identity().groups();
            if (replaceNames("session_groups", "group_name", s.sessionId(), groups, row.storedGroups)) {
                row.storedGroups = groups;
            }
        }

        /**
         * Replaces a session's rows of a name table ({@code session_groups}, {@code session_earlier_actors})
         * when {@code names} differ from the {@code stored} ones as sets; returns whether it did.
         */
        private boolean replaceNames(String table, String column, String sessionId, List<String> names, List<String> stored)
                throws SQLException {
            if (new LinkedHashSet<>(names).equals(new LinkedHashSet<>(stored))) return false;
            PreparedStatement del = writerStatement("DELETE FROM " + table + " WHERE session_id = ?");
            PreparedStatement ins = writerStatement("INSERT INTO " + table + " (session_id, " + column + ") VALUES (?, ?)");
            del.setString(1, sessionId);
            del.executeUpdate();
            for (String name : new LinkedHashSet<>(names)) {
                ins.setString(1, sessionId);
                ins.setString(2, name);
                ins.executeUpdate();
            }
            return true;
        }

        private void writeCommand(String sessionId, CommandRow row) throws SQLException {
            Entry.CommandEntry e = row.entry;
            String verdict = e.decision() == null ? null : e.decision().verdict();
            String approvalId = e.approval() == null ? null : e.approval().approvalId();
            if (row.inDb) {
                PreparedStatement ps = writerStatement("UPDATE timeline_entries SET verdict = ?, approval_id = ?, body = ?"
                        + " WHERE session_id = ? AND kafka_offset = ?");
                ps.setString(1, verdict);
                ps.setString(2, approvalId);
                setText(ps, 3, TimelineJson.write(e));
                ps.setString(4, sessionId);
                ps.setLong(5, e.offset());
                ps.executeUpdate();
                if (approvalId != null && !approvalId.equals(row.storedApproval)) addTerm(sessionId, e.offset(), APPROVAL_TERM + approvalId);
                row.storedApproval = approvalId;
                return;
            }
            PreparedStatement ps = writerStatement("INSERT INTO timeline_entries (session_id, kafka_offset, entry_type,"
                    + " at_us, command_id, approval_id, verdict, sql_lower, body) VALUES (?, ?, 'command', ?, ?, ?, ?, ?, ?)");
            ps.setString(1, sessionId);
            ps.setLong(2, e.offset());
            ps.setLong(3, micros(e.receivedAt() != null ? e.receivedAt() : e.at()));
            ps.setString(4, e.commandId());
            ps.setString(5, approvalId);
            ps.setString(6, verdict);
            setText(ps, 7, searchText(e).toLowerCase(Locale.ROOT));
            setText(ps, 8, TimelineJson.write(e));
            later(ps);
            Set<String> terms = new LinkedHashSet<>();
            for (Entry.StatementInfo st : e.statements()) {
                terms.add("k" + st.kind());
                for (String object : st.objects()) {
                    String lower = object.toLowerCase(Locale.ROOT);
                    terms.add("o" + lower);
                    int dot = lower.lastIndexOf('.');
                    if (dot >= 0 && dot < lower.length() - 1) terms.add("o" + lower.substring(dot + 1));
                }
            }
            if (approvalId != null) terms.add(APPROVAL_TERM + approvalId);
            row.storedApproval = approvalId;
            for (String term : terms) addTerm(sessionId, e.offset(), term);
        }

        /** {@code term}: its type (one character) and its value; values over 500 characters are not stored. */
        private void addTerm(String sessionId, long offset, String term) {
            if (term.length() > 501) return;
            postings.computeIfAbsent(new PostingKey(sessionId, term), k -> new TreeSet<>()).add(offset);
        }
    }

    /**
     * What a text search matches: the command's text and each statement's own text where it is not
     * already part of it (the prepared statement an {@code EXECUTE} runs, the query a {@code FETCH}
     * reads), one per line.
     */
    static String searchText(Entry.CommandEntry e) {
        StringBuilder text = new StringBuilder(e.sql());
        for (Entry.StatementInfo st : e.statements()) {
            if (st.sql() != null && !st.sql().isEmpty() && text.indexOf(st.sql()) < 0) text.append('\n').append(st.sql());
        }
        return text.toString();
    }

    private static final String LOAD_SESSION = "SELECT summary, kafka_partition, chain_head, chain_events, seal_requested,"
            + " last_event_us FROM sessions WHERE session_id = ?";

    /** The session row {@code ps} ({@link #LOAD_SESSION}) finds for {@code sessionId}, or null. */
    private static SessionRow loadSession(PreparedStatement ps, String sessionId) throws SQLException {
        ps.setString(1, sessionId);
        try (ResultSet rs = ps.executeQuery()) {
            if (!rs.next()) return null;
            SessionSummary summary = TimelineJson.read(rs.getString(1), SessionSummary.class);
            return new SessionRow(summary, rs.getInt(2), rs.getString(3), rs.getLong(4), rs.getBoolean(5), rs.getLong(6),
                    true, summary.identity() == null ? List.of() : summary.identity().groups());
        }
    }

    private void setText(PreparedStatement ps, int index, String value) throws SQLException {
        ps.setString(index, value);
    }

    // ---------------------------------------------------------------- reads

    @Override
    public Optional<Timeline> timeline(String sessionId) {
        try (Connection c = connect()) {
            c.setAutoCommit(false); // one snapshot (PostgreSQL) for the summary and its entries
            try {
                SessionRow row;
                try (PreparedStatement load = c.prepareStatement(LOAD_SESSION)) {
                    row = loadSession(load, sessionId);
                }
                if (row == null) return Optional.empty();
                List<Entry> entries = new ArrayList<>();
                try (PreparedStatement ps = c.prepareStatement(
                        "SELECT entry_type, body FROM timeline_entries WHERE session_id = ? ORDER BY kafka_offset")) {
                    ps.setString(1, sessionId);
                    try (ResultSet rs = ps.executeQuery()) {
                        while (rs.next()) {
                            entries.add("command".equals(rs.getString(1))
                                    ? TimelineJson.read(rs.getString(2), Entry.CommandEntry.class)
                                    : TimelineJson.read(rs.getString(2), Entry.EventEntry.class));
                        }
                    }
                }
                return Optional.of(new Timeline(row.summary, entries));
            } finally {
                c.rollback();
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read session " + sessionId + ": " + e.getMessage(), e);
        }
    }

    @Override
    public Page<SessionSummary> sessions(SearchQuery q) {
        Sql sql = new Sql("SELECT s.summary, s.started_us, s.session_id FROM sessions s WHERE 1 = 1");
        sessionFilters(sql, q);
        if (q.from() != null) sql.and("(s.ended_us IS NULL OR s.ended_us >= ?)", micros(q.from()));
        if (q.to() != null) sql.and("s.started_us <= ?", micros(q.to()));
        if (q.filtersCommands()) {
            Sql sub = new Sql("EXISTS (SELECT 1 FROM timeline_entries e WHERE e.session_id = s.session_id AND e.entry_type = 'command'");
            commandFilters(sub, q, null);
            sql.and(sub.text + ")", sub.params.toArray());
        }
        Cursor cursor = Cursor.parse(q.before());
        if (cursor != null) {
            sql.and("(s.started_us < ? OR (s.started_us = ? AND s.session_id < ?))", cursor.micros, cursor.micros, cursor.sessionId);
        }
        sql.text += " ORDER BY s.started_us DESC, s.session_id DESC LIMIT " + (q.limit() + 1);
        List<SessionSummary> items = new ArrayList<>();
        String next = null;
        try (Connection c = connect(); PreparedStatement ps = sql.prepare(c); ResultSet rs = ps.executeQuery()) {
            long lastMicros = 0;
            while (rs.next()) {
                if (items.size() == q.limit()) {
                    next = new Cursor(lastMicros, items.getLast().sessionId(), 0).encode();
                    break;
                }
                items.add(TimelineJson.read(rs.getString(1), SessionSummary.class));
                lastMicros = rs.getLong(2);
            }
        } catch (SQLException e) {
            throw new StoreException("session search failed: " + e.getMessage(), e);
        }
        return new Page<>(items, next);
    }

    @Override
    public Page<CommandHit> commands(SearchQuery q) {
        // driven by the object's (else the kind's) rows of term_postings when there is one: a scan of
        // every command with a lookup each took seconds over a million commands
        String driver = q.object() != null ? "o" : q.kind() != null ? "k" : null;
        Sql sql = driver == null
                ? new Sql("SELECT s.summary, e.body, e.at_us, e.session_id, e.kafka_offset FROM timeline_entries e"
                        + " JOIN sessions s ON s.session_id = e.session_id WHERE e.entry_type = 'command'")
                : new Sql("SELECT s.summary, e.body, e.at_us, e.session_id, e.kafka_offset FROM term_postings d"
                        + " JOIN timeline_entries e ON " + posted("d")
                        + " JOIN sessions s ON s.session_id = e.session_id WHERE e.entry_type = 'command'");
        if (driver != null) sql.and("d.term_type = ? AND d.term = ?", driver,
                driver.equals("o") ? q.object().toLowerCase(Locale.ROOT) : q.kind());
        sessionFilters(sql, q);
        commandFilters(sql, q, driver);
        if (q.from() != null) sql.and("e.at_us >= ?", micros(q.from()));
        if (q.to() != null) sql.and("e.at_us <= ?", micros(q.to()));
        Cursor cursor = Cursor.parse(q.before());
        if (cursor != null) {
            sql.and("(e.at_us < ? OR (e.at_us = ? AND (e.session_id < ? OR (e.session_id = ? AND e.kafka_offset < ?))))",
                    cursor.micros, cursor.micros, cursor.sessionId, cursor.sessionId, cursor.offset);
        }
        sql.text += " ORDER BY e.at_us DESC, e.session_id DESC, e.kafka_offset DESC LIMIT " + (q.limit() + 1);
        List<CommandHit> items = new ArrayList<>();
        String next = null;
        try (Connection c = connect(); PreparedStatement ps = sql.prepare(c); ResultSet rs = ps.executeQuery()) {
            long lastMicros = 0;
            String lastSession = null;
            long lastOffset = 0;
            while (rs.next()) {
                if (items.size() == q.limit()) {
                    next = new Cursor(lastMicros, lastSession, lastOffset).encode();
                    break;
                }
                items.add(new CommandHit(TimelineJson.read(rs.getString(1), SessionSummary.class),
                        TimelineJson.read(rs.getString(2), Entry.CommandEntry.class)));
                lastMicros = rs.getLong(3);
                lastSession = rs.getString(4);
                lastOffset = rs.getLong(5);
            }
        } catch (SQLException e) {
            throw new StoreException("command search failed: " + e.getMessage(), e);
        }
        return new Page<>(items, next);
    }

    /**
     * The join condition of a term posting (alias {@code t}) and the timeline entries (alias
     * {@code e}) it holds: the entry's session, its offset within the posting's range (the entry's
     * key) and in the posting's offsets.
     */
    private String posted(String t) {
        return "e.session_id = " + t + ".session_id AND e.kafka_offset BETWEEN " + t + ".first_offset AND " + t
                + ".last_offset AND " + dialect.contains(t + ".offsets", "e.kafka_offset");
    }

    private static void sessionFilters(Sql sql, SearchQuery q) {
        if (q.subject() != null) sql.and("s.subject = ?", q.subject());
        if (q.originator() != null) sql.and("s.originator = ?", q.originator());
        if (q.actor() != null) {
            sql.and("(s.actor = ? OR EXISTS (SELECT 1 FROM session_earlier_actors a WHERE a.session_id = s.session_id"
                    + " AND a.actor_name = ?))", q.actor(), q.actor());
        }
        if (q.issuer() != null) sql.and("s.issuer = ?", q.issuer());
        if (q.repository() != null) sql.and("s.ci_repository = ?", q.repository());
        if (q.commit() != null) sql.and("s.ci_commit LIKE ? ESCAPE '!'", like(q.commit().toLowerCase(Locale.ROOT)) + "%");
        if (q.connection() != null) sql.and("s.connection_name = ?", q.connection());
        if (q.status() != null) sql.and("s.status = ?", q.status());
        if (q.group() != null) {
            sql.and("EXISTS (SELECT 1 FROM session_groups g WHERE g.session_id = s.session_id AND g.group_name = ?)", q.group());
        }
    }

    /** The filters on commands; {@code driver} is the term type the query already joins on (its filter is not repeated). */
    private void commandFilters(Sql sql, SearchQuery q, String driver) {
        if (q.verdict() != null) sql.and("e.verdict = ?", q.verdict());
        if (q.text() != null) sql.and("e.sql_lower LIKE ? ESCAPE '!'", "%" + like(q.text().toLowerCase(Locale.ROOT)) + "%");
        if (q.object() != null && !"o".equals(driver)) {
            sql.and("EXISTS (SELECT 1 FROM term_postings t WHERE t.term_type = 'o' AND t.term = ? AND " + posted("t") + ")",
                    q.object().toLowerCase(Locale.ROOT));
        }
        if (q.kind() != null && !"k".equals(driver)) {
            sql.and("EXISTS (SELECT 1 FROM term_postings t WHERE t.term_type = 'k' AND t.term = ? AND " + posted("t") + ")",
                    q.kind());
        }
    }

    private static String like(String literal) {
        return literal.replace("!", "!!").replace("%", "!%").replace("_", "!_");
    }

    /** A WHERE clause and its parameters, built up filter by filter. */
    private static final class Sql {
        String text;
        final List<Object> params = new ArrayList<>();

        Sql(String text) {
            this.text = text;
        }

        void and(String condition, Object... values) {
            text += " AND " + condition;
            params.addAll(List.of(values));
        }

        PreparedStatement prepare(Connection c) throws SQLException {
            PreparedStatement ps = c.prepareStatement(text);
            for (int i = 0; i < params.size(); i++) ps.setObject(i + 1, params.get(i));
            return ps;
        }
    }

    /** A position in a newest-first listing: the row's time, session id and (for commands) offset. */
    private record Cursor(long micros, String sessionId, long offset) {
        String encode() {
            return Base64.getUrlEncoder().withoutPadding().encodeToString(
                    (micros + ":" + offset + ":" + sessionId).getBytes(StandardCharsets.UTF_8));
        }

        static Cursor parse(String text) {
            if (text == null) return null;
            try {
                String[] parts = new String(Base64.getUrlDecoder().decode(text), StandardCharsets.UTF_8).split(":", 3);
                return new Cursor(Long.parseLong(parts[0]), parts[2], Long.parseLong(parts[1]));
            } catch (IllegalArgumentException | ArrayIndexOutOfBoundsException e) {
                throw new IllegalArgumentException("before is not a cursor this indexer returned: " + text);
            }
        }
    }

    @Override
    public List<StoredEvent> events(String sessionId) {
        List<StoredEvent> events = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT kafka_partition, records FROM audit_chunks"
                + " WHERE session_id = ? ORDER BY kafka_partition, first_offset")) {
            ps.setString(1, sessionId);
            try (ResultSet rs = ps.executeQuery()) {
                while (rs.next()) events.addAll(AuditChunk.decode(rs.getInt(1), rs.getBytes(2)));
            }
        } catch (SQLException e) {
            throw new StoreException("cannot read the records of session " + sessionId + ": " + e.getMessage(), e);
        }
        return events;
    }

    @Override
    public Map<String, String> digests() {
        Map<String, String> digests = new TreeMap<>();
        List<String> ids = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT session_id FROM sessions ORDER BY session_id");
             ResultSet rs = ps.executeQuery()) {
            while (rs.next()) ids.add(rs.getString(1));
        } catch (SQLException e) {
            throw new StoreException("cannot list sessions: " + e.getMessage(), e);
        }
        for (String id : ids) timeline(id).ifPresent(t -> digests.put(id, TimelineJson.digest(t)));
        return digests;
    }

    @Override
    public List<OpenSession> openSessions() {
        List<OpenSession> open = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT session_id, kafka_partition, edge_id,"
                + " started_us, last_event_us FROM sessions WHERE status = 'open'"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                open.add(new OpenSession(rs.getString(1), rs.getInt(2), rs.getString(3), instant(rs.getLong(4)),
                        instant(rs.getLong(5))));
            }
        } catch (SQLException e) {
            throw new StoreException("cannot list open sessions: " + e.getMessage(), e);
        }
        return open;
    }

    @Override
    public boolean markAborted(String sessionId, Instant at) {
        synchronized (writeLock) {
            try {
                SessionRow row = loadSession(writerStatement(LOAD_SESSION), sessionId);
                if (row == null || !SessionSummary.OPEN.equals(row.summary.status())) {
                    writer.rollback();
                    return false;
                }
                SessionSummary aborted = row.summary.withStatus(SessionSummary.ABORTED, at.toString(),
                        TimelineProjection.abortReason(row.summary.edgeId()));
                PreparedStatement ps = writerStatement(
                        "UPDATE sessions SET status = ?, ended_us = ?, summary = ? WHERE session_id = ? AND status = 'open'");
                ps.setString(1, SessionSummary.ABORTED);
                ps.setLong(2, micros(at));
                ps.setString(3, TimelineJson.write(aborted));
                ps.setString(4, sessionId);
                int n = ps.executeUpdate();
                writer.commit();
                return n == 1;
            } catch (SQLException | RuntimeException e) {
                rollback();
                throw new StoreException("cannot mark session " + sessionId + " aborted: " + e.getMessage(), e);
            }
        }
    }

    @Override
    public List<PendingSeal> pendingSeals() {
        List<PendingSeal> pending = new ArrayList<>();
        try (Connection c = connect(); PreparedStatement ps = c.prepareStatement("SELECT session_id, kafka_partition, chain_head,"
                + " chain_events, status FROM sessions WHERE sealed = FALSE AND seal_requested = FALSE"
                + " AND status IN ('closed', 'aborted') ORDER BY session_id"); ResultSet rs = ps.executeQuery()) {
            while (rs.next()) {
                pending.add(new PendingSeal(rs.getString(1), rs.getInt(2), rs.getString(3), rs.getLong(4), rs.getString(5)));
            }
        } catch (SQLException e) {
            throw new StoreException("cannot list sessions to seal: " + e.getMessage(), e);
        }
        return pending;
    }

    @Override
    public void sealWritten(String sessionId) {
        synchronized (writeLock) {
            try {
                PreparedStatement ps = writerStatement("UPDATE sessions SET seal_requested = TRUE WHERE session_id = ?");
                ps.setString(1, sessionId);
                ps.executeUpdate();
                writer.commit();
            } catch (SQLException e) {
                rollback();
                throw new StoreException("cannot record the seal of session " + sessionId + ": " + e.getMessage(), e);
            }
        }
    }

    @Override
    public void close() {
        synchronized (writeLock) {
            try {
                for (PreparedStatement ps : writerStatements.values()) ps.close();
                writerStatements.clear();
                writer.close();
            } catch (SQLException e) {
                LOGGER.warn("Closing the indexer store failed error={}", e.toString());
            }
        }
    }

    static long micros(Instant instant) {
        return instant == null ? 0 : ChronoUnit.MICROS.between(Instant.EPOCH, instant);
    }

    static long micros(String iso) {
        return iso == null ? 0 : micros(Instant.parse(iso));
    }

    static Instant instant(long micros) {
        return Instant.EPOCH.plus(micros, ChronoUnit.MICROS);
    }
}
