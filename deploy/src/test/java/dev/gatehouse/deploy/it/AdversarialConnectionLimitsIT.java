package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Class 8 of issue 12, unauthenticated connections: an attacker without a token opens connections
 * and never logs in, to hold the edge's resources. The defence: a connection that has not logged in
 * within {@code edge.postgres.authentication-timeout} is closed, and no more than
 * {@code edge.postgres.max-connections} are held at once (more get SQLSTATE 53300); both are counted
 * on /metrics. Two edges of the shared fleet, configured through {@link GatehouseConfig} as an
 * operator would: one with a short timeout, one with a limit of three connections.
 */
class AdversarialConnectionLimitsIT {
    private static final Gateway gw = Gateway.get();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static GatehouseRuntime impatient;
    private static GatehouseRuntime small;

    @BeforeAll
    static void start() throws Exception {
        impatient = edge("edge-adversarial-impatient", "2s", null);
        small = edge("edge-adversarial-small", null, 3);
    }

    @AfterAll
    static void stop() {
        if (impatient != null) impatient.close();
        if (small != null) small.close();
    }

    /** Attack: a client that sends its startup message and never a password. Defence: closed after the timeout, counted. */
    @Test
    void aConnectionThatNeverSendsItsPasswordIsClosedAfterTheTimeout() throws Exception {
        // Given
        double before = metric(impatient, "gatehouse_edge_authentication_timeouts_total");
        try (RawPgClient c = RawPgClient.open(impatient.edgePort())) {
            c.sendStartup(Map.of("user", "adv-silent", "database", "demo"));
            assertThat(c.read().type()).as("the edge asks for the password").isEqualTo('R');

            // When: the client says nothing more

            // Then
            RawPgClient.Message error = c.readUntil('E');
            assertThat(error.fields()).containsEntry('V', "FATAL").containsEntry('C', "57014");
            assertThat(error.fields().get('M')).contains("authentication");
            assertThat(c.closedByServer()).isTrue();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> metric(impatient, "gatehouse_edge_authentication_timeouts_total") >= before + 1);
        assertThat(impatient.edge().openConnections()).isZero();
    }

    /** Attack: a client that connects and sends nothing at all. Defence: closed after the timeout too. */
    @Test
    void aConnectionThatSendsNothingIsClosedAfterTheTimeout() throws Exception {
        // Given
        double before = metric(impatient, "gatehouse_edge_authentication_timeouts_total");
        try (RawPgClient c = RawPgClient.open(impatient.edgePort())) {
            // When: the client says nothing

            // Then
            assertThat(c.closedByServer()).isTrue();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> metric(impatient, "gatehouse_edge_authentication_timeouts_total") >= before + 1);
    }

    /** Attack: more connections than the edge may hold. Defence: the fourth is refused with 53300 and counted; later ones work again. */
    @Test
    void theConnectionBeyondTheLimitIsRefusedWithTooManyClients() throws Exception {
        // Given: three connections that have not logged in
        await().atMost(Duration.ofSeconds(30)).until(() -> small.edge().openConnections() == 0);
        double before = metric(small, "gatehouse_edge_connections_refused_total");
        List<RawPgClient> held = new ArrayList<>();
        try {
            for (int i = 0; i < 3; i++) {
                RawPgClient c = RawPgClient.open(small.edgePort());
                held.add(c);
                c.sendStartup(Map.of("user", "adv-hold-" + i, "database", "demo"));
                assertThat(c.read().type()).isEqualTo('R');
            }

            // When
            RawPgClient.Message refused;
            try (RawPgClient fourth = RawPgClient.open(small.edgePort())) {
                refused = fourth.read();
                assertThat(fourth.closedByServer()).isTrue();
            }

            // Then
            assertThat(refused.type()).as(refused.toString()).isEqualTo('E');
            assertThat(refused.fields()).containsEntry('V', "FATAL").containsEntry('C', "53300");
            assertThat(metric(small, "gatehouse_edge_connections_refused_total")).isEqualTo(before + 1);
        } finally {
            for (RawPgClient c : held) c.close();
        }
        await().atMost(Duration.ofSeconds(30)).until(() -> small.edge().openConnections() == 0);
        try (RawPgClient c = RawPgClient.login(small.edgePort(), "demo", "alice", gw.token("alice", "dba"), "adv-after-limit")) {
            assertThat(c.simple("SELECT 1").rows()).containsExactly(List.of("1"));
        }
    }

    // ---------------------------------------------------------------- helpers

    private static GatehouseRuntime edge(String id, String authenticationTimeout, Integer maxConnections) throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-" + id + "-");
        GatehouseConfig.Postgres listener = new GatehouseConfig.Postgres("127.0.0.1", 0, null, true, "10s", null, null, null,
                null, authenticationTimeout, maxConnections);
        GatehouseConfig config = EdgeConfigs.edge(id, dir, gw.env.kafka().bootstrapServers(), "5s", listener,
                List.of(EdgeConfigs.connection("demo", gw.env.target(), "enforce")));
        return new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
    }

    /** A counter of the edge's /metrics (summed over its labels), 0 when it is not there yet. */
    private static double metric(GatehouseRuntime edge, String name) throws Exception {
        HttpResponse<String> response = HTTP.send(HttpRequest.newBuilder(
                URI.create("http://127.0.0.1:" + edge.observabilityPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(response.statusCode()).isEqualTo(200);
        Matcher m = Pattern.compile("(?m)^" + Pattern.quote(name) + "(?:\\{[^}]*})? ([0-9.eE+-]+)$").matcher(response.body());
        double sum = 0;
        while (m.find()) sum += Double.parseDouble(m.group(1));
        return sum;
    }
}
