package dev.gatehouse.platform.observability;

import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ObservabilityServerTest {

    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private Vertx vertx;
    private MetricsRegistry metrics;
    private ObservabilityServer server;
    private int port;

    @BeforeEach
    void start() throws Exception {
        vertx = Vertx.vertx();
        metrics = MetricsRegistry.create();
        server = new ObservabilityServer(vertx, "127.0.0.1", 0, metrics);
        port = server.start().await(10, TimeUnit.SECONDS);
    }

    @AfterEach
    void stop() throws Exception {
        server.stop().await(10, TimeUnit.SECONDS);
        vertx.close().await(10, TimeUnit.SECONDS);
        metrics.close();
    }

    @Test
    void metricsAreServedInPrometheusTextFormat() throws Exception {
        // Given
        metrics.registry().counter("gatehouse.test.commands", "outcome", "allowed").increment(3);

        // When
        HttpResponse<String> response = get("/metrics");

        // Then
        assertThat(port).isPositive().isEqualTo(server.port());
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(response.headers().firstValue("content-type")).hasValueSatisfying(
                type -> assertThat(type).startsWith("text/plain; version=0.0.4"));
        assertThat(response.body())
                .contains("gatehouse_test_commands_total{outcome=\"allowed\"} 3.0")
                .contains("jvm_memory_used_bytes")
                .contains("jvm_threads_live_threads")
                .contains("process_uptime_seconds")
                .contains("system_cpu_count");
    }

    @Test
    void livenessIsUp() throws Exception {
        // When
        HttpResponse<String> response = get("/health/live");

        // Then
        assertThat(response.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(response.body()).getString("status")).isEqualTo("UP");
    }

    @Test
    void readinessIsUpWhenAllChecksPass() throws Exception {
        // Given
        server.addReadinessCheck("kafka", () -> true);
        server.addReadinessCheck("policies", () -> Boolean.TRUE);

        // When
        HttpResponse<String> response = get("/health/ready");

        // Then
        assertThat(response.statusCode()).isEqualTo(200);
        JsonObject body = new JsonObject(response.body());
        assertThat(body.getString("status")).isEqualTo("UP");
        assertThat(body.getJsonObject("checks").getMap()).containsEntry("kafka", "UP").containsEntry("policies", "UP");
    }

    @Test
    void readinessNamesTheFailingChecks() throws Exception {
        // Given
        AtomicBoolean kafkaUp = new AtomicBoolean(false);
        server.addReadinessCheck("kafka", kafkaUp::get);
        server.addReadinessCheck("policies", () -> true);
        server.addReadinessCheck("store", () -> {
            throw new IllegalStateException("store closed");
        });

        // When
        HttpResponse<String> down = get("/health/ready");
        kafkaUp.set(true);
        server.removeReadinessCheck("store");
        HttpResponse<String> up = get("/health/ready");

        // Then
        assertThat(down.statusCode()).isEqualTo(503);
        JsonObject body = new JsonObject(down.body());
        assertThat(body.getString("status")).isEqualTo("DOWN");
        assertThat(body.getJsonArray("failing").getList()).containsExactly("kafka", "store");
        assertThat(body.getJsonObject("checks").getString("policies")).isEqualTo("UP");
        assertThat(up.statusCode()).isEqualTo(200);
    }

    @Test
    void aCheckThatSaysWhatIsWrongGivesItsReason() throws Exception {
        // Given
        java.util.concurrent.atomic.AtomicReference<String> problem = new java.util.concurrent.atomic.AtomicReference<>(
                "failed: TopicAuthorizationException: not authorized");
        server.addReadinessProblem("revocations", problem::get);
        server.addReadinessCheck("listener", () -> true);

        // When
        HttpResponse<String> down = get("/health/ready");
        problem.set(null);
        HttpResponse<String> up = get("/health/ready");

        // Then
        assertThat(down.statusCode()).isEqualTo(503);
        JsonObject body = new JsonObject(down.body());
        assertThat(body.getJsonArray("failing").getList()).containsExactly("revocations");
        assertThat(body.getJsonObject("reasons").getMap())
                .containsExactly(java.util.Map.entry("revocations", "failed: TopicAuthorizationException: not authorized"));
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(new JsonObject(up.body()).containsKey("reasons")).isFalse();
    }

    @Test
    void duplicateCheckNamesAreRefused() {
        // Given
        server.addReadinessCheck("kafka", () -> true);

        // When / Then
        assertThatThrownBy(() -> server.addReadinessCheck("kafka", () -> false))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("kafka");
    }

    @Test
    void unknownPathIsNotFound() throws Exception {
        assertThat(get("/nope").statusCode()).isEqualTo(404);
    }

    private HttpResponse<String> get(String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + path)).GET().build(),
                HttpResponse.BodyHandlers.ofString());
    }
}
