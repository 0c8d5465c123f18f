package dev.gatehouse.testsupport;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

class LoggingMariaDbTest {
    @TempDir
    static Path dir;
    static LoggingMariaDb db;

    @BeforeAll
    static void start() {
        long t0 = System.nanoTime();
        db = LoggingMariaDb.start(dir);
        System.out.printf("LoggingMariaDb.start() took %d ms (MariaDB %s on %s:%d)%n",
                (System.nanoTime() - t0) / 1_000_000, db.version(), db.host(), db.port());
    }

    @AfterAll
    static void stop() {
        if (db != null) db.close();
    }

    private static Connection app() throws SQLException {
        return DriverManager.getConnection(db.jdbcUrl(LoggingMariaDb.DATABASE), LoggingMariaDb.USER, LoggingMariaDb.PASSWORD);
    }

    private static long connectionId(Connection c) throws SQLException {
        return c.unwrap(org.mariadb.jdbc.Connection.class).getThreadId();
    }

    @Test
    void serverIsThePinnedMariaDbWithTheAskedSettings() throws SQLException {
        assertThat(db.version()).startsWith("11.4.5-MariaDB");
        assertThat(db.host()).isEqualTo("127.0.0.1");
        assertThat(db.jdbcUrl("x")).isEqualTo("jdbc:mariadb://127.0.0.1:" + db.port() + "/x");
        try (Connection c = db.adminConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT @@character_set_server, @@local_infile, @@general_log, @@log_output,"
                     + " @@lower_case_table_names, @@bind_address, @@port")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(1)).isEqualTo("utf8mb4");
            assertThat(rs.getInt(2)).isEqualTo(1);
            assertThat(rs.getInt(3)).isEqualTo(1);
            assertThat(rs.getString(4)).isEqualTo("TABLE");
            assertThat(rs.getInt(5)).isEqualTo(0);
            assertThat(rs.getString(6)).isEqualTo("127.0.0.1");
            assertThat(rs.getInt(7)).isEqualTo(db.port());
        }
        try (Connection c = db.adminConnection(); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT host, plugin FROM mysql.user WHERE user = 'app' ORDER BY host")) {
            List<String> rows = new java.util.ArrayList<>();
            while (rs.next()) rows.add(rs.getString(1) + " " + rs.getString(2));
            assertThat(rows).containsExactly("% mysql_native_password", "127.0.0.1 mysql_native_password",
                    "localhost mysql_native_password");
        }
    }

    @Test
    void onlyTheFixturesUsersAndNoTestDatabase() throws SQLException {
        List<String> users = new java.util.ArrayList<>();
        List<String> databases = new java.util.ArrayList<>();
        try (Connection c = db.adminConnection(); Statement s = c.createStatement()) {
            try (ResultSet rs = s.executeQuery("SELECT CONCAT(user, '@', host) FROM mysql.user ORDER BY 1")) {
                while (rs.next()) users.add(rs.getString(1));
            }
            try (ResultSet rs = s.executeQuery("SHOW DATABASES")) {
                while (rs.next()) databases.add(rs.getString(1));
            }
        }
        assertThat(users).noneMatch(u -> u.startsWith("@")).contains("app@%", "app@localhost", "app@127.0.0.1");
        assertThat(databases).contains("target").doesNotContain("test");
    }

    @Test
    void tlsWithTheServerCertificateVerified() throws SQLException {
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(LoggingMariaDb.DATABASE) + "?sslMode=verify-full&serverSslCert="
                + db.tlsCertificate().toAbsolutePath(), LoggingMariaDb.USER, LoggingMariaDb.PASSWORD);
             Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW SESSION STATUS LIKE 'Ssl_version'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getString(2)).startsWith("TLSv1.");
        }
    }

    @Test
    void logsWhatTheAppSentExactlyWithItsConnectionId() throws SQLException {
        String create = "CREATE TABLE accounts (id INT PRIMARY KEY, owner VARCHAR(64) NOT NULL)";
        String insert = "INSERT INTO accounts VALUES (1, 'zoë'), (2, 'bob')";
        // a statement over several lines, one of which looks like an entry of the general-log file
        // and quotes, commas and backslashes, which the log table's CSV file escapes
        String multiLine = "SELECT id,\n  owner, '\n\t\t    42 Query\tSELECT 1' AS trap, 'say \"hi\", \\\\n' AS quoted\r\nFROM accounts\nWHERE id = 1";
        long id;
        try (Connection c = app(); Statement s = c.createStatement()) {
            id = connectionId(c);
            s.execute(create);
            assertThat(s.executeUpdate(insert)).isEqualTo(2);
            try (ResultSet rs = s.executeQuery(multiLine)) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(2)).isEqualTo("zoë");
                assertThat(rs.getString(4)).isEqualTo("say \"hi\", \\n");
            }
        }
        db.awaitLogged(e -> e.connectionId() == id && e.command().equals("Quit"), Duration.ofSeconds(10));

        List<LoggingMariaDb.Entry> mine = db.log(id);
        assertThat(mine.getFirst().command()).isEqualTo("Connect");
        assertThat(mine.getFirst().argument()).startsWith("app@127.0.0.1 on target");
        assertThat(mine).filteredOn(e -> e.command().equals("Query")).extracting(LoggingMariaDb.Entry::argument)
                .containsSubsequence(create, insert, multiLine);
        assertThat(mine.getLast()).isEqualTo(new LoggingMariaDb.Entry(id, "Quit", ""));
        assertThat(db.log()).containsSubsequence(mine);
        // the fixture's own connection (it asks for the version at start) stays out
        assertThat(db.log()).noneMatch(e -> e.argument().contains("VERSION()") || e.argument().contains("sql_log_off"));
    }

    @Test
    void logsServerSidePreparedStatements() throws SQLException {
        long id;
        try (Connection c = DriverManager.getConnection(db.jdbcUrl(LoggingMariaDb.DATABASE) + "?useServerPrepStmts=true",
                LoggingMariaDb.USER, LoggingMariaDb.PASSWORD);
             PreparedStatement p = c.prepareStatement("SELECT ? + 1")) {
            id = connectionId(c);
            p.setInt(1, 41);
            try (ResultSet rs = p.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        }
        db.awaitLogged(e -> e.connectionId() == id && e.command().equals("Execute"), Duration.ofSeconds(10));
        assertThat(db.log(id)).contains(new LoggingMariaDb.Entry(id, "Prepare", "SELECT ? + 1"),
                new LoggingMariaDb.Entry(id, "Execute", "SELECT 41 + 1"));
    }

    @Test
    void appHasNoGlobalPrivilege() throws SQLException {
        try (Connection c = app(); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.execute("CREATE DATABASE other"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("Access denied");
            List<String> grants = new java.util.ArrayList<>();
            try (ResultSet rs = s.executeQuery("SHOW GRANTS")) {
                while (rs.next()) grants.add(rs.getString(1));
            }
            assertThat(grants).hasSize(2);
            assertThat(grants.get(0)).startsWith("GRANT USAGE ON *.* TO `app`@");
            assertThat(grants.get(1)).startsWith("GRANT ALL PRIVILEGES ON `target`.* TO `app`@");
        }
        assertThatThrownBy(() -> DriverManager.getConnection(db.jdbcUrl(LoggingMariaDb.DATABASE), LoggingMariaDb.USER, "wrong"))
                .isInstanceOf(SQLException.class).hasMessageContaining("Access denied");
    }

    @Test
    void mysqlCliConnectsOverTcp() throws Exception {
        Path mysql = Path.of("/usr/bin/mysql");
        assumeTrue(Files.isExecutable(mysql), "/usr/bin/mysql (Debian's mariadb-client) is not installed");
        String query = "SELECT CONCAT('cli-', 6 * 7) AS answer";
        Process p = new ProcessBuilder(mysql.toString(), "--protocol=TCP", "-h127.0.0.1", "-P" + db.port(),
                "-u" + LoggingMariaDb.USER, "-p" + LoggingMariaDb.PASSWORD, "--batch", "--skip-column-names",
                LoggingMariaDb.DATABASE, "-e", query)
                .redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out).isEqualTo("cli-42\n");
        db.awaitLogged(e -> e.command().equals("Query") && e.argument().equals(query), Duration.ofSeconds(10));
        long id = db.log().stream().filter(e -> e.argument().equals(query)).findFirst().orElseThrow().connectionId();
        assertThat(db.log(id).getFirst().command()).isEqualTo("Connect");
        assertThat(db.log(id).getFirst().argument()).startsWith("app@127.0.0.1 on target using ");
    }
}
