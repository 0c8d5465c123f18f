package dev.gatehouse.policy.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.Verdict;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The decider answers SessionRequested with the policy's connect rules, idempotently by request id. */
class PolicyDeciderConnectTest {

    private static final ConnectionRef PROD = new ConnectionRef("orders-prod", "postgres", "db:5432/orders", Map.of("env", "prod"));

    private static final String POLICY = """
            id: p
            version: v1
            default: allow
            rules:
              - id: interns-not-on-prod
                on: connect
                scope: {connection_labels: {env: prod}}
                when: '"intern" in identity.groups && time.hour >= 0'
                action: deny
                reason: interns work on staging
            """;

    private static AuditEvent.SessionRequested requested(String subject, String... groups) {
        Identity identity = new Identity(subject, "https://issuer.example", List.of(groups), List.of(), Map.of(), null);
        return new AuditEvent.SessionRequested(
                new EventHeader("e-" + subject, new SessionId("s-" + subject), Instant.parse("2026-11-24T10:00:00Z"), "edge", "edge-1"),
                CommandId.random(), identity, PROD, "10.0.0.7", "app", "psql", "edge-1", 5, "enforce");
    }

    @Test
    void aConnectIsDecidedByConnectRulesWithSequenceZeroAndTheRequestIdAsCommandId() throws Exception {
        // Given
        PolicyDecider decider = new PolicyDecider(new PolicyEvaluator(Policy.parse(POLICY)), "policy-1");
        AuditEvent.SessionRequested intern = requested("ivy", "intern");
        AuditEvent.SessionRequested dba = requested("alice", "dba");

        // When
        AuditEvent.DecisionMade refused = decider.apply(intern);
        AuditEvent.DecisionMade allowed = decider.apply(dba);

        // Then
        assertThat(refused.decision()).isEqualTo(new Decision.Deny(intern.requestId(), "interns-not-on-prod",
                "interns work on staging", "v1"));
        assertThat(refused.commandId()).isEqualTo(intern.requestId());
        assertThat(refused.sequence()).isZero();
        assertThat(refused.sessionId()).isEqualTo(intern.sessionId());
        assertThat(refused.edgeId()).isEqualTo("edge-1");
        assertThat(refused.replyPartition()).isEqualTo(5);
        assertThat(refused.mode()).isEqualTo("enforce");
        assertThat(allowed.decision().verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(allowed.decision().ruleId()).isEqualTo("default");
    }

    @Test
    void aRedeliveredConnectGetsTheSameDecisionEvenAfterAPolicyChange() throws Exception {
        // Given
        PolicyDecider decider = new PolicyDecider(new PolicyEvaluator(Policy.parse(POLICY)), "policy-1");
        AuditEvent.SessionRequested intern = requested("ivy", "intern");
        AuditEvent.DecisionMade first = decider.apply(intern);
        decider.activate(new PolicyEvaluator(Policy.parse("""
                id: p
                version: v2
                default: allow
                rules: []
                """)));

        // When
        AuditEvent.DecisionMade again = decider.apply(intern);
        AuditEvent.DecisionMade fresh = decider.apply(requested("ivy", "intern"));

        // Then
        assertThat(again).isSameAs(first);
        assertThat(fresh.decision().verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(fresh.decision().policyVersion()).isEqualTo("v2");
    }
}
