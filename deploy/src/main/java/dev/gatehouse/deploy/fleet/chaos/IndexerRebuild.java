package dev.gatehouse.deploy.fleet.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.indexer.projection.AuditProjector;
import dev.gatehouse.indexer.projection.Entry;
import dev.gatehouse.indexer.projection.Timeline;
import dev.gatehouse.indexer.projection.TimelineJson;
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
            ChaosSummary.DigestComparison result;
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
                                        + " s (at " + rebuilt.nextOffsets(Topics.AUDIT) + ")", List.of());
                    }
                    progress.accept("rebuilt in " + Duration.ofNanos(System.nanoTime() - started).toSeconds() + " s; comparing digests");
                    // records keep landing after the load (a completion retried after the brokers came back):
                    // compare only digests both stores computed at the same log position
                    long deadline = System.nanoTime() + timeout.toNanos();
                    while (true) {
                        Map<Integer, Long> position = liveStore.nextOffsets(Topics.AUDIT);
                        await(timeout, () -> covers(rebuilt.nextOffsets(Topics.AUDIT), position));
                        liveDigests = liveStore.digests();
                        rebuiltDigests = rebuilt.digests();
                        if (samePosition(liveStore.nextOffsets(Topics.AUDIT), position)
                                && samePosition(rebuilt.nextOffsets(Topics.AUDIT), position)) {
                            break;
                        }
                        if (System.nanoTime() > deadline) {
                            return new ChaosSummary.DigestComparison(how, 0, 0, 0, List.of(), List.of(), List.of(),
                                    "records kept landing; the live and rebuilt stores were never at one log position for "
                                            + timeout.toSeconds() + " s", List.of());
                        }
                        progress.accept("records landed while comparing (live store was at " + position + "); comparing again");
                    }
                }
                result = compare(how, liveDigests, rebuiltDigests);
                List<String> explained = new ArrayList<>();
                for (String id : result.different().subList(0, Math.min(3, result.different().size()))) {
                    explained.add(id + ": " + explain(liveStore.timeline(id).orElseThrow(), rebuilt.timeline(id).orElseThrow()));
                }
                result = result.withDifferences(explained);
            }
            if (result.equal()) dropDatabase(live, database);
            return result;
        } catch (RuntimeException | SQLException e) {
            return new ChaosSummary.DigestComparison(how, 0, 0, 0, List.of(), List.of(), List.of(), e.toString(), List.of());
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
                onlyLive, onlyRebuilt, null, List.of());
    }

    /**
     * What differs between a session's live and rebuilt timeline: the summary's fields, then the
     * first entry that differs (both sides' canonical JSON, abbreviated), so a failed comparison can
     * be diagnosed from the summary alone.
     */
    public static String explain(Timeline live, Timeline rebuilt) {
        List<String> parts = new ArrayList<>();
        JsonNode a = TimelineJson.MAPPER.valueToTree(live.session());
        JsonNode b = TimelineJson.MAPPER.valueToTree(rebuilt.session());
        for (String field : new TreeSet<>(fieldNames(a, b))) {
            if (!Objects.equals(a.get(field), b.get(field))) {
                parts.add("summary." + field + " live " + abbreviate(String.valueOf(a.get(field)))
                        + " rebuilt " + abbreviate(String.valueOf(b.get(field))));
            }
        }
        List<Entry> le = live.entries();
        List<Entry> re = rebuilt.entries();
        if (le.size() != re.size()) parts.add("entries live " + le.size() + " rebuilt " + re.size());
        for (int i = 0; i < Math.max(le.size(), re.size()); i++) {
            String l = i < le.size() ? TimelineJson.write(le.get(i)) : "(none)";
            String r = i < re.size() ? TimelineJson.write(re.get(i)) : "(none)";
            if (!l.equals(r)) {
                parts.add("first differing entry #" + i + "\n  live    " + abbreviate(l) + "\n  rebuilt " + abbreviate(r));
                break;
            }
        }
        return parts.isEmpty() ? "no difference found in the timelines (digests read at different moments?)"
                : String.join("; ", parts);
    }

    private static List<String> fieldNames(JsonNode a, JsonNode b) {
        List<String> names = new ArrayList<>();
        a.fieldNames().forEachRemaining(names::add);
        b.fieldNames().forEachRemaining(names::add);
        return names;
    }

    private static String abbreviate(String s) {
        return s.length() <= 700 ? s : s.substring(0, 700) + "...";
    }

    /** Whether both offset maps name the same position (partitions without records count as offset 0). */
    static boolean samePosition(Map<Integer, Long> a, Map<Integer, Long> b) {
        return covers(a, b) && covers(b, a);
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
