package dev.gatehouse.edge.mysql;

import dev.gatehouse.edge.catalog.TargetConnection;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;

/**
 * What the masking edge must know of a MySQL target's tables: which relations are base tables
 * (a column of one holds stored values) and which are views or system views (a column of one may
 * be an expression over a masked column, {@code upper(ssn)}, although the column definition names
 * the view as its table), and their columns. Read from {@code information_schema} on a side
 * connection ({@link MySqlSideQuery}) with the connection's own credentials, so it lists what the
 * sessions' user may see; cached per connection for {@code ttl}, one read for all who ask
 * meanwhile; forgotten when DDL ran through the edge or a result names a table it does not know.
 * Thread-safe.
 */
final class MySqlCatalog {
    private static final Logger LOGGER = LoggerFactory.getLogger(MySqlCatalog.class);
    static final String SQL = "SELECT c.TABLE_SCHEMA, c.TABLE_NAME, t.TABLE_TYPE, c.COLUMN_NAME"
            + " FROM information_schema.COLUMNS c JOIN information_schema.TABLES t"
            + " ON t.TABLE_SCHEMA = c.TABLE_SCHEMA AND t.TABLE_NAME = c.TABLE_NAME"
            + " ORDER BY c.TABLE_SCHEMA, c.TABLE_NAME, c.ORDINAL_POSITION";

    /** A relation: a base table or not (a view, a system view), with its columns in order. */
    record Table(boolean baseTable, List<String> columns) {
    }

    /** The target's relations at one time. Immutable. */
    record Snapshot(Map<String, Map<String, Table>> schemas, long readNanos) {
        /** The relation {@code schema.name} as the target names it (names are compared exactly, as on Linux). */
        Optional<Table> table(String schema, String name) {
            Map<String, Table> tables = schemas.get(schema);
            return Optional.ofNullable(tables == null ? null : tables.get(name));
        }

        /** Every relation called {@code name}, with its database, in any database. */
        List<Map.Entry<String, Table>> named(String name) {
            List<Map.Entry<String, Table>> out = new ArrayList<>();
            schemas.forEach((schema, tables) -> {
                Table t = tables.get(name);
                if (t != null) out.add(Map.entry(schema, t));
            });
            return out;
        }

        /** The relation's columns, or an empty list when it is not known. */
        List<String> columnsOf(String schema, String name) {
            return table(schema, name).map(Table::columns).orElse(List.of());
        }

        int size() {
            return schemas.values().stream().mapToInt(Map::size).sum();
        }
    }

    private record Entry(CompletableFuture<Snapshot> snapshot, long loadedNanos) {
    }

    private final Vertx vertx;
    private final NetClient netClient;
    private final long ttlNanos;
    private final Duration timeout;
    private final Map<String, Entry> cache = new ConcurrentHashMap<>();

    MySqlCatalog(Vertx vertx, NetClient netClient, Duration ttl, Duration timeout) {
        this.vertx = vertx;
        this.netClient = netClient;
        this.ttlNanos = ttl.toNanos();
        this.timeout = timeout;
    }

    /** The target's relations: cached, or read now. Call it on a Vert.x context. */
    CompletionStage<Snapshot> snapshot(TargetConnection target) {
        long now = System.nanoTime();
        return cache.compute(target.name(), (name, old) -> old == null || old.snapshot().isCompletedExceptionally()
                || (old.snapshot().isDone() && now - old.loadedNanos() >= ttlNanos) ? new Entry(read(target), now) : old)
                .snapshot();
    }

    /** Forgets the target's relations: the next request reads them again. */
    void invalidate(TargetConnection target) {
        cache.remove(target.name());
    }

    private CompletableFuture<Snapshot> read(TargetConnection target) {
        long start = System.nanoTime();
        CompletableFuture<Snapshot> result = MySqlSideQuery.run(vertx, netClient, target, SQL, timeout)
                .thenApply(rows -> build(rows, System.nanoTime())).toCompletableFuture();
        result.whenComplete((snapshot, err) -> {
            if (err != null) {
                LOGGER.warn("connection={} tables could not be read: {}", target.name(), err.toString());
            } else {
                LOGGER.info("connection={} tables read: {} in {} ms", target.name(), snapshot.size(),
                        Duration.ofNanos(System.nanoTime() - start).toMillis());
            }
        });
        return result;
    }

    /** Rows of {@link #SQL}: schema, table, table type, column. */
    static Snapshot build(List<String[]> rows, long readNanos) {
        Map<String, Map<String, List<String>>> columns = new HashMap<>();
        Map<String, Map<String, Boolean>> base = new HashMap<>();
        for (String[] r : rows) {
            if (r.length != 4 || r[0] == null || r[1] == null || r[3] == null) {
                throw new IllegalStateException("unexpected catalog row of " + r.length + " values");
            }
            columns.computeIfAbsent(r[0], k -> new HashMap<>()).computeIfAbsent(r[1], k -> new ArrayList<>()).add(r[3]);
            base.computeIfAbsent(r[0], k -> new HashMap<>()).put(r[1], "BASE TABLE".equals(r[2]));
        }
        Map<String, Map<String, Table>> schemas = new HashMap<>();
        columns.forEach((schema, tables) -> {
            Map<String, Table> out = new HashMap<>();
            tables.forEach((table, cols) -> out.put(table, new Table(base.get(schema).get(table), List.copyOf(cols))));
            schemas.put(schema, Map.copyOf(out));
        });
        return new Snapshot(Map.copyOf(schemas), readNanos);
    }
}
