package dev.gatehouse.deploy.dev;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DemoMariaDbTest {
    @TempDir
    Path dir;

    private static Connection connect(DemoMariaDb db, String password) throws SQLException {
        return DriverManager.getConnection("jdbc:mariadb://" + db.host() + ":" + db.port() + "/" + DemoMariaDb.DATABASE,
                DemoMariaDb.USER, password);
    }

    /** Row count of each table the user sees in {@link DemoMariaDb#DATABASE}. */
    private static Map<String, Long> tables(Connection c) throws SQLException {
        Map<String, Long> counts = new LinkedHashMap<>();
        List<String> names = new ArrayList<>();
        try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SHOW TABLES")) {
            while (rs.next()) names.add(rs.getString(1));
        }
        for (String name : names) {
            try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM " + name)) {
                rs.next();
                counts.put(name, rs.getLong(1));
            }
        }
        return counts;
    }

    @Test
    void theUserSeesTheDemoTablesOnlyAndKeepsThemAcrossRestarts() throws Exception {
        String password;
        Map<String, Long> before;
        try (DemoMariaDb db = DemoMariaDb.start(dir, 0)) {
            assertThat(DemoMariaDb.VERSION).isEqualTo("11.4.5");
            assertThat(db.host()).isEqualTo("127.0.0.1");
            password = db.password();
            assertThat(password).hasSizeGreaterThanOrEqualTo(32);
            Path passwordFile = dir.resolve("user-password");
            assertThat(Files.readString(passwordFile)).isEqualTo(password);
            assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(passwordFile))).isEqualTo("rw-------");
            try (Connection c = connect(db, password)) {
                before = tables(c);
                assertThat(before).containsOnlyKeys("customers", "orders", "payouts");
                assertThat(before).allSatisfy((table, rows) -> assertThat(rows).as(table).isPositive());
                assertThat(before.get("customers")).isEqualTo(5);
                assertThat(before.get("orders")).isEqualTo(50);
                try (Statement s = c.createStatement();
                     ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM orders o JOIN customers c ON c.id = o.customer_id"
                             + " WHERE o.amount >= 0 AND o.created_at IS NOT NULL")) {
                    rs.next();
                    assertThat(rs.getLong(1)).isEqualTo(50);
                }
                try (Statement s = c.createStatement()) {
                    assertThatThrownBy(() -> s.execute("CREATE DATABASE other"))
                            .isInstanceOf(SQLException.class).hasMessageContaining("Access denied");
                    List<String> grants = new ArrayList<>();
                    try (ResultSet rs = s.executeQuery("SHOW GRANTS")) {
                        while (rs.next()) grants.add(rs.getString(1));
                    }
                    assertThat(grants).hasSize(2);
                    assertThat(grants.get(0)).startsWith("GRANT USAGE ON *.* TO `gatehouse_demo`@`127.0.0.1`");
                    assertThat(grants.get(1)).isEqualTo("GRANT ALL PRIVILEGES ON `demo`.* TO `gatehouse_demo`@`127.0.0.1`");
                    List<String> databases = new ArrayList<>();
                    try (ResultSet rs = s.executeQuery("SHOW DATABASES")) {
                        while (rs.next()) databases.add(rs.getString(1));
                    }
                    assertThat(databases).containsExactlyInAnyOrder("demo", "information_schema");
                    // a change of the user's, to be kept
                    s.execute("INSERT INTO payouts (note, amount) VALUES ('kept', 1.50)");
                    before.merge("payouts", 1L, Long::sum);
                    // no general query log
                    try (ResultSet rs = s.executeQuery("SELECT @@general_log")) {
                        rs.next();
                        assertThat(rs.getInt(1)).isZero();
                    }
                }
            }
            assertThatThrownBy(() -> connect(db, "wrong")).isInstanceOf(SQLException.class)
                    .hasMessageContaining("Access denied");
        }

        try (DemoMariaDb db = DemoMariaDb.start(dir, 0)) {
            assertThat(db.password()).isEqualTo(password);
            try (Connection c = connect(db, password)) {
                assertThat(tables(c)).isEqualTo(before);
                try (Statement s = c.createStatement(); ResultSet rs = s.executeQuery("SELECT COUNT(*) FROM payouts WHERE note = 'kept'")) {
                    rs.next();
                    assertThat(rs.getLong(1)).isEqualTo(1);
                }
            }
        }
    }

    @Test
    void anEmptiedTableIsSeededAgainAtTheNextStart() throws Exception {
        String password;
        try (DemoMariaDb db = DemoMariaDb.start(dir, 0); Connection c = connect(db, db.password());
             Statement s = c.createStatement()) {
            password = db.password();
            s.execute("DELETE FROM orders");
            s.execute("DELETE FROM customers");
        }
        try (DemoMariaDb db = DemoMariaDb.start(dir, 0); Connection c = connect(db, password)) {
            Map<String, Long> tables = tables(c);
            assertThat(tables.get("customers")).isEqualTo(5);
            assertThat(tables.get("orders")).as("of the new customers' ids").isEqualTo(50);
        }
    }
}
