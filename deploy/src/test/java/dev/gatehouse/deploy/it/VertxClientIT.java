package dev.gatehouse.deploy.it;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.pgclient.PgBuilder;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.PoolOptions;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** The Vert.x PostgreSQL client pipelines many extended-protocol queries on one connection. */
class VertxClientIT {
    private final Gateway gw = Gateway.get();

    @Test
    void pipelinedQueriesAllSucceedInOrder() throws Exception {
        Vertx vertx = Vertx.vertx();
        try {
            // Given
            PgConnectOptions connect = new PgConnectOptions().setHost("127.0.0.1").setPort(gw.edgePort())
                    .setDatabase("demo").setUser("alice").setPassword(gw.token("alice", "dba")).setPipeliningLimit(16);
            Pool pool = PgBuilder.pool().with(new PoolOptions().setMaxSize(1)).connectingTo(connect).using(vertx).build();

            // When
            List<Future<Integer>> results = new ArrayList<>();
            for (int i = 0; i < 100; i++) {
                int n = i;
                results.add(pool.preparedQuery("SELECT $1::int + 1 AS v").execute(Tuple.of(n))
                        .map(rows -> rows.iterator().next().getInteger("v")));
            }
            List<Integer> values = Future.all(results).map(cf -> {
                List<Integer> out = new ArrayList<>();
                for (int i = 0; i < results.size(); i++) out.add(cf.resultAt(i));
                return out;
            }).toCompletionStage().toCompletableFuture().get(2, TimeUnit.MINUTES);

            // Then
            for (int i = 0; i < 100; i++) assertThat(values.get(i)).isEqualTo(i + 1);
            Row row = pool.query("SELECT count(*) AS c FROM customers").execute()
                    .toCompletionStage().toCompletableFuture().get(1, TimeUnit.MINUTES).iterator().next();
            assertThat(row.getLong("c")).isPositive();
            pool.close().await();
        } finally {
            vertx.close().await();
        }
    }
}
