package dev.gatehouse.policy.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DryRunVerdict;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import dev.gatehouse.platform.core.Verdict;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import java.time.Instant;
import java.time.ZoneId;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class PolicyDeciderTest {

    private static final SessionId SESSION = new SessionId("s-1");
    private static final Identity BOB = new Identity("bob", "https://issuer.example", List.of("dev"), List.of(), Map.of(), null);
    private static final ConnectionRef DEMO = new ConnectionRef("demo", "postgres", "db:5432/demo", Map.of("env", "prod"));

    private static final String NO_DDL = """
            id: p
            version: v1
            default: allow
            rules:
              - {id: no-ddl, when: '"ddl" in command.kinds', action: deny, reason: no DDL}
            """;
    private static final String APPROVE_DDL = """
            id: p
            version: v2
            default: deny
            rules:
              - id: approve-ddl
                when: '"ddl" in command.kinds'
                action: require_approval
                approval: {group: dba, count: 2}
                reason: DDL needs two DBAs
              - {id: reads, when: '"read" in command.kinds', action: allow}
            """;

    @Test
    void decidesWithTheActivePolicyAndRecordsTheRouting() throws Exception {
        // Given
        PolicyDecider decider = new PolicyDecider(evaluator(NO_DDL), "policy-1");
        AuditEvent.CommandReceived drop = received(ddl(), Instant.parse("2026-11-24T10:00:00Z"));

        // When
        AuditEvent.DecisionMade made = decider.apply(drop);

        // Then
        assertThat(made.decision()).isEqualTo(new Decision.Deny(drop.command().id(), "no-ddl", "no DDL", "v1"));
        assertThat(made.commandId()).isEqualTo(drop.command().id());
        assertThat(made.edgeId()).isEqualTo("edge-1");
        assertThat(made.replyPartition()).isEqualTo(4);
        assertThat(made.header().service()).isEqualTo("policy");
        assertThat(made.dryRun()).isEmpty();
    }

    @Test
    void aCommandTheEdgeRefusedIsNeverDecided() throws Exception {
        // Given: the edge refused a DROP TABLE itself (a pinned setting), before asking for a decision
        PolicyDecider decider = new PolicyDecider(evaluator(NO_DDL), "policy-1");
        AuditEvent.CommandReceived plain = received(ddl(), Instant.parse("2026-11-24T10:00:00Z"));
        AuditEvent.CommandReceived refused = new AuditEvent.CommandReceived(plain.header(), plain.command(),
                plain.identity(), plain.connection(), plain.edgeId(), plain.replyPartition(), plain.mode(),
                plain.sessionStartedAt(), plain.clientAddress(), "client_encoding is pinned to UTF8 by Gatehouse");

        // Then: no decision is made (none could be written), and none is remembered for a redelivery
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> decider.apply(refused))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("refused by the edge");
        assertThat(decider.apply(plain).decision().verdict()).isEqualTo(Verdict.DENY);
    }

    @Test
    void aStagedPolicysDecisionIsRecordedAsADryRunVerdictAndChangesNothing() throws Exception {
        // Given
        PolicyDecider decider = new PolicyDecider(evaluator(NO_DDL), "policy-1");
        decider.activate(evaluator(NO_DDL), evaluator(APPROVE_DDL));

        // When
        AuditEvent.DecisionMade drop = decider.apply(received(ddl(), Instant.parse("2026-11-24T10:00:00Z")));
        AuditEvent.DecisionMade insert = decider.apply(received(insert(), Instant.parse("2026-11-24T10:00:01Z")));

        // Then
        assertThat(drop.decision().verdict()).isEqualTo(Verdict.DENY);
        assertThat(drop.decision().policyVersion()).isEqualTo("v1");
        assertThat(drop.dryRun()).containsExactly(
                new DryRunVerdict("approve-ddl", Verdict.REQUIRE_APPROVAL, "DDL needs two DBAs", "v2", true, "dba", 2, null));
        assertThat(insert.decision().verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(insert.dryRun()).containsExactly(new DryRunVerdict("default", Verdict.DENY,
                "no rule matched; the policy's default is deny", "v2", true, null, 0, null));
        assertThat(decider.staged()).hasValueSatisfying(s -> assertThat(s.policy().version()).isEqualTo("v2"));
    }

    @Test
    void dryRunRulesComeBeforeTheStagedVerdict() throws Exception {
        // Given
        PolicyDecider decider = new PolicyDecider(evaluator("""
                id: p
                version: v3
                default: allow
                rules:
                  - {id: try-no-writes, when: '"write" in command.kinds', action: deny, reason: no writes, dry_run: true}
                """), "policy-1");
        decider.activate(decider.active(), evaluator(NO_DDL));

        // When
        AuditEvent.DecisionMade made = decider.apply(received(insert(), Instant.parse("2026-11-24T10:00:00Z")));

        // Then
        assertThat(made.decision().verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(made.dryRun()).extracting(DryRunVerdict::ruleId, DryRunVerdict::staged, DryRunVerdict::policyVersion)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("try-no-writes", false, "v3"),
                        org.assertj.core.groups.Tuple.tuple("default", true, "v1"));
    }

    @Test
    void activatingWithoutAStagedPolicyDropsIt() throws Exception {
        // Given
        PolicyDecider decider = new PolicyDecider(evaluator(NO_DDL), "policy-1");
        decider.activate(evaluator(NO_DDL), evaluator(APPROVE_DDL));

        // When
        decider.activate(evaluator(APPROVE_DDL));
        AuditEvent.DecisionMade made = decider.apply(received(ddl(), Instant.parse("2026-11-24T10:00:00Z")));

        // Then
        assertThat(decider.staged()).isEmpty();
        assertThat(made.decision()).isInstanceOf(Decision.RequireApproval.class);
        assertThat(made.dryRun()).isEmpty();
    }

    @Test
    void aRedeliveredCommandGetsTheIdenticalDecisionEvenAfterANewPolicy() throws Exception {
        // Given
        PolicyDecider decider = new PolicyDecider(evaluator(NO_DDL), "policy-1");
        AuditEvent.CommandReceived drop = received(ddl(), Instant.parse("2026-11-24T10:00:00Z"));
        AuditEvent.DecisionMade first = decider.apply(drop);
        decider.activate(evaluator(APPROVE_DDL));

        // When
        AuditEvent.DecisionMade again = decider.apply(drop);
        AuditEvent.DecisionMade otherCommand = decider.apply(received(ddl(), Instant.parse("2026-11-24T10:00:00Z")));

        // Then
        assertThat(again).isEqualTo(first);
        assertThat(again.decision()).isEqualTo(new Decision.Deny(drop.command().id(), "no-ddl", "no DDL", "v1"));
        assertThat(otherCommand.decision()).isInstanceOf(Decision.RequireApproval.class);
    }

    @Test
    void theCacheIsBoundedAndForgetsTheLeastRecentlyUsed() throws Exception {
        // Given
        PolicyDecider decider = new PolicyDecider(evaluator(NO_DDL), "policy-1", ZoneId.of("UTC"), 2);
        AuditEvent.CommandReceived a = received(ddl(), Instant.parse("2026-11-24T10:00:00Z"));
        AuditEvent.CommandReceived b = received(ddl(), Instant.parse("2026-11-24T10:00:01Z"));
        AuditEvent.CommandReceived c = received(ddl(), Instant.parse("2026-11-24T10:00:02Z"));
        decider.apply(a);
        decider.apply(b);
        decider.apply(a);
        decider.apply(c);
        decider.activate(evaluator(APPROVE_DDL));

        // When
        AuditEvent.DecisionMade aAgain = decider.apply(a);
        AuditEvent.DecisionMade bAgain = decider.apply(b);

        // Then a was used recently and is remembered; b was the eldest and is decided anew
        assertThat(aAgain.decision().policyVersion()).isEqualTo("v1");
        assertThat(bAgain.decision().policyVersion()).isEqualTo("v2");
    }

    @Test
    void timeFactsUseTheCommandsRecordedTimeInTheDecidersZone() throws Exception {
        // Given 23:30 UTC on a Monday is 00:30 on Tuesday in Berlin
        String policy = """
                id: p
                version: v1
                default: allow
                rules:
                  - id: no-ddl-at-night
                    when: '"ddl" in command.kinds && (time.hour < 7 || time.hour >= 20)'
                    action: deny
                    reason: no DDL outside working hours
                  - id: tuesday-marker
                    when: 'time.day_of_week == "tuesday"'
                    action: deny
                    reason: tuesday
                """;
        PolicyDecider berlin = new PolicyDecider(evaluator(policy), "policy-1", ZoneId.of("Europe/Berlin"));
        PolicyDecider utc = new PolicyDecider(evaluator(policy), "policy-1");
        Instant lateMonday = Instant.parse("2026-11-23T23:30:00Z");

        // When
        AuditEvent.DecisionMade select = berlin.apply(received(select(), lateMonday));
        AuditEvent.DecisionMade selectUtc = utc.apply(received(select(), lateMonday));
        AuditEvent.DecisionMade morningDdl = berlin.apply(received(ddl(), Instant.parse("2026-11-24T08:00:00Z")));

        // Then
        assertThat(select.decision().ruleId()).isEqualTo("tuesday-marker");
        assertThat(selectUtc.decision().ruleId()).isEqualTo("default");
        assertThat(morningDdl.decision().ruleId()).isEqualTo("tuesday-marker");
    }

    @Test
    void sessionFactsComeFromTheRecordedCommand() throws Exception {
        // Given
        PolicyDecider decider = new PolicyDecider(evaluator("""
                id: p
                version: v1
                default: allow
                rules:
                  - id: outside-office
                    when: '!session.client_address.startsWith("10.")'
                    action: deny
                    reason: only from the office network
                """), "policy-1");
        Instant at = Instant.parse("2026-11-24T10:00:00Z");
        AuditEvent.CommandReceived office = received(select(), at, "10.0.0.5");
        AuditEvent.CommandReceived home = received(select(), at, "192.168.1.9");

        // When
        AuditEvent.DecisionMade fromOffice = decider.apply(office);
        AuditEvent.DecisionMade fromHome = decider.apply(home);

        // Then
        assertThat(fromOffice.decision().verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(fromHome.decision().ruleId()).isEqualTo("outside-office");
    }

    private static PolicyEvaluator evaluator(String yaml) throws Exception {
        return new PolicyEvaluator(Policy.parse(yaml));
    }

    private static AuditEvent.CommandReceived received(SqlCommand command, Instant at) {
        return received(command, at, "10.0.0.5");
    }

    private static AuditEvent.CommandReceived received(SqlCommand command, Instant at, String client) {
        EventHeader header = new EventHeader(UUID.randomUUID().toString(), SESSION, at, "edge", "edge-1");
        return new AuditEvent.CommandReceived(header, command, BOB, DEMO, "edge-1", 4, "enforce",
                at.minusSeconds(3600), client);
    }

    private static SqlCommand ddl() {
        return command("DROP TABLE t", new StatementAnalysis(StatementKind.DDL, "DROP TABLE", "TABLE", List.of(),
                List.of("t"), List.of(), false));
    }

    private static SqlCommand insert() {
        return command("INSERT INTO t VALUES (1)", new StatementAnalysis(StatementKind.WRITE, "INSERT", null, List.of(),
                List.of("t"), List.of(), false));
    }

    private static SqlCommand select() {
        return command("SELECT 1", new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of(), List.of(),
                List.of(), false));
    }

    private static SqlCommand command(String sql, StatementAnalysis statement) {
        // receivedAt deliberately far from the header's timestamp: time facts must come from the header
        return new SqlCommand(CommandId.random(), SESSION, 1, Instant.EPOCH, SqlCommand.Form.SIMPLE_QUERY, sql, List.of(),
                new SqlAnalysis(true, null, "fp", List.of(statement)));
    }
}
