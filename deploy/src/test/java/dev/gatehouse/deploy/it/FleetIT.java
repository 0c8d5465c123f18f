package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.ControlCodec;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.kafka.ControlChannel;
import dev.gatehouse.platform.kafka.EventSerde;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

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
 * Two edges, one log: a second edge-only instance (as a fleet would run it) shares the Kafka
 * log, the target and the issuer with the dev gateway. Cancels arriving at the wrong edge and
 * operator kills travel through {@code gatehouse.control} to the edge holding the session.
 */
class FleetIT {
    private static final String EDGE_A = "dev-edge"; // DevEnvironment's instance id
    private static final String EDGE_B = "edge-b";

    private static final Gateway gw = Gateway.get();
    private static GatehouseRuntime edgeB;

    @BeforeAll
    static void startSecondEdge() {
        var env = gw.env;
        var target = env.target();
        GatehouseConfig config = new GatehouseConfig(EDGE_B, gw.dataDir.resolve(EDGE_B),
                new GatehouseConfig.Kafka(env.kafka().bootstrapServers(), 3, 1, null, "5s", Map.of()),
                new GatehouseConfig.Edge(new GatehouseConfig.Postgres("127.0.0.1", 0, null, true, "5s", null, null)),
                List.of(new GatehouseConfig.Connection("demo", target.host(), target.port(), DemoTarget.DATABASE,
                        target.role(), target.password(), false, null, "enforce", Map.of("env", "demo"))),
                new GatehouseConfig.Identity(List.of(new GatehouseConfig.Issuer(env.issuer().issuerUrl(),
                        env.issuer().jwksUri(), Set.of(DevTokenIssuer.AUDIENCE), null, null, null))),
                new GatehouseConfig.Policy(null),
                new GatehouseConfig.Observability("127.0.0.1", 0));
        edgeB = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
    }

    @AfterAll
    static void stopSecondEdge() {
        if (edgeB != null) edgeB.close();
    }

    @Test
    void aCancelRequestSentToAnotherEdgeCancelsTheQueryWhereItRuns() throws Exception {
        // Given
        String app = "fleet-cancel-" + UUID.randomUUID();
        try (RawPgClient client = RawPgClient.login(gw.edgePort(), "demo", "alice", gw.token("alice", "dba"), app)) {
            client.query("SELECT pg_sleep(60)");
            await().atMost(Duration.ofSeconds(60)).until(() -> gw.runningAtTarget(app, "SELECT pg_sleep(60)"));

            // When
            RawPgClient.cancel(edgeB.edgePort(), client.processId(), client.secretKey());

            // Then
            RawPgClient.Message error = client.readUntil('E');
            assertThat(error.fields().get('C')).as(error.toString()).isEqualTo("57014");
            client.readUntil('Z');
            client.query("SELECT 42"); // the session goes on
            assertThat(client.readUntil('C').payload()).startsWith("SELECT 1".getBytes());
            client.readUntil('Z');

            SessionId session = gw.sessionOpened(app);
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gw.audit(session))
                    .filteredOn(AuditEvent.CancelRequested.class::isInstance)
                    .map(AuditEvent.CancelRequested.class::cast)
                    .singleElement()
                    .satisfies(c -> {
                        assertThat(c.matched()).isTrue();
                        assertThat(c.header().instance()).isEqualTo(EDGE_A);
                        assertThat(c.clientAddress()).contains(EDGE_B);
                    }));
        }
    }

    @Test
    void aKillPublishedOnTheControlChannelEndsTheSessionOnTheEdgeHoldingIt() throws Exception {
        // Given
        String app = "fleet-kill-" + UUID.randomUUID();
        ControlCodec codec = new ControlCodec();
        try (RawPgClient client = RawPgClient.login(edgeB.edgePort(), "demo", "bob", gw.token("bob", "dba"), app);
             ControlChannel operator = new ControlChannel(ControlChannel.Settings.of(gw.env.kafka().bootstrapServers(),
                     "fleet-it-operator"), EventSerde.of(codec::encode, codec::decode), m -> { })) {
            client.query("SELECT 1"); // decided by the policy role of the other instance
            assertThat(client.readUntil('Z').payload()).containsExactly('I');
            SessionId session = gw.sessionOpened(app);
            String reason = "killed by FleetIT " + UUID.randomUUID();

            // When
            operator.publish(new ControlMessage.KillSession(session, reason)).toCompletableFuture().get(30, TimeUnit.SECONDS);

            // Then
            RawPgClient.Message error = client.readUntil('E');
            assertThat(error.fields()).as(error.toString())
                    .containsEntry('V', "FATAL")
                    .containsEntry('C', "57P01");
            assertThat(error.fields().get('M')).contains(reason);
            assertThat(client.closedByServer()).isTrue();
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gw.audit(session))
                    .filteredOn(AuditEvent.SessionClosed.class::isInstance)
                    .map(AuditEvent.SessionClosed.class::cast)
                    .singleElement()
                    .satisfies(c -> {
                        assertThat(c.reason()).isEqualTo(reason);
                        assertThat(c.header().instance()).isEqualTo(EDGE_B);
                        assertThat(c.commands()).isEqualTo(1);
                    }));
        }
    }
}
