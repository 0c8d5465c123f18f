package dev.gatehouse.deploy.fleet.chaos;

import dev.gatehouse.indexer.projection.AuditProjector;
import dev.gatehouse.indexer.store.JdbcTimelineStore;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * Rebuilds the indexer's timelines from {@code gatehouse.audit} into a new, empty PostgreSQL database
 * on the live indexer's server, and compares every session's digest with the live store's
 * ({@link dev.gatehouse.indexer.store.TimelineStore#digests}: SHA-256 over the session's canonical
 * timeline JSON, the same rows the store and the API serve).
 *
 * <p>The rebuild runs the indexer's own projector and JDBC store in this process, in a consumer
 * group of its own, without sealer and without abort detection: it only reads the log. A second
 * {@code gatehouse run --roles indexer} cannot do this beside the live one: the role's consumer
 * group is fixed ({@code gatehouse-indexer}), so the two would split the partitions between them.
 */
public final class IndexerRebuild {

    private IndexerRebuild() {
    }

    /** The live indexer's store, as the fleet gives it. */
    public record Store(String jdbcUrl, String user, String password) {
        public Store {
            Objects.requireNonNull(jdbcUrl, "jdbcUrl");
            Objects.requireNonNull(user, "user");
        }
    }

    /**
     * Waits until the live indexer has caught up (its stored offsets reach the log's end, no session
     * of an edge open, every ended session sealed), then rebuilds and compares. Sessions without an
     * edge (only a ProtocolViolation, e.g. a failed TLS handshake, before any session opened) stay
     * open for ever: nobody closes or aborts them.
     */
    public static ChaosSummary.DigestComparison run(String bootstrapServers, Store live, Duration timeout, Consumer<String> progress) {
        String database = "chaos_rebuild_" + Instant.now().getEpochSecond();
        String how = "the indexer's projector and store (in the launcher, group gatehouse-chaos-" + database
                + ", no sealing, no abort detection) from offset 0 into new PostgreSQL database " + database + " on the live store's server";
        try (JdbcTimelineStore liveStore = JdbcTimelineStore.postgres(live.jdbcUrl(), live.user(), live.password())) {
            progress.accept("waiting for the live indexer to catch up (offsets at the log's end, every session ended and sealed)");
            String lagging = awaitLiveCaughtUp(bootstrapServers, live, liveStore, timeout);
            if (lagging != null) {
                progress.accept("live indexer not caught up after " + timeout.toSeconds() + " s: " + lagging + "; comparing anyway");
            }
            createDatabase(live, database);
            String url = withDatabase(live.jdbcUrl(), database);
            AuditEventCodec codec = new AuditEventCodec();
            EventSerde<AuditEvent> serde = EventSerde.of(codec::encode, codec::decode);
            Map<String, String> liveDigests;
            Map<String, String> rebuiltDigests;
            try (JdbcTimelineStore rebuilt = JdbcTimelineStore.postgres(url, live.user(), live.password())) {
                AuditProjector.Settings settings = AuditProjector.Settings.of(bootstrapServers, "chaos-rebuild")
                        .withGroup("gatehouse-chaos-" + database);
                long started = System.nanoTime();
                try (AuditProjector projector = new AuditProjector(settings, rebuilt, serde, null, null, null, Clock.systemUTC())) {
                    progress.accept("rebuilding the timelines from the log into " + database);
                    Map<Integer, Long> target = liveStore.nextOffsets(Topics.AUDIT);
                    boolean done = await(timeout, () -> covers(rebuilt.nextOffsets(Topics.AUDIT), target));
                    if (!done) {
                        return new ChaosSummary.DigestComparison(how, 0, 0, 0, List.of(), List.of(), List.of(),
                                "the rebuild did not reach the live store's offsets " + target + " within " + timeout.toSeconds()
                                        + " s (at " + rebuilt.nextOffsets(Topics.AUDIT) + ")");
                    }
                    progress.accept("rebuilt in " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s; comparing digests");
                    liveDigests = liveStore.digests();
                    rebuiltDigests = rebuilt.digests();
                }
            }
            ChaosSummary.DigestComparison result = compare(how, liveDigests, rebuiltDigests);
            if (result.equal()) dropDatabase(live, database);
            return result;
        } catch (RuntimeException | SQLException e) {
            return new ChaosSummary.DigestComparison(how, 0, 0, 0, List.of(), List.of(), List.of(), e.toString());
        }
    }

    /** Compares two digest maps (sessionId to digest). */
    public static ChaosSummary.DigestComparison compare(String how, Map<String, String> live, Map<String, String> rebuilt) {
        List<String> different = new ArrayList<>();
        List<String> onlyLive = new ArrayList<>();
        List<String> onlyRebuilt = new ArrayList<>();
        int differentCount = 0;
        for (String id : new TreeSet<>(live.keySet())) {
            String other = rebuilt.get(id);
            if (other == null) {
                onlyLive.add(id);
            } else if (!other.equals(live.get(id))) {
                differentCount++;
                if (different.size() < 20) different.add(id);
            }
        }
        for (String id : new TreeSet<>(rebuilt.keySet())) {
            if (!live.containsKey(id)) onlyRebuilt.add(id);
        }
        return new ChaosSummary.DigestComparison(how, live.size(), rebuilt.size(), differentCount, different,
                onlyLive, onlyRebuilt, null);
    }

    /** Whether {@code offsets} reach every partition's offset in {@code target}. */
    static boolean covers(Map<Integer, Long> offsets, Map<Integer, Long> target) {
        for (Map.Entry<Integer, Long> e : target.entrySet()) {
            if (e.getValue() > 0 && offsets.getOrDefault(e.getKey(), 0L) < e.getValue()) return false;
        }
        return true;
    }

    /** Null when caught up, else what is still missing. */
    private static String awaitLiveCaughtUp(String bootstrapServers, Store live, JdbcTimelineStore liveStore, Duration timeout)
            throws SQLException {
        long deadline = System.nanoTime() + timeout.toNanos();
        String missing;
        int stable = 0;
        while (true) {
            Map<Integer, Long> ends = KafkaView.endOffsets(bootstrapServers, Topics.AUDIT);
            Map<Integer, Long> stored = liveStore.nextOffsets(Topics.AUDIT);
            long open;
            long unsealed;
            try (Connection c = DriverManager.getConnection(live.jdbcUrl(), live.user(), live.password());
                 Statement s = c.createStatement();
                 ResultSet rs = s.executeQuery("SELECT count(*) FILTER (WHERE status = 'open' AND edge_id IS NOT NULL),"
                         + " count(*) FILTER (WHERE status IN ('closed', 'aborted') AND NOT sealed) FROM sessions")) {
                rs.next();
                open = rs.getLong(1);
                unsealed = rs.getLong(2);
            }
            missing = !covers(stored, ends) ? "stored offsets " + stored + " behind the log's end " + ends
                    : open > 0 ? open + " session(s) still open"
                    : unsealed > 0 ? unsealed + " ended session(s) not sealed yet" : null;
            // caught up twice in a row, a second apart: a seal written meanwhile would show
            stable = missing == null ? stable + 1 : 0;
            if (stable >= 2) return null;
            if (System.nanoTime() > deadline) return missing == null ? "not stable" : missing;
            sleep(Duration.ofSeconds(1));
        }
    }

    private static boolean await(Duration timeout, Supplier<Boolean> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (System.nanoTime() < deadline) {
            if (condition.get()) return true;
            sleep(Duration.ofMillis(500));
        }
        return condition.get();
    }

    private static void sleep(Duration d) {
        try {
            Thread.sleep(d);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    private static void createDatabase(Store live, String database) throws SQLException {
        try (Connection c = DriverManager.getConnection(live.jdbcUrl(), live.user(), live.password());
             Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + database);
        }
    }

    private static void dropDatabase(Store live, String database) {
        try (Connection c = DriverManager.getConnection(live.jdbcUrl(), live.user(), live.password());
             Statement s = c.createStatement()) {
            s.execute("DROP DATABASE IF EXISTS " + database);
        } catch (SQLException e) {
            // kept: harmless, and named in the summary
        }
    }

    /** The same server URL with another database: jdbc:postgresql://host:port/db?params. */
    static String withDatabase(String jdbcUrl, String database) {
        String prefix = "jdbc:postgresql://";
        if (!jdbcUrl.startsWith(prefix)) throw new IllegalArgumentException("not a jdbc:postgresql:// URL: " + jdbcUrl);
        int slash = jdbcUrl.indexOf('/', prefix.length());
        if (slash < 0) throw new IllegalArgumentException("the URL names no database: " + jdbcUrl);
        int query = jdbcUrl.indexOf('?', slash);
        return jdbcUrl.substring(0, slash + 1) + database + (query < 0 ? "" : jdbcUrl.substring(query));
    }
}
