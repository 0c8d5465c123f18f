package dev.gatehouse.policy.engine;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PolicyTest {

    private static final String EXAMPLE = """
            id: gatehouse-example
            version: "1"
            default: allow
            rules:
              - id: no-create-database
                description: Nobody creates or drops databases through the gateway
                when: 'command.tags.exists(t, t in ["CREATE DATABASE", "DROP DATABASE"])'
                action: deny
                reason: creating or dropping databases is not allowed through Gatehouse
              - id: ci-no-ddl
                when: '"ci" in identity.groups && "ddl" in command.kinds'
                action: deny
                reason: CI identities may not change the schema
            """;

    @Test
    void parsesIdVersionDefaultAndOrderedRules() throws Exception {
        // When
        Policy policy = Policy.parse(EXAMPLE);

        // Then
        assertThat(policy.id()).isEqualTo("gatehouse-example");
        assertThat(policy.version()).isEqualTo("1");
        assertThat(policy.defaultAction()).isEqualTo(Action.ALLOW);
        assertThat(policy.rules()).extracting(Rule::id).containsExactly("no-create-database", "ci-no-ddl");
        Rule first = policy.rules().getFirst();
        assertThat(first.action()).isEqualTo(Action.DENY);
        assertThat(first.description()).isEqualTo("Nobody creates or drops databases through the gateway");
        assertThat(first.reason()).isEqualTo("creating or dropping databases is not allowed through Gatehouse");
        assertThat(first.condition()).isEqualTo("command.tags.exists(t, t in [\"CREATE DATABASE\", \"DROP DATABASE\"])");
        assertThat(policy.rule("ci-no-ddl")).isPresent();
        assertThat(policy.rule("nope")).isEmpty();
    }

    @Test
    void versionIsTheSha256PrefixOfTheTextWhenAbsent() throws Exception {
        // Given
        String text = EXAMPLE.replace("version: \"1\"\n", "");
        String expected = HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8))).substring(0, 12);

        // When
        Policy policy = Policy.parse(text);
        Policy commented = Policy.parse(text + "# a comment changes the version\n");

        // Then
        assertThat(policy.version()).isEqualTo(expected).hasSize(12).matches("[0-9a-f]{12}");
        assertThat(commented.version()).isNotEqualTo(policy.version());
    }

    @Test
    void numericVersionIsTakenAsText() throws Exception {
        // When
        Policy policy = Policy.parse("id: p\nversion: 3\ndefault: deny\nrules: []\n");

        // Then
        assertThat(policy.version()).isEqualTo("3");
        assertThat(policy.defaultAction()).isEqualTo(Action.DENY);
        assertThat(policy.rules()).isEmpty();
    }

    @Test
    void allowRuleWithoutReasonGetsOneAndApprovalAndMaskParse() throws Exception {
        // When
        Policy policy = Policy.parse("""
                id: p
                default: deny
                rules:
                  - id: readers
                    when: '"read" in command.kinds'
                    action: allow
                  - id: approve-prod
                    when: 'connection.labels["env"] == "prod"'
                    action: require_approval
                    approval: {group: dba, count: 2, mode: deferred, expires_in: 2h}
                    reason: production needs an approval
                  - id: approve-ddl
                    when: '"ddl" in command.kinds'
                    action: require_approval
                    approval: {group: dba}
                    reason: DDL needs an approval
                  - id: mask-pii
                    when: '"public.customers" in command.tables_read'
                    action: mask
                    mask: {profile: pii-basic.v2}
                    reason: customer data is masked
                    dry_run: true
                """);

        // Then
        assertThat(policy.rules()).extracting(Rule::action)
                .containsExactly(Action.ALLOW, Action.REQUIRE_APPROVAL, Action.REQUIRE_APPROVAL, Action.MASK);
        assertThat(policy.rules().getFirst().reason()).isEqualTo("allowed by rule 'readers'");
        assertThat(policy.rules().get(1).approval()).isEqualTo(
                new Rule.Approval("dba", 2, Rule.Approval.Mode.DEFERRED, java.time.Duration.ofHours(2)));
        assertThat(policy.rules().get(2).approval()).isEqualTo(
                new Rule.Approval("dba", 1, Rule.Approval.Mode.HOLD, java.time.Duration.ofMinutes(10)));
        assertThat(policy.rules().get(3).maskProfile()).isEqualTo("pii-basic.v2");
        assertThat(policy.rules()).extracting(Rule::dryRun).containsExactly(false, false, false, true);
        assertThat(policy.rules().getFirst().approval()).isNull();
        assertThat(policy.rules().getFirst().maskProfile()).isNull();
    }

    @Test
    void badApprovalParametersNameTheRuleAndWhatIsWrong() {
        // When
        PolicyException e = reject("""
                id: p
                default: allow
                rules:
                  - {id: no-params, when: 'true', action: require_approval, reason: r}
                  - {id: not-a-map, when: 'true', action: require_approval, approval: dba, reason: r}
                  - {id: no-group, when: 'true', action: require_approval, approval: {count: 2}, reason: r}
                  - {id: zero, when: 'true', action: require_approval, approval: {group: dba, count: 0}, reason: r}
                  - {id: eleven, when: 'true', action: require_approval, approval: {group: dba, count: 11}, reason: r}
                  - {id: text-count, when: 'true', action: require_approval, approval: {group: dba, count: two}, reason: r}
                  - {id: bad-mode, when: 'true', action: require_approval, approval: {group: dba, mode: wait}, reason: r}
                  - {id: bad-expiry, when: 'true', action: require_approval, approval: {group: dba, expires_in: soon}, reason: r}
                  - {id: long-expiry, when: 'true', action: require_approval, approval: {group: dba, expires_in: 8d}, reason: r}
                  - {id: typo, when: 'true', action: require_approval, approval: {group: dba, cuont: 2}, reason: r}
                  - {id: misplaced, when: 'true', action: deny, approval: {group: dba}, reason: r}
                """);

        // Then
        assertThat(e.errors()).containsExactly(
                "rule 'no-params' (#1): action require_approval needs 'approval' with at least the approver group, "
                        + "e.g. approval: {group: dba, count: 1}, or approval: {from: originator}",
                "rule 'not-a-map' (#2): 'approval' must be a mapping (from, group, count, mode, expires_in), found string",
                "rule 'no-group' (#3): approval: missing required field 'group'",
                "rule 'zero' (#4): approval.count must be a whole number from 1 to 10, found '0'",
                "rule 'eleven' (#5): approval.count must be a whole number from 1 to 10, found '11'",
                "rule 'text-count' (#6): approval.count must be a whole number from 1 to 10, found 'two'",
                "rule 'bad-mode' (#7): approval.mode must be hold or deferred, found 'wait'",
                "rule 'bad-expiry' (#8): approval.expires_in must be a duration such as 90s, 10m, 2h or 1d, found 'soon'",
                "rule 'long-expiry' (#9): approval.expires_in must be more than 0 and at most 7d, found '8d'",
                "rule 'typo' (#10): approval: unknown field 'cuont' (expected count, expires_in, from, group, mode)",
                "rule 'misplaced' (#11): 'approval' is only for action require_approval, not deny");
    }

    @Test
    void anApprovalFromTheOriginatorNamesNoGroupAndNeedsOneAnswer() throws Exception {
        // When
        Policy policy = Policy.parse("""
                id: p
                default: allow
                rules:
                  - id: agent-confirms
                    when: '"write" in command.kinds'
                    action: require_approval
                    approval: {from: originator, expires_in: 10m, mode: hold}
                    reason: the originator confirms what the agent writes
                  - id: four-eyes
                    when: '"ddl" in command.kinds'
                    action: require_approval
                    approval: {from: group, group: dba, count: 2}
                    reason: two DBAs
                """);

        // Then
        assertThat(policy.rules().getFirst().approval()).isEqualTo(
                Rule.Approval.fromOriginator(Rule.Approval.Mode.HOLD, java.time.Duration.ofMinutes(10)));
        assertThat(policy.rules().getFirst().approval().from()).isEqualTo(Rule.Approval.From.ORIGINATOR);
        assertThat(policy.rules().getFirst().approval().group()).isNull();
        assertThat(policy.rules().getFirst().approval().count()).isEqualTo(1);
        assertThat(policy.rules().getFirst()).hasToString(
                "Rule[agent-confirms: require_approval by the originator when \"write\" in command.kinds]");
        assertThat(policy.rules().get(1).approval()).isEqualTo(
                new Rule.Approval("dba", 2, Rule.Approval.Mode.HOLD, java.time.Duration.ofMinutes(10)));
    }

    @Test
    void badOriginatorApprovalsNameTheRuleAndWhatIsWrong() {
        // When
        PolicyException e = reject("""
                id: p
                default: allow
                rules:
                  - {id: with-group, when: 'true', action: require_approval, approval: {from: originator, group: dba}, reason: r}
                  - {id: with-count, when: 'true', action: require_approval, approval: {from: originator, count: 2}, reason: r}
                  - {id: bad-from, when: 'true', action: require_approval, approval: {from: boss, group: dba}, reason: r}
                  - {id: group-without-group, when: 'true', action: require_approval, approval: {from: group}, reason: r}
                """);

        // Then
        assertThat(e.errors()).containsExactly(
                "rule 'with-group' (#1): approval.group does not go with from: originator (only the originator confirms); "
                        + "for a four-eyes approval by a group drop 'from', found group 'dba'",
                "rule 'with-count' (#2): approval.count does not go with from: originator (one person confirms), found '2'",
                "rule 'bad-from' (#3): approval.from must be group (members of approval.group approve) or originator "
                        + "(the person a delegated session acts for confirms), found 'boss'",
                "rule 'group-without-group' (#4): approval: missing required field 'group'");
    }

    @Test
    void badMaskParametersAndDryRunNameTheRuleAndWhatIsWrong() {
        // When
        PolicyException e = reject("""
                id: p
                default: allow
                rules:
                  - {id: no-profile, when: 'true', action: mask, reason: r}
                  - {id: empty, when: 'true', action: mask, mask: {}, reason: r}
                  - {id: spaces, when: 'true', action: mask, mask: {profile: pii basic}, reason: r}
                  - {id: slash, when: 'true', action: mask, mask: {profile: ../etc}, reason: r}
                  - {id: misplaced, when: 'true', action: allow, mask: {profile: pii}}
                  - {id: maybe, when: 'true', action: deny, reason: r, dry_run: maybe}
                """);

        // Then
        assertThat(e.errors()).containsExactly(
                "rule 'no-profile' (#1): action mask needs 'mask' with the masking profile, e.g. mask: {profile: pii-basic}",
                "rule 'empty' (#2): mask: missing required field 'profile'",
                "rule 'spaces' (#3): mask.profile must be letters, digits and _ - . only, found 'pii basic'",
                "rule 'slash' (#4): mask.profile must be letters, digits and _ - . only, found '../etc'",
                "rule 'misplaced' (#5): 'mask' is only for action mask, not allow",
                "rule 'maybe' (#6): 'dry_run' must be true or false, found string");
    }

    @Test
    void syntaxErrorNamesRulePositionAndCelMessage() {
        // When
        PolicyException e = reject(oneRule("broken", "identity.subject ==", "deny"));

        // Then
        assertThat(e.errors()).singleElement().asString()
                .startsWith("rule 'broken' (#1): condition error at line 1, column 20: ")
                .contains("mismatched input '<EOF>'");
    }

    @Test
    void multiLineConditionReportsLineWithinTheCondition() {
        // When
        PolicyException e = reject("""
                id: p
                default: allow
                rules:
                  - id: two-lines
                    when: |
                      "ci" in identity.groups &&
                        nosuch.thing
                    action: deny
                    reason: r
                """);

        // Then
        assertThat(e.errors()).singleElement().asString()
                .startsWith("rule 'two-lines' (#1): condition error at line 2, column 3: ")
                .contains("undeclared reference to 'nosuch'");
    }

    @Test
    void undeclaredVariableIsRejected() {
        // When
        PolicyException e = reject(oneRule("unknown-var", "user.name == \"bob\"", "deny"));

        // Then
        assertThat(e.errors()).singleElement().asString()
                .startsWith("rule 'unknown-var' (#1): condition error at line 1, column 1: ")
                .contains("undeclared reference to 'user'");
    }

    @Test
    void undeclaredFieldOfAFactIsRejected() {
        // When
        PolicyException e = reject(oneRule("typo", "\"ddl\" in command.kind", "deny"));

        // Then
        assertThat(e.errors()).singleElement().asString()
                .startsWith("rule 'typo' (#1): condition error at line 1, column 17: ")
                .contains("undefined field 'kind'");
    }

    @Test
    void wrongOperandTypeIsRejected() {
        // When
        PolicyException e = reject(oneRule("count-as-string", "command.statement_count == \"2\"", "deny"));

        // Then
        assertThat(e.errors()).singleElement().asString()
                .startsWith("rule 'count-as-string' (#1): condition error at line 1, column ")
                .contains("found no matching overload for '_==_'");
    }

    @Test
    void nonBoolConditionIsRejected() {
        // When
        PolicyException e = reject(oneRule("not-bool", "identity.subject", "deny"));

        // Then
        assertThat(e.errors()).singleElement().asString()
                .startsWith("rule 'not-bool' (#1): condition error at line 1, column ")
                .contains("expected type 'bool' but found 'string'");
    }

    @Test
    void unknownActionIsRejected() {
        // When
        PolicyException e = reject(oneRule("blocky", "true", "block"));

        // Then
        assertThat(e.errors()).containsExactly(
                "rule 'blocky' (#1): unknown action 'block' (expected one of: allow, deny, require_approval, mask)");
    }

    @Test
    void duplicateRuleIdsAreRejected() {
        // When
        PolicyException e = reject("""
                id: p
                default: allow
                rules:
                  - {id: same, when: 'true', action: deny, reason: r}
                  - {id: other, when: 'true', action: deny, reason: r}
                  - {id: same, when: 'false', action: deny, reason: r}
                """);

        // Then
        assertThat(e.errors()).containsExactly("rule 'same' (#3): duplicate rule id 'same'");
    }

    @Test
    void missingFieldsAreEachNamed() {
        // When
        PolicyException e = reject("""
                rules:
                  - description: no id, no condition, no action
                  - id: no-reason
                    when: 'true'
                    action: deny
                """);

        // Then
        assertThat(e.errors()).containsExactly(
                "policy: missing required field 'id'",
                "policy: missing required field 'default'",
                "rule #1: missing required field 'id'",
                "rule #1: missing required field 'when'",
                "rule #1: missing required field 'action'",
                "rule 'no-reason' (#2): missing required field 'reason' (required for action deny)");
    }

    @Test
    void missingRulesAndBadDefaultAreRejected() {
        // When
        PolicyException e = reject("id: p\ndefault: require_approval\n");

        // Then
        assertThat(e.errors()).containsExactly(
                "policy: 'default' must be allow or deny, found 'require_approval'",
                "policy: missing required field 'rules' (a list, may be empty)");
    }

    @Test
    void unknownFieldsAndReservedIdAreRejected() {
        // When
        PolicyException e = reject("""
                id: p
                default: allow
                rule: []
                rules:
                  - {id: default, when: 'true', acton: deny, reason: r}
                """);

        // Then
        assertThat(e.errors()).containsExactly(
                "policy: unknown field 'rule' (expected connect_default, default, description, id, rules, version)",
                "rule 'default' (#1): the id 'default' is reserved for the policy's default action",
                "rule 'default' (#1): unknown field 'acton' (expected action, approval, description, dry_run, id, mask, "
                        + "on, reason, scope, when)",
                "rule 'default' (#1): missing required field 'action'");
    }

    @Test
    void everyErrorOfEveryRuleIsListedAndThePolicyIsRejectedAsAWhole() {
        // When
        PolicyException e = reject("""
                id: p
                default: allow
                rules:
                  - {id: good, when: '"ddl" in command.kinds', action: deny, reason: r}
                  - {id: bad-syntax, when: 'command.text.startsWith(', action: deny, reason: r}
                  - {id: bad-type, when: 'command.statement_count', action: deny, reason: r}
                """);

        // Then
        assertThat(e.errors()).hasSize(2);
        assertThat(e.errors().get(0)).startsWith("rule 'bad-syntax' (#2): condition error at line 1, column ");
        assertThat(e.errors().get(1)).startsWith("rule 'bad-type' (#3): condition error at line 1, column ")
                .contains("expected type 'bool' but found 'int'");
        assertThat(e.getMessage()).startsWith("policy <string> rejected, 2 errors:")
                .contains("bad-syntax").contains("bad-type");
    }

    @Test
    void invalidYamlAndNonMappingDocumentsAreRejected() {
        // When
        PolicyException invalid = reject("id: p\ndefault: allow\nrules: [\n");
        PolicyException duplicateKey = reject("id: p\nid: q\ndefault: allow\nrules: []\n");
        PolicyException empty = reject("");
        PolicyException list = reject("- id: p\n");

        // Then
        assertThat(invalid.errors()).singleElement().asString().startsWith("not a valid YAML document: ");
        assertThat(duplicateKey.errors()).singleElement().asString().contains("Duplicate field 'id'");
        assertThat(empty.errors()).containsExactly("the policy document is empty");
        assertThat(list.errors()).containsExactly("the policy document must be a mapping (id, default, rules), found a list");
    }

    @Test
    void scopeIsParsedWithEveryKey() throws Exception {
        // When
        Policy policy = Policy.parse("""
                id: p
                default: allow
                rules:
                  - id: payments-no-ddl-in-prod
                    scope:
                      connections: [orders-prod, "orders-*"]
                      connection_labels: {env: prod, team: payments}
                      protocols: [postgres]
                      subjects: ["svc-*", alice]
                      groups: [payments]
                      issuers: ["https://keycloak.example.com/realms/*"]
                    when: '"ddl" in command.kinds'
                    action: deny
                    reason: no DDL in production
                  - {id: everywhere, when: 'true', action: allow}
                """);

        // Then
        RuleScope scope = policy.rules().get(0).scope();
        assertThat(scope.isUnrestricted()).isFalse();
        assertThat(scope.connections()).containsExactly("orders-prod", "orders-*");
        assertThat(scope.connectionLabels()).containsExactly(Map.entry("env", "prod"), Map.entry("team", "payments"));
        assertThat(scope.protocols()).containsExactly("postgres");
        assertThat(scope.subjects()).containsExactly("svc-*", "alice");
        assertThat(scope.groups()).containsExactly("payments");
        assertThat(scope.issuers()).containsExactly("https://keycloak.example.com/realms/*");
        assertThat(policy.rules().get(1).scope()).isSameAs(RuleScope.UNRESTRICTED);
    }

    @Test
    void unknownScopeKeyIsRejectedNamingTheRule() {
        // When
        PolicyException e = reject("""
                id: p
                default: allow
                rules:
                  - {id: r, scope: {connection: [demo]}, when: 'true', action: deny, reason: x}
                """);

        // Then
        assertThat(e.errors()).containsExactly("rule 'r' (#1): scope: unknown key 'connection' (expected "
                + "connection_labels, connections, delegated, groups, issuers, originator_groups, originators, protocols, "
                + "subjects)");
    }

    @Test
    void emptyScopeListsAndMappingsAreRejected() {
        // When
        PolicyException e = reject("""
                id: p
                default: allow
                rules:
                  - {id: empty-list, scope: {groups: []}, when: 'true', action: deny, reason: x}
                  - {id: empty-labels, scope: {connection_labels: {}}, when: 'true', action: deny, reason: x}
                  - {id: empty-scope, scope: {}, when: 'true', action: deny, reason: x}
                """);

        // Then
        assertThat(e.errors()).containsExactly(
                "rule 'empty-list' (#1): scope: 'groups' must not be an empty list (omit the key to not restrict it)",
                "rule 'empty-labels' (#2): scope: 'connection_labels' must not be empty (omit the key to not restrict it)",
                "rule 'empty-scope' (#3): scope must not be empty (omit it for a rule that applies everywhere)");
    }

    @Test
    void nonStringScopeValuesAreRejected() {
        // When
        PolicyException e = reject("""
                id: p
                default: allow
                rules:
                  - id: r
                    scope:
                      subjects: alice
                      groups: [payments, 7]
                      connection_labels: {env: prod, tier: 1}
                    when: 'true'
                    action: deny
                    reason: x
                  - {id: s, scope: [demo], when: 'true', action: deny, reason: x}
                """);

        // Then
        assertThat(e.errors()).containsExactly(
                "rule 'r' (#1): scope: 'connection_labels' value of 'tier' must be a string, found a number (quote it)",
                "rule 'r' (#1): scope: 'subjects' must be a list of strings, found a single string (write [alice])",
                "rule 'r' (#1): scope: 'groups' entry #2 must be a string, found a number (quote it)",
                "rule 's' (#2): scope must be a mapping (connection_labels, connections, delegated, groups, issuers, "
                        + "originator_groups, originators, protocols, subjects), found a list");
    }

    @Test
    void globMatchesAnyRunOfCharactersCaseSensitivelyAndNothingElseIsSpecial() {
        // When
        java.util.regex.Pattern orders = RuleScope.glob("orders-*");
        java.util.regex.Pattern dotted = RuleScope.glob("a.b*c?");

        // Then
        assertThat(orders.matcher("orders-prod").matches()).isTrue();
        assertThat(orders.matcher("orders-").matches()).isTrue();
        assertThat(orders.matcher("Orders-prod").matches()).isFalse();
        assertThat(orders.matcher("my-orders-prod").matches()).isFalse();
        assertThat(dotted.matcher("a.bxyzc?").matches()).isTrue();
        assertThat(dotted.matcher("aXbc?").matches()).isFalse();
        assertThat(dotted.matcher("a.bc!").matches()).isFalse();
        assertThat(RuleScope.glob("*").matcher("").matches()).isTrue();
    }

    private static String oneRule(String id, String condition, String action) {
        return """
                id: p
                default: allow
                rules:
                  - id: %s
                    when: '%s'
                    action: %s
                    reason: because
                """.formatted(id, condition, action);
    }

    private static PolicyException reject(String yaml) {
        PolicyException e = catchThrowableOfType(PolicyException.class, () -> Policy.parse(yaml));
        assertThat(e).as("the policy should have been rejected").isNotNull();
        return e;
    }
}
