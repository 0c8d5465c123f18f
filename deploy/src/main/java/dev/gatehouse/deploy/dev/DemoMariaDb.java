package dev.gatehouse.deploy.dev;

import dev.gatehouse.dev.EmbeddedMariaDb;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * The MariaDB demo target of {@code gatehouse dev}, the twin of {@link DemoTarget}: a real MariaDB
 * {@value #VERSION} ({@link EmbeddedMariaDb}, from Maven, no installation) with a {@link #DATABASE}
 * database, a login user {@link #USER} that only the edge knows the password of, and a little sample
 * data. Everything under the {@code dir} given to {@link #start} is kept across restarts: the
 * database, and the user's password in {@code dir/user-password} (owner-only).
 *
 * <p>The user exists for {@code 127.0.0.1} and {@code localhost}, authenticated by
 * {@code mysql_native_password}, with all privileges on {@link #DATABASE}{@code .*} and no global
 * one. The schema: {@code customers}, {@code orders} (of those customers) and {@code payouts}, whose
 * changes wait for a DBA's approval under the example policy. It is made by the server's init SQL
 * at every start, idempotently: tables created if they do not exist, sample rows inserted into a
 * table only while it is empty; the user is created anew with the kept password. No general query
 * log. Only the server's own {@code root@localhost} (Unix socket, the operating-system user running
 * it) can do more.
 */
public final class DemoMariaDb implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(DemoMariaDb.class);
    public static final String VERSION = EmbeddedMariaDb.VERSION;
    public static final String DATABASE = "demo";
    public static final String USER = "gatehouse_demo";
    private static final String PASSWORD_FILE = "user-password";

    private final EmbeddedMariaDb server;
    private final String password;

    private DemoMariaDb(EmbeddedMariaDb server, String password) {
        this.server = server;
        this.password = password;
    }

    /**
     * Starts (or restarts) the demo target with its files under {@code dir}: installs the database
     * at the first start, keeps it after.
     *
     * @param port 0 for any free port
     * @throws IllegalStateException if the server does not start, e.g. when {@code port} is taken
     */
    public static DemoMariaDb start(Path dir, int port) {
        try {
            Files.createDirectories(dir);
            String password = password(dir.resolve(PASSWORD_FILE));
            EmbeddedMariaDb server = EmbeddedMariaDb.start(dir, port, initSql(password), List.of());
            LOGGER.info("demo MariaDB {} target on {}:{}", VERSION, server.host(), server.port());
            return new DemoMariaDb(server, password);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** The kept password, or a new random one, kept in {@code file} (created readable by its owner only). */
    private static String password(Path file) throws IOException {
        if (Files.exists(file)) return Files.readString(file, StandardCharsets.US_ASCII).trim();
        byte[] b = new byte[18];
        new SecureRandom().nextBytes(b);
        String password = HexFormat.of().formatHex(b);
        Path partial = file.resolveSibling(file.getFileName() + ".new");
        Files.deleteIfExists(partial);
        try {
            Files.createFile(partial, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
        } catch (UnsupportedOperationException notPosix) {
            Files.createFile(partial);
        }
        Files.writeString(partial, password, StandardCharsets.US_ASCII);
        Files.move(partial, file); // whole, or not at all
        return password;
    }

    /**
     * The init SQL (run by the server at every start, before any client can connect): idempotent.
     * {@code password} is hex, so it needs no quoting.
     */
    private static String initSql(String password) {
        String db = "`" + DATABASE + "`";
        StringBuilder sql = new StringBuilder();
        sql.append("CREATE DATABASE IF NOT EXISTS ").append(db).append(" CHARACTER SET utf8mb4;\n");
        sql.append(EmbeddedMariaDb.userWithAllPrivileges(USER, password, DATABASE, List.of("127.0.0.1", "localhost")));
        sql.append("""
                CREATE TABLE IF NOT EXISTS demo.customers (id INT AUTO_INCREMENT PRIMARY KEY, name VARCHAR(100) NOT NULL, \
                email VARCHAR(200) NOT NULL, country CHAR(2) NOT NULL);
                CREATE TABLE IF NOT EXISTS demo.orders (id INT AUTO_INCREMENT PRIMARY KEY, customer_id INT NOT NULL, \
                amount DECIMAL(10,2) NOT NULL, created_at TIMESTAMP NOT NULL DEFAULT CURRENT_TIMESTAMP, \
                FOREIGN KEY (customer_id) REFERENCES demo.customers (id));
                CREATE TABLE IF NOT EXISTS demo.payouts (id INT AUTO_INCREMENT PRIMARY KEY, note VARCHAR(200), \
                amount DECIMAL(10,2) DEFAULT 0);
                INSERT INTO demo.customers (name, email, country) SELECT * FROM (\
                SELECT 'Ada Lovelace' AS name, 'ada@example.com' AS email, 'GB' AS country UNION ALL \
                SELECT 'Grace Hopper', 'grace@example.com', 'US' UNION ALL \
                SELECT 'Edsger Dijkstra', 'edsger@example.com', 'NL' UNION ALL \
                SELECT 'Barbara Liskov', 'barbara@example.com', 'US' UNION ALL \
                SELECT 'Donald Knuth', 'don@example.com', 'US') AS seed \
                WHERE NOT EXISTS (SELECT 1 FROM demo.customers);
                INSERT INTO demo.orders (customer_id, amount) \
                WITH RECURSIVE g (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM g WHERE n < 50), \
                c AS (SELECT id, ROW_NUMBER() OVER (ORDER BY id) - 1 AS k, COUNT(*) OVER () AS total FROM demo.customers) \
                SELECT c.id, ROUND(RAND() * 500, 2) FROM g JOIN c ON c.k = g.n % c.total \
                WHERE NOT EXISTS (SELECT 1 FROM demo.orders) ORDER BY g.n;
                INSERT INTO demo.payouts (note, amount) SELECT * FROM (\
                SELECT 'May commission, Grace Hopper' AS note, 120.00 AS amount UNION ALL \
                SELECT 'Refund of an order, Donald Knuth', 35.50 UNION ALL \
                SELECT 'Referral bonus, Ada Lovelace', 250.00) AS seed \
                WHERE NOT EXISTS (SELECT 1 FROM demo.payouts);
                """);
        return sql.toString();
    }

    public String host() {
        return server.host();
    }

    public int port() {
        return server.port();
    }

    /** {@link #USER}'s password: for the edge's catalog only; never shown to clients. */
    public String password() {
        return password;
    }

    /** Stops the server, waiting for it to end. */
    @Override
    public void close() {
        server.close();
    }
}
