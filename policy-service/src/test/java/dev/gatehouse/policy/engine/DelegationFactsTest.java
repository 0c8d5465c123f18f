package dev.gatehouse.policy.engine;

import static dev.gatehouse.policy.engine.TestFacts.command;
import static dev.gatehouse.policy.engine.TestFacts.ddl;
import static dev.gatehouse.policy.engine.TestFacts.person;
import static dev.gatehouse.policy.engine.TestFacts.select;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.Verdict;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Delegated sessions (RFC 8693) as policies see them: the identity is the acting agent, the person
 * it acts for is {@code identity.originator}, and neither facts nor scopes pass the originator's
 * rights to the agent.
 */
class DelegationFactsTest {

    private static final String ISSUER = "https://issuer.example";
    private static final ConnectionRef PROD = new ConnectionRef("orders-prod", "postgres", "db:5432/orders",
            Map.of("env", "prod"));
    private static final SqlCommand CREATE_TABLE = command("CREATE TABLE t (a int)", ddl("CREATE TABLE", "TABLE", "t"));

    /** planner-agent (group agents) acting for alice (dba), with one earlier actor and a declared intent. */
    static Identity agentForAlice(DeclaredIntent intent) {
        return new Identity("planner-agent", ISSUER, List.of("agents"), List.of("runner"), Map.of("sub", "alice"), null,
                new Delegation("alice", ISSUER, List.of("dba", "agent-users"), List.of("admin"), List.of("orchestrator"),
                        Delegation.ACT),
                intent);
    }

    private static Facts connect(Identity identity, ConnectionRef connection) {
        return Facts.connect(identity, connection, "session-1", Facts.Context.at(Instant.EPOCH, ZoneOffset.UTC));
    }

    private static PolicyEvaluator evaluator(String yaml) throws PolicyException {
        return new PolicyEvaluator(Policy.parse(yaml));
    }

    // --- facts ---

    @Test
    void aDelegatedSessionIsTheAgentWithItsOriginatorBeside() {
        // Given
        Identity agent = agentForAlice(new DeclaredIntent("r-17", "4", true, null));

        // When
        Map<String, Object> identity = Facts.of(agent, TestFacts.DEMO, select()).variable("identity");

        // Then
        assertThat(identity).containsEntry("subject", "planner-agent")
                .containsEntry("groups", List.of("agents"))
                .containsEntry("roles", List.of("runner"))
                .containsEntry("delegated", true)
                .containsEntry("earlier_actors", List.of("orchestrator"))
                .containsEntry("delegation_via", "act");
        assertThat(identity.get("originator")).isEqualTo(Map.of("subject", "alice", "issuer", ISSUER,
                "groups", List.of("dba", "agent-users"), "roles", List.of("admin"), "claims", Map.of("sub", "alice")));
        assertThat(identity.get("claims")).isEqualTo(Map.of("sub", "planner-agent"));
        assertThat(identity.get("intent")).isEqualTo(Map.of("run_id", "r-17", "step_id", "4", "verified", true,
                "declared", true));
    }

    @Test
    void aSessionActingForNobodyHasEmptyDelegationFacts() {
        // When
        Map<String, Object> identity = Facts.of(person("alice", "dba"), TestFacts.DEMO, select()).variable("identity");

        // Then
        assertThat(identity).containsEntry("subject", "alice")
                .containsEntry("delegated", false)
                .containsEntry("earlier_actors", List.of())
                .containsEntry("delegation_via", "");
        assertThat(identity.get("originator")).isEqualTo(Map.of("subject", "", "issuer", "", "groups", List.of(),
                "roles", List.of(), "claims", Map.of()));
        assertThat(identity.get("intent")).isEqualTo(Map.of("run_id", "", "step_id", "", "verified", false,
                "declared", false));
    }

    @Test
    void anUnverifiedIntentWithoutAStepIsDeclaredButNotVerified() {
        // Given
        Identity agent = person("planner-agent", "agents").withIntent(new DeclaredIntent("r-9", null, false, null));

        // When
        Map<String, Object> identity = connect(agent, PROD).variable("identity");

        // Then
        assertThat(identity.get("intent")).isEqualTo(Map.of("run_id", "r-9", "step_id", "", "verified", false,
                "declared", true));
        assertThat(identity).containsEntry("delegated", false);
    }

