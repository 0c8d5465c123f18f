package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.Identity;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.Base64;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tokens from a real Keycloak (26.5, the realm shipped under deploy/) through an edge that
 * trusts it as a {@code keycloak} issuer found by OIDC discovery: a service account
 * (client-credentials grant) and a user in group /ops/dba (password grant), with psql and JDBC.
 *
 * <p>Delegation: the agent client {@code planner-agent} exchanges alice's token (standard token
 * exchange V2, impersonation: {@code sub} stays alice, {@code azp} names the agent). A second edge
 * trusts the same realm with {@code delegation: {actor-claim: azp, human-clients: [gatehouse-cli]}}
 * and sees the agent acting for alice; the first edge, without delegation settings, sees alice
 * herself. Keycloak 26.5 (and 26.7, the newest distribution served here) issues no {@code act}:
 * its token exchange delegation arrives in 26.8.
 */
class KeycloakIT {
    private static final String EDGE = "keycloak-edge";
    private static final String DELEGATION_EDGE = "keycloak-delegation-edge";
    private static final Gateway gw = Gateway.get();
    private static KeycloakServer keycloak;
    private static GatehouseRuntime edge;
    private static GatehouseRuntime delegationEdge;

    @BeforeAll
    static void start() throws Exception {
        Path home = KeycloakServer.distribution();
        Assumptions.assumeTrue(home != null, "Keycloak is not unpacked in target/keycloak (built with -Dkeycloak.skip?)");
        keycloak = KeycloakServer.start(home, Path.of("src/main/resources/keycloak/gatehouse-realm.json"), Duration.ofMinutes(4));
        edge = startEdge(EDGE, new GatehouseConfig.Issuer(keycloak.issuer(), null,
                Set.of("gatehouse"), Set.of("RS256"), null, null, "keycloak", null, null, null, null));
        delegationEdge = startEdge(DELEGATION_EDGE, new GatehouseConfig.Issuer(keycloak.issuer(), null,
                Set.of("gatehouse"), Set.of("RS256"), null, null, "keycloak", "preferred_username", null, null,
                new GatehouseConfig.Delegation(null, "azp", Set.of("gatehouse-cli"), null, null, null)));
    }

    private static GatehouseRuntime startEdge(String name, GatehouseConfig.Issuer issuer) throws Exception {
        var base = EdgeConfigs.edge(name, gw.dataDir.resolve(name), gw.env.kafka().bootstrapServers(), "5s",
                EdgeConfigs.plaintextListener("5s"), List.of(EdgeConfigs.connection("demo", gw.env.target(), "enforce")));
        GatehouseConfig config = new GatehouseConfig(base.instanceId(), base.dataDir(), base.kafka(), base.edge(),
                base.connections(), new GatehouseConfig.Identity(List.of(issuer)), base.policy(), base.observability());
        return new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
    }

    @AfterAll
    static void stop() throws Exception {
        if (delegationEdge != null) delegationEdge.close();
        if (edge != null) edge.close();
        if (keycloak != null) keycloak.close();
    }

