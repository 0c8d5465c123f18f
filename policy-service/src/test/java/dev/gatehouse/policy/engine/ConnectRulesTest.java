package dev.gatehouse.policy.engine;

import static dev.gatehouse.policy.engine.TestFacts.person;
import static dev.gatehouse.policy.engine.TestFacts.select;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.Verdict;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Connect decisions: {@code on: connect} rules, {@code connect_default} and {@code request.type}. */
class ConnectRulesTest {

    private static final ConnectionRef PROD = new ConnectionRef("orders-prod", "postgres", "db:5432/orders", Map.of("env", "prod"));
    private static final ConnectionRef STAGING = new ConnectionRef("orders-staging", "postgres", "db:5432/orders", Map.of("env", "staging"));
    private static final Facts.Context AT = Facts.Context.at(Instant.parse("2026-11-24T10:00:00Z"), ZoneOffset.UTC);

    private static final String POLICY = """
            id: connects
            version: v1
            default: allow
            connect_default: deny
            rules:
              - id: no-ddl
                when: '"ddl" in command.kinds'
                action: deny
                reason: no DDL
              - id: dba-anywhere
                on: connect
                when: '"dba" in identity.groups'
                action: allow
              - id: ci-staging-only
                on: connect
                scope: {connection_labels: {env: staging}}
                when: 'has(identity.ci.repository) && identity.ci.repository == "acme/orders"'
                action: allow
              - id: deny-everything-typed
                on: [connect, command]
                when: 'request.type == "connect" && identity.subject == "mallory" || command.text == "SELECT 666"'
                action: deny
                reason: mallory, or the number of the beast
            """;

    private static Identity ciOrders() {
        return new Identity("repo:acme/orders:ref:refs/heads/main", "https://token.actions.githubusercontent.com",
                List.of(), List.of(), Map.of(), new CiProvenance("github-actions", "acme/orders", "1", "abc",
                "refs/heads/main", "deploy", "7", "migrate"));
    }

    private static Facts connect(Identity identity, ConnectionRef connection) {
        return Facts.connect(identity, connection, "session-1", AT);
    }

