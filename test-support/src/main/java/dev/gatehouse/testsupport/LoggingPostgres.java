package dev.gatehouse.testsupport;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real PostgreSQL 15 (zonky embedded) that records every statement it executes, with the
 * backend's process id, in its CSV log ({@code log_statement=all}, {@code log_destination=csvlog}):
 * the target's own record of what it ran, to check the edge against. A login role {@link #ROLE}
 * (no password: trust on loopback) owns the database {@link #DATABASE}.
 */
public final class LoggingPostgres implements AutoCloseable {
    public static final String ROLE = "app";
    public static final String DATABASE = "target";

    /**
     * One statement the target logged: {@code kind} is {@code statement} (a simple Query, its whole
     * text), {@code execute} or {@code execute fetch from} (an extended-protocol Execute, with the
     * prepared statement's and portal's names and the parameters in {@code detail}) or
     * {@code fastpath function call}. {@code failed}: an ERROR of the same backend followed it (for a
     * simple Query of several statements: one of them failed).
     */
    public record Entry(int pid, long line, String kind, String statementName, String portalName, String sql,
                        String detail, boolean failed) {
        /** This entry, marked as failed (an ERROR of the same backend followed it). */
        Entry failing() {
            return new Entry(pid, line, kind, statementName, portalName, sql, detail, true);
        }
    }

    // "execute S_1/C_2: SELECT ..." or "execute <unnamed>: ..." or "execute fetch from S_1/C_2: ..."
    private static final Pattern EXECUTE = Pattern.compile("^(execute fetch from|execute) ([^:/]*)(?:/([^:]*))?: (.*)$",
            Pattern.DOTALL);

    private final EmbeddedPostgres postgres;
    private final Path logDir;

    private LoggingPostgres(EmbeddedPostgres postgres, Path logDir) {
        this.postgres = postgres;
        this.logDir = logDir;
    }

    /** Starts a server with its data and log under {@code dir}, and creates the role and database. */
    public static LoggingPostgres start(Path dir, Map<String, String> serverConfig) throws IOException, SQLException {
        Path logDir = dir.resolve("log");
        Files.createDirectories(logDir);
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dir.resolve("data"))
                .setCleanDataDirectory(true)
                .setPGStartupWait(Duration.ofSeconds(120))
                .setServerConfig("logging_collector", "on")
                .setServerConfig("log_destination", "csvlog")
                .setServerConfig("log_directory", logDir.toString())
                .setServerConfig("log_filename", "statements.log")
                .setServerConfig("log_statement", "all")
                .setServerConfig("log_rotation_size", "0")
                .setServerConfig("max_connections", "200");
        serverConfig.forEach(builder::setServerConfig);
        EmbeddedPostgres pg = builder.start();
        try (Connection c = pg.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE " + ROLE + " LOGIN");
            s.execute("CREATE DATABASE " + DATABASE + " OWNER " + ROLE);
        }
        return new LoggingPostgres(pg, logDir);
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return postgres.getPort();
    }

    /** A superuser connection to {@code database}, straight to the server. */
    public Connection superuser(String database) throws SQLException {
        return postgres.getDatabase("postgres", database).getConnection();
    }

    /** A connection as {@link #ROLE} to {@link #DATABASE}, straight to the server. */
    public Connection owner() throws SQLException {
        return postgres.getDatabase(ROLE, DATABASE).getConnection();
    }

    /** Every statement the server logged for backend {@code pid}, in order. */
    public synchronized List<Entry> entries(int pid) {
        readNew();
        return List.copyOf(byPid.getOrDefault(pid, List.of()));
    }

    private final Map<Integer, List<Entry>> byPid = new java.util.HashMap<>();
    private long offset;

    /**
     * Reads the complete records appended to the log since the last call (the collector writes
     * whole records; a record not yet ended by a newline is read next time).
     */
    private void readNew() {
        Path csv = logDir.resolve("statements.csv");
        if (!Files.exists(csv)) return;
        try (var channel = java.nio.channels.FileChannel.open(csv)) {
            long size = channel.size();
            if (size <= offset) return;
            java.nio.ByteBuffer buffer = java.nio.ByteBuffer.allocate((int) Math.min(size - offset, 64L << 20));
            channel.read(buffer, offset);
            byte[] bytes = buffer.array();
            int end = buffer.position();
            while (end > 0 && bytes[end - 1] != '\n') end--;
            // a record ends at a newline outside quotes: find the last such one
            int complete = 0;
            boolean quoted = false;
            for (int i = 0; i < end; i++) {
                if (bytes[i] == '"') quoted = !quoted;
                else if (bytes[i] == '\n' && !quoted) complete = i + 1;
            }
            if (complete == 0) return;
            String text = new String(bytes, 0, complete, StandardCharsets.UTF_8);
            try (CSVParser parser = CSVFormat.DEFAULT.builder().get().parse(new java.io.StringReader(text))) {
                for (CSVRecord r : parser) {
                    if (r.size() < 15) continue;
                    int pid = Integer.parseInt(r.get(3));
                    if (r.get(11).equals("ERROR")) {
                        // the statement logged last for this backend failed
                        List<Entry> list = byPid.get(pid);
                        if (list != null && !list.isEmpty()) list.set(list.size() - 1, list.getLast().failing());
                        continue;
                    }
                    if (!r.get(11).equals("LOG")) continue;
                    Entry e = entry(pid, Long.parseLong(r.get(6)), r.get(13), r.get(14));
                    if (e != null) byPid.computeIfAbsent(pid, k -> new ArrayList<>()).add(e);
                }
            }
            offset += complete;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static Entry entry(int pid, long line, String message, String detail) {
        if (message.startsWith("statement: ")) {
            return new Entry(pid, line, "statement", null, null, message.substring("statement: ".length()), detail, false);
        }
        if (message.startsWith("fastpath function call: ")) {
            return new Entry(pid, line, "fastpath function call", null, null, message, detail, false);
        }
        Matcher m = EXECUTE.matcher(message);
        if (m.matches()) {
            String name = m.group(2).equals("<unnamed>") ? "" : m.group(2);
            return new Entry(pid, line, m.group(1), name, m.group(3) == null ? "" : m.group(3), m.group(4), detail, false);
        }
        return null;
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
