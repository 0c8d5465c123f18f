package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.dev.SelfSignedCertificate;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * TLS from the edge to the target: a PostgreSQL that accepts the edge's role only over TLS, with
 * a certificate from a private CA. The edge verifies the certificate against the connection's
 * {@code tls-ca} (and that it names the host); without that CA, with TLS off, or against a target
 * without TLS, the client's login fails with a message that says why.
 */
class UpstreamTlsIT {
    private static final Gateway gw = Gateway.get();
    private static final String UNNAMED_HOST = "127.0.0.2";
    private static DemoTarget tlsTarget;
    private static GatehouseRuntime edge;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-upstream-tls-");
        SelfSignedCertificate.PemFiles cert = SelfSignedCertificate.ensure(dir.resolve("tls"));
        // the certificate names localhost and 127.0.0.1; the target also listens on 127.0.0.2, which it does not name
        tlsTarget = DemoTarget.start(dir.resolve("target"), 0, Map.of("ssl", "on", "listen_addresses", "localhost,127.0.0.2",
                "ssl_cert_file", cert.certificate().toString(), "ssl_key_file", cert.privateKey().toString()));
        requireTlsForTheDemoRole();
        GatehouseConfig config = EdgeConfigs.edge("edge-upstream-tls", dir, gw.env.kafka().bootstrapServers(), "5s",
                EdgeConfigs.plaintextListener("10s"), List.of(
                        EdgeConfigs.tlsConnection("tls-target", tlsTarget, cert.certificate()),
                        EdgeConfigs.tlsConnection("tls-default-trust", tlsTarget, null),
                        new GatehouseConfig.Connection("tls-unnamed-host", UNNAMED_HOST, tlsTarget.port(), DemoTarget.DATABASE,
                                tlsTarget.role(), tlsTarget.password(), true, cert.certificate(), "enforce", Map.of()),
                        EdgeConfigs.connection("plaintext-target", tlsTarget, "enforce"),
                        EdgeConfigs.tlsConnection("tls-to-plaintext-target", gw.env.target(), cert.certificate())));
        // the fixture's policy service decides for this edge too: they share the log
        edge = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
    }

    /** The demo role may log in over TLS only; the superuser keeps trust for the test's own checks. */
    private static void requireTlsForTheDemoRole() throws Exception {
        try (Connection c = DriverManager.getConnection(tlsTarget.superuserJdbcUrl("postgres") + "&sslmode=disable");
             Statement s = c.createStatement()) {
            String hbaFile;
            try (ResultSet rs = s.executeQuery("SHOW hba_file")) {
                rs.next();
                hbaFile = rs.getString(1);
            }
            Files.writeString(Path.of(hbaFile), """
                    # written by UpstreamTlsIT
                    local all all trust
                    host all postgres 127.0.0.1/32 trust
                    hostnossl all %1$s 127.0.0.1/32 reject
                    hostssl all %1$s 127.0.0.1/32 scram-sha-256
                    """.formatted(DemoTarget.ROLE));
            try (ResultSet rs = s.executeQuery("SELECT pg_reload_conf()")) {
                rs.next();
            }
        }
    }

    @AfterAll
    static void stop() throws Exception {
        if (edge != null) edge.close();
        if (tlsTarget != null) tlsTarget.close();
    }

    @Test
    void theEdgeReachesTheTargetOverVerifiedTls() throws Exception {
        // When
        var r = psql("tls-target", "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout().strip()).isEqualTo("t");
    }

    @Test
    void aCancelReachesATlsTargetOverTls() throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + edge.edgePort()
                + "/tls-target?sslmode=disable", "alice", gw.token("alice", "dba"));
             java.sql.Statement s = c.createStatement()) {
            // Given
            var running = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
                try {
                    return s.execute("SELECT pg_sleep(60)");
                } catch (java.sql.SQLException e) {
                    return e;
                }
            });
            org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> {
                try (Connection su = DriverManager.getConnection(tlsTarget.superuserJdbcUrl("postgres") + "&sslmode=disable");
                     var rs = su.createStatement().executeQuery(
                             "SELECT count(*) FROM pg_stat_activity WHERE query = 'SELECT pg_sleep(60)' AND state = 'active'")) {
                    rs.next();
                    return rs.getInt(1) > 0;
                }
            });

            // When: the edge cancels at the target with the target's own key, over TLS
            s.cancel();

            // Then
            Object outcome = running.get(30, java.util.concurrent.TimeUnit.SECONDS);
            assertThat(outcome).isInstanceOf(java.sql.SQLException.class);
            assertThat(((java.sql.SQLException) outcome).getSQLState()).isEqualTo("57014");
        }
    }

    @Test
    void withoutTheTargetsCaTheLoginFailsNamingTheCertificate() throws Exception {
        // When
        var r = psql("tls-default-trust", "SELECT 1");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr())
                .contains("Gatehouse could not connect to the target of \"tls-default-trust\"")
                .contains("TLS to the target failed")
                .contains("the target's certificate was not accepted")
                .contains("no tls-ca");
    }

    @Test
    void aCertificateThatDoesNotNameTheHostIsRefusedEvenFromTheTrustedCa() throws Exception {
        // When
        var r = psql("tls-unnamed-host", "SELECT 1");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr())
                .contains("Gatehouse could not connect to the target of \"tls-unnamed-host\"")
                .contains("the target's certificate was not accepted")
                .contains("it must name " + UNNAMED_HOST);
    }

    @Test
    void plaintextToATlsOnlyTargetIsRefusedWithTheTargetsReason() throws Exception {
        // When
        var r = psql("plaintext-target", "SELECT 1");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr())
                .contains("Gatehouse could not connect to the target of \"plaintext-target\"")
                .contains("the target refused the login")
                .contains("no encryption");
    }

    @Test
    void aTargetWithoutTlsIsRefusedClearly() throws Exception {
        // When: the fixture's own target runs without TLS and answers the SSLRequest with 'N'
        var r = psql("tls-to-plaintext-target", "SELECT 1");

        // Then
        assertThat(r.exitCode()).as(r.toString()).isNotZero();
        assertThat(r.stderr())
                .contains("Gatehouse could not connect to the target of \"tls-to-plaintext-target\"")
                .contains("the target refused TLS");
    }

    private Gateway.Result psql(String dbname, String sql) throws Exception {
        String conninfo = "host=127.0.0.1 port=" + edge.edgePort() + " dbname=" + dbname + " user=alice sslmode=disable";
        return gw.run(gw.token("alice", "dba"), null, "psql", "-X", "-At", "-d", conninfo, "-c", sql);
    }
}
