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
    void theDefaultIssuerWrittenOutIsTheDevelopmentIssuersUrl() {
        // written out in PolicyCommand so that the policy commands load without the dev module (the image)
        assertThat(PolicyCommand.DEFAULT_ISSUER).isEqualTo(dev.gatehouse.dev.DevTokenIssuer.defaultIssuerUrl(18080));
    }

    @Test
    void validateAcceptsTheExamplePolicy() throws IOException {
        // Given
        Path policy = resource("example-policy.yaml");

        // When
        CliRun r = CliRun.run("policy", "validate", policy.toString());

        // Then
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).matches("policy gatehouse-example version [0-9a-f]{12}: 24 rules, default allow: OK\n");
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
    void explainReadsTheSqlOfAMySqlConnectionInItsDialect() throws IOException {
        // Given
        String policy = resource("example-policy.yaml").toString();

        // When: an executable comment MariaDB runs, and a file written on the server
        CliRun hidden = CliRun.run("policy", "explain", "--policy", policy, "--as", "alice", "--groups", "dba",
                "--connection", "demo-mysql", "--protocol", "mysql", "--sql", "SELECT 1 /*!100000 ; DROP DATABASE demo -- */");
        CliRun outfile = CliRun.run("policy", "explain", "--policy", policy, "--as", "alice", "--groups", "dba",
                "--connection", "demo-mysql", "--protocol", "mysql", "--sql", "SELECT * FROM customers INTO OUTFILE '/tmp/x'");
        CliRun asPostgres = CliRun.run("policy", "explain", "--policy", policy, "--as", "alice", "--groups", "dba",
                "--sql", "SELECT 1 /*!100000 ; DROP DATABASE demo -- */");
        CliRun bad = CliRun.run("policy", "explain", "--policy", policy, "--as", "alice", "--protocol", "oracle",
                "--sql", "SELECT 1");

        // Then
        assertThat(hidden.code()).as(hidden.err()).isEqualTo(3);
        assertThat(hidden.out()).contains("Connection  demo-mysql (mysql)")
                .contains("statement 2: DROP DATABASE").contains("Rule        no-create-drop-database");
        assertThat(outfile.code()).as(outfile.err()).isEqualTo(3);
        assertThat(outfile.out()).contains("Rule        mysql-no-server-files");
        // PostgreSQL reads the same text as one SELECT with a comment
        assertThat(asPostgres.code()).as(asPostgres.err()).isZero();
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--protocol must be postgres or mysql");
    }

    @Test
    void explainConnectShowsTheConnectRulesAndTheRefusal() throws IOException {
        // Given
        String policy = resource("example-policy.yaml").toString();

        // When
        CliRun refused = CliRun.run("policy", "explain", "--policy", policy,
                "--connect", "--as", "repo:acme/orders:ref:refs/heads/main", "--ci", "repository=acme/orders",
                "--connection", "orders-prod", "--label", "env=prod");
        CliRun allowed = CliRun.run("policy", "explain", "--policy", policy,
                "--connect", "--as", "alice", "--groups", "dba", "--connection", "orders-prod", "--label", "env=prod",
                "--json");

        // Then
        assertThat(refused.code()).as(refused.err()).isEqualTo(3);
        assertThat(refused.out()).contains("Request     connect")
                .contains("Connect rules (in order; the first that matches decides)")
                .containsPattern("=> ci-orders-not-on-prod +deny +MATCHED")
                .containsPattern("\\(connect_default\\) +allow +not reached")
                .doesNotContain("no-create-drop-database")
                .doesNotContain("Analysis")
                .contains("Verdict     DENY")
                .contains("Reason      CI jobs of acme/orders may use staging connections, never production");
        assertThat(allowed.code()).as(allowed.err()).isZero();
        assertThat(allowed.out()).contains("\"request\":\"connect\"").contains("\"rule\":\"default\"")
                .contains("\"connect_default\":\"allow\"").doesNotContain("\"analysis\"");
    }

    @Test
    void explainWantsEitherSqlOrConnect() throws IOException {
        // Given
        String policy = resource("example-policy.yaml").toString();

        // When
        CliRun both = CliRun.run("policy", "explain", "--policy", policy, "--as", "alice", "--connect", "--sql", "SELECT 1");
        CliRun neither = CliRun.run("policy", "explain", "--policy", policy, "--as", "alice");

        // Then
        assertThat(both.code()).isEqualTo(2);
        assertThat(both.err()).contains("--connect explains a connection attempt: leave out --sql");
        assertThat(neither.code()).isEqualTo(2);
        assertThat(neither.err()).contains("Missing required option: '--sql=<sql>' (or --connect");
    }

    @Test
    void aConnectCaseHasNoSql() throws IOException {
        // Given
        Path cases = Files.writeString(dir.resolve("connect-cases.yaml"), """
                cases:
                  - name: connect with sql
                    identity: {subject: alice}
                    connect: true
                    sql: SELECT 1
                    expect: {verdict: allow}
                  - name: connect not a boolean
                    identity: {subject: alice}
                    connect: yes please
                    expect: {verdict: allow}
                """);

        // When
        CliRun r = CliRun.run("policy", "test", resource("example-policy.yaml").toString(), cases.toString());

        // Then
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("case 1 'connect with sql': a 'connect: true' case decides a connection attempt and has no 'sql'")
                .contains("case 2 'connect not a boolean': 'connect' must be true or false");
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
        assertThat(json.get("rules")).hasSize(19);
        assertThat(json.at("/rules/8/id").asText()).isEqualTo("ci-no-ddl");
        assertThat(json.at("/rules/8/deciding").asBoolean()).isTrue();
        assertThat(json.at("/rules/0/dry_run").asBoolean()).isTrue();
        assertThat(json.get("dry_run")).isEmpty();
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
        assertThat(r.out()).doesNotContain("FAIL").containsPattern("\n74 passed, 0 failed");
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
                .contains("case 4 'bad verdict': expect.verdict must be allow, deny, require_approval or mask, "
                        + "found 'maybe'")
                .doesNotContain("case 1");
    }

    @Test
    void explainShowsTheApprovalParametersAndExitsWithItsOwnCode() throws IOException {
        // When
        CliRun r = CliRun.run("policy", "explain", "--policy", resource("example-policy.yaml").toString(),
                "--as", "alice", "--groups", "dba", "--label", "env=prod", "--time", "2026-11-24T09:00:00Z",
                "--sql", "CREATE INDEX i ON orders (id)");

        // Then
        assertThat(r.code()).as(r.err()).isEqualTo(4);
        assertThat(r.out()).contains("Time        2026-11-24 tuesday 09:00 in UTC")
                .containsPattern("prod-no-ddl-outside-working-hours +deny +no match")
                .containsPattern("=> prod-ddl-needs-two-dbas +require_approval +MATCHED")
                .contains("Verdict     REQUIRE_APPROVAL")
                .contains("Approval    2 approvals from group dba (mode hold, expires in 10m)");
    }

    @Test
    void explainReadsTheTimeInTheGivenZone() throws IOException {
        // When 19:30 UTC is 20:30 in Berlin: outside working hours there
        CliRun r = CliRun.run("policy", "explain", "--policy", resource("example-policy.yaml").toString(),
                "--as", "alice", "--groups", "dba", "--label", "env=prod", "--time", "2026-11-24T19:30:00Z",
                "--time-zone", "Europe/Berlin", "--sql", "CREATE INDEX i ON orders (id)", "--json");

        // Then
        assertThat(r.code()).as(r.err()).isEqualTo(3);
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("rule").asText()).isEqualTo("prod-no-ddl-outside-working-hours");
        assertThat(json.at("/time/hour").asInt()).isEqualTo(20);
        assertThat(json.at("/time/day_of_week").asText()).isEqualTo("tuesday");
        assertThat(json.at("/time/zone").asText()).isEqualTo("Europe/Berlin");
        assertThat(json.at("/time/now").asText()).isEqualTo("2026-11-24T19:30:00Z");
    }

    @Test
    void explainShowsTheMaskProfileAndTheDryRunVerdicts() throws IOException {
        // When
        CliRun mask = CliRun.run("policy", "explain", "--policy", resource("example-policy.yaml").toString(),
                "--as", "bob", "--groups", "dev", "--label", "env=prod", "--client-address", "10.0.0.5",
                "--sql", "SELECT email FROM customers");
        CliRun write = CliRun.run("policy", "explain", "--policy", dir.resolve("example-policy.yaml").toString(),
                "--as", "bob", "--groups", "dev", "--label", "env=prod", "--sql", "UPDATE orders SET note = 'x' WHERE id = 1");
        CliRun json = CliRun.run("policy", "explain", "--policy", dir.resolve("example-policy.yaml").toString(),
                "--as", "bob", "--groups", "dev", "--label", "env=prod", "--sql", "UPDATE orders SET note = 'x' WHERE id = 1",
                "--json");

        // Then
        assertThat(mask.code()).as(mask.err()).isEqualTo(5);
        assertThat(mask.out()).contains("Client      10.0.0.5")
                .containsPattern("=> prod-mask-customer-data +mask +MATCHED")
                .contains("Verdict     MASK")
                .contains("Mask        profile pii-basic");
        assertThat(write.code()).as(write.err()).isZero();
        assertThat(write.out())
                .containsPattern("trial-prod-writes-only-by-dba +deny +DRY RUN: would deny \\(recorded, not applied\\)")
                .containsPattern("=> \\(default\\) +allow +APPLIED")
                .contains("Dry run (recorded, not applied)\n"
                        + "  trial-prod-writes-only-by-dba would deny: writes to production are for DBAs only");
        JsonNode tree = new ObjectMapper().readTree(json.out());
        assertThat(tree.at("/dry_run/0/rule").asText()).isEqualTo("trial-prod-writes-only-by-dba");
        assertThat(tree.at("/dry_run/0/verdict").asText()).isEqualTo("deny");
        assertThat(tree.at("/rules/0/status").asText()).isEqualTo("dry_run_matched");
    }

    @Test
    void explainRefusesABadTimeOrZoneInOneLine() throws IOException {
        // When
        CliRun time = runIn(dir, "policy", "explain", "--as", "alice", "--time", "tuesday", "--sql", "SELECT 1");
        CliRun zone = runIn(dir, "policy", "explain", "--as", "alice", "--time-zone", "Mars/Olympus", "--sql", "SELECT 1");

        // Then
        assertThat(time.code()).isEqualTo(2);
        assertThat(time.err()).isEqualTo("gatehouse policy explain: --time must be a date and time with an offset, "
                + "e.g. 2026-11-24T09:00:00Z or 2026-11-24T10:00:00+01:00, found 'tuesday'\n");
        assertThat(zone.code()).isEqualTo(2);
        assertThat(zone.err()).startsWith("gatehouse policy explain: --time-zone must be a time zone such as UTC, "
                + "Europe/Berlin or +01:00, found 'Mars/Olympus'");
    }

    @Test
    void aCaseCanFixTheTimeAndExpectDryRunRules() throws IOException {
        // Given
        Path cases = Files.writeString(dir.resolve("cases.yaml"), """
                cases:
                  - name: late DDL in prod
                    identity: {subject: alice, groups: [dba]}
                    connection: {labels: {env: prod}}
                    time: 2026-11-24T22:00:00+01:00
                    sql: DROP INDEX i
                    expect: {verdict: deny, rule: prod-no-ddl-outside-working-hours, dry_run: []}
                  - name: wrong dry run expectation
                    identity: {subject: bob, groups: [dev]}
                    connection: {labels: {env: prod}}
                    sql: INSERT INTO orders (id) VALUES (1)
                    expect: {verdict: allow, dry_run: []}
                  - name: bad time
                    identity: {subject: bob}
                    time: yesterday
                    sql: SELECT 1
                    expect: {verdict: allow}
                """);

        // When
        CliRun bad = CliRun.run("policy", "test", resource("example-policy.yaml").toString(), cases.toString());
        Files.writeString(cases, Files.readString(cases).replace("""
                  - name: bad time
                    identity: {subject: bob}
                    time: yesterday
                    sql: SELECT 1
                    expect: {verdict: allow}
                """, ""));
        CliRun r = CliRun.run("policy", "test", dir.resolve("example-policy.yaml").toString(), cases.toString());

        // Then
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("case 3 'bad time': 'time' must be a date and time with an offset");
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.out()).contains("PASS late DDL in prod\n")
                .contains("FAIL wrong dry run expectation\n")
                .contains("expected: allow (any rule), dry run -")
                .contains("actual:   allow by rule default, dry run trial-prod-writes-only-by-dba");
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

    @Test
    void aCaseIdentityMayBeAnAgentActingForAnOriginatorWithItsChainAndIntent() throws IOException {
        // Given: a policy that denies exactly the delegation the case describes
        Path policy = Files.writeString(dir.resolve("delegation.yaml"), """
                id: delegation
                default: allow
                rules:
                  - id: the-described-chain
                    when: >-
                      identity.delegated && identity.subject == "planner-agent" && "agents" in identity.groups
                      && identity.originator.subject == "alice" && identity.originator.groups == ["dba"]
                      && identity.originator.roles == ["admin"] && identity.originator.issuer == "https://other.example"
                      && identity.earlier_actors == ["orchestrator", "scheduler"] && identity.delegation_via == "act"
                      && identity.intent.run_id == "r-17" && identity.intent.step_id == "4" && !identity.intent.verified
                    action: deny
                    reason: the described chain
                  - id: a-verified-intent-of-someone-acting-for-nobody
                    when: '!identity.delegated && identity.intent.verified && identity.intent.step_id == ""'
                    action: deny
                    reason: verified
                """);
        Path cases = Files.writeString(dir.resolve("cases.yaml"), """
                cases:
                  - name: the agent acting for alice through two earlier actors
                    identity:
                      subject: planner-agent
                      groups: [agents]
                      originator: {subject: alice, issuer: "https://other.example", groups: [dba], roles: [admin]}
                      earlier_actors: [orchestrator, scheduler]
                      intent: {run_id: r-17, step_id: "4"}
                    sql: SELECT 1
                    expect: {verdict: deny, rule: the-described-chain}
                  - name: alice herself
                    identity: {subject: alice, groups: [dba]}
                    sql: SELECT 1
                    expect: {verdict: allow, rule: default}
                  - name: a verified run without delegation
                    identity: {subject: planner-agent, intent: {run_id: r-1, verified: true}}
                    sql: SELECT 1
                    expect: {verdict: deny, rule: a-verified-intent-of-someone-acting-for-nobody}
                """);

        // When
        CliRun r = CliRun.run("policy", "test", policy.toString(), cases.toString());

        // Then
        assertThat(r.code()).as(r.out() + r.err()).isZero();
        assertThat(r.out()).contains("3 passed, 0 failed");
    }

    @Test
    void aMalformedDelegationInACaseIsNamed() throws IOException {
        // Given
        Path cases = Files.writeString(dir.resolve("cases.yaml"), """
                cases:
                  - name: no originator subject
                    identity: {subject: agent, originator: {groups: [dba]}}
                    sql: SELECT 1
                    expect: {verdict: allow}
                  - name: earlier actors alone
                    identity: {subject: agent, earlier_actors: [a]}
                    sql: SELECT 1
                    expect: {verdict: allow}
                  - name: empty intent
                    identity: {subject: agent, intent: {verified: true}}
                    sql: SELECT 1
                    expect: {verdict: allow}
                  - name: typo in originator
                    identity: {subject: agent, originator: {subject: alice, group: [dba]}}
                    sql: SELECT 1
                    expect: {verdict: allow}
                  - name: originator groups not a list
                    identity: {subject: agent, originator: {subject: alice, groups: dba}}
                    sql: SELECT 1
                    expect: {verdict: allow}
                """);

        // When
        CliRun r = CliRun.run("policy", "test", resource("example-policy.yaml").toString(), cases.toString());

        // Then
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("case 1 'no originator subject': identity.originator: missing 'subject'")
                .contains("case 2 'earlier actors alone': identity.earlier_actors needs identity.originator")
                .contains("case 3 'empty intent': identity.intent needs 'run_id' or 'step_id'")
                .contains("case 4 'typo in originator' identity.originator: unknown key 'group'")
                .contains("case 5 'originator groups not a list': identity.originator.groups must be a list");
    }

    @Test
    void explainShowsTheOriginatorAndDecidesOnTheAgentsRights() throws IOException {
        // Given
        String policy = resource("example-policy.yaml").toString();

        // When: alice is a dba and in agent-users; the agent acting for her is neither
        CliRun agent = CliRun.run("policy", "explain", "--policy", policy,
                "--as", "planner-agent", "--groups", "agents", "--originator", "alice",
                "--originator-groups", "dba,agent-users", "--earlier-actors", "orchestrator", "--run-id", "r-17",
                "--sql", "DO $$ BEGIN UPDATE orders SET amount = amount WHERE id = 1; END $$");
        CliRun json = CliRun.run("policy", "explain", "--policy", policy,
                "--as", "planner-agent", "--groups", "agents", "--originator", "alice",
                "--originator-groups", "dba,agent-users", "--connect", "--json");
        CliRun bad = CliRun.run("policy", "explain", "--as", "planner-agent", "--originator-groups", "dba",
                "--sql", "SELECT 1");

        // Then
        assertThat(agent.code()).as(agent.err()).isEqualTo(3);
        assertThat(agent.out()).contains("Identity    planner-agent, groups agents")
                .contains("Acting for  alice, groups dba, agent-users (chain alice → orchestrator → planner-agent)")
                .contains("Intent      run r-17 (unverified: declared by the client)")
                .contains("Rule        server-code-only-for-dbas");
        assertThat(json.code()).as(json.err()).isZero();
        JsonNode tree = new ObjectMapper().readTree(json.out());
        assertThat(tree.get("rule").asText()).isEqualTo("delegation-named-agents");
        assertThat(tree.at("/identity/delegated").asBoolean()).isTrue();
        assertThat(tree.at("/identity/originator/subject").asText()).isEqualTo("alice");
        assertThat(tree.at("/identity/chain").asText()).isEqualTo("alice → planner-agent");
        assertThat(bad.code()).isEqualTo(2);
        assertThat(bad.err()).contains("--originator-groups, --originator-roles and --earlier-actors need --originator");
    }
}
