package dev.gatehouse.edge.postgres.catalog;

import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.postgres.SideQuery;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.core.StatementAnalysis;
import io.vertx.core.net.NetClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Reads and caches one {@link Snapshot} of a target's catalog per connection.
 *
 * <p>The snapshot is read on a short-lived side connection ({@link SideQuery}: it logs in like a
 * session does, runs the catalog queries in one read-only transaction, and closes), never on a
 * session's own connection. Snapshots are cached per connection for {@code ttl}; concurrent
 * requests share one read. A read that fails or takes longer than {@code timeout} fails its
 * callers (the statement is then not decided: closed, not open).
 */
public final class TargetCatalog {
    private static final Logger LOGGER = LoggerFactory.getLogger(TargetCatalog.class);
    /** A snapshot younger than this is not read again because a statement names a relation it does not know. */
    private static final long MIN_REFRESH_NANOS = Duration.ofSeconds(1).toNanos();

    private record Entry(CompletableFuture<Snapshot> snapshot, long loadedNanos) {
    }

    private final NetClient netClient;
    private final long ttlNanos;
    private final Duration timeout;
    private final Map<String, Entry> cache = new ConcurrentHashMap<>();
    /** Analyses routine bodies of new snapshots, off the event loops and off shared pools. */
    private final java.util.concurrent.ExecutorService analysis = java.util.concurrent.Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("gatehouse-catalog-analysis").factory());

    public TargetCatalog(NetClient netClient, Duration ttl, Duration timeout) {
        this.netClient = netClient;
        this.ttlNanos = ttl.toNanos();
        this.timeout = timeout;
    }

    /**
     * The target's catalog: cached, or read now (one read for all who ask meanwhile). A snapshot
     * older than the TTL is still served while its successor is read (so no command waits for the
     * periodic read); one that was invalidated, or failed, is not.
     */
    public CompletionStage<Snapshot> snapshot(TargetConnection target) {
        long now = System.nanoTime();
        Entry entry = cache.compute(target.name(), (name, old) -> {
            if (old == null || old.snapshot().isCompletedExceptionally()) return new Entry(read(target), now);
            return old;
        });
        if (entry.snapshot().isDone() && now - entry.loadedNanos() >= ttlNanos && refreshing.add(target.name())) {
            CompletableFuture<Snapshot> next = read(target);
            next.whenComplete((fresh, err) -> {
                if (err == null) cache.computeIfPresent(target.name(), (name, old) -> old == entry ? new Entry(next, System.nanoTime()) : old);
                refreshing.remove(target.name());
            });
        }
        return entry.snapshot();
    }

    /** Connections whose snapshot is being read again in the background. */
    private final java.util.Set<String> refreshing = ConcurrentHashMap.newKeySet();

    /**
     * The target's catalog with every user-defined routine's body analysed by {@code analyzer}
     * (once per snapshot): what resolution on an event loop needs.
     */
    public CompletionStage<Snapshot> analysedSnapshot(TargetConnection target, SqlAnalyzer analyzer) {
        return snapshot(target).thenCompose(s -> s.warmed(analyzer, analysis));
    }

    /**
     * Forgets the target's snapshot (DDL ran through this edge): the next request reads a fresh
     * one. A read under way still answers those who asked before.
     */
    public void invalidate(TargetConnection target) {
        cache.remove(target.name());
    }

    /**
     * {@code raw} resolved on the target's snapshot ({@link Snapshot#resolve}). If it names a
     * relation the snapshot does not know and the snapshot is older than a second, the statement
     * is resolved once more on a fresh snapshot (the relation may have been created since).
     */
    public CompletionStage<StatementAnalysis> resolve(TargetConnection target, StatementAnalysis raw, SearchPath path,
                                                      SqlAnalyzer analyzer) {
        return snapshot(target).thenCompose(snapshot -> {
            Resolution resolution = new Resolution(snapshot, path, analyzer);
            StatementAnalysis resolved = resolution.resolve(raw);
            if (!resolution.missing() || System.nanoTime() - snapshot.readNanos() < MIN_REFRESH_NANOS) {
                return CompletableFuture.completedFuture(resolved);
            }
            cache.computeIfPresent(target.name(), (name, old) -> old.snapshot().getNow(null) == snapshot ? null : old);
            return snapshot(target).thenApply(fresh -> fresh.resolve(raw, path, analyzer));
        });
    }

    private CompletableFuture<Snapshot> read(TargetConnection target) {
        long start = System.nanoTime();
        CompletableFuture<Snapshot> result = SideQuery.run(netClient, target, "gatehouse-catalog", SnapshotReader.SQL, timeout)
                .thenApply(SnapshotReader::build)
                .toCompletableFuture();
        result.whenComplete((snapshot, err) -> {
            if (err != null) {
                LOGGER.warn("connection={} catalog could not be read: {}", target.name(), err.toString());
            } else {
                LOGGER.info("connection={} catalog read: {} in {} ms", target.name(), snapshot.size(),
                        Duration.ofNanos(System.nanoTime() - start).toMillis());
            }
        });
        return result;
    }
}
