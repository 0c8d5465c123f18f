package dev.gatehouse.deploy.it;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Verdict;
import org.junit.jupiter.api.Test;

import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** psql through the edge: queries, meta-commands, denials, and what the audit log says. */
class PsqlIT {
    private final Gateway gw = Gateway.get();

    @Test
    void selectsThroughTheEdge() throws Exception {
        // When
        var r = gw.psql("alice", "demo", null, "-At", "-c", "SELECT name FROM customers ORDER BY id LIMIT 1");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout().trim()).isEqualTo("Ada Lovelace");
    }

    @Test
    void metaCommandsWork() throws Exception {
        // When
        var r = gw.psql("alice", "demo", null, "-c", "\\d customers", "-c", "\\dt", "-c", "\\l");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("Table \"public.customers\"").contains("orders").contains("demo");
    }

    @Test
    void createDatabaseIsDeniedAndNeverReachesTheTarget() throws Exception {
        // Given
        String name = "forgotten_ci_" + UUID.randomUUID().toString().substring(0, 8);

        // When
        var r = gw.psql("alice", "demo", null, "-c", "CREATE DATABASE " + name);

        // Then
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr()).contains("denied by rule \"no-create-drop-database\"");
        try (var c = gw.targetDirect("postgres"); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM pg_database WHERE datname = '" + name + "'")) {
            rs.next();
            assertThat(rs.getInt(1)).isZero();
        }
    }

    @Test
    void everyCommandIsRecordedDecidedAndCompletedInOrder() throws Exception {
        // Given
        String marker = "marker_" + UUID.randomUUID().toString().replace("-", "");

        // When
        var r = gw.psql("alice", "demo", null, "-At", "-c", "SELECT '" + marker + "' AS m");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains(marker);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> all = gw.audit();
            var received = all.stream().filter(e -> e instanceof AuditEvent.CommandReceived cr
                    && cr.command().sql().contains(marker)).map(AuditEvent.CommandReceived.class::cast).findFirst();
            assertThat(received).isPresent();
            var session = gw.audit(received.get().sessionId());
            int iOpened = indexOf(session, e -> e instanceof AuditEvent.SessionOpened);
            int iReceived = indexOf(session, e -> e instanceof AuditEvent.CommandReceived cr && cr.command().sql().contains(marker));
            int iDecided = indexOf(session, e -> e instanceof AuditEvent.DecisionMade d
                    && d.commandId().equals(received.get().command().id()));
            int iCompleted = indexOf(session, e -> e instanceof AuditEvent.CommandCompleted cc
                    && cc.commandId().equals(received.get().command().id()));
            int iClosed = indexOf(session, e -> e instanceof AuditEvent.SessionClosed);
            assertThat(iOpened).isGreaterThanOrEqualTo(0);
            assertThat(iReceived).isGreaterThan(iOpened);
            assertThat(iDecided).isGreaterThan(iReceived);
            assertThat(iCompleted).isGreaterThan(iDecided);
            assertThat(iClosed).isGreaterThan(iCompleted);
            var opened = (AuditEvent.SessionOpened) session.get(iOpened);
            assertThat(opened.identity().subject()).isEqualTo("alice");
            assertThat(opened.identity().groups()).contains("dba");
            assertThat(opened.connection().name()).isEqualTo("demo");
            var decided = (AuditEvent.DecisionMade) session.get(iDecided);
            assertThat(decided.decision().verdict()).isEqualTo(Verdict.ALLOW);
            var completed = (AuditEvent.CommandCompleted) session.get(iCompleted);
            assertThat(completed.outcome().forwarded()).isTrue();
            assertThat(completed.outcome().commandTags()).containsExactly("SELECT 1");
            assertThat(completed.outcome().rows()).isEqualTo(1);
            assertThat(completed.outcome().txStatus()).isEqualTo("I");
            assertThat(received.get().command().analysis().tags()).containsExactly("SELECT");
        });
    }

    @Test
    void aBadTokenIsRefusedWithAnAuthenticationErrorAndRecorded() throws Exception {
        // When
        var r = gw.run("not-a-token", null, "psql", "-X", "-U", "mallory", "-d", "demo", "-c", "SELECT 1");

        // Then
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("Gatehouse authentication failed").doesNotContain("not-a-token");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gw.audit()).anySatisfy(e -> {
            assertThat(e).isInstanceOf(AuditEvent.SessionRejected.class);
            assertThat(((AuditEvent.SessionRejected) e).databaseUser()).isEqualTo("mallory");
        }));
    }

    @Test
    void anUnknownConnectionIsRefusedClearly() throws Exception {
        // When
        var r = gw.psql("alice", "nonexistent", null, "-c", "SELECT 1");

        // Then
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("connection \"nonexistent\" is not configured in Gatehouse");
    }

    @Test
    void ddlIsDeniedToCiButAllowedToDba() throws Exception {
        // Given
        String table = "t_" + UUID.randomUUID().toString().replace("-", "").substring(0, 10);

        // When
        var ci = gw.run(gw.token("ci-bot", "ci"), null, "psql", "-X", "-U", "ci-bot", "-d", "demo", "-c",
                "CREATE TABLE " + table + " (id int)");
        var dba = gw.psql("alice", "demo", null, "-c", "CREATE TABLE " + table + " (id int)", "-c", "DROP TABLE " + table);

        // Then
        assertThat(ci.exitCode()).isNotZero();
        assertThat(ci.stderr()).contains("denied by rule \"ci-no-ddl\"");
        assertThat(dba.exitCode()).as(dba.toString()).isZero();
    }

    private static int indexOf(List<AuditEvent> events, java.util.function.Predicate<AuditEvent> p) {
        for (int i = 0; i < events.size(); i++) if (p.test(events.get(i))) return i;
        return -1;
    }
}
