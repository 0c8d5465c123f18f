package dev.gatehouse.deploy.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class PolicyCommandTest {

    @TempDir
    Path dir;

    @Test
    void validateAcceptsTheExamplePolicy() throws IOException {
        // Given
        Path policy = resource("example-policy.yaml");

        // When
        CliRun r = CliRun.run("policy", "validate", policy.toString());

        // Then
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).matches("policy gatehouse-example version [0-9a-f]{12}: 5 rules, default allow: OK\n");
    }

    @Test
    void validateNamesTheRuleWithATypeError() throws IOException {
        // Given
        Path policy = Files.writeString(dir.resolve("bad.yaml"), """
                id: bad
                default: allow
                rules:
                  - id: typo-rule
                    when: 'command.tagz.size() > 0'
                    action: deny
                    reason: nope
                """);

        // When
        CliRun r = CliRun.run("policy", "validate", policy.toString());

        // Then
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("typo-rule").contains("tagz");
    }

    @Test
    void validateOfAMissingFileIsOneLineAndExitCode2() {
        // When
        CliRun r = CliRun.run("policy", "validate", dir.resolve("nope.yaml").toString());

        // Then
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).startsWith("gatehouse policy validate: no policy file at ").endsWith("nope.yaml\n");
        assertThat(r.err().lines()).hasSize(1);
    }

    @Test
    void explainShowsTheAnalysisTheRulesAndTheDenyingRule() throws IOException {
        // When
        CliRun r = CliRun.run("policy", "explain", "--policy", resource("example-policy.yaml").toString(),
                "--as", "alice", "--groups", "dba", "--sql", "CREATE DATABASE x");

        // Then
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.out()).contains("statement 1: CREATE DATABASE (kind ddl, object type DATABASE)")
                .containsPattern("deny-unparseable-sql +deny +no match")
                .containsPattern("=> no-create-drop-database +deny +MATCHED")
                .containsPattern("ci-no-ddl +deny +not evaluated")
                .contains("Verdict     DENY")
                .contains("Rule        no-create-drop-database")
                .contains("Reason      creating or dropping databases is not allowed through Gatehouse");
    }

    @Test
    void explainUsesTheExamplePolicyByDefaultAndExitsZeroOnAllow() {
        // When (a home without .gatehouse/policy.yaml)
        CliRun r = runIn(dir, "policy", "explain", "--as", "alice", "--groups", "dba", "--label", "env=demo",
                "--sql", "DELETE FROM orders WHERE id = 1");

        // Then
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("classpath:/policies/example-policy.yaml")
                .contains("tables written  orders")
                .containsPattern("=> \\(default\\) +allow +APPLIED")
                .contains("Verdict     ALLOW");
    }

    @Test
    void explainPrefersThePolicyInForceUnderTheHome() throws IOException {
        // Given
        Files.createDirectories(dir.resolve(".gatehouse"));
        Files.writeString(dir.resolve(".gatehouse/policy.yaml"), "id: locked\nversion: v7\ndefault: deny\nrules: []\n");

        // When
        CliRun r = runIn(dir, "policy", "explain", "--as", "alice", "--sql", "SELECT 1");

        // Then
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        assertThat(r.out()).contains("Policy      locked version v7 (").contains(".gatehouse")
                .contains("Rule        default").contains("Version     v7");
    }

    @Test
    void explainJsonIsOneObjectWithTheVerdict() throws IOException {
        // When
        CliRun r = runIn(dir, "policy", "explain", "--as", "ci-bot", "--groups", "ci", "--sql", "DROP TABLE orders", "--json");

        // Then
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("verdict").asText()).isEqualTo("deny");
        assertThat(json.get("rule").asText()).isEqualTo("ci-no-ddl");
        assertThat(json.at("/analysis/statements/0/tag").asText()).isEqualTo("DROP TABLE");
        assertThat(json.at("/analysis/statements/0/tables_written/0").asText()).isEqualTo("orders");
        assertThat(json.get("rules")).hasSize(5);
        assertThat(json.at("/rules/4/deciding").asBoolean()).isTrue();
    }

    @Test
    void explainShowsARuleOutOfScope() throws IOException {
        // Given
        Path policy = dir.resolve("scoped.yaml");
        Files.writeString(policy, """
                id: scoped
                default: allow
                rules:
                  - id: prod-no-ddl
                    scope: {connection_labels: {env: prod}}
                    when: '"ddl" in command.kinds'
                    action: deny
                    reason: no DDL in production
                """);

        // When
        CliRun text = CliRun.run("policy", "explain", "--policy", policy.toString(), "--as", "alice", "--label", "env=dev",
                "--sql", "DROP TABLE orders");
        CliRun json = CliRun.run("policy", "explain", "--policy", policy.toString(), "--as", "alice", "--label", "env=dev",
                "--sql", "DROP TABLE orders", "--json");
        CliRun prod = CliRun.run("policy", "explain", "--policy", policy.toString(), "--as", "alice", "--label", "env=prod",
                "--sql", "DROP TABLE orders");

        // Then
        assertThat(text.code()).as(text.err()).isZero();
        assertThat(text.out()).containsPattern("prod-no-ddl +deny +out of scope")
                .containsPattern("=> \\(default\\) +allow +APPLIED");
        assertThat(new ObjectMapper().readTree(json.out()).at("/rules/0/status").asText()).isEqualTo("out_of_scope");
        assertThat(prod.code()).as(prod.err()).isEqualTo(3);
        assertThat(prod.out()).containsPattern("=> prod-no-ddl +deny +MATCHED");
    }

    @Test
    void explainShowsAParseError() {
        // When
        CliRun r = runIn(dir, "policy", "explain", "--as", "alice", "--sql", "SELEC 1");

        // Then
        assertThat(r.code()).isEqualTo(3);
        assertThat(r.out()).contains("NOT PARSEABLE: syntax error").contains("Rule        deny-unparseable-sql");
    }

    @Test
    void theExampleCasesAllPassAgainstTheExamplePolicy() throws IOException {
        // When
        CliRun r = CliRun.run("policy", "test", resource("example-policy.yaml").toString(),
                resource("example-policy-tests.yaml").toString());

        // Then
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).doesNotContain("FAIL").containsPattern("\n17 passed, 0 failed");
    }

    @Test
    void aFailingCaseShowsTheDifference() throws IOException {
        // Given
        Path cases = Files.writeString(dir.resolve("cases.yaml"), """
                cases:
                  - name: dba may create tables
                    identity: {subject: alice, groups: [dba]}
                    sql: CREATE TABLE t (id int)
                    expect: {verdict: allow}
                  - name: ci may create tables (wrong)
                    identity: {subject: ci-bot, groups: [ci]}
                    sql: CREATE TABLE t (id int)
                    expect: {verdict: allow, rule: default}
                """);

        // When
        CliRun r = CliRun.run("policy", "test", resource("example-policy.yaml").toString(), cases.toString());

        // Then
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).contains("PASS dba may create tables\n")
                .contains("FAIL ci may create tables (wrong)\n")
                .contains("expected: allow by rule default")
                .contains("actual:   deny by rule ci-no-ddl")
                .contains("reason:   CI identities may not change the schema")
                .contains("1 passed, 1 failed");
    }

    @Test
    void aMalformedCasesFileNamesEachBadCase() throws IOException {
        // Given
        Path cases = Files.writeString(dir.resolve("cases.yaml"), """
                cases:
                  - name: good
                    identity: {subject: alice}
                    sql: SELECT 1
                    expect: {verdict: allow}
                  - name: no sql
                    identity: {subject: alice}
                    expect: {verdict: allow}
                  - name: typo
                    identity: {subject: alice}
                    sql: SELECT 1
                    expct: {verdict: allow}
                  - name: bad verdict
                    identity: {subject: alice}
                    sql: SELECT 1
                    expect: {verdict: maybe}
                """);

        // When
        CliRun r = CliRun.run("policy", "test", resource("example-policy.yaml").toString(), cases.toString());

        // Then
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.out()).isEmpty();
        assertThat(r.err()).contains("case 2 'no sql': missing 'sql'")
                .contains("case 3 'typo': unknown key 'expct'")
                .contains("case 4 'bad verdict': expect.verdict must be allow or deny, found 'maybe'")
                .doesNotContain("case 1");
    }

    /** Copies a shipped policy resource to the temp dir, as a user would have it on disk. */
    private Path resource(String name) throws IOException {
        Path target = dir.resolve(name);
        try (InputStream in = PolicyCommandTest.class.getResourceAsStream("/policies/" + name)) {
            assertThat(in).as(name).isNotNull();
            Files.copy(in, target);
        }
        return target;
    }

    private static CliRun runIn(Path home, String... args) {
        String previous = System.getProperty("gatehouse.home");
        System.setProperty("gatehouse.home", home.toString());
        try {
            return CliRun.run(args);
        } finally {
            if (previous == null) System.clearProperty("gatehouse.home");
            else System.setProperty("gatehouse.home", previous);
        }
    }
}
