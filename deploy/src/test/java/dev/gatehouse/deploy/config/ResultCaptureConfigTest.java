package dev.gatehouse.deploy.config;

import dev.gatehouse.edge.catalog.ResultCapture;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ResultCaptureConfigTest {

    private static final String CONNECTIONS = """
            kafka: {bootstrap-servers: x}
            edge:
              postgres:
                result-capture: {rows: 50}
            connections:
              - {name: a, host: h, database: d, user: u}
              - {name: b, host: h, database: d, user: u, result-capture: {rows: 0}}
              - {name: c, host: h, database: d, user: u, result-capture: {bytes: 65536}}
            """;

    @Test
    void theEdgeWideDefaultAppliesUnlessAConnectionSetsItsOwn() {
        // Given / When
        GatehouseConfig config = ConfigLoader.parse(CONNECTIONS, k -> null, "t.yaml");

        // Then
        var edgeDefault = config.edge().postgres().resultCapture().limits();
        assertThat(edgeDefault).isEqualTo(new ResultCapture(50, 16384));
        assertThat(config.connections().get(0).resultCapture()).isNull();
        assertThat(config.connections().get(1).resultCapture().limits().enabled()).isFalse();
        assertThat(config.connections().get(2).resultCapture().limits()).isEqualTo(new ResultCapture(20, 65536));
    }

    @Test
    void withoutAnySettingTheDefaultIs20RowsAnd16KiB() {
        // Given / When
        GatehouseConfig config = ConfigLoader.parse("kafka: {bootstrap-servers: x}", k -> null, "t.yaml");

        // Then
        assertThat(config.edge().postgres().resultCapture().limits()).isEqualTo(ResultCapture.DEFAULT);
        assertThat(ResultCapture.DEFAULT).isEqualTo(new ResultCapture(20, 16384));
    }

    @Test
    void bytesAbove4MiBAndNegativeValuesAreRefusedWithTheirField() {
        // Given / When / Then
        assertThatThrownBy(() -> ConfigLoader.parse("""
                kafka: {bootstrap-servers: x}
                connections:
                  - {name: a, host: h, database: d, user: u, result-capture: {bytes: 8388608}}
                """, k -> null, "t.yaml"))
                .hasMessageContaining("result-capture")
                .hasMessageContaining("bytes must be at most 4194304 (4 MiB)");
        assertThatThrownBy(() -> ConfigLoader.parse("kafka: {bootstrap-servers: x}\nedge: {postgres: {result-capture: {rows: -1}}}",
                k -> null, "t.yaml"))
                .hasMessageContaining("rows must be >= 0");
    }

    @Test
    void theExampleConfigurationDocumentsResultCapture() {
        // Given / When
        GatehouseConfig config = ConfigLoader.load(Path.of("config/gatehouse.yaml"),
                Map.of("ORDERS_PROD_PASSWORD", "p", "KAFKA_BOOTSTRAP_SERVERS", "k:9092")::get);

        // Then
        assertThat(config.edge().postgres().resultCapture().limits()).isEqualTo(ResultCapture.DEFAULT);
        assertThat(config.connections()).filteredOn(c -> c.name().equals("orders-staging")).singleElement()
                .satisfies(c -> assertThat(c.resultCapture().limits().enabled()).isFalse());
    }
}
