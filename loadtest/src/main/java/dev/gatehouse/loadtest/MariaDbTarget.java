package dev.gatehouse.loadtest;

import dev.gatehouse.dev.EmbeddedMariaDb;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.List;

/**
 * The MariaDB target of a MySQL load run: a real MariaDB {@value EmbeddedMariaDb#VERSION}
 * ({@link EmbeddedMariaDb}, on a new database at each start) with a database {@link #DATABASE} and
 * one login user {@link #USER} (for {@code 127.0.0.1} and {@code localhost},
 * {@code mysql_native_password}, a random password made at each start, all privileges on
 * {@link #DATABASE}{@code .*} and no global one): the user sysbench's prepare and direct runs log
 * in as, and the one the edge's catalog connections name. MariaDB runs every connection on a
 * thread of its single {@code mariadbd} process, so that process's CPU time is the target's.
 */
public final class MariaDbTarget implements AutoCloseable {
    /** The database sysbench's tables live in (the catalog connections' {@code database}). */
    public static final String DATABASE = "sbtest";
    /** The login user of the direct runs and of the edge's catalog connections. */
    public static final String USER = "gatehouse_sysbench";
    /**
     * Server options on top of EmbeddedMariaDb's: room for every client of a run twice over (the
     * edge holds one target connection per client session, a warm-up's sessions may still be
     * closing when the next run connects), and no query cache (off by default since 10.1.7, said
     * here so the figures cannot depend on it).
     */
    private static final List<String> SERVER_ARGS = List.of("--max-connections=500", "--query-cache-type=0",
            "--query-cache-size=0");

    private final EmbeddedMariaDb server;
    private final String password;
    private final long pid;

    private MariaDbTarget(EmbeddedMariaDb server, String password, long pid) {
        this.server = server;
        this.password = password;
        this.pid = pid;
    }

    /** Installs and starts a new server with its files under {@code dir}, on a free port of 127.0.0.1. */
    public static MariaDbTarget start(Path dir) {
        byte[] random = new byte[18];
        new SecureRandom().nextBytes(random);
        String password = HexFormat.of().formatHex(random); // hex: needs no quoting in the init SQL
        EmbeddedMariaDb server = EmbeddedMariaDb.startFresh(dir, 0, initSql(password), SERVER_ARGS);
        try {
            long pid = Long.parseLong(Files.readString(dir.resolve("mariadbd.pid")).strip());
            return new MariaDbTarget(server, password, pid);
        } catch (IOException e) {
            server.close();
            throw new UncheckedIOException(e);
        } catch (RuntimeException e) {
            server.close();
            throw e;
        }
    }

    private static String initSql(String password) {
        return "CREATE DATABASE IF NOT EXISTS `" + DATABASE + "` CHARACTER SET utf8mb4;\n"
                + EmbeddedMariaDb.userWithAllPrivileges(USER, password, DATABASE, List.of("127.0.0.1", "localhost"));
    }

    public String host() {
        return server.host();
    }

    public int port() {
        return server.port();
    }

    /** {@link #USER}'s password: for sysbench's direct runs and the edge's catalog only. */
    public String password() {
        return password;
    }

    /** The {@code mariadbd} process. */
    public long pid() {
        return pid;
    }

    /** The server's version, e.g. {@code 11.4.5}. */
    public String version() {
        return EmbeddedMariaDb.VERSION;
    }

    @Override
    public void close() {
        server.close();
    }
}
