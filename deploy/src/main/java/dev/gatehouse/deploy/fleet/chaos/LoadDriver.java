package dev.gatehouse.deploy.fleet.chaos;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Real pgjdbc clients, each on its own thread, through the load balancer: each runs simple-protocol
 * statements whose text is unique (an INSERT carrying its client id and sequence number, then a
 * SELECT bounded by them), records the time of every success, and on any error records its kind
 * (SQLSTATE, or the exception class when there is none), drops the connection and reconnects after
 * a short backoff, with a new token when the error was an authentication one.
 */
public final class LoadDriver implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(LoadDriver.class);

    /** The table the load writes, created directly on the target before the load starts. */
    public static final String TABLE = "chaos_load";
    /** The DDL of {@link #TABLE}. */
    public static final String CREATE_TABLE = "CREATE TABLE IF NOT EXISTS " + TABLE
            + " (client int NOT NULL, seq bigint NOT NULL, at timestamptz NOT NULL DEFAULT now(), PRIMARY KEY (client, seq))";
    /** Every client's application_name starts so ({@link TargetStatementLog#origin} counts them as client sessions). */
    public static final String APPLICATION_PREFIX = "chaos-client-";

    private static final Duration BACKOFF = Duration.ofMillis(250);

    /**
     * Where and as whom the clients connect.
     *
     * @param tokens a fresh token for client {@code n} (its subject is {@code chaos-n})
     * @param pause  the pause between two statements of one client
     */
    public record Target(String host, int port, String database, java.util.function.IntFunction<String> tokens, Duration pause) {
        public Target {
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(database, "database");
            Objects.requireNonNull(tokens, "tokens");
            Objects.requireNonNull(pause, "pause");
        }
    }

    private final Target target;
    private final List<Client> clients = new ArrayList<>();
    private final List<Thread> threads = new ArrayList<>();
    private final Map<String, AtomicLong> errors = new ConcurrentHashMap<>();
    private final Map<String, String> errorExamples = new ConcurrentHashMap<>();
    private volatile boolean running = true;

    private LoadDriver(Target target) {
        this.target = target;
    }

    /** Starts {@code count} clients. */
    public static LoadDriver start(Target target, int count) {
        if (count < 1) throw new IllegalArgumentException("at least one client is needed, not " + count);
        LoadDriver driver = new LoadDriver(target);
        for (int i = 1; i <= count; i++) {
            Client c = driver.new Client(i);
            driver.clients.add(c);
            Thread t = Thread.ofPlatform().name("chaos-client-" + i).daemon().unstarted(c::run);
            driver.threads.add(t);
            t.start();
        }
        return driver;
    }

    /** The time (epoch ms) of every success of every client, sorted. */
    public long[] successTimes() {
        List<long[]> all = new ArrayList<>();
        int n = 0;
        for (Client c : clients) {
            long[] times = c.times();
            all.add(times);
            n += times.length;
        }
        long[] merged = new long[n];
        int at = 0;
        for (long[] times : all) {
            System.arraycopy(times, 0, merged, at, times.length);
            at += times.length;
        }
        Arrays.sort(merged);
        return merged;
    }

    /** Whether every client completed a command at or after {@code epochMillis}. */
    public boolean allSucceededSince(long epochMillis) {
        for (Client c : clients) {
            if (c.lastSuccess < epochMillis) return false;
        }
        return true;
    }

    /** Whether any client completed a command at or after {@code epochMillis}. */
    public boolean anySucceededSince(long epochMillis) {
        for (Client c : clients) {
            if (c.lastSuccess >= epochMillis) return true;
        }
        return false;
    }

    /** Errors by kind (SQLSTATE or exception class). */
    public Map<String, Long> errors() {
        Map<String, Long> copy = new TreeMap<>();
        errors.forEach((k, v) -> copy.put(k, v.get()));
        return copy;
    }

    /** The first message seen of each error kind (no secrets: the server's and the driver's messages). */
    public Map<String, String> errorExamples() {
        return new TreeMap<>(errorExamples);
    }

    public long successes() {
        long n = 0;
        for (Client c : clients) n += c.count();
        return n;
    }

    /** Stops the clients and waits for them (each finishes its statement in flight, bounded by the socket timeout). */
    @Override
    public void close() {
        running = false;
        for (Thread t : threads) t.interrupt();
        for (Thread t : threads) {
            try {
                t.join(Duration.ofSeconds(40));
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    static String errorKind(SQLException e) {
        String state = e.getSQLState();
        return state != null && !state.isBlank() ? state : e.getClass().getSimpleName();
    }

    private final class Client {
        private final int id;
        private long seq;
        private long[] times = new long[1024];
        private int size;
        private volatile long lastSuccess;

        Client(int id) {
            this.id = id;
        }

        synchronized long[] times() {
            return Arrays.copyOf(times, size);
        }

        synchronized int count() {
            return size;
        }

        private synchronized void success(long at) {
            if (size == times.length) times = Arrays.copyOf(times, size * 2);
            times[size++] = at;
            lastSuccess = at;
        }

        void run() {
            String token = target.tokens().apply(id);
            Connection connection = null;
            while (running) {
                try {
                    if (connection == null) connection = connect(token);
                    seq++;
                    String sql = seq % 2 == 1
                            ? "INSERT INTO " + TABLE + " (client, seq) VALUES (" + id + ", " + seq + ")"
                            : "SELECT count(*) FROM " + TABLE + " WHERE client = " + id + " AND seq < " + seq;
                    try (Statement s = connection.createStatement()) {
                        s.execute(sql);
                    }
                    success(System.currentTimeMillis());
                    if (!target.pause().isZero()) Thread.sleep(target.pause());
                } catch (SQLException e) {
                    if (!running) break;
                    String kind = errorKind(e);
                    errors.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
                    errorExamples.putIfAbsent(kind, String.valueOf(e.getMessage()));
                    LOGGER.debug("Client error client={} kind={} error={}", id, kind, e.getMessage());
                    close(connection);
                    connection = null;
                    if (kind.startsWith("28")) token = target.tokens().apply(id);
                    try {
                        Thread.sleep(BACKOFF);
                    } catch (InterruptedException ie) {
                        break;
                    }
                } catch (InterruptedException e) {
                    break;
                }
            }
            close(connection);
        }

        private Connection connect(String token) throws SQLException {
            Properties p = new Properties();
            p.setProperty("user", "chaos-" + id);
            p.setProperty("password", token);
            p.setProperty("ApplicationName", APPLICATION_PREFIX + id);
            p.setProperty("preferQueryMode", "simple");
            // startup parameters instead of SET statements after login
            p.setProperty("assumeMinServerVersion", "12");
            p.setProperty("connectTimeout", "10");
            p.setProperty("loginTimeout", "20");
            p.setProperty("socketTimeout", "30");
            p.setProperty("tcpKeepAlive", "true");
            return DriverManager.getConnection("jdbc:postgresql://" + target.host() + ":" + target.port() + "/"
                    + target.database(), p);
        }

        private static void close(Connection c) {
            if (c == null) return;
            try {
                c.close();
            } catch (SQLException ignored) {
                // the connection is gone already
            }
        }
    }
}
