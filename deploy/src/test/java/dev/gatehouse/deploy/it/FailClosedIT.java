package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.DecisionService;
import dev.gatehouse.dev.EmbeddedKafka;
import dev.gatehouse.platform.kafka.EventSerde;
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
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Fail closed: an edge whose connection attempts get no decision (no policy service on its log)
 * refuses the session; one whose commands get no decision (a policy service that answers
 * connects only), or whose log is gone (broker stopped), rejects every command and nothing of it
 * reaches the target. This edge has a Kafka of its own, so stopping it disturbs no other test.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class FailClosedIT {
    private static final Gateway gw = Gateway.get();
    private static EmbeddedKafka kafka;
    private static GatehouseRuntime edgeOnly;
    private static DecisionService connectsOnly;

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
        if (connectsOnly != null) connectsOnly.close();
        if (edgeOnly != null) edgeOnly.close();
        if (kafka != null) kafka.close();
    }

    @Test
    @Order(1)
    void noDecisionAboutTheConnectionWithinTheDeadlineRefusesTheSession() {
        // Given: no policy service reads this edge's log

        // When / Then
        assertThatThrownBy(FailClosedIT::connect)
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("58000"))
                .hasMessageContaining("connection to demo refused")
                .hasMessageContaining("no decision within");
    }

    @Test
    @Order(2)
    void noDecisionWithinTheDeadlineRejectsTheCommandAndNothingRuns() throws Exception {
        // Given: a policy service that allows every connection and leaves every command undecided
        startConnectsOnlyPolicy();
        String table = "failclosed_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);
        // the policy service answers once its consumer group has its partitions
        try (Connection c = await().atMost(Duration.ofSeconds(60)).ignoreExceptions()
                .until(FailClosedIT::connect, java.util.Objects::nonNull)) {
            // When / Then
            assertThatThrownBy(() -> c.createStatement().execute("CREATE TABLE " + table + " (id int)"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("the command was not executed")
                    .hasMessageContaining("no decision within");
        }
        assertThat(tableExists(table)).isFalse();
    }

    @Test
    @Order(3) // stops this test's broker: last
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

    /** Answers connects with allow, and commands with a decision about another command: the edge keeps waiting. */
    private static void startConnectsOnlyPolicy() {
        AuditEventCodec codec = new AuditEventCodec();
        connectsOnly = new DecisionService(DecisionService.Settings.of(kafka.bootstrapServers(), "failclosed-policy"),
                EventSerde.of(codec::encode, codec::decode), request -> {
                    CommandId answered = request instanceof AuditEvent.SessionRequested r ? r.requestId() : CommandId.random();
                    return new AuditEvent.DecisionMade(EventHeader.now(request.sessionId(), "policy", "failclosed-policy"),
                            answered, 0, new Decision.Allow(answered, "test", "connects only", "v1"), request.edgeId(),
                            request.replyPartition(), request.mode(), Duration.ZERO);
                }, null);
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
