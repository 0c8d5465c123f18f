package dev.gatehouse.deploy.it;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.dev.DevTokenIssuer;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Who may connect to what, through the real loop: an edge with a production and a staging
 * connection, trusting a GitHub Actions issuer, decided by the fixture's policy service with the
 * example policy, whose {@code ci-orders-not-on-prod} connect rule keeps CI jobs of
 * {@code acme/orders} off production. The refusal comes before anything reaches the target, with
 * SQLSTATE 28000, and leaves SessionRequested, DecisionMade and SessionRejected in the log.
 */
class ConnectPolicyIT {
    private static final String EDGE = "connect-policy-edge";
    private static final String GITHUB_AUDIENCE = "https://github.com/acme";

    private static final Gateway gw = Gateway.get();
    private static DevTokenIssuer github;
    private static GitHubActionsEdge edge;

    @BeforeAll
    static void startEdge() throws Exception {
        DemoTarget target = gw.env.target();
        edge = GitHubActionsEdge.start(gw, EDGE, GITHUB_AUDIENCE, "10s", List.of(
                        new GatehouseConfig.Connection("orders-prod", target.host(), target.port(), DemoTarget.DATABASE,
                                target.role(), target.password(), false, null, "enforce", Map.of("env", "prod")),
                        new GatehouseConfig.Connection("orders-staging", target.host(), target.port(), DemoTarget.DATABASE,
                                target.role(), target.password(), false, null, "enforce", Map.of("env", "staging"))));
        github = edge.github();
    }

    @AfterAll
    static void stop() throws Exception {
        if (edge != null) edge.close();
    }

