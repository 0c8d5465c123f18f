package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.cli.GatehouseCli;
import dev.gatehouse.deploy.dev.DevEnvironment;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.PolicyLog;
import dev.gatehouse.platform.kafka.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * The policy lifecycle against a running system of its own (so other tests keep their policy):
 * {@code gatehouse policy apply} changes the next decision of a live session without a restart;
 * a version with a type error is refused and the previous one stays in force; a bad version that
 * reaches the log anyway is never activated; history, show and diff read the log.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class PolicyLifecycleIT {

    private static DevEnvironment env;
    private static Path dir;
    private static Connection session;

    private static final String V2 = """
            id: gatehouse-example
            version: lifecycle-2
            default: allow
            rules:
              - id: no-probe
                when: '"lifecycle_probe" in command.tables_read'
                action: deny
                reason: the probe table is closed
            """;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("gatehouse-policy-it-");
        env = new DevEnvironment(new DevEnvironment.Settings(dir, 0, 0, 0, 0, 0, null)).start();
        try (Connection direct = DriverManager.getConnection(env.target().superuserJdbcUrl("demo"));
             Statement s = direct.createStatement()) {
            s.execute("CREATE TABLE IF NOT EXISTS lifecycle_probe(x int); GRANT SELECT ON lifecycle_probe TO PUBLIC");
        }
        session = connect();
    }

    @AfterAll
    static void stop() throws Exception {
        if (session != null) session.close();
        if (env != null) env.close();
    }

    @Test
    @Order(1)
    void theFirstVersionIsThePolicyFileAndItsActivationIsAudited() {
        // Given a system started with the example policy file and nothing applied before
        PolicyLog.State state = PolicyLog.read(bootstrap(), Duration.ofSeconds(15));

        // Then the file became the first active version, and the instance recorded its activation
        assertThat(state.active()).isPresent();
        assertThat(state.active().get().appliedBy()).contains("initial policy from policy.yaml");
        assertThat(activations()).anySatisfy(a -> {
            assertThat(a.version()).isEqualTo(state.active().get().version());
            assertThat(a.staged()).isFalse();
            assertThat(a.header().instance()).isEqualTo(instanceId());
        });
    }

    @Test
    @Order(2)
    void applyChangesTheNextDecisionOfALiveSession() throws Exception {
        // Given a live session that may read the probe table under the example policy
        assertThat(count("SELECT count(*) FROM lifecycle_probe")).isZero();

        // When version lifecycle-2 is applied
        Path file = write("v2.yaml", V2);
        Cli apply = cli("policy", "apply", file.toString(), "--bootstrap-servers", bootstrap(), "--data-dir", dir.toString());

        // Then the command reports every instance active, and the same session's next read is denied by it
        assertThat(apply.code()).as(apply.toString()).isZero();
        assertThat(apply.out()).contains("applied policy gatehouse-example version lifecycle-2")
                .contains("active at policy instance " + instanceId());
        assertThatThrownBy(() -> count("SELECT count(*) FROM lifecycle_probe"))
                .isInstanceOf(SQLException.class)
                .hasMessageContaining("no-probe").hasMessageContaining("the probe table is closed");
        assertThat(latestDecision().decision().policyVersion()).isEqualTo("lifecycle-2");
        assertThat(activations()).anySatisfy(a -> {
            assertThat(a.version()).isEqualTo("lifecycle-2");
            assertThat(a.appliedBy()).isEqualTo(DevEnvironment.DEV_ADMIN);
        });
    }

    @Test
    @Order(3)
    void aVersionWithATypeErrorIsRefusedAndThePreviousStays() throws Exception {
        // Given lifecycle-2 in force
        int entries = PolicyLog.read(bootstrap(), Duration.ofSeconds(15)).entries().size();

        // When a version whose condition compares a list with a string is applied
        Path bad = write("bad.yaml", V2.replace("lifecycle-2", "lifecycle-bad")
                .replace("'\"lifecycle_probe\" in command.tables_read'", "'command.tables_read == \"x\"'"));
        Cli apply = cli("policy", "apply", bad.toString(), "--bootstrap-servers", bootstrap(), "--data-dir", dir.toString());

        // Then it is refused with the rule named, nothing reaches the log, and lifecycle-2 still decides
        assertThat(apply.code()).as(apply.toString()).isEqualTo(1);
        assertThat(apply.err()).contains("rule 'no-probe'").contains("nothing applied");
        assertThat(PolicyLog.read(bootstrap(), Duration.ofSeconds(15)).entries()).hasSize(entries);
        assertThatThrownBy(() -> count("SELECT count(*) FROM lifecycle_probe")).hasMessageContaining("no-probe");
    }

    @Test
    @Order(4)
    void aBadVersionThatReachesTheLogAnywayIsNeverActivated() throws Exception {
        // Given lifecycle-2 in force
        double rejectedBefore = rejectedCount();

        // When a document with a type error is written to the log directly, bypassing the CLI's check
        PolicyLog.publish(bootstrap(), PolicyLog.Entry.of(PolicyLog.Kind.ACTIVE, "gatehouse-example", "lifecycle-broken",
                V2.replace("lifecycle-2", "lifecycle-broken").replace("action: deny", "action: deny\n    bogus: 1"),
                "test"), Duration.ofSeconds(15));

        // Then the instance refuses it (counted), and lifecycle-2 keeps deciding
        await().atMost(Duration.ofSeconds(30)).until(() -> rejectedCount() > rejectedBefore);
        assertThatThrownBy(() -> count("SELECT count(*) FROM lifecycle_probe")).hasMessageContaining("no-probe");
        assertThat(latestDecision().decision().policyVersion()).isEqualTo("lifecycle-2");
        assertThat(env.runtime().decider().active().policy().version()).isEqualTo("lifecycle-2");
    }

    @Test
    @Order(5)
    void aVersionCannotBeReusedForDifferentContent() throws Exception {
        // When lifecycle-2 is applied again with a different reason
        Path changed = write("v2-changed.yaml", V2.replace("the probe table is closed", "closed for maintenance"));
        Cli apply = cli("policy", "apply", changed.toString(), "--bootstrap-servers", bootstrap(), "--data-dir", dir.toString());

        // Then it is refused: a version names one document
        assertThat(apply.code()).as(apply.toString()).isEqualTo(1);
        assertThat(apply.err()).contains("409").contains("version lifecycle-2 was applied before").contains("different content");
    }

    @Test
    @Order(5)
    void onlyAdministratorsApply() throws Exception {
        // Given a valid new version and a token of someone outside the admin group
        Path v9 = write("v9.yaml", V2.replace("lifecycle-2", "lifecycle-9"));
        String token = env.issuer().issue("mallory", List.of("dba"), Duration.ofMinutes(5), Map.of());

        // When mallory applies it
        Cli apply = cli("policy", "apply", v9.toString(), "--admin-url", env.adminUrl(), "--token", token, "--wait", "0s");

        // Then the admin API refuses, and nothing reaches the log
        assertThat(apply.code()).as(apply.toString()).isEqualTo(2);
        assertThat(apply.err()).contains("403");
        assertThat(PolicyLog.read(bootstrap(), Duration.ofSeconds(15)).version("lifecycle-9")).isEmpty();
    }

    @Test
    @Order(6)
    void historyShowAndDiffReadTheLog() throws Exception {
        // Given the initial version and lifecycle-2 applied
        String initial = PolicyLog.read(bootstrap(), Duration.ofSeconds(15)).entries().getFirst().version();

        // When history, show and diff run
        Cli history = cli("policy", "history", "--bootstrap-servers", bootstrap());
        Cli show = cli("policy", "show", "lifecycle-2", "--bootstrap-servers", bootstrap());
        Cli diff = cli("policy", "diff", initial, "lifecycle-2", "--bootstrap-servers", bootstrap());
        Cli same = cli("policy", "diff", "lifecycle-2", "active", "--bootstrap-servers", bootstrap());
        Cli unknown = cli("policy", "diff", "no-such-version", "--bootstrap-servers", bootstrap());

        // Then each answers from the log
        assertThat(history.code()).isZero();
        assertThat(history.out()).contains(initial).contains("lifecycle-2").contains("active").contains("lifecycle-broken");
        assertThat(show.out()).isEqualTo(V2);
        assertThat(diff.code()).as(diff.toString()).isEqualTo(1);
        assertThat(diff.out()).contains("+  - id: no-probe").contains("--- gatehouse-example version " + initial);
        assertThat(same.code()).isZero();
        assertThat(same.out()).contains("identical");
        assertThat(unknown.code()).isEqualTo(2);
        assertThat(unknown.err()).contains("no policy version 'no-such-version'").contains("lifecycle-2");
    }

    @Test
    @Order(7)
    void aRestartedInstanceEnforcesTheAppliedVersionNotItsFile() throws Exception {
        // Given lifecycle-2 applied while the instance was started with the example file
        env.close();

        // When the system restarts on the same data directory
        env = new DevEnvironment(new DevEnvironment.Settings(dir, 0, 0, 0, 0, 0, null)).start();

        // Then lifecycle-2 is still in force
        assertThat(env.runtime().decider().active().policy().version()).isEqualTo("lifecycle-2");
    }

    @Test
    @Order(8)
    void aStagedVersionRecordsItsVerdictsWithoutChangingTheOutcome() throws Exception {
        // Given lifecycle-2 in force (it allows SELECT 1) and a fresh session on the restarted system
        session.close();
        session = connect();

        // When lifecycle-3, which denies everything, is staged
        Path v3 = write("v3.yaml", "id: gatehouse-example\nversion: lifecycle-3\ndefault: deny\nrules: []\n");
        Cli stage = cli("policy", "apply", "--dry-run", v3.toString(), "--bootstrap-servers", bootstrap(), "--data-dir", dir.toString());

        // Then SELECT 1 still runs, and its decision records what lifecycle-3 would have done
        assertThat(stage.code()).as(stage.toString()).isZero();
        assertThat(stage.out()).contains("staged policy gatehouse-example version lifecycle-3").contains("staged at policy instance");
        assertThat(count("SELECT 1")).isEqualTo(1);
        AuditEvent.DecisionMade decided = latestDecision();
        assertThat(decided.decision().policyVersion()).isEqualTo("lifecycle-2");
        assertThat(decided.decision().verdict()).isEqualTo(dev.gatehouse.platform.core.Verdict.ALLOW);
        assertThat(decided.dryRun()).anySatisfy(d -> {
            assertThat(d.staged()).isTrue();
            assertThat(d.policyVersion()).isEqualTo("lifecycle-3");
            assertThat(d.verdict()).isEqualTo(dev.gatehouse.platform.core.Verdict.DENY);
        });

        // When it is withdrawn
        Cli unstage = cli("policy", "unstage", "--data-dir", dir.toString());

        // Then decisions carry no staged verdict any more
        assertThat(unstage.code()).as(unstage.toString()).isZero();
        await().atMost(Duration.ofSeconds(30)).until(() -> env.runtime().decider().staged().isEmpty());
        assertThat(count("SELECT 1")).isEqualTo(1);
        assertThat(latestDecision().dryRun()).noneSatisfy(d -> assertThat(d.staged()).isTrue());
    }

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + env.runtime().edgePort()
                        + "/demo?sslmode=disable&connectTimeout=30&socketTimeout=60", "alice",
                env.issuer().issue("alice", List.of("dba"), Duration.ofMinutes(30), Map.of()));
    }

    private static long count(String sql) throws SQLException {
        try (Statement s = session.createStatement(); ResultSet rs = s.executeQuery(sql)) {
            rs.next();
            return rs.getLong(1);
        }
    }

    private static String bootstrap() {
        return env.kafka().bootstrapServers();
    }

    private static String instanceId() {
        return env.runtime().config().instanceId();
    }

    private static double rejectedCount() {
        var counter = env.runtime().meters().find("gatehouse.policy.rejected").counter();
        return counter == null ? 0 : counter.count();
    }

    private static Path write(String name, String text) throws Exception {
        return Files.writeString(dir.resolve(name), text);
    }

    private static List<AuditEvent> audit() {
        AuditEventCodec codec = new AuditEventCodec();
        List<AuditEvent> events = new ArrayList<>();
        try (AuditTail tail = new AuditTail(bootstrap(), Topics.AUDIT, Duration.ofSeconds(30),
                EventSerde.of(codec::encode, codec::decode))) {
            tail.read(null, false, events::add);
        }
        return events;
    }

    private static List<AuditEvent.PolicyActivated> activations() {
        return audit().stream().filter(AuditEvent.PolicyActivated.class::isInstance)
                .map(AuditEvent.PolicyActivated.class::cast).toList();
    }

    /** The newest decision (the log is ordered per session, so across sessions by time). */
    private static AuditEvent.DecisionMade latestDecision() {
        return audit().stream().filter(AuditEvent.DecisionMade.class::isInstance)
                .map(AuditEvent.DecisionMade.class::cast)
                .max(java.util.Comparator.comparing(d -> d.header().timestamp()))
                .orElseThrow();
    }

    record Cli(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- out\n" + out + "\n--- err\n" + err;
        }
    }

    private static Cli cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = GatehouseCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(args);
        return new Cli(code, out.toString(), err.toString());
    }
}
