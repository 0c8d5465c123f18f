package dev.gatehouse.policy.service;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.kafka.PolicyLog;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

class PolicyActivatorTest {

    private final List<AuditEvent> audit = new ArrayList<>();
    private final SimpleMeterRegistry meters = new SimpleMeterRegistry();
    private final PolicyDecider decider = new PolicyDecider(new PolicyEvaluator(Policy.parse(doc("v0"))), "policy-1");
    private final PolicyActivator activator = new PolicyActivator(decider, "policy-1", event -> {
        audit.add(event);
        return CompletableFuture.completedFuture(null);
    }, meters);
    private long offset;

    PolicyActivatorTest() throws Exception {
    }

    private static String doc(String version) {
        return """
                id: p
                version: %s
                default: allow
                rules:
                  - {id: no-ddl, when: '"ddl" in command.kinds', action: deny, reason: no DDL}
                """.formatted(version);
    }

    private PolicyLog.Entry entry(PolicyLog.Kind kind, String version, String document) {
        PolicyLog.Entry e = PolicyLog.Entry.of(kind, "p", version, document, "alice");
        return new PolicyLog.Entry(e.kind(), e.policyId(), e.version(), e.sha256(), e.appliedBy(), e.appliedAt(), e.document(),
                offset++);
    }

    private List<AuditEvent.PolicyActivated> activations() {
        return audit.stream().map(AuditEvent.PolicyActivated.class::cast).toList();
    }

    @Test
    void aNewActiveVersionIsSwappedInAndAudited() {
        // When version v1 arrives
        activator.accept(entry(PolicyLog.Kind.ACTIVE, "v1", doc("v1")));

        // Then it decides, and its activation names the instance and who applied it
        assertThat(decider.active().policy().version()).isEqualTo("v1");
        assertThat(activations()).singleElement().satisfies(a -> {
            assertThat(a.version()).isEqualTo("v1");
            assertThat(a.appliedBy()).isEqualTo("alice");
            assertThat(a.staged()).isFalse();
            assertThat(a.header().instance()).isEqualTo("policy-1");
            assertThat(a.header().sessionId()).isEqualTo(PolicyActivator.POLICY_EVENTS);
            assertThat(a.sha256()).isEqualTo(PolicyLog.sha256(doc("v1")));
        });
    }

    @Test
    void aVersionWithATypeErrorIsNeverActivated() {
        // Given v1 in force
        activator.accept(entry(PolicyLog.Kind.ACTIVE, "v1", doc("v1")));

        // When a version whose condition does not type-check arrives
        activator.accept(entry(PolicyLog.Kind.ACTIVE, "v2", doc("v2").replace("\"ddl\" in command.kinds", "command.kinds == 1")));

        // Then v1 stays, nothing is audited for v2, and the refusal is counted
        assertThat(decider.active().policy().version()).isEqualTo("v1");
        assertThat(activations()).extracting(AuditEvent.PolicyActivated::version).containsExactly("v1");
        assertThat(meters.get("gatehouse.policy.rejected").counter().count()).isEqualTo(1.0);
    }

    @Test
    void stagingRunsBesideTheActiveVersionUntilEnforcedOrWithdrawn() {
        // Given v1 active
        activator.accept(entry(PolicyLog.Kind.ACTIVE, "v1", doc("v1")));

        // When v2 is staged, then enforced
        activator.accept(entry(PolicyLog.Kind.STAGED, "v2", doc("v2")));
        assertThat(decider.active().policy().version()).isEqualTo("v1");
        assertThat(decider.staged()).hasValueSatisfying(s -> assertThat(s.policy().version()).isEqualTo("v2"));
        activator.accept(entry(PolicyLog.Kind.ACTIVE, "v2", doc("v2")));

        // Then enforcing it ended its staging
        assertThat(decider.active().policy().version()).isEqualTo("v2");
        assertThat(decider.staged()).isEmpty();

        // When v3 is staged and withdrawn
        activator.accept(entry(PolicyLog.Kind.STAGED, "v3", doc("v3")));
        activator.accept(new PolicyLog.Entry(PolicyLog.Kind.UNSTAGED, null, null, null, "bob", java.time.Instant.now(), null, offset++));

        // Then nothing is staged, v2 decides, and every step was audited in order
        assertThat(decider.staged()).isEmpty();
        assertThat(decider.active().policy().version()).isEqualTo("v2");
        assertThat(activations()).extracting(a -> a.version() + (a.staged() ? " staged" : ""))
                .containsExactly("v1", "v2 staged", "v2", "v3 staged");
    }

    @Test
    void theLogReadAtStartActivatesOnlyTheVersionItEndsWith() {
        // When an instance starts on a log of three versions
        activator.acceptAll(List.of(entry(PolicyLog.Kind.ACTIVE, "v1", doc("v1")),
                entry(PolicyLog.Kind.ACTIVE, "v2", doc("v2")), entry(PolicyLog.Kind.ACTIVE, "v3", doc("v3"))));

        // Then only the last one is activated and audited
        assertThat(decider.active().policy().version()).isEqualTo("v3");
        assertThat(activations()).extracting(AuditEvent.PolicyActivated::version).containsExactly("v3");
    }

    @Test
    void aRollbackToAnEarlierVersionActivatesItAgain() {
        // Given v1 then v2
        activator.accept(entry(PolicyLog.Kind.ACTIVE, "v1", doc("v1")));
        activator.accept(entry(PolicyLog.Kind.ACTIVE, "v2", doc("v2")));

        // When v1 is applied again
        activator.accept(entry(PolicyLog.Kind.ACTIVE, "v1", doc("v1")));

        // Then v1 decides again
        assertThat(decider.active().policy().version()).isEqualTo("v1");
        assertThat(activations()).extracting(AuditEvent.PolicyActivated::version).containsExactly("v1", "v2", "v1");
    }
}
