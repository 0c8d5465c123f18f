package dev.gatehouse.dev;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class EmbeddedMariaDbTest {
    private static final String USER = "tester";
    private static final String PASSWORD = "tester-secret";
    /** Idempotent, as it runs at every start. */
    private static final String INIT_SQL = """
            CREATE DATABASE IF NOT EXISTS `kept`;
            CREATE OR REPLACE USER 'tester'@'127.0.0.1' IDENTIFIED VIA mysql_native_password USING PASSWORD('tester-secret');
            GRANT ALL PRIVILEGES ON `kept`.* TO 'tester'@'127.0.0.1';
            """;

    @TempDir
    Path dir;

    private static Connection connect(EmbeddedMariaDb db) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://" + db.host() + ":" + db.port() + "/kept", USER, PASSWORD);
    }

    @Test
    void startsOnAFreePortAnswersAndStops() throws Exception {
        EmbeddedMariaDb db = EmbeddedMariaDb.start(dir, 0, INIT_SQL, List.of("--max-connections=50"));
        long pid;
        try {
            assertThat(db.host()).isEqualTo("127.0.0.1");
            assertThat(db.port()).isPositive();
            pid = Long.parseLong(Files.readString(dir.resolve("mariadbd.pid")).trim());
            try (Connection c = connect(db); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT VERSION(), @@character_set_server, @@bind_address, @@port,"
                         + " @@max_connections")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).startsWith(EmbeddedMariaDb.VERSION + "-MariaDB");
                assertThat(rs.getString(2)).isEqualTo("utf8mb4");
                assertThat(rs.getString(3)).isEqualTo("127.0.0.1");
                assertThat(rs.getInt(4)).isEqualTo(db.port());
                assertThat(rs.getInt(5)).as("extra server args win").isEqualTo(50);
            }
            // TLS with our own certificate, verified
            try (Connection c = DriverManager.getConnection("jdbc:mariadb://127.0.0.1:" + db.port()
                    + "/kept?sslMode=verify-full&serverSslCert=" + db.tlsCertificate(), USER, PASSWORD);
                 Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW SESSION STATUS LIKE 'Ssl_version'")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(2)).startsWith("TLSv1.");
            }
            // installed without the test database and the anonymous users
            try (Connection c = connect(db); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SHOW DATABASES")) {
                List<String> databases = new java.util.ArrayList<>();
                while (rs.next()) databases.add(rs.getString(1));
                assertThat(databases).contains("kept").doesNotContain("test");
            }
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("init.sql"))))
                    .isEqualTo("rw-------");
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(dir.resolve("tls/server-key.pem"))))
                    .isEqualTo("rw-------");
        } finally {
            db.close();
        }
        assertThat(ProcessHandle.of(pid)).isEmpty();
        db.close(); // idempotent
        assertThatThrownBy(() -> connect(db)).isInstanceOf(SQLException.class);
    }

    @Test
    void restartOnTheSameDirectoryKeepsTheDatabase() throws Exception {
        Path certificate;
        try (EmbeddedMariaDb db = EmbeddedMariaDb.start(dir, 0, INIT_SQL, List.of())) {
            certificate = db.tlsCertificate();
            try (Connection c = connect(db); Statement s = c.createStatement()) {
                s.execute("CREATE TABLE notes (id INT PRIMARY KEY, body VARCHAR(50))");
                s.execute("INSERT INTO notes VALUES (1, 'kept across restarts')");
            }
        }
        String pem = Files.readString(certificate);
        try (EmbeddedMariaDb db = EmbeddedMariaDb.start(dir, 0, INIT_SQL, List.of())) {
            try (Connection c = connect(db); Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT body FROM notes")) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("kept across restarts");
                assertThat(rs.next()).isFalse();
            }
            assertThat(Files.readString(db.tlsCertificate())).as("the certificate is kept too").isEqualTo(pem);
        }
        // startFresh: a new database
        try (EmbeddedMariaDb db = EmbeddedMariaDb.startFresh(dir, 0, INIT_SQL, List.of());
             Connection c = connect(db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'kept'")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isZero();
            assertThat(Files.readString(db.tlsCertificate())).isNotEqualTo(pem);
        }
    }

    @Test
    void aFixedPortIsUsedAsGiven() throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            port = s.getLocalPort();
        }
        try (EmbeddedMariaDb db = EmbeddedMariaDb.start(dir, port, INIT_SQL, List.of());
             Connection c = connect(db)) {
            assertThat(db.port()).isEqualTo(port);
            assertThat(c.isValid(5)).isTrue();
        }
    }

    @Test
    void aTakenFixedPortIsAClearError() throws IOException {
        try (ServerSocket taken = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            assertThatThrownBy(() -> EmbeddedMariaDb.start(dir, port, INIT_SQL, List.of()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessage("MariaDB " + EmbeddedMariaDb.VERSION + " cannot listen on 127.0.0.1:" + port
                            + ": the port is already in use");
        }
    }

    @Test
    void aFailingInitStatementFailsTheStart() {
        String initSql = INIT_SQL + "CREATE TABLE kept.t (id INT);\nTHIS IS NOT SQL;\n";
        assertThatThrownBy(() -> EmbeddedMariaDb.start(dir, 0, initSql, List.of()))
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("init SQL")
                .hasMessageContaining("ERROR: 1064")
                .hasMessageContaining("THIS IS NOT SQL");
        assertThat(dir.resolve("mariadbd.pid")).as("stopped again").doesNotExist();
    }

    @Test
    void aServerStillRunningOnTheDirectoryIsAClearError() {
        try (EmbeddedMariaDb db = EmbeddedMariaDb.start(dir, 0, INIT_SQL, List.of())) {
            assertThatThrownBy(() -> EmbeddedMariaDb.start(dir, 0, INIT_SQL, List.of()))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("still runs on " + dir.toAbsolutePath());
            assertThat(db.port()).isPositive();
        }
    }
}
