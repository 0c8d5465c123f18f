package dev.gatehouse.deploy.it;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;

import static org.assertj.core.api.Assertions.assertThat;

/** pgbench and pg_dump through the edge, exactly as users run them. */
class ClientToolsIT {
    private final Gateway gw = Gateway.get();

    @ParameterizedTest
    @ValueSource(strings = {"simple", "extended", "prepared"})
    void pgbenchSelectOnlyRunsInEveryQueryMode(String mode) throws Exception {
        // Given
        initPgbench();

        // When
        var r = gw.run(gw.token("alice", "dba"), null, "pgbench", "-n", "-S", "-M", mode, "-c", "2", "-t", "25",
                "-U", "alice", "demo");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("number of transactions actually processed: 50/50");
        assertThat(r.stdout()).contains("number of failed transactions: 0");
    }

    @Test
    void pgDumpPipedIntoPsqlOnAnotherConnectionRestoresTheData() throws Exception {
        // Given
        var reset = gw.psql("alice", "scratch", null, "-c", "DROP TABLE IF EXISTS orders", "-c", "DROP TABLE IF EXISTS customers");
        assertThat(reset.exitCode()).as(reset.toString()).isZero();

        // When
        var dump = gw.run(gw.token("alice", "dba"), null, "pg_dump", "--no-owner", "-t", "customers", "-t", "orders",
                "-U", "alice", "demo");
        var restore = gw.psql("alice", "scratch", dump.stdout());

        // Then
        assertThat(dump.exitCode()).as(dump.toString()).isZero();
        assertThat(dump.stdout()).contains("COPY public.customers");
        assertThat(restore.exitCode()).as(restore.toString()).isZero();
        assertThat(count("demo", "customers")).isEqualTo(count("scratch", "customers")).isPositive();
        assertThat(count("demo", "orders")).isEqualTo(count("scratch", "orders")).isPositive();
    }

    private void initPgbench() throws Exception {
        synchronized (ClientToolsIT.class) {
            var r = gw.run(gw.token("alice", "dba"), null, "pgbench", "-i", "-s", "1", "-U", "alice", "demo");
            assertThat(r.exitCode()).as(r.toString()).isZero();
        }
    }

    private long count(String db, String table) throws Exception {
        try (Connection c = gw.targetDirect(db); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM " + table)) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
