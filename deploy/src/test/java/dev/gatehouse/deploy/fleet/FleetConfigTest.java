package dev.gatehouse.deploy.fleet;

import dev.gatehouse.deploy.config.ConfigLoader;
import dev.gatehouse.deploy.config.GatehouseConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** What the fleet writes for its members: role configurations, broker properties, haproxy's configuration. */
class FleetConfigTest {
    @TempDir
    Path dir;

    private Fleet.Wiring wiring() {
        return new Fleet.Wiring(dir, "127.0.0.1:1,127.0.0.1:2,127.0.0.1:3", 5433, "http://127.0.0.1:9/dev-issuer",
                "http://127.0.0.1:9/dev-issuer/jwks", dir.resolve("tls.crt"), dir.resolve("tls.key"), dir.resolve("policy.yaml"),
                18083, 18082, 5434);
    }

    @Test
    void anEdgeConfigurationLoadsWithItsOwnIdentityPortsAndLoweredTimeouts() {
        // Given
        String yaml = Fleet.roleConfig(wiring(), "edge-2", "edge", 9465, 15433);

        // When
        GatehouseConfig config = ConfigLoader.parse(yaml, Map.of(Fleet.PASSWORD_VARIABLE, "secret")::get, "edge-2.yaml");

        // Then
        assertThat(config.instanceId()).isEqualTo("edge-2");
        assertThat(config.dataDir()).isEqualTo(dir.resolve("roles").resolve("edge-2"));
        assertThat(config.kafka().bootstrapServers()).isEqualTo("127.0.0.1:1,127.0.0.1:2,127.0.0.1:3");
        assertThat(config.kafka().replicationFactor()).isEqualTo(3);
        assertThat(config.edge().postgres().port()).isEqualTo(15433);
        assertThat(config.edge().drainTimeoutDuration()).isEqualTo(Duration.ofSeconds(5));
        assertThat(config.observability().port()).isEqualTo(9465);
        assertThat(config.connections()).extracting(GatehouseConfig.Connection::name).contains(Fleet.DATABASE);
        assertThat(config.policy().sessionTimeoutDuration()).isEqualTo(Duration.ofSeconds(3));
        assertThat(config.approval().sessionTimeoutDuration()).isEqualTo(Duration.ofSeconds(3));
        assertThat(config.indexer().store()).isEqualTo("postgres");
        assertThat(yaml).doesNotContain("secret");
    }

    @Test
    void aPolicyConfigurationNeedsNoTargetPassword() {
        // Given
        String yaml = Fleet.roleConfig(wiring(), "policy-1", "policy", 9466, 0);

        // When
        GatehouseConfig config = ConfigLoader.parse(yaml, name -> null, "policy-1.yaml");

        // Then
        assertThat(config.instanceId()).isEqualTo("policy-1");
        assertThat(config.connections()).isEmpty();
    }

    @Test
    void brokersFormAThreeVoterQuorumWithDurableDefaultsAndFastFailover() {
        // Given
        String voters = "1@127.0.0.1:9001,2@127.0.0.1:9002,3@127.0.0.1:9003";

        // When
        Map<String, String> p = Fleet.brokerProperties(2, 9092, 9002, voters, dir.resolve("kafka-2"));

        // Then
        assertThat(p).containsEntry("node.id", "2").containsEntry("controller.quorum.voters", voters)
                .containsEntry("process.roles", "broker,controller")
                .containsEntry("default.replication.factor", "3").containsEntry("min.insync.replicas", "2")
                .containsEntry("offsets.topic.replication.factor", "3").containsEntry("transaction.state.log.min.isr", "2")
                .containsEntry("broker.session.timeout.ms", "4000").containsEntry("replica.lag.time.max.ms", "5000")
                .containsEntry("group.min.session.timeout.ms", "1000");
        assertThat(Integer.parseInt(p.get("group.min.session.timeout.ms"))).isLessThanOrEqualTo(3000);
    }

    @Test
    void haproxyAcceptsItsConfiguration() throws Exception {
        // Given
        Path file = HaProxy.writeConfig(dir.resolve("haproxy.cfg"), 16432,
                List.of(new HaProxy.Backend("edge-1", 15432, 9464), new HaProxy.Backend("edge-2", 15433, 9465)));

        // When: haproxy itself checks it (installed in CI: apt-get install haproxy)
        Process check = new ProcessBuilder(HaProxy.binary().toString(), "-c", "-f", file.toString()).redirectErrorStream(true).start();
        String output = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(check.waitFor(30, TimeUnit.SECONDS)).isTrue();

        // Then
        assertThat(check.exitValue()).as(output).isZero();
        assertThat(Files.readString(file)).contains("option httpchk GET /health/ready", "check port 9464", "check port 9465",
                "fall 2 rise 2", "option redispatch");
    }
}
