package dev.gatehouse.deploy.kafka;

import dev.gatehouse.deploy.cli.GatehouseCli;
import dev.gatehouse.deploy.config.ConfigLoader;
import dev.gatehouse.deploy.config.GatehouseConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KafkaConfigTest {

    private static final String SECRET = "s3cret-kafka-password";

    @TempDir
    Path dir;

    @Test
    void kafkaPropertiesConnectionSettingsProvisioningAndPrincipalsLoad() throws Exception {
        // Given
        Path file = write("""
                kafka:
                  bootstrap-servers: kafka-0:9093
                  provision-topics: false
                  properties:
                    security.protocol: SASL_SSL
                    sasl.mechanism: SCRAM-SHA-512
                    sasl.jaas.config: org.apache.kafka.common.security.scram.ScramLoginModule required username="gatehouse-edge" password="${KAFKA_PASSWORD}";
                  acl-principals:
                    edge: User:gatehouse-edge
                    policy: User:gatehouse-policy
                """);

        // When
        GatehouseConfig.Kafka kafka = ConfigLoader.load(file, Map.of("KAFKA_PASSWORD", SECRET)::get).kafka();

        // Then
        assertThat(kafka.provisionTopics()).isFalse();
        assertThat(kafka.properties()).containsEntry("security.protocol", "SASL_SSL")
                .hasEntrySatisfying("sasl.jaas.config", v -> assertThat(v).contains(SECRET));
        assertThat(kafka.aclPrincipals()).containsExactlyInAnyOrderEntriesOf(
                Map.of("edge", "User:gatehouse-edge", "policy", "User:gatehouse-policy"));
        assertThat(kafka.toString()).contains("sasl.jaas.config").doesNotContain(SECRET);
    }

    @Test
    void topicsAreProvisionedByDefault() throws Exception {
        // When
        GatehouseConfig.Kafka kafka = ConfigLoader.load(write("kafka:\n  bootstrap-servers: k:9092\n")).kafka();

        // Then
        assertThat(kafka.provisionTopics()).isTrue();
        assertThat(kafka.aclPrincipals()).isEmpty();
        assertThat(kafka.properties()).isEmpty();
    }

    @Test
    void aPropertyGatehouseReliesOnIsAConfigurationErrorNamingTheKey() throws Exception {
        // Given
        Path file = write("""
                kafka:
                  bootstrap-servers: k:9092
                  properties:
                    sasl.jaas.config: x required password="%s";
                    enable.idempotence: "false"
                """.formatted(SECRET));

        // When / Then
        assertThatThrownBy(() -> ConfigLoader.load(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.properties.enable.idempotence may not be set: Gatehouse sets enable.idempotence itself")
                .hasMessageNotContaining(SECRET);
    }

    @Test
    void theCliReportsARefusedPropertyInOneLineWithExitCode2() throws Exception {
        // Given
        Path file = write("kafka:\n  bootstrap-servers: k:9092\n  properties:\n    group.id: mine\n");
        StringWriter err = new StringWriter();

        // When
        int code = GatehouseCli.commandLine().setErr(new PrintWriter(err, true))
                .execute("kafka", "provision", "--config", file.toString(), "--dry-run");

        // Then
        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).startsWith("gatehouse kafka provision: ").contains("kafka.properties.group.id may not be set");
    }

    @Test
    void anAclPrincipalForAnUnknownRoleIsRefused() throws Exception {
        // Given
        Path file = write("kafka:\n  bootstrap-servers: k:9092\n  acl-principals:\n    edges: User:e\n");

        // When / Then
        assertThatThrownBy(() -> ConfigLoader.load(file))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka.acl-principals.edges: unknown role");
    }

    private Path write(String yaml) throws Exception {
        Path file = dir.resolve("gatehouse.yaml");
        Files.writeString(file, yaml);
        return file;
    }
}
