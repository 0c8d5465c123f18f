package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.dev.SelfSignedCertificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.DataOutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * TLS termination: an edge configured with a certificate and no plaintext serves TLS clients,
 * verifiable against its certificate, and refuses the rest; GSSAPI encryption is declined so
 * clients fall back; replication connections are refused.
 */
class TlsIT {
    private static final Gateway gw = Gateway.get();
    private static GatehouseRuntime edge;
    private static SelfSignedCertificate.PemFiles tls;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-tls-");
        tls = SelfSignedCertificate.ensure(dir.resolve("tls"));
        GatehouseConfig.Postgres listener = new GatehouseConfig.Postgres("127.0.0.1", 0,
                new GatehouseConfig.Tls(tls.certificate(), tls.privateKey()), false, "10s", null, null);
        edge = new GatehouseRuntime(EdgeConfigs.edge("edge-tls", dir, gw.env.kafka().bootstrapServers(), "5s", listener,
                List.of(EdgeConfigs.connection("demo", gw.env.target(), "enforce"))), EnumSet.of(Role.EDGE)).start();
    }

    @AfterAll
    static void stop() {
        if (edge != null) edge.close();
    }

    @Test
    void aVerifyingTlsClientConnects() throws Exception {
        // When
        var r = psql("sslmode=verify-full sslrootcert=" + tls.certificate(), "SELECT 'over tls'");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout()).contains("over tls");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gw.audit()).anySatisfy(e -> {
            assertThat(e).isInstanceOf(AuditEvent.SessionOpened.class);
            assertThat(e.header().instance()).isEqualTo("edge-tls");
            assertThat(((AuditEvent.SessionOpened) e).tls()).isTrue();
        }));
    }

    @Test
    void plaintextIsRefusedWhereTheConfigurationDoesNotAllowIt() throws Exception {
        // When
        var r = psql("sslmode=disable", "SELECT 1");

        // Then
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("Gatehouse requires TLS");
    }

    @Test
    void gssapiEncryptionIsDeclinedSoClientsFallBack() throws Exception {
        // Given
        try (Socket s = new Socket("127.0.0.1", edge.edgePort())) {
            s.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());

            // When: GSSENCRequest
            out.writeInt(8);
            out.writeInt(80877104);
            out.flush();

            // Then
            assertThat(s.getInputStream().read()).isEqualTo('N');
        }
        var r = psql("sslmode=require gssencmode=prefer", "SELECT 2");
        assertThat(r.exitCode()).as(r.toString()).isZero();
    }

    @Test
    void replicationConnectionsAreRefusedClearly() throws Exception {
        // When
        var r = psql("sslmode=require replication=database", "IDENTIFY_SYSTEM");

        // Then
        assertThat(r.exitCode()).isNotZero();
        assertThat(r.stderr()).contains("replication connections are not supported through Gatehouse");
    }

    private Gateway.Result psql(String options, String sql) throws Exception {
        String conninfo = "host=127.0.0.1 port=" + edge.edgePort() + " dbname=demo user=alice " + options;
        return gw.run(gw.token("alice", "dba"), null, "psql", "-X", "-At", "-d", conninfo, "-c", sql);
    }
}
