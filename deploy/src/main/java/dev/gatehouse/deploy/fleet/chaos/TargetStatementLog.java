package dev.gatehouse.deploy.fleet.chaos;

import org.apache.commons.csv.CSVFormat;
import org.apache.commons.csv.CSVParser;
import org.apache.commons.csv.CSVRecord;

import java.io.IOException;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneId;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The target PostgreSQL's own record of what it ran: its CSV log ({@code log_destination=csvlog},
 * {@code log_statement=all}). Only the statement lines are kept ({@code statement: ...}, the text of
 * a simple Query; {@code execute <name>: ...}, an extended-protocol Execute), with who ran them: the
 * user, database, backend pid, session id and {@code application_name} columns of the csvlog
 * (PostgreSQL 13 and later: 26 columns; 23 and more are read).
 */
public final class TargetStatementLog {

    /** Who ran a statement, as the chaos run tells sessions apart (by the csvlog's application_name). */
    public enum Origin {
        /** A client session through the gateway: every statement it ran must have been recorded first. */
        CLIENT,
        /** The edge's own side connections (catalog snapshot, application_name {@code gatehouse-*}). */
        EDGE_SIDE,
        /** The chaos launcher's own direct connections (setup, checks). */
        LAUNCHER
    }

    /**
     * One statement the target logged.
     *
     * @param at              the csvlog's log_time (millisecond precision)
     * @param sessionId       the csvlog's session id (start time and pid in hex): one per backend
     * @param kind            {@code statement} (simple Query, the whole text) or {@code execute} (extended protocol)
     * @param sql             the statement text as logged
     * @param applicationName the session's application_name ("" when none)
     */
    public record Statement(Instant at, String user, String database, int pid, String sessionId, long line, String kind,
                            String sql, String applicationName) {
        public Statement {
            Objects.requireNonNull(at, "at");
            Objects.requireNonNull(sql, "sql");
            applicationName = applicationName == null ? "" : applicationName;
        }
    }

    /** The launcher's application_name on its direct connections to the target. */
    public static final String LAUNCHER_APPLICATION = "gatehouse-chaos-setup";
    /** The prefix of every application_name the edge itself uses on its side connections. */
    public static final String EDGE_SIDE_PREFIX = "gatehouse-";

    private static final DateTimeFormatter LOG_TIME = new java.time.format.DateTimeFormatterBuilder()
            .appendPattern("yyyy-MM-dd HH:mm:ss").appendFraction(java.time.temporal.ChronoField.NANO_OF_SECOND, 0, 9, true)
            .toFormatter(java.util.Locale.ROOT);
    private static final int MIN_COLUMNS = 23;
    private static final int APPLICATION_NAME = 22;

    private TargetStatementLog() {
    }

    /**
     * How a statement is counted: the launcher's application_name, then the edge's prefix, and every
     * other session is a client's (so an unexpected session is checked, never left out).
     */
    public static Origin origin(Statement s) {
        if (s.applicationName().equals(LAUNCHER_APPLICATION)) return Origin.LAUNCHER;
        if (s.applicationName().startsWith(EDGE_SIDE_PREFIX)) return Origin.EDGE_SIDE;
        return Origin.CLIENT;
    }

    /** Reads the statements of a csvlog file. */
    public static List<Statement> read(Path csvlog) {
        try {
            String text = Files.readString(csvlog, StandardCharsets.UTF_8);
            return parse(new java.io.StringReader(text.substring(0, completeRecords(text))));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the target's statement log " + csvlog + ": " + e.getMessage(), e);
        }
    }

    /**
     * The length of the complete records at the start of {@code text}: up to the last newline outside
     * quotes (the server may be writing the last record).
     */
    static int completeRecords(String text) {
        int complete = 0;
        boolean quoted = false;
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            if (c == '"') quoted = !quoted;
            else if (c == '\n' && !quoted) complete = i + 1;
        }
        return complete;
    }

    /** Parses complete csvlog records; a record that is not a csvlog line fails with its line number. */
    public static List<Statement> parse(Reader csv) throws IOException {
        List<Statement> statements = new ArrayList<>();
        try (CSVParser parser = CSVFormat.DEFAULT.builder().get().parse(csv)) {
            for (CSVRecord r : parser) {
                if (r.size() < MIN_COLUMNS) {
                    throw new IllegalArgumentException("not a PostgreSQL csvlog record (" + r.size() + " columns, at least "
                            + MIN_COLUMNS + " expected) at line " + parser.getCurrentLineNumber());
                }
                if (!r.get(11).equals("LOG")) continue;
                String message = r.get(13);
                String kind;
                String sql;
                if (message.startsWith("statement: ")) {
                    kind = "statement";
                    sql = message.substring("statement: ".length());
                } else if (message.startsWith("execute ")) {
                    int colon = message.indexOf(": ");
                    if (colon < 0) continue;
                    kind = "execute";
                    sql = message.substring(colon + 2);
                } else {
                    continue;
                }
                statements.add(new Statement(logTime(r.get(0)), r.get(1), r.get(2), Integer.parseInt(r.get(3)), r.get(5),
                        Long.parseLong(r.get(6)), kind, sql, r.get(APPLICATION_NAME)));
            }
        } catch (java.io.UncheckedIOException e) {
            throw e.getCause();
        }
        return statements;
    }

    /** "2026-12-05 01:02:03.456 UTC" (the zone is the server's log_timezone; an abbreviation or offset). */
    static Instant logTime(String text) {
        int space = text.lastIndexOf(' ');
        if (space < 0) throw new IllegalArgumentException("not a csvlog log_time: " + text);
        String zone = text.substring(space + 1);
        LocalDateTime local = LocalDateTime.parse(text.substring(0, space), LOG_TIME);
        ZoneId id;
        if (zone.equals("UTC") || zone.equals("GMT")) {
            id = java.time.ZoneOffset.UTC;
        } else if (zone.startsWith("+") || zone.startsWith("-")) {
            id = java.time.ZoneOffset.of(zone.length() == 3 ? zone + ":00" : zone);
        } else {
            id = ZoneId.of(zone, ZoneId.SHORT_IDS);
        }
        return local.atZone(id).toInstant();
    }
}
