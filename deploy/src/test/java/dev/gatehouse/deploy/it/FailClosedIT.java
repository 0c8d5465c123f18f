package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.kafka.EmbeddedKafka;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Fail closed: an edge whose commands get no decision (no policy service on its log), or whose
 * log is gone (broker stopped), rejects every command and nothing of it reaches the target.
 * This edge has a Kafka of its own, so stopping it disturbs no other test.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailClosedIT {
    private static final Gateway gw = Gateway.get();
    private static EmbeddedKafka kafka;
    private static GatehouseRuntime edgeOnly;

    @BeforeAll
    static void startEdgeWithoutPolicy() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-failclosed-");
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
        GatehouseConfig config = EdgeConfigs.edge("edge-failclosed", dir, kafka.bootstrapServers(), "2s",
                EdgeConfigs.plaintextListener("2s"), List.of(EdgeConfigs.connection("demo", gw.env.target(), "enforce")));
        edgeOnly = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
    }

    @AfterAll
    static void stop() {
        if (edgeOnly != null) edgeOnly.close();
        if (kafka != null) kafka.close();
    }

    @Test
    @Order(1)
    void noDecisionWithinTheDeadlineRejectsTheCommandAndNothingRuns() throws Exception {
        // Given
        String table = "failclosed_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = connect()) {
            // When / Then
            assertThatThrownBy(() -> c.createStatement().execute("CREATE TABLE " + table + " (id int)"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("the command was not executed")
                    .hasMessageContaining("no decision within");
        }
        assertThat(tableExists(table)).isFalse();
    }

    @Test
    @Order(2) // stops this test's broker: last
    void withTheBrokerStoppedNothingReachesTheTarget() throws Exception {
        // Given: a live session, then the log goes away
        String table = "brokerdown_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        try (Connection c = connect()) {
            kafka.close();

            // When / Then
            assertThatThrownBy(() -> c.createStatement().execute("CREATE TABLE " + table + " (id int)"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("the command was not executed");
        }
        assertThat(tableExists(table)).isFalse();

        // and a new session is refused, as it cannot be recorded
        assertThatThrownBy(FailClosedIT::connect)
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("audit log");
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + edgeOnly.edgePort() + "/demo?sslmode=disable&assumeMinServerVersion=15",
                "alice", gw.token("alice", "dba"));
    }

    private static boolean tableExists(String table) throws SQLException {
        try (Connection c = gw.targetDirect("demo"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT to_regclass('public." + table + "') IS NOT NULL")) {
            rs.next();
            return rs.getBoolean(1);
        }
    }
}
