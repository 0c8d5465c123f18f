package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.SessionId;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Graceful drain of an edge (what SIGTERM does to {@code gatehouse run}): the process reports not
 * ready, takes no new connection, lets the command in flight finish, and ends every session with
 * PostgreSQL's own FATAL 57P01 instead of dropping the socket.
 */
class DrainIT {
    private static final Gateway gw = Gateway.get();

    @Test
    void aDrainingEdgeIsNotReadyLetsTheCommandInFlightFinishAndEndsEachSessionWith57P01() throws Exception {
        // Given an edge-only instance of the fleet, an idle session and one running a statement
        String id = "edge-drain-" + UUID.randomUUID().toString().substring(0, 8);
        var env = gw.env;
        var target = env.target();
        GatehouseConfig config = new GatehouseConfig(id, gw.dataDir.resolve(id),
                new GatehouseConfig.Kafka(env.kafka().bootstrapServers(), 3, 1, null, "5s", Map.of()),
                new GatehouseConfig.Edge(new GatehouseConfig.Postgres("127.0.0.1", 0, null, true, "5s", null, null),
                        null, null, "30s"),
                List.of(new GatehouseConfig.Connection("demo", target.host(), target.port(), DemoTarget.DATABASE,
                        target.role(), target.password(), false, null, "enforce", Map.of("env", "demo"))),
                new GatehouseConfig.Identity(List.of(new GatehouseConfig.Issuer(env.issuer().issuerUrl(),
                        env.issuer().jwksUri(), Set.of(DevTokenIssuer.AUDIENCE), null, null, null))),
                new GatehouseConfig.Policy(null),
                new GatehouseConfig.Observability("127.0.0.1", 0));
        try (GatehouseRuntime edge = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start()) {
            int port = edge.edgePort();
            String app = "drain-" + UUID.randomUUID();
            await().atMost(Duration.ofSeconds(60)).until(() -> ready(edge) == 200);
            try (RawPgClient idle = RawPgClient.login(port, "demo", "alice", gw.token("alice", "dba"), app + "-idle");
                 RawPgClient busy = RawPgClient.login(port, "demo", "alice", gw.token("alice", "dba"), app + "-busy")) {
                busy.query("SELECT pg_sleep(3), 'drained' AS note");
                await().atMost(Duration.ofSeconds(60))
                        .until(() -> gw.runningAtTarget(app + "-busy", "SELECT pg_sleep(3), 'drained' AS note"));

                // When the edge drains
                var drained = CompletableFuture.runAsync(edge::drain);

                // Then the idle session ends at once with FATAL 57P01, as a PostgreSQL that shuts down ends it
                RawPgClient.Message fatal = idle.readUntil('E');
                assertThat(fatal.fields()).as(fatal.toString()).containsEntry('V', "FATAL").containsEntry('C', "57P01");
                assertThat(idle.closedByServer()).isTrue();
                // the process is not ready, and the listener takes no new connection
                assertThat(ready(edge)).isEqualTo(503);
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThatThrownBy(
                        () -> new java.net.Socket("127.0.0.1", port).close()).isInstanceOf(java.net.ConnectException.class));
                // the statement in flight completes with its result, then its session ends the same way
                RawPgClient.Message done = busy.readUntil('C');
                assertThat(new String(done.payload())).startsWith("SELECT 1");
                busy.readUntil('Z');
                RawPgClient.Message after = busy.readUntil('E');
                assertThat(after.fields()).as(after.toString()).containsEntry('C', "57P01");
                drained.get(60, TimeUnit.SECONDS);

                SessionId busySession = gw.sessionOpened(app + "-busy");
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gw.audit(busySession))
                        .anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(AuditEvent.CommandCompleted.class,
                                c -> assertThat(c.outcome().forwarded()).isTrue()))
                        .anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(AuditEvent.SessionClosed.class,
                                c -> assertThat(c.reason()).contains("shutting down"))));
            }
        }
    }

    private static int ready(GatehouseRuntime runtime) throws Exception {
        try (HttpClient http = HttpClient.newHttpClient()) {
            return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + runtime.observabilityPort()
                    + "/health/ready")).timeout(Duration.ofSeconds(10)).build(), HttpResponse.BodyHandlers.discarding()).statusCode();
        }
    }
}
