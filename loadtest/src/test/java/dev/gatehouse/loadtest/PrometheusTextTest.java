package dev.gatehouse.loadtest;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** Reading a Gatehouse process's /metrics. */
class PrometheusTextTest {

    private static final String SCRAPE = """
            # HELP jvm_memory_used_bytes The amount of used memory
            # TYPE jvm_memory_used_bytes gauge
            jvm_memory_used_bytes{area="heap",id="G1 Eden Space"} 1.2E7
            jvm_memory_used_bytes{area="heap",id="G1 Old Gen"} 3000000.0
            jvm_memory_used_bytes{area="nonheap",id="Metaspace"} 5.0E7
            jvm_buffer_memory_used_bytes{id="direct"} 1573151.0
            gatehouse_indexer_lag 42.0
            gatehouse_edge_commands_total{connection="demo",kind="query \\"q\\", x"} 7.0
            gatehouse_edge_commands_total{kind="extended",connection="demo-observe"} 3.0
            """;

    @Test
    void sumsEverySampleOfANameWhoseLabelsIncludeTheGivenOnes() {
        // Given
        PrometheusText metrics = PrometheusText.parse(SCRAPE);

        // When / Then
        assertThat(metrics.sum("jvm_memory_used_bytes", "area", "heap")).isEqualTo(15_000_000.0);
        assertThat(metrics.sum("jvm_buffer_memory_used_bytes", "id", "direct")).isEqualTo(1_573_151.0);
        assertThat(metrics.sum("gatehouse_indexer_lag")).isEqualTo(42.0);
        assertThat(metrics.sum("gatehouse_edge_commands_total")).isEqualTo(10.0);
        assertThat(metrics.sum("gatehouse_edge_commands_total", "connection", "demo-observe")).isEqualTo(3.0);
        assertThat(metrics.has("gatehouse_indexer_lag")).isTrue();
        assertThat(metrics.has("gatehouse_indexer")).isFalse();
        assertThat(metrics.sum("absent")).isZero();
    }
}
