package dev.gatehouse.deploy.kafka;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.gatehouse.deploy.cli.GatehouseCli;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.dev.EmbeddedKafka;
import dev.gatehouse.dev.SelfSignedCertificate;
import dev.gatehouse.platform.kafka.KafkaAcls;
import dev.gatehouse.platform.kafka.Topics;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.slf4j.LoggerFactory;

import java.io.InputStream;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Gatehouse against a broker with authentication and authorization on: a SASL_SSL listener (TLS
 * with a self-signed PEM certificate, SASL PLAIN users), the StandardAuthorizer, and a super user
 * {@code admin} that provisions topics and ACLs with {@code gatehouse kafka provision}; then each
 * role's principal has exactly the rights of {@link KafkaAcls#MATRIX}, shown with real clients and
 * with an edge and a policy runtime, each with its own credential, carrying a command end to end.
 */
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class KafkaSecurityIT {

    private static final List<String> USERS = List.of("admin", "edge", "policy", "approval", "indexer", "gh-admin");
    private static final Map<String, String> PASSWORDS = USERS.stream()
            .collect(Collectors.toMap(u -> u, u -> u + "-pw-" + UUID.randomUUID()));

    private static Path dir;
    private static SelfSignedCertificate.PemFiles cert;
    private static EmbeddedKafka kafka;
    private static ListAppender<ILoggingEvent> logs;

    @BeforeAll
    static void startSecuredBroker() throws Exception {
        dir = Files.createTempDirectory("gatehouse-kafka-security-");
        cert = SelfSignedCertificate.ensure(dir.resolve("tls"));
        logs = new ListAppender<>();
        logs.start();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).addAppender(logs);
        // Kafka's client config dumps (kept at WARN in logback.xml), to check they hide the secrets
        ((Logger) LoggerFactory.getLogger("org.apache.kafka.common.config.AbstractConfig")).setLevel(Level.INFO);

        StringBuilder jaas = new StringBuilder("org.apache.kafka.common.security.plain.PlainLoginModule required "
                + "username=\"admin\" password=\"" + PASSWORDS.get("admin") + "\"");
        USERS.forEach(u -> jaas.append(" user_").append(u).append("=\"").append(PASSWORDS.get(u)).append('"'));
        jaas.append(';');
        String certPem = Files.readString(cert.certificate());
        Map<String, String> broker = new HashMap<>();
        // EmbeddedKafka's client listener is named PLAINTEXT; here it speaks SASL_SSL (the controller's stays plain)
        broker.put("listener.security.protocol.map", "PLAINTEXT:SASL_SSL,CONTROLLER:PLAINTEXT");
        broker.put("sasl.enabled.mechanisms", "PLAIN");
        broker.put("sasl.mechanism.inter.broker.protocol", "PLAIN");
        broker.put("listener.name.plaintext.plain.sasl.jaas.config", jaas.toString());
        broker.put("ssl.keystore.type", "PEM");
        broker.put("ssl.keystore.certificate.chain", certPem);
        broker.put("ssl.keystore.key", Files.readString(cert.privateKey()));
        broker.put("ssl.truststore.type", "PEM");
        broker.put("ssl.truststore.certificates", certPem);
        broker.put("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer");
        // ANONYMOUS: the broker itself on the controller listener of this one-node cluster
        broker.put("super.users", "User:admin;User:ANONYMOUS");
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0, broker);
    }

    @AfterAll
    static void stop() {
        if (kafka != null) kafka.close();
        ((Logger) LoggerFactory.getLogger(org.slf4j.Logger.ROOT_LOGGER_NAME)).detachAppender(logs);
    }

    @Test
    @Order(1)
    void aProcessThatMayNotProvisionTopicsFailsNamingTheMissingOnesAndTheCommand() {
        // Given no topics, and a process that may not create them
        GatehouseConfig config = runtimeConfig("edge-unprovisioned", bootstrap(), credential("admin"), null);

        // When / Then
        assertThatThrownBy(() -> new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start())
                .isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("Kafka topics missing: " + Topics.AUDIT + ", " + Topics.DECISIONS)
                .hasMessageContaining("gatehouse kafka provision --config FILE");
    }

    @Test
    @Order(2)
    void provisionCreatesTopicsAndAclsOnceAndADryRunChangesNothing() throws Exception {
        // Given
        Path config = provisionConfig();

        // When
        CliRun dry = cli("kafka", "provision", "--config", config.toString(), "--dry-run");
        Set<String> topicsAfterDryRun = topicNames();
        CliRun first = cli("kafka", "provision", "--config", config.toString());
        CliRun second = cli("kafka", "provision", "--config", config.toString());

        // Then
        int acls = KafkaAcls.MATRIX.size();
        assertThat(dry.code()).as(dry.toString()).isZero();
        assertThat(dry.out()).contains("topic would create gatehouse.audit (partitions 3, replication factor 1, kept forever)")
                .contains("acl would create ALLOW User:policy WRITE TOPIC gatehouse.decisions")
                .contains("dry run: 9 of 9 topics would create, 0 present; " + acls + " of " + acls + " ACLs would create, 0 present");
        assertThat(topicsAfterDryRun).noneMatch(t -> t.startsWith("gatehouse."));
        assertThat(first.code()).as(first.toString()).isZero();
        assertThat(first.out()).contains("topic created gatehouse.decisions (partitions 3, replication factor 1, kept PT1H)")
                .contains("acl created ALLOW User:edge READ TOPIC gatehouse.decisions")
                .contains("acl created ALLOW User:indexer READ GROUP gatehouse-indexer")
                .contains("done: 9 of 9 topics created, 0 present; " + acls + " of " + acls + " ACLs created, 0 present");
        assertThat(topicNames()).contains(Topics.AUDIT, Topics.DECISIONS, Topics.CONTROL, Topics.APPROVALS, Topics.AUDIT_OCSF);
        assertThat(second.code()).as(second.toString()).isZero();
        assertThat(second.out()).isEqualTo("done: 0 of 9 topics created, 9 present; 0 of " + acls + " ACLs created, "
                + acls + " present" + System.lineSeparator());
        assertThat(dry.out() + first.out() + first.err()).doesNotContain(PASSWORDS.get("admin"));
    }

    @Test
    @Order(3)
    void eachRolePrincipalWritesOnlyWhereTheMatrixSays() throws Exception {
        // When / Then: the commands' log and the decisions, control and policy topics
        assertThat(produce("edge", Topics.DECISIONS)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("indexer", Topics.DECISIONS)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("gh-admin", Topics.DECISIONS)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("policy", Topics.DECISIONS)).isNull();
        assertThat(produce("approval", Topics.DECISIONS)).isNull(); // final decisions of held commands

        assertThat(produce("indexer", Topics.CONTROL)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("approval", Topics.CONTROL)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("gh-admin", Topics.CONTROL)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("policy", Topics.CONTROL)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("edge", Topics.CONTROL)).isNull();

        assertThat(produce("edge", Topics.POLICIES)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("indexer", Topics.POLICIES)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("edge", Topics.REVOCATIONS)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("indexer", Topics.APPROVALS)).isInstanceOf(TopicAuthorizationException.class);
        assertThat(produce("edge", Topics.AUDIT_OCSF)).isInstanceOf(TopicAuthorizationException.class);

        // every role writes the audit log (see docs/architecture.md, "Kafka security": what the ACLs do not say)
        assertThat(produce("edge", Topics.AUDIT)).isNull();
        assertThat(produce("indexer", Topics.AUDIT)).isNull();
    }

    @Test
    @Order(4)
    void anEdgeAndAPolicyRuntimeEachWithItsOwnCredentialCarryACommandEndToEnd() throws Exception {
        // Given a target, a token issuer, and two runtimes: the edge connects as User:edge, the policy
        // service as User:policy (another spelling of the address: one credential per bootstrap string)
        int issuerPort = freePort();
        DevTokenIssuer issuer = DevTokenIssuer.load(dir.resolve("issuer"), DevTokenIssuer.defaultIssuerUrl(issuerPort));
        Vertx issuerVertx = Vertx.vertx();
        Path policyFile = dir.resolve("policy.yaml");
        try (InputStream in = GatehouseRuntime.class.getResourceAsStream("/policies/example-policy.yaml")) {
            Files.copy(in, policyFile);
        }
        try (DemoTarget target = DemoTarget.start(dir.resolve("target"), 0)) {
            issuer.serve(issuerVertx, "127.0.0.1", issuerPort).await();
            GatehouseConfig.Connection demo = new GatehouseConfig.Connection("demo", target.host(), target.port(),
                    DemoTarget.DATABASE, target.role(), target.password(), false, null, "enforce", Map.of());
            GatehouseConfig.Identity identity = new GatehouseConfig.Identity(List.of(new GatehouseConfig.Issuer(
                    issuer.issuerUrl(), issuer.jwksUri(), Set.of(DevTokenIssuer.AUDIENCE), null, null, null)));
            GatehouseConfig policyConfig = withIdentity(runtimeConfig("policy-1", "localhost:" + kafka.port(),
                    credential("policy"), policyFile), List.of(demo), identity);
            GatehouseConfig edgeConfig = withIdentity(runtimeConfig("edge-1", bootstrap(), credential("edge"), null),
                    List.of(demo), identity);
            try (GatehouseRuntime policy = new GatehouseRuntime(policyConfig, EnumSet.of(Role.POLICY)).start();
                 GatehouseRuntime edge = new GatehouseRuntime(edgeConfig, EnumSet.of(Role.EDGE)).start()) {
                String token = issuer.issue("alice", List.of("dba"), Duration.ofMinutes(5), Map.of());

                // When
                try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + edge.edgePort()
                        + "/demo?sslmode=disable", "alice", token);
                     Statement st = c.createStatement()) {
                    ResultSet rs = st.executeQuery("SELECT 40 + 2");
                    rs.next();
                    int answer = rs.getInt(1);
                    SQLException denied = org.junit.jupiter.api.Assertions.assertThrows(SQLException.class,
                            () -> st.execute("CREATE DATABASE forgotten_ci_job"));

                    // Then: allowed and denied by the policy runtime, through gatehouse.decisions
                    assertThat(answer).isEqualTo(42);
                    assertThat(denied.getSQLState()).isEqualTo("42501");
                    assertThat(denied.getMessage()).contains("no-create-drop-database");
                }
            }
        } finally {
            issuerVertx.close().await();
        }
        // and neither Kafka's client config dumps nor Gatehouse's logs showed a password
        List<String> messages = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
        assertThat(messages).anyMatch(m -> m.contains("sasl.jaas.config = [hidden]"));
        PASSWORDS.values().forEach(pw -> assertThat(messages).noneMatch(m -> m.contains(pw)));
    }

    private static String bootstrap() {
        return kafka.bootstrapServers();
    }

    /** What a role's {@code kafka.properties} hold: TLS trusting the test CA, SASL PLAIN as {@code user}. */
    private static Map<String, String> credential(String user) {
        return Map.of(
                "security.protocol", "SASL_SSL",
                "ssl.truststore.type", "PEM",
                "ssl.truststore.location", cert.certificate().toString(),
                "sasl.mechanism", "PLAIN",
                "sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username=\""
                        + user + "\" password=\"" + PASSWORDS.get(user) + "\";");
    }

    private static GatehouseConfig runtimeConfig(String id, String bootstrap, Map<String, String> properties, Path policyFile) {
        return new GatehouseConfig(id, dir.resolve(id),
                new GatehouseConfig.Kafka(bootstrap, 3, 1, null, "5s", properties, false, null),
                new GatehouseConfig.Edge(new GatehouseConfig.Postgres("127.0.0.1", 0, null, true, "10s", null, null)),
                List.of(), null, new GatehouseConfig.Policy(policyFile), new GatehouseConfig.Observability("127.0.0.1", 0));
    }

    private static GatehouseConfig withIdentity(GatehouseConfig c, List<GatehouseConfig.Connection> connections,
                                                GatehouseConfig.Identity identity) {
        return new GatehouseConfig(c.instanceId(), c.dataDir(), c.kafka(), c.edge(), connections, identity, c.policy(),
                c.observability());
    }

    private static Path provisionConfig() throws Exception {
        Path file = dir.resolve("provision.yaml");
        StringBuilder yaml = new StringBuilder("kafka:\n  bootstrap-servers: " + bootstrap()
                + "\n  partitions: 3\n  replication-factor: 1\n  provision-topics: false\n  properties:\n");
        credential("admin").forEach((k, v) -> yaml.append("    ").append(k).append(": '").append(v.replace("'", "''")).append("'\n"));
        yaml.append("  acl-principals:\n");
        for (String role : KafkaAcls.ROLES) {
            yaml.append("    ").append(role).append(": User:").append(role.equals("admin") ? "gh-admin" : role).append('\n');
        }
        Files.writeString(file, yaml);
        return file;
    }

    private record CliRun(int code, String out, String err) {
    }

    private static CliRun cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = GatehouseCli.commandLine().setOut(new PrintWriter(out, true)).setErr(new PrintWriter(err, true)).execute(args);
        return new CliRun(code, out.toString(), err.toString());
    }

    private static Set<String> topicNames() throws Exception {
        Map<String, Object> config = new HashMap<>(credential("admin"));
        config.put("bootstrap.servers", bootstrap());
        try (Admin admin = Admin.create(config)) {
            return admin.listTopics().names().get(30, TimeUnit.SECONDS);
        }
    }

    /** Produces one record as {@code user}: null when acknowledged, else what failed. */
    private static Throwable produce(String user, String topic) throws Exception {
        Map<String, Object> config = new HashMap<>(credential(user));
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrap());
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 15_000);
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, 15_000);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, 10_000);
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(config, new StringSerializer(), new StringSerializer())) {
            producer.send(new ProducerRecord<>(topic, 0, "kafka-security-it", "probe by " + user)).get(30, TimeUnit.SECONDS);
            return null;
        } catch (ExecutionException e) {
            return e.getCause();
        } catch (TopicAuthorizationException e) {
            return e;
        }
    }

    private static int freePort() throws Exception {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }
}
