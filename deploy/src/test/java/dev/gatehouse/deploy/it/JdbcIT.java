package dev.gatehouse.deploy.it;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

/** pgjdbc through the edge: prepared statements, batches, binary transfer, cancel. */
class JdbcIT {
    private final Gateway gw = Gateway.get();

    @Test
    void aResultLargerThanTheSocketBufferReachesAPlaintextClient() throws Exception {
        // Given a plaintext session (sslmode=disable) and a result far above the edge's write
        // high-water mark, read by a fast client: the case where the edge once paused the target
        // after its queue had already drained, and never resumed it
        try (Connection c = gw.jdbc("demo", "alice", "dba"); Statement s = c.createStatement()) {
            long rows = 0;
            long chars = 0;

            // When the whole result is read
            try (ResultSet rs = s.executeQuery("SELECT g, repeat('x', 200) FROM generate_series(1, 20000) g")) {
                while (rs.next()) {
                    rows++;
                    chars += rs.getString(2).length();
                }
            }

            // Then every row arrived, and the session still answers
            assertThat(rows).isEqualTo(20000);
            assertThat(chars).isEqualTo(20000L * 200);
            try (ResultSet rs = s.executeQuery("SELECT 1")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void sessionsSpreadOverTheEdgesEventLoopsAndRunSideBySide() throws Exception {
        // Given an edge with an event loop per processor (the default), on a machine with several
        var edge = gw.env.runtime().edge();
        assumeThat(edge.config().eventLoops()).isGreaterThan(1);
        List<Connection> sessions = new ArrayList<>();
        try {
            for (int i = 0; i < 2 * edge.config().eventLoops(); i++) sessions.add(gw.jdbc("demo", "alice", "dba"));

            // When every session runs prepared queries at the same time as the others
            List<CompletableFuture<Integer>> runs = new ArrayList<>();
            for (Connection c : sessions) {
                runs.add(CompletableFuture.supplyAsync(() -> {
                    int rows = 0;
                    try (PreparedStatement ps = c.prepareStatement("SELECT id FROM customers WHERE id = ?")) {
                        for (int i = 0; i < 50; i++) {
                            ps.setInt(1, 1);
                            try (ResultSet rs = ps.executeQuery()) {
                                while (rs.next()) rows++;
                            }
                        }
                    } catch (SQLException e) {
                        throw new IllegalStateException(e);
                    }
                    return rows;
                }));
            }

            // Then each got every answer, and the sessions live on more than one event loop
            for (CompletableFuture<Integer> run : runs) assertThat(run.get(120, TimeUnit.SECONDS)).isEqualTo(50);
            assertThat(edge.sessionsByEventLoop().keySet()).hasSizeGreaterThan(1)
                    .allSatisfy(thread -> assertThat(thread).startsWith("vert.x-eventloop-thread-"));
        } finally {
            for (Connection c : sessions) c.close();
        }
    }

    @Test
    void preparedStatementsWithParametersRunManyTimes() throws Exception {
        try (Connection c = gw.jdbc("demo", "alice", "dba");
             PreparedStatement ps = c.prepareStatement("SELECT name FROM customers WHERE id = ? AND country <> ?")) {
            for (int i = 0; i < 12; i++) { // past pgjdbc's prepareThreshold: server-side prepared, binary transfer
                // When
                ps.setInt(1, 1);
                ps.setString(2, "XX");
                try (ResultSet rs = ps.executeQuery()) {
                    // Then
                    assertThat(rs.next()).isTrue();
                    assertThat(rs.getString(1)).isEqualTo("Ada Lovelace");
                }
            }
        }
    }

    @Test
    void batchesArePipelinedAndDecidedAsAUnit() throws Exception {
        // Given
        String tag = "batch-" + UUID.randomUUID();
        try (Connection c = gw.jdbc("demo", "alice", "dba");
             PreparedStatement ps = c.prepareStatement("INSERT INTO customers (name, email, country) VALUES (?, ?, 'NL')")) {
            for (int i = 0; i < 50; i++) {
                ps.setString(1, tag);
                ps.setString(2, i + "@example.com");
                ps.addBatch();
            }

            // When
            int[] counts = ps.executeBatch();

            // Then
            assertThat(counts).hasSize(50);
        }
        try (Connection c = gw.targetDirect("demo"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM customers WHERE name = '" + tag + "'")) {
            rs.next();
            assertThat(rs.getInt(1)).isEqualTo(50);
        }
    }

    @Test
    void statementCancelStopsTheQueryAtTheTarget() throws Exception {
        try (Connection c = gw.jdbc("demo", "alice", "dba"); Statement s = c.createStatement()) {
            // Given
            var running = CompletableFuture.supplyAsync(() -> {
                try {
                    return s.execute("SELECT pg_sleep(60)");
                } catch (SQLException e) {
                    return e;
                }
            });
            await().atMost(Duration.ofSeconds(30)).until(() -> sleeping() > 0);

            // When
            s.cancel();

            // Then
            Object outcome = running.get(30, TimeUnit.SECONDS);
            assertThat(outcome).isInstanceOf(SQLException.class);
            assertThat(((SQLException) outcome).getSQLState()).isEqualTo("57014");
            // the session is still usable afterwards
            try (ResultSet rs = s.executeQuery("SELECT 42")) {
                rs.next();
                assertThat(rs.getInt(1)).isEqualTo(42);
            }
        }
    }

    @Test
    void updateWithoutWhereIsDeniedWithSqlState42501() throws Exception {
        try (Connection c = gw.jdbc("demo", "alice", "dba"); Statement s = c.createStatement()) {
            assertThatThrownBy(() -> s.executeUpdate("UPDATE orders SET amount = amount"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("denied by rule \"no-update-delete-without-where\"")
                    .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"));
            // autocommit: the session goes on
            try (ResultSet rs = s.executeQuery("SELECT count(*) FROM orders")) {
                assertThat(rs.next()).isTrue();
            }
        }
    }

    @Test
    void theFunctionCallProtocolIsDecidedLikeAnyCommand() throws Exception {
        // Given: pgjdbc's large-object API calls lo_creat through the FunctionCall ('F') message
        try (Connection c = gw.jdbc("demo", "alice", "dba")) {
            c.setAutoCommit(false);
            var lo = c.unwrap(org.postgresql.PGConnection.class).getLargeObjectAPI();

            // When / Then: the example policy denies the FunctionCall protocol
            assertThatThrownBy(() -> lo.createLO())
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("denied by rule \"no-function-call-protocol\"");
            c.rollback();
        }
    }

    private int sleeping() throws SQLException {
        try (Connection c = gw.targetDirect("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
