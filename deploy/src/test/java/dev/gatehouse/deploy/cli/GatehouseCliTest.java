package dev.gatehouse.deploy.cli;

import com.nimbusds.jwt.SignedJWT;
import dev.gatehouse.deploy.roles.Role;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class GatehouseCliTest {

    @Test
    void tokenPrintsASignedTokenForTheSubjectAndGroups(@TempDir Path dir) throws Exception {
        // When
        CliRun r = CliRun.run("token", "--subject", "alice", "--groups", "dba,ops", "--ttl", "10m", "--data-dir", dir.toString());

        // Then
        assertThat(r.code()).as(r.err()).isZero();
        SignedJWT jwt = SignedJWT.parse(r.out().trim());
        assertThat(jwt.getJWTClaimsSet().getSubject()).isEqualTo("alice");
        assertThat(jwt.getJWTClaimsSet().getStringListClaim("groups")).containsExactly("dba", "ops");
        assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly("gatehouse");
        assertThat(jwt.getJWTClaimsSet().getExpirationTime().getTime() - jwt.getJWTClaimsSet().getIssueTime().getTime())
                .isEqualTo(600_000L);
    }

    @Test
    void aBadOptionValueIsExplained(@TempDir Path dir) {
        // When
        CliRun r = CliRun.run("token", "--subject", "alice", "--ttl", "forever", "--data-dir", dir.toString());

        // Then
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).isEqualTo("gatehouse token: --ttl: 'forever' is not a duration (use 500ms, 5s, 10m, 2h or 30d)\n");
    }

    @Test
    void aMissingRequiredOptionIsNamed() {
        CliRun r = CliRun.run("token");
        assertThat(r.code()).isEqualTo(2);
        assertThat(r.err()).contains("Missing required option: '--subject=<subject>'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "run", "token", "audit", "audit tail", "policy", "policy validate", "policy explain",
            "policy test"})
    void everyCommandHasHelp(String command) {
        // When
        CliRun r = CliRun.run((command + " --help").split(" "));

        // Then
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("Usage: gatehouse " + command);
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void theHelpOfDevAndRunNamesEveryRole(Role role) {
        // When
        CliRun dev = CliRun.run("dev", "--help");
        CliRun run = CliRun.run("run", "--help");

        // Then
        assertThat(words(dev.out())).as("gatehouse dev --help").contains(role.label());
        assertThat(words(run.out())).as("gatehouse run --help").contains(role.label(), "all");
    }

    @ParameterizedTest
    @EnumSource(Role.class)
    void theReadmeAndTheArchitectureNameEveryRole(Role role) throws IOException {
        // When
        // Maven runs the tests of a module in the module's folder
        List<String> readme = Files.readAllLines(Path.of("../README.md"));
        List<String> architecture = Files.readAllLines(Path.of("../docs/architecture.md"));

        // Then
        assertThat(readme).as("the README's Roles line").filteredOn(line -> line.startsWith("Roles:"))
                .singleElement().asString().contains("`" + role.label() + "`");
        assertThat(architecture).as("the roles table of docs/architecture.md")
                .anyMatch(line -> line.startsWith("| `" + role.label() + "` |"));
    }

    private static List<String> words(String text) {
        return List.of(text.split("[^a-z]+"));
    }
}
