package dev.gatehouse.deploy.it;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;
import static org.awaitility.Awaitility.await;

/**
 * Delegation tokens (RFC 8693) from the development issuer through psql and JDBC: the chain and
 * the declared intent reach SessionOpened and every CommandReceived, and chains the gateway must
 * not accept are refused at login, with the reason, and recorded.
 */
class DelegationIT {

    private static final Gateway gw = Gateway.get();
    private static GitHubActionsEdge untrusted;

    @BeforeAll
    static void startEdgeWithAnIssuerNotTrustedToDelegate() throws Exception {
        // an edge with a production connection, trusting the dev issuer's delegation and a GitHub issuer's not
        var target = gw.env.target();
        untrusted = GitHubActionsEdge.start(gw, "delegation-edge", "https://github.com/octo-org", "5s",
                List.of(EdgeConfigs.connection("demo", target, "enforce"), new GatehouseConfig.Connection("demo-prod",
                        target.host(), target.port(), DemoTarget.DATABASE, target.role(), target.password(), false, null,
                        "enforce", Map.of("env", "prod"))));
    }

    @AfterAll
    static void stop() throws Exception {
        if (untrusted != null) untrusted.close();
    }

    @Test
    void psqlWithADelegationTokenRecordsTheChainAndTheUnverifiedIntentOnEveryEvent() throws Exception {
        // Given: planner-agent acts for alice; it declares its run and step in its connection options
        String app = "delegation-psql-" + UUID.randomUUID();
        String token = delegation("alice", List.of("dba"), "planner-agent", List.of("agents"), List.of(), Map.of());

        // When
        Gateway.Result result = gw.run(token, null, "env", "PGOPTIONS=-c gatehouse.run_id=run-17 -c gatehouse.step_id=3",
                "PGAPPNAME=" + app, "psql", "-X", "-w", "-U", "planner-agent", "-d", "demo", "-At", "-c", "SELECT 40 + 2");

        // Then
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout().strip()).isEqualTo("42");
        SessionId session = gw.sessionOpened(app);
        DeclaredIntent unverified = new DeclaredIntent("run-17", "3", false, DeclaredIntent.CONNECTION_PARAMETER);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> events = gw.audit(session);
            List<Identity> identities = events.stream().map(DelegationIT::identity).filter(i -> i != null).toList();
            assertThat(events).hasAtLeastOneElementOfType(AuditEvent.SessionOpened.class)
                    .hasAtLeastOneElementOfType(AuditEvent.CommandReceived.class);
            assertThat(identities).isNotEmpty().allSatisfy(id -> {
                assertThat(id.subject()).isEqualTo("planner-agent");
                assertThat(id.groups()).containsExactly("agents");
                assertThat(id.delegation().originator()).isEqualTo("alice");
                assertThat(id.delegation().originatorGroups()).containsExactly("dba");
                assertThat(id.delegation().originatorIssuer()).isEqualTo(gw.env.issuer().issuerUrl());
                assertThat(id.delegation().via()).isEqualTo("act");
                assertThat(id.intent()).isEqualTo(unverified);
            });
        });
    }

    @Test
    void jdbcWithASignedIntentKeepsTheSignedOneOverTheClientsWord() throws Exception {
        // Given: the issuer signed run-9; the client claims run-666 in its options
        String app = "delegation-jdbc-" + UUID.randomUUID();
        String token = delegation("alice", List.of("dba"), "executor-agent", List.of("agents"), List.of("planner-agent"),
                Map.of("agent_run_id", "run-9", "agent_step_id", "2"));

        // When
        Identity id = openedBySelect(app, "executor-agent", token, "&options=-c%20gatehouse.run_id=run-666");

        // Then
        assertThat(id.subject()).isEqualTo("executor-agent");
        assertThat(id.delegation().earlierActors()).containsExactly("planner-agent");
        assertThat(id.delegation().chain(id.subject())).isEqualTo("alice → planner-agent → executor-agent");
        assertThat(id.intent()).isEqualTo(new DeclaredIntent("run-9", "2", true, DeclaredIntent.TOKEN));
    }

    @Test
    void aChainNamingItsSubjectOrDeeperThanTheLimitIsRefusedAtLoginAndRecorded() throws Exception {
        String self = delegation("alice", List.of("dba"), "alice", List.of(), List.of(), Map.of());
        String deep = delegation("alice", List.of("dba"), "a4", List.of(), List.of("a3", "a2", "a1"), Map.of());

        assertRefused(self, "cannot act for itself");
        assertRefused(deep, "deeper than the 3 actors");
    }

    @Test
    void anActClaimFromAnIssuerNotTrustedToDelegateIsRefused() throws Exception {
        // Given: the GitHub Actions issuer beside the dev issuer asserts no delegation
        Instant now = Instant.now();
        JWTClaimsSet.Builder claims = new JWTClaimsSet.Builder().issuer(untrusted.github().issuerUrl())
                .subject("repo:octo-org/octo-repo:ref:refs/heads/main").audience("https://github.com/octo-org")
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300)))
                .claim("repository", "octo-org/octo-repo")
                .claim("act", Map.of("sub", "planner-agent"));
        String token = untrusted.github().sign(claims.build());
        String user = "untrusted-" + UUID.randomUUID().toString().substring(0, 8);

        // When
        SQLException e = catchThrowableOfType(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + untrusted.edgePort() + "/demo?sslmode=disable&connectTimeout=30", user, token)
                .close());

        // Then
        assertThat((Throwable) e).isNotNull();
        assertThat(e.getSQLState()).isEqualTo("28000");
        assertThat(e.getMessage()).contains("is not trusted to assert delegation");
    }

    @Test
    void aDeclaredIntentTooLongIsRefusedWithTheParameterNamed() throws Exception {
        String token = delegation("alice", List.of("dba"), "planner-agent", List.of("agents"), List.of(), Map.of());

        Gateway.Result result = gw.run(token, null, "env", "PGOPTIONS=-c gatehouse.run_id=" + "x".repeat(300),
                "psql", "-X", "-w", "-U", "planner-agent", "-d", "demo", "-c", "SELECT 1");

        assertThat(result.exitCode()).as(result.toString()).isEqualTo(2);
        assertThat(result.stderr()).contains("gatehouse.run_id must be 1 to 200 letters, digits or . _ : / @ + = -");
    }

    @Test
    void mayActWithoutActIsNoDelegation() throws Exception {
        // Given: the token says planner-agent MAY act for alice, not that it does
        String app = "may-act-" + UUID.randomUUID();
        String token = gw.env.issuer().issue("alice", List.of("dba"), Duration.ofMinutes(30),
                Map.of("may_act", Map.of("sub", "planner-agent")));

        // When
        Identity id = openedBySelect(app, "alice", token, "");

        // Then: alice's own session
        assertThat(id.subject()).isEqualTo("alice");
        assertThat(id.groups()).containsExactly("dba");
        assertThat(id.delegated()).isFalse();
    }

    /**
     * Runs one SELECT through JDBC as {@code user} with {@code token} (further URL parameters in
     * {@code extra}) and returns the identity its session's SessionOpened recorded.
     */
    private static Identity openedBySelect(String app, String user, String token, String extra) throws SQLException {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + gw.edgePort() + "/demo?sslmode=disable"
                + "&connectTimeout=30&assumeMinServerVersion=10&ApplicationName=" + app + extra, user, token);
             ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
        SessionId session = gw.sessionOpened(app);
        List<Identity> opened = await().atMost(Duration.ofSeconds(30)).until(() -> gw.audit(session).stream()
                .filter(AuditEvent.SessionOpened.class::isInstance).map(DelegationIT::identity).toList(), l -> !l.isEmpty());
        assertThat(opened).hasSize(1);
        return opened.getFirst();
    }

    @Test
    void anAgentDoesNotGetTheRightsOfThePersonItActsFor() throws Exception {
        // Given: alice is a dba; planner-agent acts for her
        String agent = delegation("alice", List.of("dba"), "planner-agent", List.of("agents"), List.of(), Map.of());
        String sql = "DO $$ BEGIN PERFORM 1; END $$";

        // When
        Gateway.Result asAgent = gw.run(agent, null, "psql", "-X", "-w", "-U", "planner-agent", "-d", "demo", "-c", sql);
        Gateway.Result asAlice = gw.run(gw.token("alice", "dba"), null, "psql", "-X", "-w", "-U", "alice", "-d", "demo",
                "-c", sql);

        // Then: the example policy lets dbas run server code; the agent is no dba
        assertThat(asAlice.exitCode()).as(asAlice.toString()).isZero();
        assertThat(asAgent.exitCode()).as(asAgent.toString()).isNotZero();
        assertThat(asAgent.stderr()).contains("server-code-only-for-dbas");
    }

    @Test
    void connectRulesDecideByTheActorAndByTheOriginator() throws Exception {
        // Given
        String unnamed = delegation("alice", List.of("dba"), "rogue-agent", List.of("agents"), List.of(), Map.of());
        String forAliceInProd = delegation("alice", List.of("dba"), "planner-agent", List.of("agents"), List.of(), Map.of());
        String forCarolInProd = delegation("carol", List.of("agent-users"), "planner-agent", List.of("agents"), List.of(), Map.of());

        // Then: an agent no rule names is refused; in production only for members of agent-users
        assertConnectRefused(gw.edgePort(), "demo", unnamed, "delegation-only-for-named-agents");
        assertConnectRefused(untrusted.edgePort(), "demo-prod", forAliceInProd, "agents-act-only-for-agent-users");
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + untrusted.edgePort()
                + "/demo-prod?sslmode=disable&connectTimeout=30", "planner-agent", forCarolInProd);
             ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    private static void assertConnectRefused(int port, String connection, String token, String rule) {
        SQLException e = catchThrowableOfType(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + port + "/" + connection + "?sslmode=disable&connectTimeout=30", "agent", token)
                .close());
        assertThat((Throwable) e).as(rule).isNotNull();
        assertThat(e.getSQLState()).isEqualTo("28000");
        assertThat(e.getMessage()).contains("refused by policy").contains(rule);
    }

    private static void assertRefused(String token, String says) {
        String user = "refused-" + UUID.randomUUID().toString().substring(0, 8);
        SQLException e = catchThrowableOfType(SQLException.class, () -> DriverManager.getConnection(
                "jdbc:postgresql://127.0.0.1:" + gw.edgePort() + "/demo?sslmode=disable&connectTimeout=30", user, token).close());
        assertThat((Throwable) e).as(says).isNotNull();
        assertThat(e.getSQLState()).isEqualTo("28000");
        assertThat(e.getMessage()).contains("Gatehouse authentication failed").contains(says);
        AuditEvent.SessionRejected rejected = await().atMost(Duration.ofSeconds(30)).until(() -> gw.audit().stream()
                .filter(ev -> ev instanceof AuditEvent.SessionRejected r && user.equals(r.databaseUser()))
                .map(AuditEvent.SessionRejected.class::cast).findFirst().orElse(null), r -> r != null);
        assertThat(rejected.reason()).contains(says);
    }

    private static String delegation(String subject, List<String> groups, String actor, List<String> actorGroups,
                                     List<String> earlier, Map<String, Object> extra) {
        Map<String, Object> claims = new java.util.LinkedHashMap<>(extra);
        claims.put("act", DevTokenIssuer.actClaim(actor, actorGroups, earlier));
        return gw.env.issuer().issue(subject, groups, Duration.ofMinutes(30), claims);
    }

    private static Identity identity(AuditEvent e) {
        return switch (e) {
            case AuditEvent.SessionOpened o -> o.identity();
            case AuditEvent.CommandReceived c -> c.identity();
            case AuditEvent.SessionRequested r -> r.identity();
            default -> null;
        };
    }
}
