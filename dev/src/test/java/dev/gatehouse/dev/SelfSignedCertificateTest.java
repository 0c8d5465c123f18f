package dev.gatehouse.dev;

import dev.gatehouse.dev.SelfSignedCertificate.PemFiles;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetClient;
import io.vertx.core.net.NetClientOptions;
import io.vertx.core.net.NetServer;
import io.vertx.core.net.NetServerOptions;
import io.vertx.core.net.NetSocket;
import io.vertx.core.Promise;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SelfSignedCertificateTest {

    @TempDir
    Path dir;

    private Vertx vertx;

    @BeforeEach
    void startVertx() {
        vertx = Vertx.vertx();
    }

    @AfterEach
    void stopVertx() throws Exception {
        vertx.close().await(10, TimeUnit.SECONDS);
    }

    @Test
    void generatedCertificateServesTlsToATrustingClient() throws Exception {
        // Given
        PemFiles files = SelfSignedCertificate.ensure(dir);
        NetServer server = vertx.createNetServer(new NetServerOptions().setSsl(true).setKeyCertOptions(files.keyCertOptions()))
                .connectHandler(socket -> socket.handler(buffer -> socket.write(Buffer.buffer("pong:" + buffer))));
        int port = server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
        NetClient client = vertx.createNetClient(new NetClientOptions().setSsl(true)
                .setHostnameVerificationAlgorithm("HTTPS")
                .setTrustOptions(files.trustOptions()));

        // When
        String reply = roundTrip(client, port, "localhost");
        String replyByIp = roundTrip(client, port, "127.0.0.1");

        // Then
        assertThat(reply).isEqualTo("pong:ping");
        assertThat(replyByIp).isEqualTo("pong:ping");
    }

    @Test
    void clientWithoutTrustIsRefused() throws Exception {
        // Given
        PemFiles files = SelfSignedCertificate.ensure(dir);
        NetServer server = vertx.createNetServer(new NetServerOptions().setSsl(true).setKeyCertOptions(files.keyCertOptions()))
                .connectHandler(socket -> socket.handler(socket::write));
        int port = server.listen(0, "127.0.0.1").await(10, TimeUnit.SECONDS).actualPort();
        NetClient client = vertx.createNetClient(new NetClientOptions().setSsl(true).setHostnameVerificationAlgorithm("HTTPS"));

        // When / Then
        assertThatThrownBy(() -> roundTrip(client, port, "localhost")).isInstanceOf(javax.net.ssl.SSLHandshakeException.class);
    }

    @Test
    void certificateHasTheRequestedNamesAndAPrivateKeyFile() throws Exception {
        // When
        PemFiles files = SelfSignedCertificate.ensure(dir, List.of("gatehouse.test", "10.1.2.3"));

        // Then
        X509Certificate cert = SelfSignedCertificate.readCertificate(files.certificate());
        assertThat(cert.getSubjectX500Principal().getName()).isEqualTo("CN=gatehouse-dev");
        assertThat(cert.getSubjectAlternativeNames()).extracting(san -> (Object) san.get(1)).containsExactly("gatehouse.test", "10.1.2.3");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(files.privateKey()))).isEqualTo("rw-------");
        assertThat(Files.readString(files.privateKey())).startsWith("-----BEGIN PRIVATE KEY-----");
    }

    @Test
    void existingCertificateIsReused() throws Exception {
        // Given
        PemFiles first = SelfSignedCertificate.ensure(dir);
        String pem = Files.readString(first.certificate());

        // When
        PemFiles second = SelfSignedCertificate.ensure(dir);

        // Then
        assertThat(second).isEqualTo(first);
        assertThat(Files.readString(second.certificate())).isEqualTo(pem);
    }

    @Test
    void certificateExpiringSoonOrMissingANameIsReplaced() throws Exception {
        // Given
        PemFiles expiring = SelfSignedCertificate.ensure(dir, SelfSignedCertificate.DEFAULT_NAMES, Duration.ofDays(3));
        String expiringPem = Files.readString(expiring.certificate());

        // When
        PemFiles renewed = SelfSignedCertificate.ensure(dir);
        String renewedPem = Files.readString(renewed.certificate());
        PemFiles widened = SelfSignedCertificate.ensure(dir, List.of("localhost", "gatehouse.internal"));

        // Then
        assertThat(renewedPem).isNotEqualTo(expiringPem);
        assertThat(Files.readString(widened.certificate())).isNotEqualTo(renewedPem);
        assertThat(SelfSignedCertificate.readCertificate(widened.certificate()).getSubjectAlternativeNames())
                .extracting(san -> (Object) san.get(1)).contains("gatehouse.internal");
    }

    private String roundTrip(NetClient client, int port, String host) throws Exception {
        NetSocket socket = client.connect(port, host).await(10, TimeUnit.SECONDS);
        Promise<String> reply = Promise.promise();
        socket.handler(buffer -> reply.tryComplete(buffer.toString()));
        socket.write(Buffer.buffer("ping"));
        try {
            return reply.future().await(10, TimeUnit.SECONDS);
        } finally {
            socket.close();
        }
    }
}
