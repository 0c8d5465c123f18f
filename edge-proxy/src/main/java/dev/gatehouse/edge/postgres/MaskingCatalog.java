package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.masking.ColumnName;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import io.vertx.core.net.NetClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;

/**
 * Names the columns of a target's tables (table OID and attribute number to
 * {@code schema.table.column}) for masking, from a snapshot of the target's catalog.
 *
 * <p>The snapshot is read on a short-lived side connection that logs in like a session does
 * (the connection's own credentials, TLS as configured), runs one catalog query and closes: no
 * extra idle connection is held, and the session's own connection is never used (a query there
 * would interleave with the client's protocol state, its transaction included). Snapshots are
 * cached per target for {@code ttl}; concurrent requests share one read; a table the snapshot does
 * not know makes the next masked command read a fresh one. A read that fails or takes longer than
 * {@code timeout} fails the masked command closed.
 */
final class MaskingCatalog {
    private static final Logger LOGGER = LoggerFactory.getLogger(MaskingCatalog.class);

    static final String QUERY = "SELECT c.oid, a.attnum, n.nspname, c.relname, a.attname"
            + " FROM pg_catalog.pg_attribute a"
            + " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
            + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            + " WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')"
            + " AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%'";

    private record Entry(CompletableFuture<Snapshot> snapshot, long loadedNanos) {
    }

    /** One target's columns at one time; immutable. */
    record Snapshot(Map<Long, ColumnName> columns) implements ResultMasker.Columns {
        @Override
        public Optional<ColumnName> name(int tableOid, int attnum) {
            return Optional.ofNullable(columns.get(key(tableOid, attnum)));
        }
    }

    private final NetClient netClient;
    private final long ttlNanos;
    private final Duration timeout;
    private final Map<String, Entry> cache = new ConcurrentHashMap<>();

    MaskingCatalog(NetClient netClient, Duration ttl, Duration timeout) {
        this.netClient = netClient;
        this.ttlNanos = ttl.toNanos();
        this.timeout = timeout;
    }

    /** The target's columns: cached, or read now. */
    CompletionStage<Snapshot> columns(TargetConnection target) {
        long now = System.nanoTime();
        Entry entry = cache.compute(target.name(), (name, old) -> {
            if (old != null && !old.snapshot().isCompletedExceptionally()
                    && (!old.snapshot().isDone() || now - old.loadedNanos() < ttlNanos)) {
                return old;
            }
            return new Entry(read(target), now);
        });
        return entry.snapshot();
    }

    /** Forgets the target's snapshot (a table appeared that it does not know). */
    void invalidate(TargetConnection target) {
        cache.computeIfPresent(target.name(), (name, old) -> old.snapshot().isDone() ? null : old);
    }

    private CompletableFuture<Snapshot> read(TargetConnection target) {
        CompletableFuture<Snapshot> result = new CompletableFuture<>();
        Map<Long, ColumnName> columns = new HashMap<>();
        Map<String, String> interned = new HashMap<>();
        String[] error = new String[1];
        Upstream[] connection = new Upstream[1];
        Upstream upstream = new Upstream(new Upstream.Listener() {
            @Override
            public void onUpstreamFrame(BackendFrame frame) {
                try {
                    switch (frame.type()) {
                        case 'D' -> {
                            List<byte[]> row = BackendFrames.parseDataRow(frame);
                            int oid = (int) Long.parseLong(text(row.get(0)));
                            int attnum = Integer.parseInt(text(row.get(1)));
                            columns.put(key(oid, attnum), new ColumnName(
                                    interned.computeIfAbsent(text(row.get(2)), s -> s),
                                    interned.computeIfAbsent(text(row.get(3)), s -> s), text(row.get(4))));
                        }
                        case 'E' -> error[0] = BackendFrames.parseErrorOrNotice(frame).getOrDefault('M', "unknown error");
                        case 'Z' -> {
                            connection[0].write(new FrontendMessage.Terminate());
                            connection[0].close();
                            if (error[0] != null) {
                                result.completeExceptionally(new IllegalStateException("the catalog query failed: " + error[0]));
                            } else {
                                result.complete(new Snapshot(Map.copyOf(columns)));
                            }
                        }
                        default -> { }
                    }
                } catch (RuntimeException e) {
                    result.completeExceptionally(e);
                    connection[0].close();
                } finally {
                    frame.release();
                }
            }

            @Override
            public void onUpstreamReadComplete() {
            }

            @Override
            public void onUpstreamClosed(Throwable cause) {
                result.completeExceptionally(new IllegalStateException("the target closed the catalog connection"
                        + (cause == null ? "" : ": " + cause.getMessage())));
            }
        }, target, Map.of("application_name", "gatehouse-masking-catalog"));
        connection[0] = upstream;
        long start = System.nanoTime();
        upstream.connect(netClient).whenComplete((ready, err) -> {
            if (err != null) {
                result.completeExceptionally(err);
            } else {
                upstream.write(new FrontendMessage.Query(QUERY));
            }
        });
        result.orTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).whenComplete((s, err) -> {
            if (err != null) {
                upstream.close();
                LOGGER.warn("connection={} masking catalog could not be read: {}", target.name(), err.toString());
            } else {
                LOGGER.info("connection={} masking catalog read: {} columns in {} ms", target.name(), s.columns().size(),
                        Duration.ofNanos(System.nanoTime() - start).toMillis());
            }
        });
        return result;
    }

    private static String text(byte[] value) {
        if (value == null) throw new IllegalStateException("the catalog query returned NULL");
        return new String(value, StandardCharsets.UTF_8);
    }

    static long key(int tableOid, int attnum) {
        return (Integer.toUnsignedLong(tableOid) << 16) | (attnum & 0xffff);
    }
}
