package dev.gatehouse.deploy.config;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code edge.postgres.event-loops}. */
class EventLoopsConfigTest {

    @Test
    void withoutASettingTheListenerHasOneEventLoopPerProcessor() {
        // When
        GatehouseConfig config = ConfigLoader.parse("kafka: {bootstrap-servers: x}\n", k -> null, "t.yaml");

        // Then
        assertThat(config.edge().postgres().eventLoops()).isEqualTo(Runtime.getRuntime().availableProcessors());
    }

    @Test
    void theNumberIsReadFromTheFile() {
        // When
        GatehouseConfig config = ConfigLoader.parse("""
                kafka: {bootstrap-servers: x}
                edge:
                  postgres:
                    event-loops: 3
                """, k -> null, "t.yaml");

        // Then
        assertThat(config.edge().postgres().eventLoops()).isEqualTo(3);
    }

    @Test
    void fewerThanOneOrAbsurdlyManyAreRefusedNamingTheKey() {
        // When / Then
        for (int loops : new int[] {0, -2, 257}) {
            assertThatThrownBy(() -> ConfigLoader.parse("""
                    kafka: {bootstrap-servers: x}
                    edge:
                      postgres:
                        event-loops: %d
                    """.formatted(loops), k -> null, "t.yaml"))
                    .hasMessageContaining("edge.postgres.event-loops must be 1..256, not " + loops);
        }
    }
}
