package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Verdict;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A connection in observe mode ({@code demo-observe}) forwards every command once it is in the
 * log, without waiting for the policy; the policy still decides, and what it would have denied is
 * in the log for review.
 */
class ObserveModeIT {
    private final Gateway gw = Gateway.get();
    private final String table = "observe_scratch_" + UUID.randomUUID().toString().replace("-", "").substring(0, 12);

    @BeforeEach
    void createScratchTable() throws Exception {
        try (var c = gw.targetDirect(DemoTarget.DATABASE); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, n int NOT NULL)");
            s.execute("INSERT INTO " + table + " VALUES (1, 1), (2, 10)");
            s.execute("GRANT SELECT, UPDATE ON " + table + " TO " + DemoTarget.ROLE);
        }
    }

    @AfterEach
    void dropScratchTable() throws Exception {
        try (var c = gw.targetDirect(DemoTarget.DATABASE); Statement s = c.createStatement()) {
            s.execute("DROP TABLE IF EXISTS " + table);
        }
    }

    @Test
    void aStatementThePolicyWouldDenyRunsAndTheDenialIsRecorded() throws Exception {
        // Given
        String sql = "UPDATE " + table + " SET n = n + 1";

        // When
        var r = gw.psql("alice", "demo-observe", null, "-c", sql);

        // Then
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("UPDATE 2");
        try (var c = gw.targetDirect(DemoTarget.DATABASE); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT sum(n) FROM " + table)) {
            rs.next();
            assertThat(rs.getInt(1)).as("both rows were updated at the target").isEqualTo(13);
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> all = gw.audit();
            var received = all.stream()
                    .filter(e -> e instanceof AuditEvent.CommandReceived cr && cr.command().sql().equals(sql))
                    .map(AuditEvent.CommandReceived.class::cast).toList();
            assertThat(received).hasSize(1);
            var command = received.getFirst();
            assertThat(command.mode()).isEqualTo("observe");
            assertThat(command.connection().name()).isEqualTo("demo-observe");
            var session = gw.audit(command.sessionId());
            assertThat(session).filteredOn(AuditEvent.SessionOpened.class::isInstance)
                    .map(e -> ((AuditEvent.SessionOpened) e).mode()).containsExactly("observe");
            assertThat(session).filteredOn(e -> e instanceof AuditEvent.DecisionMade d
                            && d.commandId().equals(command.command().id()))
                    .map(AuditEvent.DecisionMade.class::cast)
                    .singleElement()
                    .satisfies(d -> {
                        assertThat(d.decision().verdict()).isEqualTo(Verdict.DENY);
                        assertThat(d.decision().ruleId()).isEqualTo("no-update-delete-without-where");
                        assertThat(d.mode()).isEqualTo("observe");
                    });
            assertThat(session).filteredOn(e -> e instanceof AuditEvent.CommandCompleted cc
                            && cc.commandId().equals(command.command().id()))
                    .map(AuditEvent.CommandCompleted.class::cast)
                    .singleElement()
                    .satisfies(cc -> {
                        assertThat(cc.outcome().forwarded()).isTrue();
                        assertThat(cc.outcome().commandTags()).containsExactly("UPDATE 2");
                        assertThat(cc.outcome().rows()).isEqualTo(2);
                        assertThat(cc.outcome().sqlState()).isNull();
                    });
        });
    }

    @Test
    void theSameStatementIsDeniedOnTheEnforcedConnectionToTheSameDatabase() throws Exception {
        // When
        var r = gw.psql("alice", "demo", null, "-c", "UPDATE " + table + " SET n = n + 1");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("denied by rule \"no-update-delete-without-where\"");
        try (var c = gw.targetDirect(DemoTarget.DATABASE); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT sum(n) FROM " + table)) {
            rs.next();
            assertThat(rs.getInt(1)).as("nothing changed at the target").isEqualTo(11);
        }
    }
}
