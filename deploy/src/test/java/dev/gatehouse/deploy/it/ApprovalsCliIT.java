package dev.gatehouse.deploy.it;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gatehouse.deploy.cli.GatehouseCli;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.dev.DevEnvironment;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

/**
 * {@code gatehouse approvals list | show | approve | deny} against the running approval service of
 * a {@code gatehouse dev} (real HTTP, tokens minted by its development issuer for {@code --as}),
 * with a real psql waiting on the held statement.
 */
class ApprovalsCliIT {
    
    private final Gateway gw = Gateway.get();
    private final String requester = "req-" + UUID.randomUUID().toString().substring(0, 8);
    private HeldPsql held;
    private Process psql;

    @BeforeAll
    static void table() throws Exception {
        try (Connection c = Gateway.get().targetDirect(DemoTarget.DATABASE); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS payouts (id serial PRIMARY KEY, note text, amount int DEFAULT 0)");
            s.execute("GRANT ALL ON payouts TO PUBLIC");
            s.execute("GRANT ALL ON SEQUENCE payouts_id_seq TO PUBLIC");
        }
    }

    @AfterEach
    void stopPsql() {
        if (psql != null) psql.destroyForcibly();
    }

    @Test
    void aDbaListsShowsAndApprovesAHeldStatementFromTheCommandLine() throws Exception {
        // Given
        String note = "payout " + UUID.randomUUID();
        Path err = hold("INSERT INTO payouts (note, amount) VALUES ('" + note + "', 42)");
        String id = approvalId(err);

        // When
        Cli list = cli("list");
        Cli show = cli("show", id);
        Cli approve = cli("approve", id, "--as", "bob", "--groups", "dba", "--reason", "checked the amount");

        // Then
        assertThat(list.code()).as(list.toString()).isZero();
        assertThat(list.out()).contains("ID").contains("SQL");
        assertThat(line(list.out(), id)).contains("pending").contains(requester).contains("demo").contains("0/1")
                .contains("INSERT INTO payouts");
        assertThat(show.code()).as(show.toString()).isZero();
        assertThat(show.out()).contains("approval   " + id + " (pending, hold)")
                .contains("requester  " + requester).contains("rule       demo-payouts-need-a-dba")
                .contains("approvers  group dba, 0 of 1 approvals").contains(note);
        assertThat(approve.code()).as(approve.toString()).isZero();
        assertThat(approve.out()).contains("approved " + id + ": granted by bob");
        assertThat(psql.waitFor(2, TimeUnit.MINUTES)).as("psql finished").isTrue();
        assertThat(psql.exitValue()).as(Files.readString(err)).isZero();
        assertThat(count(note)).isEqualTo(1);
        await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> {
            assertThat(cli("list").out()).doesNotContain(id);
            assertThat(line(cli("list", "--all").out(), id)).containsAnyOf("granted", "executed");
            assertThat(cli("show", id).out()).contains("vote").contains("bob approve via").contains("checked the amount")
                    .contains("outcome    granted");
        });
    }

    @Test
    void aDenialFromTheCommandLineReachesPsqlWithTheReason() throws Exception {
        // Given
        String note = "payout " + UUID.randomUUID();
        Path err = hold("INSERT INTO payouts (note) VALUES ('" + note + "')");
        String id = approvalId(err);

        // When
        Cli withoutReason = cli("deny", id, "--as", "carol", "--groups", "dba");
        Cli deny = cli("deny", id, "--as", "carol", "--groups", "dba", "--reason", "not during the freeze");

        // Then
        assertThat(withoutReason.code()).as(withoutReason.toString()).isEqualTo(2);
        assertThat(withoutReason.err()).contains("--reason");
        assertThat(deny.code()).as(deny.toString()).isZero();
        assertThat(deny.out()).contains("denied " + id + ": denied");
        assertThat(psql.waitFor(2, TimeUnit.MINUTES)).as("psql finished").isTrue();
        assertThat(psql.exitValue()).isNotZero();
        assertThat(Files.readString(err)).contains("carol").contains("not during the freeze");
        assertThat(count(note)).isZero();
    }

    @Test
    void refusalsAreOneClearLineNotAStackTrace() throws Exception {
        // Given
        String note = "payout " + UUID.randomUUID();
        Path err = hold("INSERT INTO payouts (note) VALUES ('" + note + "')");
        String id = approvalId(err);

        // When
        Cli own = cli("approve", id, "--as", requester, "--groups", "dba");
        Cli outsider = cli("approve", id, "--as", "mallory", "--groups", "developers");
        Cli unknown = cli("show", "ap-000000000000");

        // Then
        assertThat(own.code()).as(own.toString()).isEqualTo(1);
        assertThat(own.err()).contains("gatehouse approvals approve: approval service answered 403: "
                + "the requester cannot approve their own request").doesNotContain("Exception");
        assertThat(outsider.code()).as(outsider.toString()).isEqualTo(1);
        assertThat(outsider.err()).contains("gatehouse approvals approve: approval service answered 403: "
                + "mallory is not in the approver group dba").doesNotContain("Exception");
        assertThat(unknown.code()).as(unknown.toString()).isEqualTo(1);
        assertThat(unknown.err()).contains("gatehouse approvals show: approval service answered 404: no approval ap-000000000000")
                .doesNotContain("Exception");
        assertThat(psql.isAlive()).as("still held").isTrue();
        assertThat(cli("approve", id, "--as", "bob", "--groups", "dba").code()).isZero();
        assertThat(psql.waitFor(2, TimeUnit.MINUTES)).isTrue();
        assertThat(count(note)).isEqualTo(1);
    }

    // ---------------------------------------------------------------- helpers

    private record Cli(int code, String out, String err) {
    }

    /**
     * {@code gatehouse approvals ...} in-process. Without {@code --url}: the CLI finds the approval
     * service in the dev state file of {@code --data-dir}.
     */
    private Cli cli(String... args) {
        List<String> all = new ArrayList<>(List.of("approvals", args[0], "--data-dir", gw.dataDir.toAbsolutePath().toString()));
        all.addAll(List.of(args).subList(1, args.length));
        PrintStream stdout = System.out;
        PrintStream stderr = System.err;
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        StringWriter picocliErr = new StringWriter();
        synchronized (ApprovalsCliIT.class) {
            try {
                System.setOut(new PrintStream(out, true, StandardCharsets.UTF_8));
                System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
                CommandLine cli = GatehouseCli.commandLine();
                cli.setErr(new PrintWriter(picocliErr, true));
                int code = cli.execute(all.toArray(String[]::new));
                return new Cli(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8) + picocliErr);
            } finally {
                System.setOut(stdout);
                System.setErr(stderr);
            }
        }
    }

    private static String line(String text, String id) {
        return text.lines().filter(l -> l.startsWith(id)).findFirst()
                .orElseThrow(() -> new AssertionError(id + " not listed:\n" + text));
    }

    /** psql in the background on a statement the example policy holds for a DBA; returns its stderr file. */
    private Path hold(String sql) throws IOException {
        assertThat(DevEnvironment.readState(gw.dataDir).getProperty("approval.url"))
                .isEqualTo("http://127.0.0.1:" + gw.env.runtime().approvalPort());
        held = HeldPsql.start(gw, requester, sql);
        psql = held.process();
        return held.err();
    }

    private String approvalId(Path err) {
        return held.approvalId();
    }

    private int count(String note) throws Exception {
        try (Connection c = gw.targetDirect(DemoTarget.DATABASE); Statement s = c.createStatement();
             ResultSet rs = s.executeQuery("SELECT count(*) FROM payouts WHERE note = '" + note + "'")) {
            rs.next();
            return rs.getInt(1);
        }
    }
}
