package dev.gatehouse.deploy.cli;

import com.nimbusds.jwt.SignedJWT;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import picocli.CommandLine;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class GatehouseCliTest {

    @Test
    void tokenPrintsASignedTokenForTheSubjectAndGroups(@TempDir Path dir) throws Exception {
        // When
        Run r = run("token", "--subject", "alice", "--groups", "dba,ops", "--ttl", "10m", "--data-dir", dir.toString());

        // Then
        assertThat(r.code).as(r.err).isZero();
        SignedJWT jwt = SignedJWT.parse(r.out.trim());
        assertThat(jwt.getJWTClaimsSet().getSubject()).isEqualTo("alice");
        assertThat(jwt.getJWTClaimsSet().getStringListClaim("groups")).containsExactly("dba", "ops");
        assertThat(jwt.getJWTClaimsSet().getAudience()).containsExactly("gatehouse");
        assertThat(jwt.getJWTClaimsSet().getExpirationTime().getTime() - jwt.getJWTClaimsSet().getIssueTime().getTime())
                .isEqualTo(600_000L);
    }

    @Test
    void aBadOptionValueIsExplained(@TempDir Path dir) {
        // When
        Run r = run("token", "--subject", "alice", "--ttl", "forever", "--data-dir", dir.toString());

        // Then
        assertThat(r.code).isEqualTo(2);
        assertThat(r.err).isEqualTo("gatehouse token: --ttl: 'forever' is not a duration (use 500ms, 5s, 10m, 2h or 30d)\n");
    }

    @Test
    void aMissingRequiredOptionIsNamed() {
        Run r = run("token");
        assertThat(r.code).isEqualTo(2);
        assertThat(r.err).contains("Missing required option: '--subject=<subject>'");
    }

    @ParameterizedTest
    @ValueSource(strings = {"dev", "run", "token", "audit", "audit tail", "policy", "policy validate", "policy explain",
            "policy test"})
    void everyCommandHasHelp(String command) {
        // When
        Run r = run((command + " --help").split(" "));

        // Then
        assertThat(r.code).isZero();
        assertThat(r.out).startsWith("Usage: gatehouse " + command);
    }

    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            CommandLine cli = GatehouseCli.commandLine();
            cli.setOut(new PrintWriter(out, true));
            cli.setErr(new PrintWriter(err, true));
            int code = cli.execute(args);
            return new Run(code, out + captured.toString(StandardCharsets.UTF_8), err.toString());
        } finally {
            System.setOut(stdout);
        }
    }
}
