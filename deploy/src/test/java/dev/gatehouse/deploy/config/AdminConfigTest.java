package dev.gatehouse.deploy.config;

import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class AdminConfigTest {

    @Test
    void theExampleConfigurationNamesTheAdminApi() throws Exception {
        // Given
        Map<String, String> env = Map.of("ORDERS_PROD_PASSWORD", "s3cret", "KAFKA_BOOTSTRAP_SERVERS", "k:9092");

        // When
        GatehouseConfig config = ConfigLoader.load(Path.of("config/gatehouse.yaml"), env::get);

        // Then
        assertThat(config.admin()).isEqualTo(new GatehouseConfig.Admin("127.0.0.1", 9470, "gatehouse-admins"));
    }

    @Test
    void withoutAnAdminSectionTheDefaultsApply() {
        // When
        GatehouseConfig.Admin admin = new GatehouseConfig.Admin(null, null, null);

        // Then
        assertThat(admin).isEqualTo(new GatehouseConfig.Admin("127.0.0.1", 9470, GatehouseConfig.Admin.DEFAULT_GROUP));
        assertThatThrownBy(() -> new GatehouseConfig.Admin(null, 70000, null)).hasMessageContaining("admin.port");
        assertThatThrownBy(() -> new GatehouseConfig.Admin(null, null, " ")).hasMessageContaining("admin.group");
    }
}