    // --- conditions ---

    @Test
    void aConditionOnTheOriginatorsGroupsDecidesByTheOriginatorNotTheAgent() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: allow
                connect_default: allow
                rules:
                  - id: agents-only-for-agent-users
                    on: connect
                    when: 'identity.delegated && !("agent-users" in identity.originator.groups)'
                    action: deny
                    reason: agents act only for agent-users
                """);
        Identity forCarol = new Identity("planner-agent", ISSUER, List.of("agents", "agent-users"), List.of(), Map.of(),
                null, new Delegation("carol", ISSUER, List.of("dev"), List.of(), List.of(), Delegation.ACT), null);

        // When
        Evaluation alice = evaluator.evaluate(connect(agentForAlice(null), PROD));
        Evaluation carol = evaluator.evaluate(connect(forCarol, PROD));
        Evaluation nobody = evaluator.evaluate(connect(person("planner-agent", "agents"), PROD));

        // Then
        assertThat(alice.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(carol.verdict()).isEqualTo(Verdict.DENY);
        assertThat(carol.ruleId()).isEqualTo("agents-only-for-agent-users");
        assertThat(nobody.verdict()).isEqualTo(Verdict.ALLOW);
    }

    @Test
    void aRuleOnGroupsSeesTheAgentsGroupsNeverTheOriginators() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: allow
                rules:
                  - id: ddl-only-for-dbas
                    when: '"ddl" in command.kinds && !("dba" in identity.groups)'
                    action: deny
                    reason: only DBAs change the schema
                """);

        // When
        Evaluation alice = evaluator.evaluate(Facts.of(person("alice", "dba"), TestFacts.DEMO, CREATE_TABLE));
        Evaluation agent = evaluator.evaluate(Facts.of(agentForAlice(null), TestFacts.DEMO, CREATE_TABLE));

        // Then
        assertThat(alice.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(agent.verdict()).isEqualTo(Verdict.DENY);
        assertThat(agent.ruleId()).isEqualTo("ddl-only-for-dbas");
    }

    @Test
    void aRuleOnClaimsSeesTheActorsClaimsAndTheOriginatorsAreOnTheOriginator() throws Exception {
        // Given alice's break-glass token, exchanged for planner-agent acting for her
        Map<String, Object> claims = Map.of("sub", "alice", "break_glass", true, "email", "alice@corp.example",
                "act", Map.of("sub", "planner-agent", "groups", List.of("agents"), "act", Map.of("sub", "orchestrator")));
        Identity agent = new Identity("planner-agent", ISSUER, List.of("agents"), List.of(), claims, null,
                new Delegation("alice", ISSUER, List.of("dba"), List.of(), List.of("orchestrator"), Delegation.ACT), null);
        Identity agentViaAzp = new Identity("planner-agent", ISSUER, List.of(), List.of(),
                Map.of("sub", "alice", "break_glass", true, "azp", "planner-agent"), null,
                new Delegation("alice", ISSUER, List.of("dba"), List.of(), List.of(), "azp"), null);
        Identity alice = new Identity("alice", ISSUER, List.of("dba"), List.of(), Map.of("sub", "alice", "break_glass", true), null);
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: deny
                rules:
                  - id: break-glass
                    when: '"break_glass" in identity.claims && identity.claims["break_glass"] == true'
                    action: allow
                    reason: break glass
                  - id: agents-of-corp-people
                    when: 'identity.delegated && identity.originator.claims["email"].endsWith("@corp.example") && identity.claims["sub"] == "planner-agent"'
                    action: allow
                    reason: an agent of a corporate person
                """);

        // When
        Evaluation own = evaluator.evaluate(Facts.of(alice, TestFacts.DEMO, CREATE_TABLE));
        Evaluation byAct = evaluator.evaluate(Facts.of(agent, TestFacts.DEMO, CREATE_TABLE));
        Evaluation byAzp = evaluator.evaluate(Facts.of(agentViaAzp, TestFacts.DEMO, CREATE_TABLE));

        // Then alice's break-glass claim is hers: the agent gets it neither by act nor by azp
        assertThat(own.ruleId()).isEqualTo("break-glass");
        assertThat(byAct.ruleId()).isEqualTo("agents-of-corp-people");
        assertThat(byAzp.verdict()).isEqualTo(Verdict.DENY);
        Map<String, Object> facts = Facts.of(agent, TestFacts.DEMO, select()).variable("identity");
        assertThat(facts.get("claims")).isEqualTo(Map.of("sub", "planner-agent", "groups", List.of("agents"),
                "act", Map.of("sub", "orchestrator")));
        assertThat(((Map<?, ?>) facts.get("originator")).get("claims")).isEqualTo(claims);
        assertThat(((Map<?, ?>) Facts.of(agentViaAzp, TestFacts.DEMO, select()).variable("identity").get("claims")))
                .isEqualTo(Map.of("sub", "planner-agent"));
        assertThat(((Map<?, ?>) Facts.of(alice, TestFacts.DEMO, select()).variable("identity").get("originator")).get("claims"))
                .isEqualTo(Map.of());
    }

    @Test
    void delegationFactsTypeCheck() {
        // When / Then
        assertThat(Conditions.compile("identity.originator.subject == \"alice\" && identity.delegation_via == \"act\""
                + " && identity.earlier_actors.size() < 2 && identity.intent.verified && identity.intent.run_id != \"\""
                + " && identity.intent.declared && identity.originator.issuer.startsWith(\"https://\")"
                + " && \"admin\" in identity.originator.roles").errors()).isEmpty();
        assertThat(Conditions.compile("identity.originator.group == \"dba\"").errors()).singleElement()
                .satisfies(error -> assertThat(error).contains("undefined field 'group'"));
        assertThat(Conditions.compile("identity.delegated == \"yes\"").errors()).isNotEmpty();
    }

    // --- scope ---

    private static final String SCOPED = """
            id: p
            default: allow
            connect_default: allow
            rules:
              - id: only-agent-sessions
                on: connect
                scope: {delegated: true, subjects: [planner-agent]}
                when: 'true'
                action: deny
                reason: delegated planner-agent
              - id: agents-on-their-own
                on: connect
                scope: {groups: [agents], delegated: false}
                when: 'true'
                action: deny
                reason: agent without originator
              - id: for-alice-or-ops
                on: connect
                scope: {originators: [alice, "ops-*"]}
                when: 'true'
                action: deny
                reason: for alice or ops
              - id: for-payments
                on: connect
                scope: {originator_groups: [payments]}
                when: 'true'
                action: deny
                reason: for payments
            """;

    @Test
    void scopeDelegatedMatchesOnlyDelegatedSessionsAndFalseOnlyTheOthers() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator(SCOPED);

        // When
        Evaluation delegated = evaluator.evaluate(connect(agentForAlice(null), PROD));
        Evaluation onItsOwn = evaluator.evaluate(connect(person("planner-agent", "agents"), PROD));

        // Then
        assertThat(delegated.ruleId()).isEqualTo("only-agent-sessions");
        assertThat(onItsOwn.ruleId()).isEqualTo("agents-on-their-own");
        assertThat(onItsOwn.trace().getFirst()).isEqualTo(Evaluation.RuleTrace.outOfScope("only-agent-sessions"));
    }

    @Test
    void scopeOriginatorsAndOriginatorGroupsMatchTheOriginatorOfADelegatedSessionOnly() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator(SCOPED);
        Identity forOps = new Identity("other-agent", ISSUER, List.of(), List.of(), Map.of(), null,
                new Delegation("ops-bob", ISSUER, List.of(), List.of(), List.of(), Delegation.ACT), null);
        Identity forPayments = new Identity("other-agent", ISSUER, List.of(), List.of(), Map.of(), null,
                new Delegation("carol", ISSUER, List.of("payments"), List.of(), List.of(), "azp"), null);
        Identity forDan = new Identity("other-agent", ISSUER, List.of("payments"), List.of(), Map.of(), null,
                new Delegation("dan", ISSUER, List.of("dev"), List.of(), List.of(), Delegation.ACT), null);

        // When
        Evaluation ops = evaluator.evaluate(connect(forOps, PROD));
        Evaluation payments = evaluator.evaluate(connect(forPayments, PROD));
        Evaluation dan = evaluator.evaluate(connect(forDan, PROD));
        Evaluation alice = evaluator.evaluate(connect(person("alice", "payments"), PROD));

        // Then: the originator decides, never the agent's own subject or groups; without delegation, no originator
        assertThat(ops.ruleId()).isEqualTo("for-alice-or-ops");
        assertThat(payments.ruleId()).isEqualTo("for-payments");
        assertThat(dan.isDefault()).isTrue();
        assertThat(alice.isDefault()).isTrue();
        assertThat(alice.trace()).noneMatch(Evaluation.RuleTrace::inScope);
    }

    @Test
    void delegationScopeKeysAreParsed() throws Exception {
        // When
        Policy policy = Policy.parse(SCOPED);

        // Then
        RuleScope agents = policy.rules().get(0).scope();
        assertThat(agents.delegated()).isTrue();
        assertThat(policy.rules().get(1).scope().delegated()).isFalse();
        assertThat(policy.rules().get(2).scope().originators()).containsExactly("alice", "ops-*");
        assertThat(policy.rules().get(3).scope().originatorGroups()).containsExactly("payments");
        assertThat(policy.rules().get(3).scope().delegated()).isNull();
        assertThat(agents.toString()).isEqualTo("RuleScope[subjects=[planner-agent], delegated=true]");
    }

    @Test
    void badDelegationScopeValuesAreRejectedNamingTheRuleAndKey() {
        // When / Then
        assertThatThrownBy(() -> Policy.parse("""
                id: p
                default: allow
                rules:
                  - {id: a, scope: {delegated: "yes"}, when: 'true', action: deny, reason: x}
                  - {id: b, scope: {originators: alice}, when: 'true', action: deny, reason: x}
                  - {id: c, scope: {originator_groups: []}, when: 'true', action: deny, reason: x}
                  - {id: d, scope: {delegated: false, originators: [alice]}, when: 'true', action: deny, reason: x}
                """))
                .isInstanceOfSatisfying(PolicyException.class, e -> assertThat(e.errors()).containsExactly(
                        "rule 'a' (#1): scope: 'delegated' must be true or false, found the string 'yes' (write true or false "
                                + "without quotes)",
                        "rule 'b' (#2): scope: 'originators' must be a list of strings, found a single string (write [alice])",
                        "rule 'c' (#3): scope: 'originator_groups' must not be an empty list (omit the key to not restrict it)",
                        "rule 'd' (#4): scope: 'delegated: false' matches only sessions without an originator, so "
                                + "'originators' and 'originator_groups' would never match (drop one or the other)"));
    }

    // --- the example policy ---

    @Test
    void theExamplePolicyGivesAnAgentNoneOfItsOriginatorsRights() throws Exception {
        // Given
        PolicyEvaluator example = new PolicyEvaluator(Policy.load(
                Path.of("../deploy/src/main/resources/policies/example-policy.yaml")));
        ConnectionRef demo = new ConnectionRef("demo", "postgres", "db:5432/demo", Map.of("env", "demo"));
        Identity alice = person("alice", "dba", "agent-users");

        // When
        Evaluation aliceDdl = example.evaluate(Facts.of(alice, demo, CREATE_TABLE));
        Evaluation agentDdl = example.evaluate(Facts.of(agentForAlice(null), demo, CREATE_TABLE));
        Evaluation agentConnects = example.evaluate(connect(agentForAlice(null), PROD));
        Evaluation agentAloneOnProd = example.evaluate(connect(person("planner-agent", "agents"), PROD));

        // Then
        assertThat(aliceDdl.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(agentDdl.verdict()).isEqualTo(Verdict.REQUIRE_APPROVAL);
        assertThat(agentDdl.ruleId()).isEqualTo("agent-ddl-needs-a-dba");
        assertThat(agentDdl.approval().group()).isEqualTo("dba");
        assertThat(agentConnects.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(agentConnects.ruleId()).isEqualTo("delegation-named-agents");
        assertThat(agentAloneOnProd.verdict()).isEqualTo(Verdict.DENY);
        assertThat(agentAloneOnProd.ruleId()).isEqualTo("prod-agents-need-an-originator");
    }
}
