package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.core.AuditEvent;
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
import java.util.EnumSet;
import java.util.List;
import java.util.Set;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Tokens from a real Keycloak (26.5, the realm shipped under deploy/) through an edge that
 * trusts it as a {@code keycloak} issuer found by OIDC discovery: a service account
 * (client-credentials grant) and a user in group /ops/dba (password grant), with psql and JDBC.
 */
class KeycloakIT {
    private static final String EDGE = "keycloak-edge";
    private static final Gateway gw = Gateway.get();
    private static KeycloakServer keycloak;
    private static GatehouseRuntime edge;

    @BeforeAll
    static void start() throws Exception {
        Path home = KeycloakServer.distribution();
        Assumptions.assumeTrue(home != null, "Keycloak is not unpacked in target/keycloak (built with -Dkeycloak.skip?)");
        keycloak = KeycloakServer.start(home, Path.of("src/main/resources/keycloak/gatehouse-realm.json"), Duration.ofMinutes(4));
        var base = EdgeConfigs.edge(EDGE, gw.dataDir.resolve(EDGE), gw.env.kafka().bootstrapServers(), "5s",
                EdgeConfigs.plaintextListener("5s"), List.of(EdgeConfigs.connection("demo", gw.env.target(), "enforce")));
        GatehouseConfig config = new GatehouseConfig(base.instanceId(), base.dataDir(), base.kafka(), base.edge(),
                base.connections(),
                new GatehouseConfig.Identity(List.of(new GatehouseConfig.Issuer(keycloak.issuer(), null,
                        Set.of("gatehouse"), Set.of("RS256"), null, null, "keycloak", null, null, null))),
                base.policy(), base.observability());
        edge = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
    }

    @AfterAll
    static void stop() throws Exception {
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

    private static Identity sessionIdentity(String applicationName) {
        return await().atMost(Duration.ofSeconds(30)).until(() -> gw.audit().stream()
                .filter(e -> e instanceof AuditEvent.SessionOpened o && applicationName.equals(o.applicationName()))
                .map(e -> ((AuditEvent.SessionOpened) e).identity())
                .findFirst().orElse(null), i -> i != null);
    }
}
