package dev.gatehouse.policy.engine;

import static dev.gatehouse.policy.engine.TestFacts.ci;
import static dev.gatehouse.policy.engine.TestFacts.person;
import static dev.gatehouse.policy.engine.TestFacts.select;
import static dev.gatehouse.policy.engine.TestFacts.unparseable;
import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementKind;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FactsReferenceTest {

    private static final Path PAGE = FactsReference.DEFAULT_PATH;
    private static final Path EXAMPLE_POLICY = Path.of("../deploy/src/main/resources/policies/example-policy.yaml");

    @Test
    void committedPageIsTheGeneratedOne() throws IOException {
        // Given
        String expected = FactsReference.markdown();
        if (Boolean.getBoolean("gatehouse.regenerateDocs")) {
            FactsReference.write(PAGE);
        }

        // When
        String committed = Files.exists(PAGE) ? Files.readString(PAGE, StandardCharsets.UTF_8) : "";

        // Then
        assertThat(committed)
                .as("%s is out of date with FactCatalog; regenerate it with%n  %s%nand commit it",
                        PAGE.toAbsolutePath().normalize(), FactsReference.REGENERATE_COMMAND)
                .isEqualTo(expected);
    }

    @Test
    void everyFieldFactsProvideIsDocumented() {
        // Given
        SqlCommand statements = SqlCommand.of(CommandId.random(), new SessionId("s-1"), 1, Instant.EPOCH,
                SqlCommand.Form.EXTENDED, SqlCommand.POSTGRES, List.of(new CommandStatement(CommandStatement.Step.EXECUTE,
                        "SELECT $1", "", "", List.of("1"), null, 0, false, null, TestFacts.stmt(StatementKind.READ, "SELECT"))),
                null, true, null, "fp");
        List<Facts> samples = List.of(
                Facts.of(person("alice", "dba"), TestFacts.DEMO, select()),
                Facts.of(person("alice", "dba"), TestFacts.DEMO, statements),
                Facts.of(ci("repo:acme/app"), new ConnectionRef("bare", null, null, Map.of()), unparseable("SELEC 1")),
                Facts.connect(person("bob"), TestFacts.DEMO, "s-2", Facts.Context.at(Instant.EPOCH, ZoneOffset.UTC)),
                Facts.of(DelegationFactsTest.agentForAlice(new DeclaredIntent("r-1", "2", true, null)), TestFacts.DEMO,
                        select()));

        // When
        Map<String, List<String>> documented = new LinkedHashMap<>();
        FactCatalog.VARIABLES.forEach(v -> documented.put(v.name(), v.fields().stream().map(FactCatalog.Field::name).toList()));

        // Then
        for (Facts facts : samples) {
            assertThat(facts.variables().keySet()).containsExactlyElementsOf(documented.keySet());
            documented.forEach((variable, fields) -> assertThat(facts.variable(variable).keySet())
                    .as("fields of '%s' that Facts provides", variable)
                    .containsExactlyElementsOf(fields));
        }
        List<String> statementFields = FactCatalog.STATEMENT.fields().stream().map(FactCatalog.Field::name).toList();
        @SuppressWarnings("unchecked")
        List<Map<String, Object>> provided = (List<Map<String, Object>>) samples.get(1).variable("command").get("statements");
        assertThat(provided).singleElement().satisfies(s -> assertThat(s.keySet()).containsExactlyElementsOf(statementFields));
        for (FactCatalog.Variable type : List.of(FactCatalog.ORIGINATOR, FactCatalog.INTENT)) {
            String field = type == FactCatalog.ORIGINATOR ? "originator" : "intent";
            List<String> structFields = type.fields().stream().map(FactCatalog.Field::name).toList();
            for (Facts facts : List.of(samples.get(0), samples.getLast())) {
                @SuppressWarnings("unchecked")
                Map<String, Object> struct = (Map<String, Object>) facts.variable("identity").get(field);
                assertThat(struct.keySet()).as("identity.%s", field)
                        .containsExactlyElementsOf(structFields);
            }
        }
        String page = FactsReference.markdown();
        documented.forEach((variable, fields) -> fields.forEach(field ->
                assertThat(page).contains("| `" + variable + "." + field + "` |")));
        statementFields.forEach(field -> assertThat(page).contains("| `" + field + "` |"));
    }

    @Test
    void everyExampleIsInTheExamplePolicyAndCompiles() throws IOException {
        // Given
        String policy = Files.readString(EXAMPLE_POLICY, StandardCharsets.UTF_8);

        // When / Then
        assertThat(FactsReference.EXAMPLES).isNotEmpty().allSatisfy(example -> {
            assertThat(policy).as("example-policy.yaml holds the documented example").contains(example.condition());
            assertThat(Conditions.compile(example.condition()).errors()).as(example.condition()).isEmpty();
        });
    }

    @Test
    void pageShowsTheRealLoadErrorOfAMisspeltField() {
        // When
        String page = FactsReference.markdown();

        // Then
        assertThat(page).contains("rule 'typo' (#1): condition error at line 1, column 17: ")
                .contains("undefined field 'kind'")
                .contains(FactsReference.REGENERATE_COMMAND);
    }
}
