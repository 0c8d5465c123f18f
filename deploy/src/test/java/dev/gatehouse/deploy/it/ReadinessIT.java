package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.kafka.RevocationLog;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.Selector;
import dev.gatehouse.testsupport.KafkaFixture;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * A consumer loop that dies takes its process out of readiness, naming the loop and why: here an
 * edge's revocation reader, without which revocations published from then on would silently not
 * be enforced on that edge.
 */
class ReadinessIT {

    private static final HttpClient HTTP = HttpClient.newHttpClient();

    @TempDir
    Path dataDir;

    @Test
    void anEdgeWhoseRevocationReaderDiedIsNotReadyAndSaysWhy() throws Exception {
        // Given an edge-only instance (as a fleet runs it), ready
        String bootstrap = KafkaFixture.bootstrapServers();
        try (GatehouseRuntime edge = new GatehouseRuntime(edgeOnly(bootstrap), EnumSet.of(Role.EDGE)).start();
             RevocationLog admin = new RevocationLog(RevocationLog.Settings.of(bootstrap, "readiness-it-admin"))) {
            await().atMost(Duration.ofSeconds(60)).until(() -> ready(edge).statusCode() == 200);
            JsonObject up = new JsonObject(ready(edge).body());
            assertThat(up.getJsonObject("checks").getMap())
                    .containsEntry("revocations", "UP")
                    .containsEntry("edge-control", "UP")
                    .containsEntry("edge-listener", "UP");
            assertThat(get(edge, "/metrics").body()).contains("gatehouse_consumer_lag{loop=\"revocations\"}");

            // When its revocation reader's thread dies on an error (here: raised by a listener)
            edge.revocations().addListener(r -> {
                throw new AssertionError("revocation reader killed by ReadinessIT");
            });
            Revocation nobody = Revocation.create(Selector.parse("subject=nobody-" + UUID.randomUUID()), "readiness-it",
                    "kills the edge's revocation reader");
            admin.publish(nobody).toCompletableFuture().get(30, TimeUnit.SECONDS);

            // Then readiness says so, naming the reader and the reason; the rest of the edge is up
            await().atMost(Duration.ofSeconds(60)).until(() -> ready(edge).statusCode() == 503);
            JsonObject down = new JsonObject(ready(edge).body());
            assertThat(down.getString("status")).isEqualTo("DOWN");
            assertThat(down.getJsonArray("failing").getList()).containsExactly("revocations");
            assertThat(down.getJsonObject("checks").getMap())
                    .containsEntry("revocations", "DOWN")
                    .containsEntry("edge-control", "UP")
                    .containsEntry("edge-listener", "UP");
            assertThat(down.getJsonObject("reasons").getString("revocations"))
                    .startsWith("failed: ")
                    .contains("revocation reader killed by ReadinessIT");
        }
    }

    private GatehouseConfig edgeOnly(String bootstrap) {
        // nothing here is contacted until a client connects: no target, no issuer needed
        return new GatehouseConfig("readiness-edge-" + UUID.randomUUID(), dataDir,
                new GatehouseConfig.Kafka(bootstrap, KafkaFixture.PARTITIONS, 1, null, "5s", Map.of()),
                new GatehouseConfig.Edge(new GatehouseConfig.Postgres("127.0.0.1", 0, null, true, "5s", null, null)),
                List.of(new GatehouseConfig.Connection("demo", "127.0.0.1", 1, "demo", "nobody", "unused", false, null,
                        "enforce", Map.of())),
                new GatehouseConfig.Identity(List.of(new GatehouseConfig.Issuer("https://issuer.invalid",
                        URI.create("https://issuer.invalid/jwks"), Set.of("gatehouse"), null, null, null))),
                new GatehouseConfig.Policy(null),
                new GatehouseConfig.Observability("127.0.0.1", 0));
    }

    private static HttpResponse<String> ready(GatehouseRuntime runtime) throws Exception {
        return get(runtime, "/health/ready");
    }

    private static HttpResponse<String> get(GatehouseRuntime runtime, String path) throws Exception {
        return HTTP.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.observabilityPort() + path))
                .timeout(Duration.ofSeconds(30)).build(), HttpResponse.BodyHandlers.ofString());
    }
}
