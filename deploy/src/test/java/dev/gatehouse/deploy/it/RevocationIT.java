package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.cli.GatehouseCli;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.core.AuditEvent;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/**
 * Revocation and incident response across a fleet: the dev gateway (edge, policy, admin API) and
 * a second edge-only instance share the log. An administrator revokes through the CLI and the
 * admin API; every edge ends the matching live sessions and refuses new ones until the
 * revocation is lifted; an edge started later knows the revocation before it accepts a client.
 */
class RevocationIT {
    private static final String EDGE_B = "edge-rev-b";
    private static final String ADMIN = "it-admin";

    private static final Gateway gw = Gateway.get();
    private static final HttpClient HTTP = HttpClient.newHttpClient();
    private static GatehouseRuntime edgeB;

    @BeforeAll
    static void startSecondEdge() {
        edgeB = new GatehouseRuntime(EdgeConfigs.edge(EDGE_B, gw.dataDir.resolve(EDGE_B), gw.env.kafka().bootstrapServers(),
                "5s", EdgeConfigs.plaintextListener("5s"), List.of(EdgeConfigs.connection("demo", gw.env.target(), "enforce"))),
                EnumSet.of(Role.EDGE)).start();
    }

    @AfterAll
    static void stopSecondEdge() {
        if (edgeB != null) edgeB.close();
    }

