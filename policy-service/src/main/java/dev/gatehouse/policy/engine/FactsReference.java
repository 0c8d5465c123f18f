package dev.gatehouse.policy.engine;

import dev.cel.common.types.CelTypes;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Renders {@code docs/policy-facts.md}, the reference of the facts a rule condition may use, from
 * {@link FactCatalog}, the table the CEL environment is declared from, so the page cannot drift
 * from the code. {@code FactsReferenceTest} fails when the committed page differs.
 */
public final class FactsReference {

    private static final Logger LOGGER = LoggerFactory.getLogger(FactsReference.class);

    /** The page, relative to the policy-service module (the directory Maven runs its tests in). */
    public static final Path DEFAULT_PATH = Path.of("../docs/policy-facts.md");

    /** The command that rewrites the page after a change to the facts. */
    public static final String REGENERATE_COMMAND =
            "./mvnw -q test -pl policy-service -Dtest=FactsReferenceTest -Dgatehouse.regenerateDocs=true";

    /** A condition from the example policy and what it asks. */
    record Example(String condition, String meaning) {
    }

    /**
     * Conditions taken verbatim from {@code deploy/src/main/resources/policies/example-policy.yaml};
     * the test checks that each is still there and still compiles.
     */
    static final List<Example> EXAMPLES = List.of(
            new Example("!command.parseable", "the SQL could not be parsed"),
            new Example("command.tags.exists(t, t in [\"CREATE DATABASE\", \"DROP DATABASE\"])",
                    "some statement creates or drops a database"),
            new Example("\"ci\" in identity.groups && (\"ddl\" in command.kinds || \"TRUNCATE TABLE\" in command.tags)",
                    "a CI identity changes the schema or truncates a table"),
            new Example("\"ci\" in identity.groups && !(has(identity.ci.ref) && identity.ci.ref == \"refs/heads/main\")",
                    "a CI identity whose job did not run on the main branch"),
            new Example("(\"ddl\" in command.kinds || command.runs_code) && (time.day_of_week in [\"saturday\", \"sunday\"]"
                    + " || time.hour < 7 || time.hour >= 20)",
                    "a schema change, or code run on the server, at the weekend or outside 07:00 to 20:00 (in `policy.time-zone`)"),
            new Example("(\"ci\" in identity.groups || has(identity.ci.repository)) && command.uncertain",
                    "automation sends a statement Gatehouse cannot classify with certainty"),
            new Example("command.runs_code && !(\"dba\" in identity.groups)",
                    "someone outside the DBAs runs code on the server (a DO block, a procedure, a user-defined function, a trigger)"),
            new Example("connection.labels[\"env\"] == \"prod\" && \"write\" in command.kinds"
                    + " && !identity.claims[\"email\"].endsWith(\"@corp.example\")",
                    "a write to production by someone without a corporate e-mail address"),
            new Example("identity.delegated && !(\"agent-users\" in identity.originator.groups)",
                    "an agent acts for someone outside agent-users (the originator's groups, not the agent's)"),
            new Example("(identity.delegated || \"agents\" in identity.groups) && \"ddl\" in command.kinds",
                    "an agent (acting for someone, or a member of agents) changes the schema"));

    /** The condition whose (real) load error the page shows: a misspelt field. */
    static final String TYPO_CONDITION = "\"ddl\" in command.kind";

    private FactsReference() {
    }

    /** The reference page, in Markdown. */
    public static String markdown() {
        StringBuilder md = new StringBuilder();
        md.append("<!-- Generated from FactCatalog by dev.gatehouse.policy.engine.FactsReference; do not edit.\n")
                .append("     Regenerate: ").append(REGENERATE_COMMAND).append(" -->\n\n");
        md.append("# Policy facts\n\n");
        md.append("""
                A policy rule's `when` is a [CEL](https://cel.dev) expression over six variables: `identity`,
                `connection`, `command`, `session`, `time` and `request`. Conditions are parsed and type-checked when the policy
                is loaded: an undeclared variable, a misspelt field, an operand of the wrong type or a
                condition that is not `bool` rejects the whole policy, and Gatehouse keeps the previous one
                (or refuses to start). For example, the condition `%s` is rejected with:

                ```
                %s
                ```

                One command may hold several statements (`BEGIN; DROP TABLE t; COMMIT`): the lists below hold
                one entry per statement, so `x in command.tags` asks "does ANY statement ...". The maps
                (`identity.claims`, `identity.ci`, `connection.labels`) hold only the keys that were given:
                test a key with `has(...)` or `"key" in map` before reading it. A rule that fails while it is
                evaluated counts as matched if it denies and as not matched if it allows.

                """.formatted(TYPO_CONDITION, TypoError.TEXT));
        for (FactCatalog.Variable variable : FactCatalog.VARIABLES) {
            section(md, variable.name(), variable.description(), variable.name() + ".", variable.fields());
        }
        for (FactCatalog.Variable struct : FactCatalog.STRUCTS) {
            section(md, struct.name(), struct.description(), "", struct.fields());
        }
        md.append("## Examples\n\nFrom the example policy, ")
                .append("[`deploy/src/main/resources/policies/example-policy.yaml`]")
                .append("(../deploy/src/main/resources/policies/example-policy.yaml):\n\n");
        md.append("| condition | true when |\n|---|---|\n");
        for (Example example : EXAMPLES) {
            md.append("| `").append(example.condition().replace("|", "\\|")).append("` | ")
                    .append(example.meaning()).append(" |\n");
        }
        return md.toString();
    }

    /** A heading, its description and the table of its fields, each named {@code prefix + name}. */
    private static void section(StringBuilder md, String name, String description, String prefix,
                                List<FactCatalog.Field> fields) {
        md.append("## `").append(name).append("`\n\n").append(description).append("\n\n");
        md.append("| field | CEL type | description |\n|---|---|---|\n");
        for (FactCatalog.Field field : fields) {
            md.append("| `").append(prefix).append(field.name()).append("` | `").append(typeName(field.type()))
                    .append("` | ").append(field.description().replace("|", "\\|")).append(" |\n");
        }
        md.append('\n');
    }

    /** The type as a condition author writes it: {@code timestamp}, not its protobuf message name. */
    private static String typeName(dev.cel.common.types.CelType type) {
        return type.equals(dev.cel.common.types.SimpleType.TIMESTAMP) ? "timestamp" : CelTypes.format(type);
    }

    /** Writes the page to {@code path}. */
    static void write(Path path) throws IOException {
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) Files.createDirectories(parent);
        Files.writeString(path, markdown(), StandardCharsets.UTF_8);
        LOGGER.info("policy facts reference written path={}", path.toAbsolutePath().normalize());
    }

    /**
     * Writes the page to the path given as the only argument, or to {@link #DEFAULT_PATH} (which is
     * right when run from the policy-service directory).
     */
    public static void main(String[] args) throws IOException {
        write(args.length > 0 ? Path.of(args[0]) : DEFAULT_PATH);
    }

    /** The error a policy with {@link #TYPO_CONDITION} is rejected with, computed once (the loader logs it). */
    private static final class TypoError {
        static final String TEXT = typoError();

        private TypoError() {
        }
    }

    private static String typoError() {
        String yaml = """
                id: docs
                default: allow
                rules:
                  - id: typo
                    when: '%s'
                    action: deny
                    reason: r
                """.formatted(TYPO_CONDITION);
        try {
            Policy.parse(yaml);
        } catch (PolicyException e) {
            return String.join("\n", e.errors());
        }
        throw new IllegalStateException("the condition '" + TYPO_CONDITION + "' was expected to be rejected");
    }
}
