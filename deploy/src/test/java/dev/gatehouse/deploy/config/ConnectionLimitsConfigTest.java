package dev.gatehouse.deploy.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code edge.postgres.authentication-timeout} and {@code edge.postgres.max-connections}. */
class ConnectionLimitsConfigTest {

    @Test
    void theExampleConfigurationUsesPostgresDefaults() throws Exception {
        // Given
        Map<String, String> env = Map.of("ORDERS_PROD_PASSWORD", "s3cret", "KAFKA_BOOTSTRAP_SERVERS", "k:9092");

        // When
        GatehouseConfig config = ConfigLoader.load(Path.of("config/gatehouse.yaml"), env::get);

        // Then
        assertThat(config.edge().postgres().authenticationTimeoutDuration()).isEqualTo(Duration.ofSeconds(60));
        assertThat(config.edge().postgres().maxConnections()).isEqualTo(1000);
    }

    @Test
    void bothAreReadFromTheFile() {
        // Given
        String yaml = """
                kafka: {bootstrap-servers: x}
                edge:
                  postgres:
                    authentication-timeout: 1500ms
                    max-connections: 3
                """;

        // When
        GatehouseConfig config = ConfigLoader.parse(yaml, k -> null, "t.yaml");

        // Then
        assertThat(config.edge().postgres().authenticationTimeoutDuration()).isEqualTo(Duration.ofMillis(1500));
        assertThat(config.edge().postgres().maxConnections()).isEqualTo(3);
    }

    @Test
    void withoutASettingTheyDefaultTo60SecondsAnd1000Connections() {
        // When
        GatehouseConfig.Postgres defaults = new GatehouseConfig.Postgres(null, null, null, true, null, null, null);

        // Then
        assertThat(defaults.authenticationTimeoutDuration()).isEqualTo(Duration.ofSeconds(60));
        assertThat(defaults.maxConnections()).isEqualTo(1000);
    }

    @Test
    void aZeroTimeoutOrFewerThanOneConnectionIsRefused() {
        // When / Then
        assertThatThrownBy(() -> listener("0s", null))
                .hasMessageContaining("edge.postgres.authentication-timeout must be positive");
        assertThatThrownBy(() -> listener("soon", null))
                .hasMessageContaining("edge.postgres.authentication-timeout");
        assertThatThrownBy(() -> listener(null, 0))
                .hasMessageContaining("edge.postgres.max-connections must be at least 1");
    }

    private static GatehouseConfig.Postgres listener(String authenticationTimeout, Integer maxConnections) {
        return new GatehouseConfig.Postgres(null, null, null, true, null, null, null, null, null, authenticationTimeout,
                maxConnections);
    }
}
