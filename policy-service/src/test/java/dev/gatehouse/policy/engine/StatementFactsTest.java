package dev.gatehouse.policy.engine;

import static dev.gatehouse.policy.engine.TestFacts.person;
import static dev.gatehouse.policy.engine.TestFacts.select;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The facts of a command recorded statement by statement: {@code command.protocol},
 * {@code runs_code}, {@code uncertain}, {@code uncertainty}, {@code settings},
 * {@code filter_columns} and {@code statements}; type-checked when the policy loads.
 */
class StatementFactsTest {

    /**
     * A SET of search_path, then an SQL-level EXECUTE of a prepared UPDATE that reaches a trigger,
     * continuing nothing; then a FETCH from an open cursor.
     */
    private static SqlCommand prepared() {
        StatementAnalysis set = new StatementAnalysis(StatementKind.UTILITY, "SET", null, List.of(), List.of(), List.of(),
                false, false, false, List.of(), List.of("search_path"), List.of());
        StatementAnalysis update = new StatementAnalysis(StatementKind.WRITE, "UPDATE", null, List.of(),
                List.of("public.payouts"), List.of(), false, true, true, List.of("trigger on public.payouts"), List.of(),
                List.of("id", "payouts.id"));
        StatementAnalysis fetch = new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of("public.customers"),
                List.of(), List.of(), false, false, true, List.of("trigger on public.payouts", "cursor query"),
                List.of(), List.of("ssn"));
        return SqlCommand.of(CommandId.random(), new SessionId("session-1"), 4, Instant.EPOCH,
                SqlCommand.Form.SIMPLE_QUERY, SqlCommand.POSTGRES, List.of(
                        CommandStatement.query("SET search_path = app", set),
                        new CommandStatement(CommandStatement.Step.QUERY, "UPDATE payouts SET amount = $1 WHERE id = $2",
                                "pay", null, Arrays.asList("40", "7"), "sha256:" + "00".repeat(32), 0, false,
                                "EXECUTE pay(40, 7)", update),
                        new CommandStatement(CommandStatement.Step.QUERY, "SELECT ssn FROM customers ORDER BY ssn", null,
                                "c1", List.of(), null, 10, true, "FETCH 10 FROM c1", fetch)),
                "SET search_path = app; EXECUTE pay(40, 7); FETCH 10 FROM c1", true, null, "fp");
    }

    private static Facts facts(SqlCommand command) {
        return Facts.of(person("alice", "dev"), TestFacts.DEMO, command);
    }

    @Test
    void theNewCommandFactsSummariseEveryStatement() {
        // When
        Map<String, Object> command = facts(prepared()).variable("command");

        // Then
        assertThat(command.get("protocol")).isEqualTo("postgres");
        assertThat(command.get("runs_code")).isEqualTo(true);
        assertThat(command.get("uncertain")).isEqualTo(true);
        assertThat(command.get("uncertainty")).isEqualTo(List.of("trigger on public.payouts", "cursor query"));
        assertThat(command.get("settings")).isEqualTo(List.of("search_path"));
        assertThat(command.get("filter_columns")).isEqualTo(List.of("id", "payouts.id", "ssn"));
        assertThat(command.get("statements")).isEqualTo(List.of(
                Map.of("step", "QUERY", "sql", "SET search_path = app", "statement_name", "", "portal_name", "",
                        "via", "", "continued", false),
                Map.of("step", "QUERY", "sql", "UPDATE payouts SET amount = $1 WHERE id = $2", "statement_name", "pay",
                        "portal_name", "", "via", "EXECUTE pay(40, 7)", "continued", false),
                Map.of("step", "QUERY", "sql", "SELECT ssn FROM customers ORDER BY ssn", "statement_name", "",
                        "portal_name", "c1", "via", "FETCH 10 FROM c1", "continued", true)));
    }

    @Test
    void conditionsReadThemWithTheirTypes() throws Exception {
        // Given
        PolicyEvaluator evaluator = new PolicyEvaluator(Policy.parse("""
                id: p
                default: allow
                rules:
                  - id: every-new-fact
                    when: >-
                      command.protocol == "postgres" && command.runs_code && command.uncertain
                      && command.uncertainty.exists(r, r.startsWith("trigger")) && "search_path" in command.settings
                      && "ssn" in command.filter_columns
                      && command.statements.exists(s, s.step == "QUERY" && s.statement_name == "pay"
                           && s.via.startsWith("EXECUTE") && s.sql.contains("payouts") && !s.continued)
                      && command.statements.exists(s, s.continued && s.portal_name == "c1")
                      && command.statements[0].via == ""
                    action: deny
                    reason: every fact as expected
                """));

        // When
        Evaluation statements = evaluator.evaluate(facts(prepared()));
        Evaluation oneText = evaluator.evaluate(facts(select()));

        // Then
        assertThat(statements.trace()).singleElement()
                .isEqualTo(new Evaluation.RuleTrace("every-new-fact", true, null));
        assertThat(oneText.ruleId()).isEqualTo(Evaluation.DEFAULT_RULE_ID);
        assertThat(oneText.trace()).noneMatch(Evaluation.RuleTrace::errored);
    }

    @Test
    void aCommandRecordedAsOneTextHasNoStatementsAndThePostgresProtocol() {
        // When
        Map<String, Object> command = facts(select()).variable("command");

        // Then
        assertThat(command.get("statements")).isEqualTo(List.of());
        assertThat(command.get("protocol")).isEqualTo("postgres");
        assertThat(command.get("runs_code")).isEqualTo(false);
        assertThat(command.get("uncertainty")).isEqualTo(List.of());
    }

    @Test
    void aConnectRequestHasEmptyValues() {
        // When
        Map<String, Object> command = Facts.connect(person("alice"), TestFacts.DEMO, "session-1",
                Facts.Context.at(Instant.EPOCH, ZoneOffset.UTC)).variable("command");

        // Then
        assertThat(command).containsEntry("protocol", "").containsEntry("runs_code", false)
                .containsEntry("uncertain", false).containsEntry("uncertainty", List.of())
                .containsEntry("settings", List.of()).containsEntry("filter_columns", List.of())
                .containsEntry("statements", List.of());
    }

    @Test
    void misspeltStatementFieldsAndWrongTypesAreRejectedWhenThePolicyLoads() {
        // Then
        assertThatThrownBy(() -> Policy.parse(rule("command.statements.exists(s, s.stepp == \"BIND\")")))
                .isInstanceOf(PolicyException.class)
                .satisfies(e -> assertThat(((PolicyException) e).errors())
                        .anyMatch(m -> m.contains("undefined field 'stepp'")));
        assertThatThrownBy(() -> Policy.parse(rule("command.statements.exists(s, s.continued == \"yes\")")))
                .isInstanceOf(PolicyException.class)
                .satisfies(e -> assertThat(((PolicyException) e).errors()).anyMatch(m -> m.contains("_==_")));
        assertThatThrownBy(() -> Policy.parse(rule("command.runs_code > 1")))
                .isInstanceOf(PolicyException.class);
        assertThatThrownBy(() -> Policy.parse(rule("\"x\" in command.uncertain")))
                .isInstanceOf(PolicyException.class);
    }

    private static String rule(String condition) {
        return """
                id: p
                default: allow
                rules:
                  - id: r
                    when: '%s'
                    action: deny
                    reason: r
                """.formatted(condition);
    }
}
