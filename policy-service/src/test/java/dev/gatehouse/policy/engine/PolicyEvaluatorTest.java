package dev.gatehouse.policy.engine;

import static dev.gatehouse.policy.engine.TestFacts.command;
import static dev.gatehouse.policy.engine.TestFacts.ddl;
import static dev.gatehouse.policy.engine.TestFacts.facts;
import static dev.gatehouse.policy.engine.TestFacts.person;
import static dev.gatehouse.policy.engine.TestFacts.select;
import static dev.gatehouse.policy.engine.TestFacts.stmt;
import static dev.gatehouse.policy.engine.TestFacts.write;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DryRunVerdict;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import dev.gatehouse.platform.core.Verdict;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class PolicyEvaluatorTest {

    /** The example shipped in deploy/: loaded from its real place so it can never rot. */
    private static final Path EXAMPLE = Path.of("../deploy/src/main/resources/policies/example-policy.yaml");

    private static PolicyEvaluator example;

    @BeforeAll
    static void loadExample() throws Exception {
        example = new PolicyEvaluator(Policy.load(EXAMPLE));
    }

    // --- the example policy, rule by rule ---

    @Test
    void exampleLoadsWithItsRulesInOrder() {
        // Then
        assertThat(example.policy().id()).isEqualTo("gatehouse-example");
        assertThat(example.policy().defaultAction()).isEqualTo(Action.ALLOW);
        assertThat(example.policy().version()).matches("[0-9a-f]{12}");
        assertThat(example.policy().rules()).extracting(Rule::id).containsExactly(
                "trial-prod-writes-only-by-dba", "deny-unparseable-sql", "automation-only-certain-sql",
                "server-code-only-for-dbas", "no-create-drop-database", "mysql-no-server-files",
                "no-function-call-protocol", "no-update-delete-without-where", "ci-no-ddl",
                "prod-no-ddl-outside-working-hours", "prod-ddl-needs-two-dbas", "agent-ddl-needs-a-dba",
                "demo-payouts-need-a-dba", "demo-payroll-needs-two-dbas", "demo-ledger-corrections-deferred",
                "demo-gift-cards-quick-approval", "demo-agent-errands-confirmed-by-originator",
                "prod-no-filtering-on-masked-customer-data", "prod-mask-customer-data",
                "ci-orders-not-on-prod", "agents-act-only-for-agent-users", "prod-agents-need-an-originator",
                "delegation-named-agents", "delegation-only-for-named-agents");
    }

    @Test
    void exampleDeniesUnparseableSql() {
        // When
        Evaluation e = example.evaluate(facts(person("dba", "dba"), TestFacts.unparseable("SELEC 1")));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.ruleId()).isEqualTo("deny-unparseable-sql");
        assertThat(e.reason()).contains("could not be parsed");
    }

    @ParameterizedTest
    @MethodSource("databaseStatements")
    void exampleDeniesCreateAndDropDatabaseToEveryone(String tag) {
        // Given
        SqlCommand cmd = command("SELECT 1; " + tag + " shop",
                stmt(StatementKind.READ, "SELECT"), ddl(tag, "DATABASE", "shop"));

        // When
        Evaluation e = example.evaluate(facts(person("root", "dba"), cmd));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.ruleId()).isEqualTo("no-create-drop-database");
        assertThat(e.reason()).isEqualTo("creating or dropping databases is not allowed through Gatehouse");
    }

    static Stream<String> databaseStatements() {
        return Stream.of("CREATE DATABASE", "DROP DATABASE");
    }

    @ParameterizedTest
    @MethodSource("mysqlServerFiles")
    void exampleDeniesFilesOfAMySqlServersHostAsTheMySqlAnalyserReadsThem(String sql) {
        // Given: a MySQL command as the edge's MySQL analyser sees it
        var analysis = dev.gatehouse.policy.sql.mysql.MySqlAnalyzer.mariaDb("11.4.5-MariaDB").analyze(sql);
        SqlCommand cmd = new SqlCommand(dev.gatehouse.platform.core.CommandId.random(),
                dev.gatehouse.platform.core.SessionId.random(), 1, java.time.Instant.now(), SqlCommand.Form.SIMPLE_QUERY, sql,
                List.of(), analysis, "mysql", List.of());
        ConnectionRef mysql = new ConnectionRef("shop", "mysql", "db:3306/shop", Map.of());

        // When
        Evaluation e = example.evaluate(Facts.of(person("dba", "dba"), mysql, cmd));
        Evaluation onPostgres = example.evaluate(Facts.of(person("dba", "dba"), TestFacts.DEMO, cmd));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.ruleId()).isEqualTo("mysql-no-server-files");
        assertThat(onPostgres.ruleId()).isNotEqualTo("mysql-no-server-files");
    }

    static Stream<String> mysqlServerFiles() {
        return Stream.of("SELECT * FROM customers INTO OUTFILE '/tmp/out.csv'",
                "SELECT name FROM customers INTO DUMPFILE '/tmp/out.bin'",
                "SELECT LOAD_FILE('/etc/passwd')",
                "LOAD DATA INFILE '/tmp/in.csv' INTO TABLE customers");
    }

    @Test
    void exampleDeniesProtocolLevelFunctionCalls() {
        // Given
        SqlCommand call = command(SqlCommand.Form.FUNCTION_CALL, "FunctionCall(oid=1598)",
                new SqlAnalysis(true, null, "", List.of(new StatementAnalysis(
                        StatementKind.PROCEDURAL, "SELECT", null, List.of(), List.of(), List.of("random"), false))));

        // When
        Evaluation e = example.evaluate(facts(person("dba", "dba"), call));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.ruleId()).isEqualTo("no-function-call-protocol");
    }

    @ParameterizedTest
    @MethodSource("writesWithoutWhere")
    void exampleDeniesUpdateAndDeleteWithoutWhere(String sql, String tag) {
        // When
        Evaluation e = example.evaluate(facts(person("dba", "dba"), command(sql, write(tag, "accounts", true))));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.ruleId()).isEqualTo("no-update-delete-without-where");
        assertThat(e.reason()).contains("WHERE");
    }

    static Stream<Arguments> writesWithoutWhere() {
        return Stream.of(Arguments.of("UPDATE accounts SET balance = 0", "UPDATE"),
                Arguments.of("DELETE FROM accounts", "DELETE"));
    }

    @Test
    void exampleAllowsUpdateWithWhere() {
        // When
        Evaluation e = example.evaluate(facts(person("dev", "dev"),
                command("UPDATE accounts SET balance = 0 WHERE id = 1", write("UPDATE", "accounts", false))));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(e.ruleId()).isEqualTo(Evaluation.DEFAULT_RULE_ID);
        assertThat(e.isDefault()).isTrue();
    }

    /** What {@code pgbench -i} sends, statement by statement, as the analyzer describes it. */
    static Stream<Arguments> pgbenchInit() {
        return Stream.of(
                Arguments.of(command("drop table if exists pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers",
                        ddl("DROP TABLE", "TABLE", "pgbench_accounts")), true),
                Arguments.of(command("create table pgbench_branches(bid int not null,bbalance int,filler char(88))",
                        ddl("CREATE TABLE", "TABLE", "pgbench_branches")), true),
                Arguments.of(command("truncate table pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers",
                        write("TRUNCATE TABLE", "pgbench_accounts", false)), true),
                Arguments.of(command("copy pgbench_accounts from stdin with (freeze on)",
                        write("COPY", "pgbench_accounts", false)), false),
                Arguments.of(command("vacuum analyze pgbench_branches",
                        stmt(StatementKind.UTILITY, "VACUUM")), false),
                Arguments.of(command("alter table pgbench_branches add primary key (bid)",
                        ddl("ALTER TABLE", "TABLE", "pgbench_branches")), true),
                Arguments.of(command("insert into pgbench_branches(bid,bbalance) values(1,0)",
                        write("INSERT", "pgbench_branches", false)), false),
                Arguments.of(command("begin", stmt(StatementKind.TRANSACTION, "BEGIN")), false),
                Arguments.of(command("commit", stmt(StatementKind.TRANSACTION, "COMMIT")), false));
    }

    @ParameterizedTest
    @MethodSource("pgbenchInit")
    void examplePgbenchInitRunsForADba(SqlCommand statement, boolean schemaChange) {
        // When
        Evaluation e = example.evaluate(facts(person("dba", "dba"), statement));

        // Then
        assertThat(e.verdict()).as(statement.sql()).isEqualTo(Verdict.ALLOW);
        assertThat(e.ruleId()).isEqualTo(Evaluation.DEFAULT_RULE_ID);
    }

    @ParameterizedTest
    @MethodSource("pgbenchInit")
    void examplePgbenchInitSchemaChangesAreDeniedToCi(SqlCommand statement, boolean schemaChange) {
        // When
        Evaluation e = example.evaluate(facts(TestFacts.ci("repo:acme/app"), statement));

        // Then
        if (schemaChange) {
            assertThat(e.verdict()).as(statement.sql()).isEqualTo(Verdict.DENY);
            assertThat(e.ruleId()).isEqualTo("ci-no-ddl");
            assertThat(e.reason()).isEqualTo("CI identities may not change the schema (DDL or TRUNCATE)");
        } else {
            assertThat(e.verdict()).as(statement.sql()).isEqualTo(Verdict.ALLOW);
        }
    }

    @Test
    void exampleDeniesDdlHiddenInAMultiStatementCommandToCi() {
        // Given
        SqlCommand cmd = command("BEGIN; CREATE INDEX i ON t(a); COMMIT",
                stmt(StatementKind.TRANSACTION, "BEGIN"), ddl("CREATE INDEX", "INDEX", "t"),
                stmt(StatementKind.TRANSACTION, "COMMIT"));

        // When
        Evaluation e = example.evaluate(facts(TestFacts.ci("repo:acme/app"), cmd));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.ruleId()).isEqualTo("ci-no-ddl");
        assertThat(e.trace()).extracting(Evaluation.RuleTrace::ruleId).containsExactly(
                "trial-prod-writes-only-by-dba", "deny-unparseable-sql", "automation-only-certain-sql",
                "server-code-only-for-dbas", "no-create-drop-database", "mysql-no-server-files", "no-function-call-protocol",
                "no-update-delete-without-where", "ci-no-ddl");
        assertThat(e.trace()).extracting(Evaluation.RuleTrace::matched)
                .containsExactly(false, false, false, false, false, false, false, false, true);
        assertThat(e.trace().getFirst().inScope()).as("the prod-only dry run, on a dev connection").isFalse();
    }

    @Test
    void exampleAllowsReadsToCi() {
        // When
        Evaluation e = example.evaluate(facts(TestFacts.ci("repo:acme/app"), select()));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(e.reason()).isEqualTo("no rule matched; the policy's default is allow");
        // every command rule is traced (connect rules are not)
        assertThat(e.trace()).hasSize((int) example.policy().rules().stream().filter(r -> r.appliesTo(Facts.RequestType.COMMAND)).count())
                .noneMatch(Evaluation.RuleTrace::matched).noneMatch(Evaluation.RuleTrace::errored);
        assertThat(e.dryRun()).isEmpty();
    }

    // --- the engine ---

    @Test
    void firstMatchingRuleWins() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                version: v7
                default: deny
                rules:
                  - {id: never, when: 'false', action: deny, reason: never}
                  - {id: readers, when: '"read" in command.kinds', action: allow, reason: reads are fine}
                  - {id: everything, when: 'true', action: deny, reason: all denied}
                """);

        // When
        Evaluation read = evaluator.evaluate(facts(person("bob"), select()));
        Evaluation write = evaluator.evaluate(facts(person("bob"), command("INSERT INTO t VALUES (1)", write("INSERT", "t", false))));

        // Then
        assertThat(read.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(read.ruleId()).isEqualTo("readers");
        assertThat(read.reason()).isEqualTo("reads are fine");
        assertThat(read.policyVersion()).isEqualTo("v7");
        assertThat(read.trace()).containsExactly(
                new Evaluation.RuleTrace("never", false, null), new Evaluation.RuleTrace("readers", true, null));
        assertThat(write.ruleId()).isEqualTo("everything");
        assertThat(write.verdict()).isEqualTo(Verdict.DENY);
    }

    @Test
    void defaultDecidesWhenNoRuleMatches() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: deny
                rules:
                  - {id: admins, when: '"admin" in identity.roles', action: allow}
                """);

        // When
        Evaluation e = evaluator.evaluate(facts(person("bob"), select()));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.action()).isEqualTo(Action.DENY);
        assertThat(e.ruleId()).isEqualTo("default");
        assertThat(e.reason()).isEqualTo("no rule matched; the policy's default is deny");
        assertThat(e.trace()).containsExactly(new Evaluation.RuleTrace("admins", false, null));
    }

    @Test
    void runtimeErrorInADenyRuleDeniesAndIsTraced() throws Exception {
        // Given: the token has no email claim
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: allow
                rules:
                  - id: outsiders
                    when: '!identity.claims["email"].endsWith("@corp.example")'
                    action: deny
                    reason: only corporate identities
                """);

        // When
        Evaluation e = evaluator.evaluate(facts(person("bob"), select()));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.ruleId()).isEqualTo("outsiders");
        assertThat(e.reason()).startsWith("only corporate identities [the condition could not be evaluated, so the rule applied: ")
                .contains("email");
        assertThat(e.trace()).singleElement().satisfies(t -> {
            assertThat(t.matched()).isTrue();
            assertThat(t.errored()).isTrue();
        });
    }

    @Test
    void runtimeErrorInAnAllowRuleDoesNotMatchAndIsTraced() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: deny
                rules:
                  - id: corp
                    when: 'identity.claims["email"].endsWith("@corp.example")'
                    action: allow
                  - id: from-main
                    when: 'identity.ci.ref == "refs/heads/main"'
                    action: allow
                """);

        // When
        Evaluation e = evaluator.evaluate(facts(person("bob"), select()));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.ruleId()).isEqualTo("default");
        assertThat(e.trace()).hasSize(2).allSatisfy(t -> {
            assertThat(t.matched()).isFalse();
            assertThat(t.errored()).isTrue();
        });
    }

    @Test
    void claimsAreReachableWithTheirTypes() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: deny
                rules:
                  - id: corp-senior
                    when: >-
                      identity.claims["email"].endsWith("@corp.example")
                      && identity.claims["level"] >= 3
                      && identity.claims.address.country == "NL"
                      && "payments" in identity.claims["teams"]
                      && identity.claims.mfa == true
                    action: allow
                """);
        Map<String, Object> corp = Map.of("email", "alice@corp.example", "level", 3, "address", Map.of("country", "NL"),
                "teams", List.of("payments", "core"), "mfa", true);
        Map<String, Object> outsider = Map.of("email", "eve@elsewhere.example", "level", 9L, "address", Map.of("country", "NL"),
                "teams", List.of("payments"), "mfa", true);

        // When
        Evaluation allowed = evaluator.evaluate(facts(TestFacts.withClaims(corp), select()));
        Evaluation denied = evaluator.evaluate(facts(TestFacts.withClaims(outsider), select()));

        // Then
        assertThat(allowed.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(allowed.ruleId()).isEqualTo("corp-senior");
        assertThat(allowed.trace()).noneMatch(Evaluation.RuleTrace::errored);
        assertThat(denied.verdict()).isEqualTo(Verdict.DENY);
        assertThat(denied.trace()).noneMatch(Evaluation.RuleTrace::errored);
    }

    @Test
    void connectionLabelsAndCiProvenanceAreReachable() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: allow
                rules:
                  - id: prod-ci-only-from-main
                    when: >-
                      connection.labels["env"] == "prod" && "ci" in identity.groups
                      && !(has(identity.ci.ref) && identity.ci.ref == "refs/heads/main")
                    action: deny
                    reason: CI reaches production only from main
                  - id: prod-humans-read-only
                    when: 'connection.labels["env"] == "prod" && size(identity.ci) == 0 && !command.kinds.all(k, k == "read")'
                    action: deny
                    reason: people only read production
                """);
        ConnectionRef prod = new ConnectionRef("shop", "postgres", "db:5432/shop", Map.of("env", "prod"));
        var ciFromMain = TestFacts.ci("repo:acme/app");
        SqlCommand insert = command("INSERT INTO t VALUES (1)", write("INSERT", "t", false));

        // When
        Evaluation ciProd = evaluator.evaluate(Facts.of(ciFromMain, prod, insert));
        Evaluation humanProdWrite = evaluator.evaluate(Facts.of(person("bob"), prod, insert));
        Evaluation humanProdRead = evaluator.evaluate(Facts.of(person("bob"), prod, select()));
        Evaluation humanDevWrite = evaluator.evaluate(Facts.of(person("bob"), TestFacts.DEMO, insert));

        // Then
        assertThat(ciProd.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(humanProdWrite.ruleId()).isEqualTo("prod-humans-read-only");
        assertThat(humanProdRead.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(humanDevWrite.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(List.of(ciProd, humanProdWrite, humanProdRead, humanDevWrite))
                .flatExtracting(Evaluation::trace).noneMatch(Evaluation.RuleTrace::errored);
    }

    @Test
    void commandDetailsAreReachable() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: allow
                rules:
                  - id: big-batch-on-accounts
                    when: >-
                      command.statement_count > 1 && "public.accounts" in command.tables_written
                      && command.form == "EXTENDED" && command.parameters.exists(p, p == "42")
                      && "TABLE" in command.object_types && command.fingerprint != "" && session.id == "session-1"
                      && command.text.contains("accounts") && "now" in command.functions && "audit" in command.tables_read
                    action: deny
                    reason: no
                """);
        SqlAnalysis analysis = new SqlAnalysis(true, null, "abc123", List.of(
                new StatementAnalysis(StatementKind.WRITE, "INSERT", null, List.of("audit"), List.of("public.accounts"),
                        List.of("now"), false),
                new StatementAnalysis(StatementKind.DDL, "ALTER TABLE", "TABLE", List.of(), List.of("public.accounts"),
                        List.of(), false)));
        SqlCommand cmd = new SqlCommand(CommandId.random(), new dev.gatehouse.platform.core.SessionId("session-1"), 3,
                java.time.Instant.EPOCH, SqlCommand.Form.EXTENDED, "INSERT INTO public.accounts ...;\nALTER TABLE public.accounts ...",
                java.util.Arrays.asList("42", null), analysis);

        // When
        Evaluation e = evaluator.evaluate(Facts.of(person("bob"), TestFacts.DEMO, cmd));

        // Then
        assertThat(e.trace()).singleElement().isEqualTo(new Evaluation.RuleTrace("big-batch-on-accounts", true, null));
    }

    @Test
    void approvalAndMaskRulesDecideWithTheirParameters() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                version: v9
                default: allow
                rules:
                  - id: approve-ddl
                    when: '"ddl" in command.kinds'
                    action: require_approval
                    approval: {group: dba, count: 2}
                    reason: DDL needs a second pair of eyes
                  - {id: mask-reads, when: '"read" in command.kinds', action: mask, mask: {profile: pii-basic}, reason: reads are masked}
                """);
        CommandId id = CommandId.random();

        // When
        Evaluation ddl = evaluator.evaluate(facts(person("bob"), command("DROP TABLE t", ddl("DROP TABLE", "TABLE", "t"))));
        Evaluation read = evaluator.evaluate(facts(person("bob"), select()));

        // Then
        assertThat(ddl.verdict()).isEqualTo(Verdict.REQUIRE_APPROVAL);
        assertThat(ddl.reason()).isEqualTo("DDL needs a second pair of eyes");
        assertThat(ddl.toDecision(id)).isEqualTo(
                new Decision.RequireApproval(id, "approve-ddl", "DDL needs a second pair of eyes", "v9", "dba", 2,
                        null, "hold", null, null));
        assertThat(read.verdict()).isEqualTo(Verdict.MASK);
        assertThat(read.toDecision(id)).isEqualTo(new Decision.Mask(id, "mask-reads", "reads are masked", "v9", "pii-basic"));
    }

    @Test
    void anErroringApprovalRuleAppliesAndSaysWhy() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: allow
                rules:
                  - id: approve-non-staff
                    when: '!identity.claims["email"].endsWith("@corp.example")'
                    action: require_approval
                    approval: {group: security}
                    reason: outsiders need an approval
                """);

        // When
        Evaluation e = evaluator.evaluate(facts(person("bob"), select()));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.REQUIRE_APPROVAL);
        assertThat(e.reason()).startsWith("outsiders need an approval [the condition could not be evaluated");
        assertThat(e.approval().group()).isEqualTo("security");
    }

    @Test
    void aDryRunRuleRecordsItsWouldBeVerdictWithoutDeciding() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                version: v2
                default: allow
                rules:
                  - {id: try-no-ddl, when: '"ddl" in command.kinds', action: deny, reason: no DDL, dry_run: true}
                  - id: try-approval
                    when: 'true'
                    action: require_approval
                    approval: {group: dba, count: 3}
                    reason: everything needs approval
                    dry_run: true
                  - {id: try-mask, when: 'false', action: mask, mask: {profile: p1}, reason: never, dry_run: true}
                  - {id: no-truncate, when: '"TRUNCATE TABLE" in command.tags', action: deny, reason: no truncate}
                  - {id: after-deciding, when: 'true', action: deny, reason: not reached, dry_run: true}
                """);

        // When
        Evaluation ddl = evaluator.evaluate(facts(person("bob"), command("DROP TABLE t", ddl("DROP TABLE", "TABLE", "t"))));
        Evaluation truncate = evaluator.evaluate(facts(person("bob"),
                command("TRUNCATE t", stmt(StatementKind.DDL, "TRUNCATE TABLE"))));

        // Then
        assertThat(ddl.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(ddl.isDefault()).isTrue();
        assertThat(ddl.dryRun()).extracting(DryRunVerdict::ruleId)
                .containsExactly("try-no-ddl", "try-approval", "after-deciding");
        assertThat(truncate.ruleId()).isEqualTo("no-truncate");
        assertThat(truncate.dryRun()).containsExactly(
                new DryRunVerdict("try-no-ddl", Verdict.DENY, "no DDL", "v2", false, null, 0, null),
                new DryRunVerdict("try-approval", Verdict.REQUIRE_APPROVAL, "everything needs approval", "v2", false,
                        "dba", 3, null));
        assertThat(truncate.trace()).extracting(Evaluation.RuleTrace::ruleId, Evaluation.RuleTrace::matched)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("try-no-ddl", true),
                        org.assertj.core.groups.Tuple.tuple("try-approval", true),
                        org.assertj.core.groups.Tuple.tuple("try-mask", false),
                        org.assertj.core.groups.Tuple.tuple("no-truncate", true));
    }

    @Test
    void aDryRunRuleDoesNotChangeTheOutcome() throws Exception {
        // Given
        String rules = """
                  - {id: try-no-ddl, when: '"ddl" in command.kinds', action: deny, reason: no DDL%s}
                """;
        PolicyEvaluator dryRun = evaluator("id: p\nversion: v2\ndefault: allow\nrules:\n" + rules.formatted(", dry_run: true"));
        PolicyEvaluator enforced = evaluator("id: p\nversion: v2\ndefault: allow\nrules:\n" + rules.formatted(""));
        SqlCommand drop = command("DROP TABLE t", ddl("DROP TABLE", "TABLE", "t"));

        // When
        Evaluation tried = dryRun.evaluate(facts(person("bob"), drop));
        Evaluation applied = enforced.evaluate(facts(person("bob"), drop));

        // Then
        assertThat(tried.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(tried.isDefault()).isTrue();
        assertThat(tried.dryRun()).singleElement()
                .isEqualTo(new DryRunVerdict("try-no-ddl", Verdict.DENY, "no DDL", "v2", false, null, 0, null));
        assertThat(applied.verdict()).isEqualTo(Verdict.DENY);
        assertThat(applied.dryRun()).isEmpty();
    }

    @Test
    void timeFactsAreTheCommandsTimeInTheConfiguredZone() throws Exception {
        // Given 23:30 UTC on Monday 2026-11-23 is 00:30 on Tuesday in Berlin
        java.time.Instant at = java.time.Instant.parse("2026-11-23T23:30:00Z");
        Facts utc = Facts.of(person("bob"), TestFacts.DEMO, select(), Facts.Context.at(at, java.time.ZoneOffset.UTC));
        Facts berlin = Facts.of(person("bob"), TestFacts.DEMO, select(),
                Facts.Context.at(at, java.time.ZoneId.of("Europe/Berlin")));
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: allow
                rules:
                  - id: night
                    when: 'time.hour < 7 && time.day_of_week == "tuesday" && time.date == "2026-11-24" && time.minute == 30'
                    action: deny
                    reason: not at night
                """);

        // When
        Evaluation inUtc = evaluator.evaluate(utc);
        Evaluation inBerlin = evaluator.evaluate(berlin);

        // Then
        assertThat(utc.variable("time")).containsEntry("hour", 23L).containsEntry("minute", 30L)
                .containsEntry("day_of_week", "monday").containsEntry("date", "2026-11-23").containsEntry("zone", "Z");
        assertThat(berlin.variable("time")).containsEntry("hour", 0L).containsEntry("minute", 30L)
                .containsEntry("day_of_week", "tuesday").containsEntry("date", "2026-11-24")
                .containsEntry("zone", "Europe/Berlin");
        assertThat(inUtc.isDefault()).isTrue();
        assertThat(inBerlin.ruleId()).isEqualTo("night");
    }

    @Test
    void sessionFactsGiveTheStartAsATimestampAndTheClientAddress() throws Exception {
        // Given
        java.time.Instant started = java.time.Instant.parse("2026-11-24T08:00:00Z");
        java.time.Instant now = java.time.Instant.parse("2026-11-24T17:00:00Z");
        Facts facts = Facts.of(person("bob"), TestFacts.DEMO, select(),
                new Facts.Context(now, java.time.ZoneOffset.UTC, started, "10.1.2.3"));
        Facts unknown = Facts.of(person("bob"), TestFacts.DEMO, select(), Facts.Context.at(now, java.time.ZoneOffset.UTC));
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: allow
                rules:
                  - id: long-session-from-office
                    when: 'time.now - session.started_at > duration("8h") && session.client_address.startsWith("10.")'
                    action: deny
                    reason: sessions from the office end after 8 hours
                  - id: started-in-2026
                    when: 'session.started_at > timestamp("2026-01-01T00:00:00Z")'
                    action: deny
                    reason: marker
                """);

        // When
        Evaluation known = evaluator.evaluate(facts);
        Evaluation notRecorded = evaluator.evaluate(unknown);

        // Then
        assertThat(known.ruleId()).isEqualTo("long-session-from-office");
        assertThat(notRecorded.isDefault()).isTrue();
        assertThat(unknown.variable("session")).containsEntry("client_address", "");
    }

    @Test
    void evaluationBecomesACoreDecision() {
        // Given
        CommandId id = CommandId.random();
        Evaluation allowed = example.evaluate(facts(person("dba", "dba"), select()));
        Evaluation denied = example.evaluate(facts(person("dba", "dba"), TestFacts.unparseable("SELEC")));

        // When
        Decision allow = allowed.toDecision(id);
        Decision deny = denied.toDecision(id);

        // Then
        assertThat(allow).isEqualTo(new Decision.Allow(id, "default", "no rule matched; the policy's default is allow",
                example.policy().version()));
        assertThat(deny).isInstanceOf(Decision.Deny.class);
        assertThat(deny.ruleId()).isEqualTo("deny-unparseable-sql");
        assertThat(deny.reason()).isEqualTo(denied.reason());
        assertThat(deny.policyVersion()).isEqualTo(example.policy().version());
    }

    @Test
    void factsProvideEveryDeclaredFieldAndNothingElse() {
        // When
        Facts facts = Facts.of(TestFacts.ci("repo:acme/app"), TestFacts.DEMO, select());

        // Then
        Conditions.FIELDS.forEach((variable, fields) ->
                assertThat(facts.variable(variable).keySet()).as(variable).containsExactlyElementsOf(fields.keySet()));
        assertThat(facts.variable("identity").get("ci")).isEqualTo(Map.of("system", "github", "repository", "acme/app",
                "repository_id", "42", "commit_sha", "0123abcd", "ref", "refs/heads/main", "workflow", "deploy",
                "run_id", "1001", "job", "migrate"));
        assertThat(facts.toString()).doesNotContain("SELECT");
    }

    // --- rule scope ---

    private static final String SCOPED = """
            id: teams
            default: allow
            rules:
              - id: payments-no-ddl-in-prod
                scope:
                  connections: [payments-prod, "orders-*"]
                  connection_labels: {env: prod}
                when: '"ddl" in command.kinds'
                action: deny
                reason: no DDL on payments production
              - id: svc-read-only
                scope:
                  subjects: ["svc-*"]
                  protocols: [postgres]
                when: '!("read" in command.kinds)'
                action: deny
                reason: service accounts only read
              - id: analysts-and-auditors
                scope: {groups: [analysts, auditors], issuers: ["https://issuer.*"]}
                when: '"write" in command.kinds'
                action: deny
                reason: analysts and auditors do not write
            """;

    private static final SqlCommand CREATE_TABLE = command("CREATE TABLE t (a int)", ddl("CREATE TABLE", "TABLE", "t"));

    private static ConnectionRef connection(String name, Map<String, String> labels) {
        return new ConnectionRef(name, "postgres", "db:5432/" + name, labels);
    }

    @Test
    void ruleInScopeDecides() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator(SCOPED);

        // When
        Evaluation e = evaluator.evaluate(Facts.of(person("alice"), connection("payments-prod", Map.of("env", "prod")),
                CREATE_TABLE));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.DENY);
        assertThat(e.ruleId()).isEqualTo("payments-no-ddl-in-prod");
        assertThat(e.trace()).containsExactly(new Evaluation.RuleTrace("payments-no-ddl-in-prod", true, null));
        assertThat(e.trace().get(0).inScope()).isTrue();
    }

    @Test
    void ruleOutOfScopeIsSkippedEvenThoughItsConditionWouldMatch() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator(SCOPED);

        // When
        Evaluation e = evaluator.evaluate(Facts.of(person("alice"), connection("inventory-prod", Map.of("env", "prod")),
                CREATE_TABLE));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(e.isDefault()).isTrue();
        assertThat(e.trace()).containsExactly(
                Evaluation.RuleTrace.outOfScope("payments-no-ddl-in-prod"),
                Evaluation.RuleTrace.outOfScope("svc-read-only"),
                Evaluation.RuleTrace.outOfScope("analysts-and-auditors"));
        assertThat(e.trace()).noneMatch(Evaluation.RuleTrace::inScope).noneMatch(Evaluation.RuleTrace::matched);
    }

    @Test
    void outOfScopeRuleDoesNotRunItsCondition() throws Exception {
        // Given: the condition would fail at run time (missing claim) and so deny, fail closed
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: allow
                rules:
                  - {id: prod-only, scope: {connection_labels: {env: prod}}, when: 'identity.claims["email"] == ""',
                     action: deny, reason: r}
                """);

        // When
        Evaluation e = evaluator.evaluate(facts(person("bob"), select()));

        // Then
        assertThat(e.verdict()).isEqualTo(Verdict.ALLOW);
        assertThat(e.trace()).containsExactly(Evaluation.RuleTrace.outOfScope("prod-only"));
        assertThat(e.trace()).noneMatch(Evaluation.RuleTrace::errored);
    }

    @Test
    void everyGivenLabelMustMatch() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator("""
                id: p
                default: allow
                rules:
                  - {id: prod-payments, scope: {connection_labels: {env: prod, team: payments}}, when: 'true',
                     action: deny, reason: r}
                """);

        // When
        Evaluation both = evaluator.evaluate(Facts.of(person("bob"),
                connection("x", Map.of("env", "prod", "team", "payments", "tier", "1")), select()));
        Evaluation oneOnly = evaluator.evaluate(Facts.of(person("bob"), connection("x", Map.of("env", "prod")), select()));
        Evaluation otherValue = evaluator.evaluate(Facts.of(person("bob"),
                connection("x", Map.of("env", "Prod", "team", "payments")), select()));

        // Then
        assertThat(both.ruleId()).isEqualTo("prod-payments");
        assertThat(oneOnly.isDefault()).isTrue();
        assertThat(oneOnly.trace()).singleElement().extracting(Evaluation.RuleTrace::inScope).isEqualTo(false);
        assertThat(otherValue.isDefault()).isTrue();
    }

    @ParameterizedTest
    @MethodSource("connectionNames")
    void connectionNamesMatchByGlob(String name, boolean inScope) throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator(SCOPED);

        // When
        Evaluation e = evaluator.evaluate(Facts.of(person("alice"), connection(name, Map.of("env", "prod")), CREATE_TABLE));

        // Then
        assertThat(e.trace().get(0).inScope()).isEqualTo(inScope);
        assertThat(e.verdict()).isEqualTo(inScope ? Verdict.DENY : Verdict.ALLOW);
    }

    static Stream<Arguments> connectionNames() {
        return Stream.of(
                Arguments.of("payments-prod", true),
                Arguments.of("orders-prod", true),
                Arguments.of("orders-", true),
                Arguments.of("orders", false),
                Arguments.of("Orders-prod", false),
                Arguments.of("payments-prod-2", false),
                Arguments.of("legacy-orders-prod", false));
    }

    @Test
    void subjectsMatchByGlobAndProtocolExactly() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator(SCOPED);
        SqlCommand insert = command("INSERT INTO t VALUES (1)", write("INSERT", "t", false));
        ConnectionRef demo = TestFacts.DEMO;
        ConnectionRef mysql = new ConnectionRef("demo", "mysql", "db:3306/demo", Map.of());

        // When
        Evaluation service = evaluator.evaluate(Facts.of(person("svc-billing"), demo, insert));
        Evaluation serviceRead = evaluator.evaluate(Facts.of(person("svc-billing"), demo, select()));
        Evaluation person = evaluator.evaluate(Facts.of(person("alice-svc-x"), demo, insert));
        Evaluation otherProtocol = evaluator.evaluate(Facts.of(person("svc-billing"), mysql, insert));

        // Then
        assertThat(service.ruleId()).isEqualTo("svc-read-only");
        assertThat(serviceRead.isDefault()).isTrue();
        assertThat(serviceRead.trace().get(1)).isEqualTo(new Evaluation.RuleTrace("svc-read-only", false, null));
        assertThat(person.isDefault()).isTrue();
        assertThat(person.trace().get(1)).isEqualTo(Evaluation.RuleTrace.outOfScope("svc-read-only"));
        assertThat(otherProtocol.isDefault()).isTrue();
    }

    @Test
    void groupsMatchWhenTheIdentityIsInAnyOfThem() throws Exception {
        // Given
        PolicyEvaluator evaluator = evaluator(SCOPED);
        SqlCommand insert = command("INSERT INTO t VALUES (1)", write("INSERT", "t", false));

        // When
        Evaluation auditor = evaluator.evaluate(facts(person("carol", "staff", "auditors"), insert));
        Evaluation analyst = evaluator.evaluate(facts(person("dave", "analysts"), insert));
        Evaluation neither = evaluator.evaluate(facts(person("erin", "staff", "Analysts"), insert));
        Evaluation otherIssuer = evaluator.evaluate(facts(new Identity("dave", "https://other.example",
                List.of("analysts"), List.of(), Map.of(), null), insert));

        // Then
        assertThat(auditor.ruleId()).isEqualTo("analysts-and-auditors");
        assertThat(analyst.ruleId()).isEqualTo("analysts-and-auditors");
        assertThat(neither.isDefault()).isTrue();
        assertThat(neither.trace()).last().isEqualTo(Evaluation.RuleTrace.outOfScope("analysts-and-auditors"));
        assertThat(otherIssuer.isDefault()).isTrue();
        assertThat(otherIssuer.trace()).last().isEqualTo(Evaluation.RuleTrace.outOfScope("analysts-and-auditors"));
    }

    private static PolicyEvaluator evaluator(String yaml) throws PolicyException {
        return new PolicyEvaluator(Policy.parse(yaml));
    }
}