    @Test
    void connectRulesDecideConnectsAndConnectDefaultTheRest() throws Exception {
        // Given
        PolicyEvaluator evaluator = new PolicyEvaluator(Policy.parse(POLICY));

        // When
        Evaluation dba = evaluator.evaluate(connect(person("alice", "dba"), PROD));
        Evaluation ciStaging = evaluator.evaluate(connect(ciOrders(), STAGING));
        Evaluation ciProd = evaluator.evaluate(connect(ciOrders(), PROD));

        // Then
        assertThat(dba.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(dba.ruleId()).isEqualTo("dba-anywhere");
        assertThat(ciStaging.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(ciStaging.ruleId()).isEqualTo("ci-staging-only");
        assertThat(ciProd.verdict()).isEqualTo(Verdict.DENY);
        assertThat(ciProd.ruleId()).isEqualTo(Evaluation.DEFAULT_RULE_ID);
        assertThat(ciProd.reason()).isEqualTo("no connect rule matched; the policy's connect_default is deny");
    }

    @Test
    void commandRulesNeverSeeConnectsAndConnectRulesNeverSeeCommands() throws Exception {
        // Given
        PolicyEvaluator evaluator = new PolicyEvaluator(Policy.parse(POLICY));

        // When
        Evaluation connect = evaluator.evaluate(connect(person("bob", "dev"), STAGING));
        Evaluation command = evaluator.evaluate(Facts.of(person("bob", "dev"), STAGING, select(), AT));

        // Then: the command rule no-ddl is not in the connect's trace, the connect rules not in the command's
        assertThat(connect.trace()).extracting(Evaluation.RuleTrace::ruleId)
                .containsExactly("dba-anywhere", "ci-staging-only", "deny-everything-typed");
        assertThat(command.trace()).extracting(Evaluation.RuleTrace::ruleId)
                .containsExactly("no-ddl", "deny-everything-typed");
        assertThat(command.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(command.reason()).isEqualTo("no rule matched; the policy's default is allow");
    }

    @Test
    void aRuleOnBothSeesRequestType() throws Exception {
        // Given
        PolicyEvaluator evaluator = new PolicyEvaluator(Policy.parse(POLICY));

        // When
        Evaluation malloryConnects = evaluator.evaluate(connect(person("mallory"), STAGING));
        Evaluation malloryCommand = evaluator.evaluate(Facts.of(person("mallory"), STAGING, select(), AT));

        // Then
        assertThat(malloryConnects.ruleId()).isEqualTo("deny-everything-typed");
        assertThat(malloryCommand.ruleId()).isEqualTo(Evaluation.DEFAULT_RULE_ID);
        assertThat(Policy.parse(POLICY).rule("deny-everything-typed").orElseThrow().on())
                .containsExactlyInAnyOrder(Facts.RequestType.CONNECT, Facts.RequestType.COMMAND);
    }

    @Test
    void aConnectHasEmptyCommandFactsAndItsRequestType() {
        // When
        Facts facts = connect(person("alice"), PROD);
        Facts command = Facts.of(person("alice"), PROD, select(), AT);

        // Then
        assertThat(facts.requestType()).isEqualTo(Facts.RequestType.CONNECT);
        assertThat(facts.variable("request")).containsEntry("type", "connect");
        assertThat(command.variable("request")).containsEntry("type", "command");
        assertThat(facts.variable("command")).containsEntry("text", "").containsEntry("kinds", List.of())
                .containsEntry("parseable", false).containsEntry("statement_count", 0L)
                .containsOnlyKeys(command.variable("command").keySet());
        assertThat(facts.variable("session")).containsEntry("id", "session-1");
    }

    @Test
    void withoutConnectDefaultConnectsAreAllowedAndExistingPoliciesAreUnchanged() throws Exception {
        // Given: a command-only policy denying everything by default
        Policy policy = Policy.parse("""
                id: p
                default: deny
                rules:
                  - {id: reads, when: '"read" in command.kinds', action: allow}
                """);

        // When
        Evaluation connect = new PolicyEvaluator(policy).evaluate(connect(person("bob"), PROD));

        // Then
        assertThat(policy.connectDefault()).isEqualTo(Action.ALLOW);
        assertThat(policy.rules().getFirst().on()).containsExactly(Facts.RequestType.COMMAND);
        assertThat(connect.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(connect.trace()).isEmpty();
    }

    @Test
    void invalidConnectRulesAreRejectedWithReasons() {
        // When / Then
        assertThatThrownBy(() -> Policy.parse("""
                id: p
                default: allow
                connect_default: maybe
                rules:
                  - {id: a, on: connection, when: 'true', action: deny, reason: r}
                  - {id: b, on: [], when: 'true', action: deny, reason: r}
                  - id: c
                    on: connect
                    when: 'true'
                    action: mask
                    mask: {profile: pii-basic}
                    reason: r
                  - id: d
                    on: [command, connect]
                    when: 'true'
                    action: require_approval
                    approval: {group: dba}
                    reason: r
                """))
                .isInstanceOf(PolicyException.class)
                .satisfies(e -> assertThat(((PolicyException) e).errors()).containsExactly(
                        "policy: 'connect_default' must be allow or deny, found 'maybe'",
                        "rule 'a' (#1): 'on' must be connect, command or [connect, command], found 'connection'",
                        "rule 'b' (#2): 'on' must not be an empty list (connect, command or [connect, command])",
                        "rule 'c' (#3): action mask is for commands only; a rule 'on: connect' may allow or deny",
                        "rule 'd' (#4): action require_approval is for commands only; a rule 'on: connect' may allow or deny"));
    }

    @Test
    void theExamplePolicyKeepsCiOfAcmeOrdersOffProduction() throws Exception {
        // Given
        PolicyEvaluator example = new PolicyEvaluator(Policy.load(
                Path.of("../deploy/src/main/resources/policies/example-policy.yaml")));

        // When
        Evaluation ciProd = example.evaluate(connect(ciOrders(), PROD));
        Evaluation ciStaging = example.evaluate(connect(ciOrders(), STAGING));
        Evaluation personProd = example.evaluate(connect(person("alice", "dba"), PROD));

        // Then
        assertThat(ciProd.verdict()).isEqualTo(Verdict.DENY);
        assertThat(ciProd.ruleId()).isEqualTo("ci-orders-not-on-prod");
        assertThat(ciStaging.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(personProd.verdict()).isEqualTo(Verdict.ALLOW);
    }
}
