package dev.gatehouse.deploy.dev;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.HexFormat;

/**
 * The demo target of {@code gatehouse dev}: an embedded PostgreSQL (from Maven, no installation)
 * with a {@code demo} database, a login role that only the edge knows the password of, and a
 * little sample data. Its data directory is kept across restarts.
 */
public final class DemoTarget implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(DemoTarget.class);
    public static final String DATABASE = "demo";
    public static final String ROLE = "gatehouse_demo";
    /** An empty database of the same target, for restoring dumps and experiments. */
    public static final String SCRATCH = "scratch";

    private final EmbeddedPostgres postgres;
    private final String password;

    private DemoTarget(EmbeddedPostgres postgres, String password) {
        this.postgres = postgres;
        this.password = password;
    }

    /**
     * Starts (or restarts) the demo target with its data under {@code dir}.
     *
     * @param port 0 for any free port
     */
    public static DemoTarget start(Path dir, int port) throws IOException, SQLException {
        return start(dir, port, java.util.Map.of());
    }

    /** As {@link #start(Path, int)}, with extra server settings (postgresql.conf parameters). */
    public static DemoTarget start(Path dir, int port, java.util.Map<String, String> serverConfig)
            throws IOException, SQLException {
        Files.createDirectories(dir);
        Path passwordFile = dir.resolve("role-password");
        String password;
        if (Files.exists(passwordFile)) {
            password = Files.readString(passwordFile).trim();
        } else {
            byte[] b = new byte[18];
            new SecureRandom().nextBytes(b);
            password = HexFormat.of().formatHex(b);
            Files.writeString(passwordFile, password);
            try {
                Files.setPosixFilePermissions(passwordFile, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
            } catch (UnsupportedOperationException ignored) {
                // not a POSIX file system
            }
        }
        EmbeddedPostgres.Builder builder = EmbeddedPostgres.builder()
                .setDataDirectory(dir.resolve("data"))
                .setCleanDataDirectory(false)
                .setPGStartupWait(java.time.Duration.ofSeconds(120))
                .setServerConfig("password_encryption", "scram-sha-256")
                .setServerConfig("max_connections", "200");
        serverConfig.forEach(builder::setServerConfig);
        if (port > 0) builder.setPort(port);
        EmbeddedPostgres pg = builder.start();
        DemoTarget target = new DemoTarget(pg, password);
        target.initialize();
        return target;
    }

    private void initialize() throws SQLException, IOException {
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            // The superuser keeps trust on loopback (setup and tests); every other role must
            // log in with SCRAM-SHA-256, as the edge does with the connection's credentials.
            String hbaFile;
            try (ResultSet rs = s.executeQuery("SHOW hba_file")) {
                rs.next();
                hbaFile = rs.getString(1);
            }
            Files.writeString(Path.of(hbaFile), """
                    # written by Gatehouse's demo target
                    local all all trust
                    host all postgres 127.0.0.1/32 trust
                    host all postgres ::1/128 trust
                    host all all 127.0.0.1/32 scram-sha-256
                    host all all ::1/128 scram-sha-256
                    """);
            s.execute("SELECT pg_reload_conf()");
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_roles WHERE rolname = '" + ROLE + "'")) {
                if (!rs.next()) {
                    s.execute("CREATE ROLE " + ROLE + " LOGIN CREATEDB PASSWORD '" + password + "'");
                } else {
                    s.execute("ALTER ROLE " + ROLE + " LOGIN CREATEDB PASSWORD '" + password + "'");
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + DATABASE + "'")) {
                if (!rs.next()) {
                    s.execute("CREATE DATABASE " + DATABASE + " OWNER " + ROLE);
                    LOGGER.info("created demo database");
                }
            }
            try (ResultSet rs = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + SCRATCH + "'")) {
                if (!rs.next()) s.execute("CREATE DATABASE " + SCRATCH + " OWNER " + ROLE);
            }
        }
        try (Connection c = postgres.getDatabase("postgres", DATABASE).getConnection(); Statement s = c.createStatement()) {
            s.execute("SET ROLE " + ROLE);
            s.execute("""
                    CREATE TABLE IF NOT EXISTS customers (
                        id serial PRIMARY KEY,
                        name text NOT NULL,
                        email text NOT NULL,
                        country text NOT NULL
                    )""");
            s.execute("""
                    CREATE TABLE IF NOT EXISTS orders (
                        id serial PRIMARY KEY,
                        customer_id int NOT NULL REFERENCES customers(id),
                        amount numeric(10,2) NOT NULL,
                        placed_at timestamptz NOT NULL DEFAULT now()
                    )""");
            // Changes to payouts wait for a DBA's approval under the example policy (demo-payouts-need-a-dba).
            s.execute("CREATE TABLE IF NOT EXISTS payouts (id serial PRIMARY KEY, note text, amount int DEFAULT 0)");
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM customers")) {
                rs.next();
                if (rs.getLong(1) == 0) {
                    s.execute("""
                            INSERT INTO customers (name, email, country) VALUES
                              ('Ada Lovelace', 'ada@example.com', 'GB'),
                              ('Grace Hopper', 'grace@example.com', 'US'),
                              ('Edsger Dijkstra', 'edsger@example.com', 'NL'),
                              ('Barbara Liskov', 'barbara@example.com', 'US'),
                              ('Donald Knuth', 'don@example.com', 'US')""");
                    s.execute("""
                            INSERT INTO orders (customer_id, amount)
                            SELECT 1 + (g % 5), round((random() * 500)::numeric, 2) FROM generate_series(1, 50) g""");
                }
            }
        }
    }

    public String host() {
        return "127.0.0.1";
    }

    public int port() {
        return postgres.getPort();
    }

    public String role() {
        return ROLE;
    }

    /** The role's password: for the edge's catalog only; never shown to clients. */
    public String password() {
        return password;
    }

    /** A superuser JDBC URL, for tests that check the target directly. */
    public String superuserJdbcUrl(String database) {
        return "jdbc:postgresql://127.0.0.1:" + port() + "/" + database + "?user=postgres";
    }

    public EmbeddedPostgres embedded() {
        return postgres;
    }

    @Override
    public void close() throws IOException {
        postgres.close();
    }
}