    @Test
    void aCiJobOfAcmeOrdersIsRefusedProductionByPolicy() throws Exception {
        // Given
        String app = "connect-deny-" + UUID.randomUUID();
        String token = github.sign(githubClaims("acme/orders"));

        // When / Then
        assertThatThrownBy(() -> connect("orders-prod", "app_owner", token, app))
                .isInstanceOf(SQLException.class)
                .satisfies(e -> assertThat(((SQLException) e).getSQLState()).isEqualTo("28000"))
                .hasMessageContaining("connection to orders-prod refused by policy: "
                        + "CI jobs of acme/orders may use staging connections, never production")
                .hasMessageContaining("(rule ci-orders-not-on-prod, policy version ");

        SessionId session = sessionRequested(app);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> events = gw.audit(session);
            var requested = events.stream().filter(AuditEvent.SessionRequested.class::isInstance)
                    .map(AuditEvent.SessionRequested.class::cast).toList();
            assertThat(requested).singleElement().satisfies(r -> {
                assertThat(r.identity().ci().repository()).isEqualTo("acme/orders");
                assertThat(r.connection().name()).isEqualTo("orders-prod");
                assertThat(r.connection().labels()).containsEntry("env", "prod");
                assertThat(r.databaseUser()).isEqualTo("app_owner");
                assertThat(r.edgeId()).isEqualTo(EDGE);
                assertThat(r.mode()).isEqualTo("enforce");
                assertThat(r.clientAddress()).isEqualTo("127.0.0.1");
            });
            int iRequested = events.indexOf(requested.getFirst());
            int iDecided = indexOf(events, e -> e instanceof AuditEvent.DecisionMade d
                    && d.commandId().equals(requested.getFirst().requestId()));
            int iRejected = indexOf(events, AuditEvent.SessionRejected.class::isInstance);
            assertThat(iDecided).isGreaterThan(iRequested);
            assertThat(iRejected).isGreaterThan(iDecided);
            var decided = (AuditEvent.DecisionMade) events.get(iDecided);
            assertThat(decided.sequence()).isZero();
            assertThat(decided.decision()).isInstanceOfSatisfying(Decision.Deny.class,
                    d -> assertThat(d.ruleId()).isEqualTo("ci-orders-not-on-prod"));
            var rejected = (AuditEvent.SessionRejected) events.get(iRejected);
            assertThat(rejected.sqlState()).isEqualTo("28000");
            assertThat(rejected.connection()).isEqualTo("orders-prod");
            assertThat(rejected.subject()).isEqualTo("repo:acme/orders:environment:prod");
            assertThat(rejected.reason()).contains("refused by policy");
            assertThat(events).noneMatch(AuditEvent.SessionOpened.class::isInstance);
        });
    }

    @Test
    void theSameCiJobMayUseStaging() throws Exception {
        // Given
        String token = github.sign(githubClaims("acme/orders"));

        // When
        int answer = selectOne("orders-staging", "app_owner", token, "connect-staging-" + UUID.randomUUID());

        // Then
        assertThat(answer).isEqualTo(1);
    }

    @Test
    void anOrdinaryIdentityAndAnotherRepositoryStillConnectToProduction() throws Exception {
        // Given
        String person = gw.token("alice", "dba");
        String otherRepo = github.sign(githubClaims("acme/billing"));
        String app = "connect-allow-" + UUID.randomUUID();

        // When
        int byPerson = selectOne("orders-prod", "alice", person, app);
        int byOtherRepo = selectOne("orders-prod", "deployer", otherRepo, "connect-other-" + UUID.randomUUID());

        // Then
        assertThat(byPerson).isEqualTo(1);
        assertThat(byOtherRepo).isEqualTo(1);
        SessionId session = sessionRequested(app);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> events = gw.audit(session);
            int iRequested = indexOf(events, AuditEvent.SessionRequested.class::isInstance);
            int iDecided = indexOf(events, e -> e instanceof AuditEvent.DecisionMade d && d.sequence() == 0
                    && d.commandId().equals(((AuditEvent.SessionRequested) events.get(iRequested)).requestId()));
            int iOpened = indexOf(events, AuditEvent.SessionOpened.class::isInstance);
            assertThat(iRequested).isNotNegative();
            assertThat(iDecided).isGreaterThan(iRequested);
            assertThat(iOpened).isGreaterThan(iDecided);
            assertThat(((AuditEvent.DecisionMade) events.get(iDecided)).decision()).isInstanceOf(Decision.Allow.class);
        });
    }

    @Test
    void anObserveModeConnectionRecordsTheRequestAndDoesNotWait() throws Exception {
        // Given: the fixture's observe-mode connection
        String app = "connect-observe-" + UUID.randomUUID();

        // When
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + gw.edgePort()
                + "/demo-observe?sslmode=disable&connectTimeout=30&assumeMinServerVersion=10&ApplicationName=" + app, "alice", gw.token("alice", "dba"));
             ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }

        // Then
        SessionId session = sessionRequested(app);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> events = gw.audit(session);
            int iRequested = indexOf(events, AuditEvent.SessionRequested.class::isInstance);
            int iOpened = indexOf(events, AuditEvent.SessionOpened.class::isInstance);
            assertThat(iRequested).isNotNegative();
            assertThat(iOpened).isGreaterThan(iRequested);
            assertThat(((AuditEvent.SessionRequested) events.get(iRequested)).mode()).isEqualTo("observe");
        });
    }

    private static Connection connect(String connection, String user, String token, String app) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + edge.edgePort() + "/" + connection
                + "?sslmode=disable&connectTimeout=30&assumeMinServerVersion=10&ApplicationName=" + app, user, token);
    }

    private static int selectOne(String connection, String user, String token, String app) throws SQLException {
        try (Connection c = connect(connection, user, token, app);
             ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
            return rs.getInt(1);
        }
    }

    private static int indexOf(List<AuditEvent> events, java.util.function.Predicate<AuditEvent> p) {
        for (int i = 0; i < events.size(); i++) {
            if (p.test(events.get(i))) return i;
        }
        return -1;
    }

    private static SessionId sessionRequested(String applicationName) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> gw.audit().stream()
                .filter(e -> e instanceof AuditEvent.SessionRequested r && applicationName.equals(r.applicationName()))
                .map(AuditEvent::sessionId)
                .findFirst().orElse(null), s -> s != null);
    }

    /** GitHub's documented OIDC claims of a job of {@code repository} deploying to its prod environment. */
    private static JWTClaimsSet githubClaims(String repository) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("jti", UUID.randomUUID().toString());
        c.put("sub", "repo:" + repository + ":environment:prod");
        c.put("environment", "prod");
        c.put("aud", GITHUB_AUDIENCE);
        c.put("ref", "refs/heads/main");
        c.put("sha", "c040cae0f0dc81641728557b80f09cfa23b83fe5");
        c.put("repository", repository);
        c.put("repository_owner", "acme");
        c.put("actor_id", "12");
        c.put("repository_visibility", "private");
        c.put("repository_id", "74");
        c.put("repository_owner_id", "65");
        c.put("run_id", String.valueOf(System.nanoTime()));
        c.put("run_number", "10");
        c.put("run_attempt", "1");
        c.put("runner_environment", "github-hosted");
        c.put("actor", "octocat");
        c.put("workflow", "deploy");
        c.put("head_ref", "");
        c.put("base_ref", "");
        c.put("event_name", "push");
        c.put("ref_type", "branch");
        c.put("ref_protected", "true");
        c.put("workflow_ref", repository + "/.github/workflows/deploy.yml@refs/heads/main");
        c.put("workflow_sha", "c040cae0f0dc81641728557b80f09cfa23b83fe5");
        c.put("job_workflow_ref", repository + "/.github/workflows/deploy.yml@refs/heads/main");
        c.put("job_workflow_sha", "c040cae0f0dc81641728557b80f09cfa23b83fe5");
        Instant now = Instant.now();
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().issuer(github.issuerUrl())
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300)));
        c.forEach(b::claim);
        return b.build();
    }
}
