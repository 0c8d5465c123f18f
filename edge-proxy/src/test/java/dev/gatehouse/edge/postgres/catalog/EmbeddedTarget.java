package dev.gatehouse.edge.postgres.catalog;

import dev.gatehouse.edge.catalog.TargetConnection;
import io.vertx.core.Vertx;
import io.vertx.core.net.NetClient;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;

import java.io.IOException;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/** A real PostgreSQL 15 (zonky) and a Vert.x NetClient to reach it, for the catalog tests. */
final class EmbeddedTarget implements AutoCloseable {
    /** Generous: the machine is shared and may be slow. */
    static final Duration WAIT = Duration.ofSeconds(60);

    final EmbeddedPostgres postgres;
    final Vertx vertx = Vertx.vertx();
    final NetClient netClient = vertx.createNetClient();

    EmbeddedTarget() throws IOException {
        postgres = EmbeddedPostgres.builder().setPGStartupWait(Duration.ofSeconds(120)).start();
    }

    /** The connection catalog entry {@code name} for {@code database}, as the edge would hold it. */
    TargetConnection connection(String name, String database) {
        return new TargetConnection(name, "127.0.0.1", postgres.getPort(), database, "postgres", "", false, null,
                TargetConnection.Mode.ENFORCE, Map.of());
    }

    Connection jdbc(String database) throws SQLException {
        return postgres.getDatabase("postgres", database).getConnection();
    }

    /** Runs statements in {@code database} (autocommit, one by one). */
    void execute(String database, String... statements) throws SQLException {
        try (Connection c = jdbc(database); Statement s = c.createStatement()) {
            for (String sql : statements) s.execute(sql);
        }
    }

    static <T> T await(CompletionStage<T> stage) throws Exception {
        return stage.toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
    }

    @Override
    public void close() throws Exception {
        try {
            vertx.close().toCompletionStage().toCompletableFuture().get(WAIT.toSeconds(), TimeUnit.SECONDS);
        } finally {
            postgres.close();
        }
    }
}
