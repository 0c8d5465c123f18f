package dev.gatehouse.deploy.it;

import com.nimbusds.jwt.JWTClaimsSet;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.dev.DevTokenIssuer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.time.Instant;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * An edge trusting a GitHub Actions issuer (a local issuer signing GitHub's documented claim set)
 * next to the development issuer, with sessions bounded by their token's expiry (no grace):
 * CI provenance reaches SessionOpened and CommandReceived, and an expired token ends its session.
 */
class CiTokenIT {
    private static final String EDGE = "ci-edge";
    private static final String GITHUB_AUDIENCE = "https://github.com/octo-org";

    private static final Gateway gw = Gateway.get();
    private static DevTokenIssuer github;
    private static GitHubActionsEdge edge;

    @BeforeAll
    static void startEdge() throws Exception {
        edge = GitHubActionsEdge.start(gw, EDGE, GITHUB_AUDIENCE, "5s", List.of(EdgeConfigs.connection("demo", gw.env.target(), "enforce")));
        github = edge.github();
    }

    @AfterAll
    static void stop() throws Exception {
        if (edge != null) edge.close();
    }

    @Test
    void aGitHubActionsTokenGivesTheSessionItsCiProvenance() throws Exception {
        // Given: GitHub's documented claims of a deployment job
        String app = "ci-it-" + UUID.randomUUID();
        String runId = String.valueOf(System.nanoTime());
        String token = github.sign(githubClaims(runId));

        // When
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + edge.edgePort()
                + "/demo?sslmode=disable&connectTimeout=30&assumeMinServerVersion=10&ApplicationName=" + app, "deployer", token);
             ResultSet rs = c.createStatement().executeQuery("SELECT 41 + 1")) {
            assertThat(rs.next()).isTrue();
            assertThat(rs.getInt(1)).isEqualTo(42);
        }

        // Then
        CiProvenance expected = new CiProvenance("github-actions", "octo-org/octo-repo", "74",
                "c040cae0f0dc81641728557b80f09cfa23b83fe5", "refs/heads/main", "deploy", runId, "90000001",
                "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main",
                "c040cae0f0dc81641728557b80f09cfa23b83fe5",
                "octo-org/octo-automation/.github/workflows/migrate.yml@refs/tags/v2",
                "c9ed89cf4dacf01feb527c42a26e0a8920d14c61", "3", "octocat", "12", "prod", "push", "true", "github-hosted");
        SessionId session = gw.sessionOpened(app);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> events = gw.audit(session);
            assertThat(events).filteredOn(AuditEvent.SessionOpened.class::isInstance)
                    .map(e -> ((AuditEvent.SessionOpened) e).identity())
                    .singleElement()
                    .satisfies(id -> {
                        assertThat(id.subject()).isEqualTo("repo:octo-org/octo-repo:environment:prod");
                        assertThat(id.issuer()).isEqualTo(github.issuerUrl());
                        assertThat(id.ci()).isEqualTo(expected);
                    });
            assertThat(events).filteredOn(AuditEvent.CommandReceived.class::isInstance)
                    .map(e -> ((AuditEvent.CommandReceived) e).identity().ci())
                    .isNotEmpty().allSatisfy(ci -> assertThat(ci).isEqualTo(expected));
        });
    }

    @Test
    void aSessionEndsWhenItsTokenExpires() throws Exception {
        // Given: a token valid for a few more seconds, and an edge that allows no grace
        String app = "expiry-it-" + UUID.randomUUID();
        Instant now = Instant.now();
        Instant expiry = now.plusSeconds(8);
        String token = gw.env.issuer().issue("alice", List.of("dba"), now, expiry, Map.of());

        try (RawPgClient client = RawPgClient.login(edge.edgePort(), "demo", "alice", token, app)) {
            client.query("SELECT 1");
            client.readUntil('Z');

            // When: the token's expiry passes, the client idle

            // Then
            RawPgClient.Message error = client.readUntil('E');
            assertThat(Instant.now()).isAfterOrEqualTo(expiry.minusMillis(1000));
            assertThat(error.fields()).as(error.toString())
                    .containsEntry('V', "FATAL")
                    .containsEntry('C', "57P01");
            assertThat(error.fields().get('M')).contains("your token expired at").contains("reconnect with a fresh token");
            assertThat(client.closedByServer()).isTrue();
        }
        SessionId session = gw.sessionOpened(app);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gw.audit(session))
                .filteredOn(AuditEvent.SessionClosed.class::isInstance)
                .map(AuditEvent.SessionClosed.class::cast)
                .singleElement()
                .satisfies(c -> {
                    assertThat(c.reason()).startsWith("token expired at ");
                    assertThat(c.commands()).isEqualTo(1);
                }));
    }

    private static JWTClaimsSet githubClaims(String runId) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("jti", UUID.randomUUID().toString());
        c.put("sub", "repo:octo-org/octo-repo:environment:prod");
        c.put("environment", "prod");
        c.put("aud", GITHUB_AUDIENCE);
        c.put("ref", "refs/heads/main");
        c.put("sha", "c040cae0f0dc81641728557b80f09cfa23b83fe5");
        c.put("repository", "octo-org/octo-repo");
        c.put("repository_owner", "octo-org");
        c.put("actor_id", "12");
        c.put("repository_visibility", "private");
        c.put("repository_id", "74");
        c.put("repository_owner_id", "65");
        c.put("run_id", runId);
        c.put("run_number", "10");
        c.put("run_attempt", "3");
        c.put("runner_environment", "github-hosted");
        c.put("actor", "octocat");
        c.put("workflow", "deploy");
        c.put("head_ref", "");
        c.put("base_ref", "");
        c.put("event_name", "push");
        c.put("ref_type", "branch");
        c.put("ref_protected", "true");
        c.put("workflow_ref", "octo-org/octo-repo/.github/workflows/deploy.yml@refs/heads/main");
        c.put("workflow_sha", "c040cae0f0dc81641728557b80f09cfa23b83fe5");
        c.put("job_workflow_ref", "octo-org/octo-automation/.github/workflows/migrate.yml@refs/tags/v2");
        c.put("job_workflow_sha", "c9ed89cf4dacf01feb527c42a26e0a8920d14c61");
        c.put("check_run_id", "90000001");
        Instant now = Instant.now();
        JWTClaimsSet.Builder b = new JWTClaimsSet.Builder().issuer(github.issuerUrl())
                .issueTime(Date.from(now)).notBeforeTime(Date.from(now)).expirationTime(Date.from(now.plusSeconds(300)));
        c.forEach(b::claim);
        return b.build();
    }
}