    @Test
    void revokingASubjectEndsItsSessionsAtEveryEdgeAndRefusesNewOnesUntilLifted() throws Exception {
        // Given
        String subject = "rev-" + UUID.randomUUID().toString().substring(0, 8);
        String reason = "laptop stolen " + UUID.randomUUID();
        Connection atA = gw.jdbc("demo", subject, "dba");
        RawPgClient atB = RawPgClient.login(edgeB.edgePort(), "demo", subject, gw.token(subject, "dba"), "revocation-it");
        try (atA; atB) {
            atA.createStatement().execute("SELECT 1");
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(cli("sessions", "--subject", subject).out)
                    .contains(subject).contains("dev-edge").contains(EDGE_B));

            // When
            Cli revoke = cli("revoke", "--subject", subject, "--reason", reason);

            // Then
            assertThat(revoke.code).as(revoke.toString()).isZero();
            assertThat(revoke.out).contains("revoked rv-").contains("subject=" + subject);
            String message = "access revoked for subject " + subject + " by " + ADMIN + ": " + reason;
            RawPgClient.Message fatal = atB.readUntil('E');
            assertThat(fatal.fields()).as(fatal.toString()).containsEntry('V', "FATAL").containsEntry('C', "57P01");
            assertThat(fatal.fields().get('M')).contains(message);
            assertThat(atB.closedByServer()).isTrue();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThatThrownBy(() -> atA.createStatement().execute("SELECT 1")).isInstanceOf(SQLException.class));
        }
        assertThatThrownBy(() -> gw.jdbc("demo", subject, "dba").close())
                .isInstanceOfSatisfying(SQLException.class, e -> assertThat(e.getSQLState()).isEqualTo("28000"))
                .hasMessageContaining(message(subject, reason));
        assertThatThrownBy(() -> RawPgClient.login(edgeB.edgePort(), "demo", subject, gw.token(subject, "dba"), "after").close())
                .hasMessageContaining(message(subject, reason));
        assertThat(cli("revoke", "--list").out).contains("subject=" + subject).contains(reason);
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> log = gw.audit();
            assertThat(log).filteredOn(AuditEvent.AccessRevoked.class::isInstance).map(AuditEvent.AccessRevoked.class::cast)
                    .filteredOn(r -> subject.equals(r.selectorValue()))
                    .singleElement().satisfies(r -> {
                        assertThat(r.selectorType()).isEqualTo("subject");
                        assertThat(r.revokedBy()).isEqualTo(ADMIN);
                        assertThat(r.reason()).isEqualTo(reason);
                        assertThat(r.lifted()).isFalse();
                    });
            assertThat(log).filteredOn(AuditEvent.SessionClosed.class::isInstance).map(AuditEvent.SessionClosed.class::cast)
                    .filteredOn(c -> c.reason().contains(message(subject, reason)))
                    .extracting(c -> c.header().instance()).containsExactlyInAnyOrder("dev-edge", EDGE_B);
            assertThat(log).filteredOn(AuditEvent.SessionRejected.class::isInstance).map(AuditEvent.SessionRejected.class::cast)
                    .filteredOn(r -> subject.equals(r.subject()))
                    .hasSize(2).allSatisfy(r -> assertThat(r.sqlState()).isEqualTo("28000"));
        });

        // When
        Cli lift = cli("revoke", "--lift", "subject=" + subject);

        // Then
        assertThat(lift.code).as(lift.toString()).isZero();
        assertThat(lift.out).contains("lifted rv-");
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
            try (Connection again = gw.jdbc("demo", subject, "dba")) {
                assertThat(again.isValid(5)).isTrue();
            }
        });
        try (RawPgClient againAtB = RawPgClient.login(edgeB.edgePort(), "demo", subject, gw.token(subject, "dba"), "lifted")) {
            againAtB.query("SELECT 1");
            assertThat(againAtB.readUntil('Z').payload()).containsExactly('I');
        }
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gw.audit())
                .filteredOn(AuditEvent.AccessRevoked.class::isInstance).map(AuditEvent.AccessRevoked.class::cast)
                .filteredOn(r -> subject.equals(r.selectorValue()) && r.lifted())
                .singleElement().satisfies(r -> assertThat(r.revokedBy()).isEqualTo(ADMIN)));
    }

    @Test
    void anEdgeStartedAfterARevocationRefusesTheRevokedSubject() throws Exception {
        // Given
        String subject = "rev-late-" + UUID.randomUUID().toString().substring(0, 8);
        JsonObject revocation = new JsonObject(api("POST", "/revocations", gw.token(ADMIN, "gatehouse-admins"),
                new JsonObject().put("type", "subject").put("value", subject).put("reason", "incident 42").encode()).body());

        // When
        try (GatehouseRuntime edgeC = new GatehouseRuntime(EdgeConfigs.edge("edge-rev-late", gw.dataDir.resolve("edge-rev-late"),
                gw.env.kafka().bootstrapServers(), "5s", EdgeConfigs.plaintextListener("5s"),
                List.of(EdgeConfigs.connection("demo", gw.env.target(), "enforce"))), EnumSet.of(Role.EDGE)).start()) {

            // Then
            assertThatThrownBy(() -> RawPgClient.login(edgeC.edgePort(), "demo", subject, gw.token(subject), "late").close())
                    .hasMessageContaining(message(subject, "incident 42"));
            try (RawPgClient other = RawPgClient.login(edgeC.edgePort(), "demo", subject + "-other",
                    gw.token(subject + "-other"), "late-other")) {
                other.query("SELECT 1");
                assertThat(other.readUntil('Z').payload()).containsExactly('I');
            }
        } finally {
            api("DELETE", "/revocations/" + revocation.getString("id"), gw.token(ADMIN, "gatehouse-admins"), null);
        }
    }

    @Test
    void revokingAnOriginatorEndsEveryAgentActingForThemButNotTheirOwnSessionsAndAnActorEndsTheAgentForAnyone()
            throws Exception {
        // Given an agent acting for a person (a delegation token of the development issuer), and the person's own session
        String person = "rev-orig-" + UUID.randomUUID().toString().substring(0, 8);
        String agent = "rev-agent-" + UUID.randomUUID().toString().substring(0, 8);
        String reason = "account compromised " + UUID.randomUUID();
        RawPgClient agentSession = RawPgClient.login(gw.edgePort(), "demo", agent, delegation(person, agent), "agent-for-person");
        Connection own = gw.jdbc("demo", person, "dba");
        try (agentSession; own) {
            agentSession.query("SELECT 1");
            assertThat(agentSession.readUntil('Z').payload()).containsExactly('I');

            // Then the live sessions list it by originator and by earlier actor, the person's own session by neither
            await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(cli("sessions", "--originator", person).out)
                    .containsPattern(" executor-agent +" + person + " +demo "));
            assertThat(cli("sessions", "--actor", agent).out).contains(" executor-agent ").contains(" " + person + " ");
            assertThat(cli("sessions", "--actor", person).out).contains("no live sessions match");
            assertThat(cli("sessions", "--subject", person).out).containsPattern(" " + person + " +- +demo ");

            // When
            Cli revoke = cli("revoke", "--originator", person, "--reason", reason);

            // Then the agent's session ends, the person's own does not
            assertThat(revoke.code).as(revoke.toString()).isZero();
            assertThat(revoke.out).contains("originator=" + person);
            String message = "access revoked for originator " + person + " by " + ADMIN + ": " + reason;
            RawPgClient.Message fatal = agentSession.readUntil('E');
            assertThat(fatal.fields()).as(fatal.toString()).containsEntry('C', "57P01");
            assertThat(fatal.fields().get('M')).contains(message);
            assertThat(own.createStatement().executeQuery("SELECT 1").next()).isTrue();
            assertThatThrownBy(() -> RawPgClient.login(gw.edgePort(), "demo", agent, delegation(person, agent), "again").close())
                    .hasMessageContaining(message);
        } finally {
            cli("revoke", "--lift", "originator=" + person);
        }

        // When the agent is revoked as an actor
        String other = person + "-other";
        await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                RawPgClient.login(gw.edgePort(), "demo", agent, delegation(person, agent), "lifted").close());
        Cli byActor = cli("revoke", "--actor", agent, "--reason", reason);
        try {
            // Then it is refused for anyone it acts for, and its own (non-delegated) sessions are subject=, not actor=
            assertThat(byActor.code).as(byActor.toString()).isZero();
            await().atMost(Duration.ofSeconds(10)).untilAsserted(() ->
                    assertThatThrownBy(() -> RawPgClient.login(gw.edgePort(), "demo", agent, delegation(other, agent), "for-other")
                            .close()).hasMessageContaining("access revoked for actor " + agent));
            try (RawPgClient alone = RawPgClient.login(gw.edgePort(), "demo", agent, gw.token(agent), "alone")) {
                alone.query("SELECT 1");
                assertThat(alone.readUntil('Z').payload()).containsExactly('I');
            }
        } finally {
            cli("revoke", "--lift", "actor=" + agent);
        }
    }

    @Test
    void aRevocationAnOlderLiveEdgeCannotEnforceIsRefusedNamingThatEdge() throws Exception {
        // Given a live edge of a version before delegation: its heartbeat, in the schema it wrote, lists no selector types
        String edge = "old-edge-" + UUID.randomUUID().toString().substring(0, 8);
        String agent = "agent-" + edge;
        org.apache.avro.Schema old;
        try (var in = getClass().getResourceAsStream("/dev/gatehouse/schemas/v1/writers/EdgeSessionsRecord-78ce3aa64248daaa.avsc")) {
            old = new org.apache.avro.Schema.Parser().parse(in);
        }
        var heartbeat = new org.apache.avro.generic.GenericData.Record(old);
        heartbeat.put("edgeId", edge);
        heartbeat.put("heartbeatAt", java.time.Instant.now().toEpochMilli() * 1000);
        heartbeat.put("intervalMillis", Duration.ofHours(1).toMillis());
        heartbeat.put("sessions", List.of());
        var encoded = new org.apache.avro.message.BinaryMessageEncoder<org.apache.avro.generic.GenericRecord>(
                org.apache.avro.generic.GenericData.get(), old).encode(heartbeat);
        byte[] bytes = new byte[encoded.remaining()];
        encoded.get(bytes);
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(java.util.Map.of(
                "bootstrap.servers", gw.env.kafka().bootstrapServers()),
                new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                    dev.gatehouse.platform.kafka.Topics.SESSIONS, edge, bytes)).get();
            try {
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(cli("sessions", "--json").out).contains(edge));

                // When an agent is revoked as an actor
                Cli byActor = cli("revoke", "--actor", agent, "--reason", "compromised");

                // Then nothing is revoked: the old edge would skip it; the message names it and what works meanwhile
                assertThat(byActor.code).as(byActor.toString()).isNotZero();
                assertThat(byActor.err).contains("not revoked: edge(s) " + edge + " run an older version")
                        .contains("cannot enforce actor revocations").contains("subject=" + agent);
                assertThat(cli("revoke", "--list").out).doesNotContain(agent);
                HttpResponse<String> api = api("POST", "/revocations", gw.token(ADMIN, "gatehouse-admins"),
                        new JsonObject().put("selector", "originator=" + agent).encode());
                assertThat(api.statusCode()).as(api.body()).isEqualTo(409);
            } finally {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                        dev.gatehouse.platform.kafka.Topics.SESSIONS, edge, null)).get();
            }
        }

        // When the old edge is gone, the same revocation is taken
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(cli("sessions", "--json").out).doesNotContain(edge));
        Cli again = cli("revoke", "--actor", agent, "--reason", "compromised");
        try {
            assertThat(again.code).as(again.toString()).isZero();
        } finally {
            cli("revoke", "--lift", "actor=" + agent);
        }
    }

    /**
     * A development-issuer token: executor-agent (an agent the example policy names, group agents),
     * set going by {@code agent} (an earlier actor of the chain), acting for {@code person} (group dba).
     */
    private static String delegation(String person, String agent) {
        return gw.env.issuer().issue(person, List.of("dba"), Duration.ofMinutes(30),
                Map.of("act", DevTokenIssuer.actClaim("executor-agent", List.of("agents"), List.of(agent))));
    }

    @Test
    void theAdminApiWantsAnAdministratorsToken() throws Exception {
        // When
        HttpResponse<String> none = api("GET", "/revocations", null, null);
        HttpResponse<String> garbage = api("GET", "/sessions", "not-a-token", null);
        HttpResponse<String> notAdmin = api("POST", "/revocations", gw.token("mallory", "dba"),
                new JsonObject().put("selector", "subject=alice").encode());
        HttpResponse<String> admin = api("GET", "/revocations", gw.token(ADMIN, "gatehouse-admins"), null);
        Cli cliNotAdmin = cli("--token", gw.token("mallory", "dba"), "revoke", "--list");

        // Then
        assertThat(none.statusCode()).isEqualTo(401);
        assertThat(none.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).startsWith("Bearer realm="));
        assertThat(garbage.statusCode()).isEqualTo(401);
        assertThat(garbage.headers().firstValue("WWW-Authenticate")).hasValueSatisfying(h -> assertThat(h).contains("invalid_token"));
        assertThat(notAdmin.statusCode()).as(notAdmin.body()).isEqualTo(403);
        assertThat(new JsonObject(notAdmin.body()).getString("error")).contains("mallory").contains("gatehouse-admins");
        assertThat(admin.statusCode()).isEqualTo(200);
        assertThat(cliNotAdmin.code).isEqualTo(1);
        assertThat(cliNotAdmin.err).contains("403");
    }

    @Test
    void theCliTalksToTheLocalDevGatewayAsTheDevelopmentAdministrator() {
        // Given
        String group = "incident-" + UUID.randomUUID().toString().substring(0, 8);
        String dataDir = gw.dataDir.toAbsolutePath().toString();

        // When
        Cli revoke = cliAsIs("revoke", "--group", group, "--reason", "drill", "--data-dir", dataDir);
        Cli list = cliAsIs("revoke", "--list", "--data-dir", dataDir);
        Cli lift = cliAsIs("revoke", "--lift", "group=" + group, "--data-dir", dataDir);

        // Then
        assertThat(revoke.code).as(revoke.toString()).isZero();
        assertThat(revoke.out).contains("group=" + group + " by dev-admin (drill)");
        assertThat(list.out).containsPattern("rv-\\w+ +group=" + group + " +dev-admin");
        assertThat(lift.code).as(lift.toString()).isZero();
        assertThat(cliAsIs("revoke", "--list", "--data-dir", dataDir).out).doesNotContain(group);
    }

    @Test
    void sessionsOfAnEdgeThatStoppedHeartBeatingAreListedAsAborted() throws Exception {
        // Given: the last heartbeat of an edge that died a minute ago with one session
        String edge = "dead-edge-" + UUID.randomUUID().toString().substring(0, 8);
        var codec = new dev.gatehouse.platform.events.FleetCodec();
        byte[] last = codec.encodeSessions(new dev.gatehouse.platform.revocation.EdgeSessions(edge,
                java.time.Instant.now().minusSeconds(60), Duration.ofSeconds(2), List.of(new dev.gatehouse.platform.revocation.SessionInfo(
                "s-" + edge, "carol", "https://issuer", List.of("ci"), "acme/app", "0123456789abcdef", "demo", "/10.0.0.9:5000",
                java.time.Instant.now().minusSeconds(600)))));
        try (var producer = new org.apache.kafka.clients.producer.KafkaProducer<String, byte[]>(java.util.Map.of(
                "bootstrap.servers", gw.env.kafka().bootstrapServers()),
                new org.apache.kafka.common.serialization.StringSerializer(),
                new org.apache.kafka.common.serialization.ByteArraySerializer())) {
            producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                    dev.gatehouse.platform.kafka.Topics.SESSIONS, edge, last)).get();
            try {
                // When / Then
                await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
                    Cli sessions = cli("sessions", "--repository", "ACME/app", "--commit", "0123456");
                    assertThat(sessions.out).as(sessions.toString())
                            .containsPattern("s-" + edge + " +ABORTED\\? +" + edge + " +carol")
                            .contains("acme/app@0123456789abcdef")
                            .contains("edge " + edge + ": no heartbeat since").contains("presumed dead");
                });
                assertThat(cli("sessions", "--subject", "nobody-" + edge).out).contains("no live sessions match");
            } finally {
                producer.send(new org.apache.kafka.clients.producer.ProducerRecord<>(
                        dev.gatehouse.platform.kafka.Topics.SESSIONS, edge, null)).get();
            }
        }
    }

    private static String message(String subject, String reason) {
        return "access revoked for subject " + subject + " by " + ADMIN + ": " + reason;
    }

    private static HttpResponse<String> api(String method, String path, String token, String body) throws Exception {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create(gw.env.adminUrl() + "/admin/v1" + path))
                .timeout(Duration.ofSeconds(30))
                .method(method, body == null ? HttpRequest.BodyPublishers.noBody() : HttpRequest.BodyPublishers.ofString(body));
        if (token != null) request.header("Authorization", "Bearer " + token);
        return HTTP.send(request.build(), HttpResponse.BodyHandlers.ofString());
    }

    /** Runs the gatehouse CLI in-process against the test gateway's admin API, as {@link #ADMIN} unless a --token leads. */
    private static Cli cli(String... args) {
        List<String> all = new java.util.ArrayList<>();
        String token = gw.token(ADMIN, "gatehouse-admins");
        int start = 0;
        if (args.length > 1 && args[0].equals("--token")) {
            token = args[1];
            start = 2;
        }
        all.add(args[start]);
        all.addAll(List.of("--admin-url", gw.env.adminUrl(), "--token", token));
        all.addAll(List.of(args).subList(start + 1, args.length));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new GatehouseCli()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(all.toArray(String[]::new));
        return new Cli(code, out.toString(), err.toString());
    }

    /** Runs the gatehouse CLI in-process with exactly these arguments. */
    private static Cli cliAsIs(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new CommandLine(new GatehouseCli()).setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true))
                .execute(args);
        return new Cli(code, out.toString(), err.toString());
    }

    private record Cli(int code, String out, String err) {
    }
}
