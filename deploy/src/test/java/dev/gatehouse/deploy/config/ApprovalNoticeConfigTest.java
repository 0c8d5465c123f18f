package dev.gatehouse.deploy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ApprovalNoticeConfigTest {

    @Test
    void theExampleConfigurationRemindsHeldClientsEveryThirtySeconds() throws Exception {
        // Given
        Map<String, String> env = Map.of("ORDERS_PROD_PASSWORD", "s3cret", "KAFKA_BOOTSTRAP_SERVERS", "k:9092");

        // When
        GatehouseConfig config = ConfigLoader.load(Path.of("config/gatehouse.yaml"), env::get);

        // Then
        assertThat(config.edge().postgres().approvalNoticeIntervalDuration()).isEqualTo(Duration.ofSeconds(30));
    }

    @Test
    void theIntervalDefaultsToThirtySecondsAndMustBePositive() {
        // When
        GatehouseConfig.Postgres defaults = new GatehouseConfig.Postgres(null, null, null, true, null, null, null);

        // Then
        assertThat(defaults.approvalNoticeIntervalDuration()).isEqualTo(Duration.ofSeconds(30));
        assertThatThrownBy(() -> new GatehouseConfig.Postgres(null, null, null, true, null, null, null, null, "0s"))
                .hasMessageContaining("edge.postgres.approval-notice-interval must be positive");
        assertThatThrownBy(() -> new GatehouseConfig.Postgres(null, null, null, true, null, null, null, null, "soon"))
                .hasMessageContaining("edge.postgres.approval-notice-interval");
    }
}
