package dev.gatehouse.deploy.it;

import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;

import static org.assertj.core.api.Assertions.assertThat;

/** Every process exposes Prometheus metrics and health endpoints. */
class ObservabilityIT {
    private final Gateway gw = Gateway.get();

    @Test
    void metricsAndHealthAreServed() throws Exception {
        // Given: some traffic
        var r = gw.psql("alice", "demo", null, "-c", "SELECT 1");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        HttpClient http = HttpClient.newHttpClient();
        String base = "http://127.0.0.1:" + gw.env.runtime().observabilityPort();

        // When
        var metrics = http.send(HttpRequest.newBuilder(URI.create(base + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        var live = http.send(HttpRequest.newBuilder(URI.create(base + "/health/live")).build(), HttpResponse.BodyHandlers.ofString());

        // Then
        assertThat(metrics.statusCode()).isEqualTo(200);
        assertThat(metrics.body())
                .contains("gatehouse_edge_commands_total{protocol=\"postgres\",verdict=\"allow\"}")
                .contains("gatehouse_edge_decision_latency_seconds_bucket")
                .contains("gatehouse_edge_sessions_open")
                .contains("gatehouse_produce_latency")
                .contains("gatehouse_policy_consumer_lag");
        assertThat(live.statusCode()).isEqualTo(200);
        // every role's consumer loops run and have joined their groups (the indexer's may join after the first command)
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(60)).untilAsserted(() -> {
            var ready = http.send(HttpRequest.newBuilder(URI.create(base + "/health/ready")).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(ready.statusCode()).as(ready.body()).isEqualTo(200);
        });
    }
}
