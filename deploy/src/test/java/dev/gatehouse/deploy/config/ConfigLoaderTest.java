package dev.gatehouse.deploy.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ConfigLoaderTest {

    @Test
    void theExampleConfigurationLoads() {
        // Given
        Map<String, String> env = Map.of("ORDERS_PROD_PASSWORD", "s3cret", "KAFKA_BOOTSTRAP_SERVERS", "k:9092");

        // When
        GatehouseConfig config = ConfigLoader.load(Path.of("config/gatehouse.yaml"), env::get);

        // Then
        assertThat(config.kafka().bootstrapServers()).isEqualTo("k:9092");
        assertThat(config.kafka().replicationFactor()).isEqualTo(3);
        assertThat(config.kafka().auditRetentionDuration()).isNull();
        assertThat(config.edge().postgres().allowPlaintext()).isFalse();
        assertThat(config.edge().postgres().decisionDeadlineDuration()).isEqualTo(Duration.ofSeconds(10));
        assertThat(config.connections()).hasSize(3);
        assertThat(config.connections().get(2).protocol()).isEqualTo("mysql");
        assertThat(config.connections().get(2).port()).isEqualTo(3306);
        assertThat(config.connections().getFirst().protocol()).isEqualTo("postgres");
        assertThat(config.edge().mysql().port()).isEqualTo(13306);
        assertThat(config.edge().mysql().allowPlaintext()).isFalse();
        assertThat(config.edge().mysql().maxPacketSize()).isEqualTo(64 << 20);
        assertThat(config.connections().getFirst().password()).isEqualTo("s3cret");
        assertThat(config.connections().getFirst().toString()).doesNotContain("s3cret");
        assertThat(config.connections().getFirst().tlsCa()).isEqualTo(Path.of("/etc/gatehouse/tls/orders-db-ca.pem"));
        assertThat(config.connections().get(1).tlsCa()).isNull();
        assertThat(config.connections().get(1).mode()).isEqualTo("observe");
        assertThat(config.identity().issuers()).singleElement()
                .satisfies(i -> assertThat(i.audiences()).containsExactly("gatehouse"));
    }

    @Test
    void aMissingSecretIsNamed() {
        assertThatThrownBy(() -> ConfigLoader.load(Path.of("config/gatehouse.yaml"), k -> null))
                .hasMessageContaining("environment variable ORDERS_PROD_PASSWORD is not set");
    }

    @Test
    void badValuesAreNamedWithTheirField() {
        assertThatThrownBy(() -> ConfigLoader.parse("kafka: {bootstrap-servers: x, delivery-timeout: soon}", k -> null, "t.yaml"))
                .hasMessageContaining("kafka.delivery-timeout")
                .hasMessageContaining("'soon' is not a duration");
        assertThatThrownBy(() -> ConfigLoader.parse("kafka: {bootstrap-servers: x}\nunknown-key: 1", k -> null, "t.yaml"))
                .hasMessageContaining("t.yaml");
        assertThatThrownBy(() -> ConfigLoader.parse("edge: {}", k -> null, "t.yaml"))
                .hasMessageContaining("kafka");
    }

    @Test
    void theMySqlListenerIsOffWithoutItsSectionAndItsBadValuesAreNamed() {
        assertThat(ConfigLoader.parse("kafka: {bootstrap-servers: x}", k -> null, "t.yaml").edge().mysql()).isNull();
        assertThatThrownBy(() -> ConfigLoader.parse("kafka: {bootstrap-servers: x}\nedge: {mysql: {max-packet-size: 10}}",
                k -> null, "t.yaml")).hasMessageContaining("edge.mysql.max-packet-size");
        assertThatThrownBy(() -> ConfigLoader.parse("kafka: {bootstrap-servers: x}\nconnections: [{name: a, host: h,"
                + " database: d, user: u, protocol: oracle}]", k -> null, "t.yaml"))
                .hasMessageContaining("connections.a: protocol must be postgres or mysql");
    }

    @Test
    void thePolicyTimeZoneDefaultsToUtcAndIsValidated() {
        // When
        GatehouseConfig defaulted = ConfigLoader.parse("kafka: {bootstrap-servers: x}", k -> null, "t.yaml");
        GatehouseConfig berlin = ConfigLoader.parse("kafka: {bootstrap-servers: x}\npolicy: {time-zone: Europe/Berlin}",
                k -> null, "t.yaml");

        // Then
        assertThat(defaulted.policy().zone()).isEqualTo(java.time.ZoneId.of("UTC"));
        assertThat(berlin.policy().zone()).isEqualTo(java.time.ZoneId.of("Europe/Berlin"));
        assertThatThrownBy(() -> ConfigLoader.parse("kafka: {bootstrap-servers: x}\npolicy: {time-zone: Mars/Olympus}",
                k -> null, "t.yaml"))
                .hasMessageContaining("policy.time-zone must be a time zone such as UTC, Europe/Berlin or +01:00, "
                        + "found 'Mars/Olympus'");
    }

    @Test
    void anIssuersDelegationTrustDefaultsToNoneAndItsBadValuesAreNamed() {
        // Given
        String issuer = "kafka: {bootstrap-servers: x}\nidentity: {issuers: [{issuer: 'https://id.example', audiences: [g]%s}]}";

        // When
        GatehouseConfig plain = ConfigLoader.parse(issuer.formatted(""), k -> null, "t.yaml");
        GatehouseConfig keycloak = ConfigLoader.parse(issuer.formatted(
                ", delegation: {actor-claim: azp, human-clients: [gatehouse-cli], max-depth: 2}"), k -> null, "t.yaml");

        // Then
        assertThat(plain.identity().issuers().getFirst().delegation().trust().acceptAct()).isFalse();
        var trust = keycloak.identity().issuers().getFirst().delegation().trust();
        assertThat(trust.actorClaim()).isEqualTo("azp");
        assertThat(trust.humanClients()).containsExactly("gatehouse-cli");
        assertThat(trust.maxDepth()).isEqualTo(2);
        assertThatThrownBy(() -> ConfigLoader.parse(issuer.formatted(", delegation: {max-depth: 0}"), k -> null, "t.yaml"))
                .hasMessageContaining("delegation: max-depth must be 1..10, got 0").hasMessageContaining("identity.issuers");
    }
}