    @Test
    void aServiceAccountConnectsWithJdbcAndItsRealmRoleIsRecorded() throws Exception {
        // Given
        String app = "keycloak-cc-" + UUID.randomUUID();
        String token = keycloak.clientCredentialsToken("gatehouse-ci", "dev-only-gatehouse-ci-secret");

        // When
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + edge.edgePort()
                + "/demo?sslmode=disable&connectTimeout=30&assumeMinServerVersion=10&ApplicationName=" + app, "ci", token);
             ResultSet rs = c.createStatement().executeQuery("SELECT current_database()")) {
            assertThat(rs.next()).isTrue();
        }

        // Then
        Identity identity = sessionIdentity(app);
        assertThat(identity.issuer()).isEqualTo(keycloak.issuer());
        assertThat(identity.claims()).containsEntry("preferred_username", "service-account-gatehouse-ci")
                .containsEntry("azp", "gatehouse-ci");
        assertThat(identity.subject()).isEqualTo(identity.claims().get("sub"));
        assertThat(identity.roles()).contains("ci-deployer");
        assertThat(identity.groups()).isEmpty();
    }

    @Test
    void aUserConnectsWithPsqlAndTheirGroupAndClientRoleAreRecorded() throws Exception {
        // Given
        String app = "keycloak-pw-" + UUID.randomUUID();
        String token = keycloak.passwordToken("gatehouse-cli", "alice", "dev-only-alice-password");

        // When
        Gateway.Result result = gw.run(token, null, "psql", "-X", "-w", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", String.valueOf(edge.edgePort()), "-U", "alice", "-d", "demo",
                "-c", "SET application_name = '" + app + "'", "-c", "SELECT 42 AS answer");

        // Then
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout()).contains("42");
        Identity identity = await().atMost(Duration.ofSeconds(30)).until(() -> gw.audit().stream()
                .filter(e -> e instanceof AuditEvent.CommandReceived r && r.command().sql().contains(app))
                .map(e -> ((AuditEvent.CommandReceived) e).identity()).findFirst().orElse(null), i -> i != null);
        assertThat(identity.claims()).containsEntry("preferred_username", "alice");
        assertThat(identity.groups()).containsExactly("ops/dba");
        assertThat(identity.roles()).contains("db-reader", "gatehouse:auditor");
    }

    @Test
    void jdbcWithAUsersTokenWorksToo() throws Exception {
        // Given
        String app = "keycloak-jdbc-" + UUID.randomUUID();
        String token = keycloak.passwordToken("gatehouse-cli", "alice", "dev-only-alice-password");

        // When
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + edge.edgePort()
                + "/demo?sslmode=disable&connectTimeout=30&assumeMinServerVersion=10&ApplicationName=" + app, "alice", token);
             ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }

        // Then
        Identity identity = sessionIdentity(app);
        assertThat(identity.groups()).containsExactly("ops/dba");
        assertThat(identity.roles()).contains("db-reader", "gatehouse:auditor");
    }

    @Test
    void anAgentsExchangedTokenConnectsWithPsqlAsTheAgentActingForAlice() throws Exception {
        // Given: alice signs in with her login client, and the agent exchanges her token for one for Gatehouse
        String app = "keycloak-exchange-" + UUID.randomUUID();
        String alices = keycloak.passwordToken("gatehouse-cli", "alice", "dev-only-alice-password");
        String exchanged = keycloak.exchangeToken("planner-agent", "dev-only-planner-agent-secret", alices, "gatehouse");
        assertThat(claims(exchanged)).as("Keycloak's exchange is impersonation: sub stays alice, azp names the agent")
                .containsEntry("sub", claims(alices).get("sub")).containsEntry("azp", "planner-agent")
                .doesNotContainKey("act");

        // When
        Gateway.Result result = gw.run(exchanged, null, "psql", "-X", "-w", "-v", "ON_ERROR_STOP=1",
                "-h", "127.0.0.1", "-p", String.valueOf(delegationEdge.edgePort()), "-U", "planner",
                "-d", "dbname=demo application_name=" + app, "-c", "SELECT 42 AS answer");

        // Then: the session is the agent's; alice, her groups and roles are the originator's
        assertThat(result.exitCode()).as(result.toString()).isZero();
        assertThat(result.stdout()).contains("42");
        Identity identity = sessionIdentity(app);
        assertThat(identity.delegated()).isTrue();
        assertThat(identity.subject()).isEqualTo("planner-agent");
        assertThat(identity.groups()).isEmpty();
        assertThat(identity.roles()).isEmpty();
        Delegation delegation = identity.delegation();
        assertThat(delegation.originator()).isEqualTo("alice");
        assertThat(delegation.originatorIssuer()).isEqualTo(keycloak.issuer());
        assertThat(delegation.originatorGroups()).containsExactly("ops/dba");
        assertThat(delegation.originatorRoles()).contains("db-reader", "gatehouse:auditor");
        assertThat(delegation.via()).isEqualTo("azp");
        assertThat(delegation.earlierActors()).isEmpty();
        assertThat(delegation.chain(identity.subject())).isEqualTo("alice → planner-agent");
    }

    @Test
    void alicesOwnLoginTokenIsNotADelegationOnTheEdgeThatReadsAzp() throws Exception {
        // Given: her token's azp is her login client, one of the issuer's human-clients
        String app = "keycloak-human-" + UUID.randomUUID();
        String token = keycloak.passwordToken("gatehouse-cli", "alice", "dev-only-alice-password");

        // When
        connectWithJdbc(delegationEdge, app, "alice", token);

        // Then
        Identity identity = sessionIdentity(app);
        assertThat(identity.delegated()).isFalse();
        assertThat(identity.delegation()).isNull();
        assertThat(identity.subject()).isEqualTo("alice");
        assertThat(identity.groups()).containsExactly("ops/dba");
        assertThat(identity.roles()).contains("db-reader", "gatehouse:auditor");
    }

    @Test
    void aServiceAccountsOwnTokenIsNotADelegationOnTheEdgeThatReadsAzp() throws Exception {
        // Given: azp names the client, but the token is the client's own (client credentials): its
        // client_id claim (Keycloak's service_account scope; a mapper in the shipped realm) says so
        String app = "keycloak-sa-" + UUID.randomUUID();
        String token = keycloak.clientCredentialsToken("gatehouse-ci", "dev-only-gatehouse-ci-secret");

        // When
        connectWithJdbc(delegationEdge, app, "ci", token);

        // Then
        Identity identity = sessionIdentity(app);
        assertThat(identity.claims()).containsEntry("client_id", "gatehouse-ci");
        assertThat(identity.delegation()).isNull();
        assertThat(identity.subject()).isEqualTo("service-account-gatehouse-ci");
        assertThat(identity.roles()).contains("ci-deployer");
    }

    @Test
    void withoutDelegationSettingsAnExchangedTokenPassesAsAliceHerself() throws Exception {
        // Given: the documented risk: Keycloak's exchange is impersonation, so an issuer without
        // delegation.actor-claim cannot tell the agent's token from alice's
        String app = "keycloak-impersonation-" + UUID.randomUUID();
        String alices = keycloak.passwordToken("gatehouse-cli", "alice", "dev-only-alice-password");
        String exchanged = keycloak.exchangeToken("planner-agent", "dev-only-planner-agent-secret", alices, "gatehouse");

        // When
        connectWithJdbc(edge, app, "planner", exchanged);

        // Then
        Identity identity = sessionIdentity(app);
        assertThat(identity.delegation()).isNull();
        assertThat(identity.subject()).isEqualTo(claims(alices).get("sub"));
        assertThat(identity.groups()).containsExactly("ops/dba");
        assertThat(identity.roles()).contains("db-reader", "gatehouse:auditor");
        assertThat(identity.claims()).containsEntry("azp", "planner-agent");
    }

    private static void connectWithJdbc(GatehouseRuntime through, String app, String user, String token) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + through.edgePort()
                + "/demo?sslmode=disable&connectTimeout=30&assumeMinServerVersion=10&ApplicationName=" + app, user, token);
             ResultSet rs = c.createStatement().executeQuery("SELECT 1")) {
            assertThat(rs.next()).isTrue();
        }
    }

    /** The payload of a JWT, unverified (the edge verifies; the test only compares claims). */
    private static Map<String, Object> claims(String jwt) throws Exception {
        return new ObjectMapper().readValue(Base64.getUrlDecoder().decode(jwt.split("\\.")[1]), new TypeReference<>() { });
    }

    private static Identity sessionIdentity(String applicationName) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> gw.audit().stream()
                .filter(e -> e instanceof AuditEvent.SessionOpened o && applicationName.equals(o.applicationName()))
                .map(e -> ((AuditEvent.SessionOpened) e).identity())
                .findFirst().orElse(null), i -> i != null);
    }
}
