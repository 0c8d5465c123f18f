package dev.gatehouse.deploy.it;

import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A denied statement inside a transaction leaves client and target as PostgreSQL itself would
 * after a failed statement: the transaction is aborted, and COMMIT commits nothing.
 */
class TransactionIT {
    private final Gateway gw = Gateway.get();

    @Test
    void aDeniedStatementAbortsTheTransactionSoCommitCommitsNothing() throws Exception {
        // Given
        String name = "txn-" + UUID.randomUUID();
        try (Connection c = gw.jdbc("demo", "alice", "dba")) {
            c.setAutoCommit(false);
            try (Statement s = c.createStatement()) {
                s.executeUpdate("INSERT INTO customers (name, email, country) VALUES ('" + name + "', 'x@example.com', 'NL')");

                // When
                assertThatThrownBy(() -> s.executeUpdate("DELETE FROM orders"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("42501"))
                        .hasMessageContaining("no-update-delete-without-where");
                assertThatThrownBy(() -> s.executeQuery("SELECT 1"))
                        .isInstanceOf(SQLException.class)
                        .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("25P02"));
                try {
                    c.commit();
                } catch (SQLException expected) {
                    // pgjdbc reports that the server answered COMMIT with ROLLBACK
                }
            }
        }

        // Then
        assertThat(countCustomers(name)).isZero();
        assertThat(countOrders()).isPositive();
    }

    @Test
    void psqlScriptWithADeniedStatementCommitsNothing() throws Exception {
        // Given
        String name = "psql-txn-" + UUID.randomUUID();
        String script = """
                BEGIN;
                INSERT INTO customers (name, email, country) VALUES ('%s', 'y@example.com', 'US');
                UPDATE orders SET amount = 0;
                COMMIT;
                """.formatted(name);

        // When
        var r = gw.psql("alice", "demo", script, "-v", "ON_ERROR_STOP=0");

        // Then
        assertThat(r.stderr()).contains("denied by rule \"no-update-delete-without-where\"");
        assertThat(r.stdout()).contains("ROLLBACK");
        assertThat(countCustomers(name)).isZero();
    }

    @Test
    void aDeniedMultiStatementQueryIsDecidedAsAUnit() throws Exception {
        // Given
        String name = "multi-" + UUID.randomUUID();

        // When: one simple Query message with three statements, one of them denied
        var r = gw.psql("alice", "demo", null, "-c",
                "INSERT INTO customers (name, email, country) VALUES ('" + name + "', 'z@example.com', 'US'); "
                        + "DELETE FROM orders; SELECT 1");

        // Then
        assertThat(r.exitCode()).isNotZero();
        assertThat(countCustomers(name)).isZero();
    }

    private long countCustomers(String name) throws SQLException {
        try (Connection c = gw.targetDirect("demo"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM customers WHERE name = '" + name + "'")) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private long countOrders() throws SQLException {
        try (Connection c = gw.targetDirect("demo"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM orders")) {
            rs.next();
            return rs.getLong(1);
        }
    }
}
