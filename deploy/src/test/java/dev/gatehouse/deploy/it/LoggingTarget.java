package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DemoTarget;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL target of its own whose log is the witness of what ran: every statement
 * ({@code log_statement=all}) and every connection ({@code log_connections=on}), each line naming
 * the backend that wrote it ({@code log_line_prefix '%m|%p|%u|'}).
 */
final class LoggingTarget implements AutoCloseable {
    private static final Pattern STATEMENT = Pattern.compile(
            "^[^|]*\\|(\\d+)\\|([^|]*)\\|LOG:  (?:statement|execute [^:]*): (.*)$");

    private final DemoTarget target;
    private final Path log;

    private LoggingTarget(DemoTarget target, Path log) {
        this.target = target;
        this.log = log;
    }

    static LoggingTarget start(Path dir) throws IOException, SQLException {
        Path logDir = dir.resolve("pglog");
        DemoTarget target = DemoTarget.start(dir.resolve("pg"), 0, Map.of(
                "logging_collector", "on",
                "log_directory", logDir.toString(),
                "log_filename", "statements.log",
                "log_statement", "all",
                "log_connections", "on",
                "log_timezone", "UTC"));
        try (Connection c = DriverManager.getConnection(target.superuserJdbcUrl("postgres")); Statement s = c.createStatement()) {
            s.execute("ALTER SYSTEM SET log_line_prefix = '%m|%p|%u|'");
            s.execute("SELECT pg_reload_conf()");
        }
        return new LoggingTarget(target, logDir.resolve("statements.log"));
    }

    DemoTarget target() {
        return target;
    }

    /** A statement the target logged: the backend's pid, the role, the SQL. */
    record Executed(int pid, String user, String sql) {
    }

    /** The statements logged so far for the edge's role (the role every edge session runs as). */
    List<Executed> statements() throws IOException {
        return lines().stream().map(STATEMENT::matcher).filter(Matcher::matches)
                .map(m -> new Executed(Integer.parseInt(m.group(1)), m.group(2), m.group(3).trim()))
                .filter(x -> x.user().equals(DemoTarget.ROLE))
                .toList();
    }

    /** Every line of the log so far. */
    List<String> lines() throws IOException {
        return Files.exists(log) ? Files.readAllLines(log) : List.of();
    }

    @Override
    public void close() throws IOException {
        target.close();
    }
}
