package dev.gatehouse.deploy.it;

import dev.gatehouse.platform.core.AuditEvent;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Garbage, oversized and truncated input: the client gets a protocol error where the protocol
 * allows one, a ProtocolViolation event is logged, and the edge keeps serving everyone else.
 */
class BadInputIT {
    private final Gateway gw = Gateway.get();

    @Test
    void anHttpRequestInsteadOfAStartupPacketGetsAProtocolError() throws Exception {
        // When
        String answer = exchange("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));

        // Then
        assertThat(answer).contains("08P01").containsIgnoringCase("HTTP");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(gw.audit()).anySatisfy(e -> {
            assertThat(e).isInstanceOf(AuditEvent.ProtocolViolation.class);
            assertThat(((AuditEvent.ProtocolViolation) e).detail()).containsIgnoringCase("HTTP");
        }));
        assertEdgeStillServes();
    }

    @Test
    void anOversizedStartupPacketIsRefusedBeforeItArrives() throws Exception {
        // Given: a startup packet that declares 100 MB and sends 8 bytes
        byte[] header = {0x06, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x00};

        // When
        String answer = exchange(header);

        // Then
        assertThat(answer).contains("08P01");
        assertEdgeStillServes();
    }

    @Test
    void aClientThatVanishesMidMessageDoesNotDisturbOthers() throws Exception {
        // Given / When: half a startup packet, then the socket closes
        try (Socket s = new Socket("127.0.0.1", gw.edgePort())) {
            s.getOutputStream().write(new byte[]{0x00, 0x00, 0x00, 0x30, 0x00, 0x03});
            s.getOutputStream().flush();
        }

        // Then
        assertEdgeStillServes();
    }

    @Test
    void aMalformedMessageAfterLoginIsAProtocolViolationAndNothingReachesTheTarget() throws Exception {
        // Given: a logged-in session (cleartext password = token)
        try (Socket s = new Socket("127.0.0.1", gw.edgePort())) {
            s.setSoTimeout(30_000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            DataInputStream in = new DataInputStream(s.getInputStream());
            byte[] params = "user\0alice\0database\0demo\0\0".getBytes(StandardCharsets.UTF_8);
            out.writeInt(8 + params.length);
            out.writeInt(196608);
            out.write(params);
            out.flush();
            assertThat(in.readByte()).isEqualTo((byte) 'R');
            in.readFully(new byte[in.readInt() - 4]);
            byte[] token = (gw.token("alice", "dba") + "\0").getBytes(StandardCharsets.UTF_8);
            out.writeByte('p');
            out.writeInt(4 + token.length);
            out.write(token);
            out.flush();
            readUntilReady(in);

            // When: a Query message whose text is not NUL-terminated within its declared length
            out.writeByte('Q');
            out.writeInt(4 + 8);
            out.write("SELECT 1".getBytes(StandardCharsets.US_ASCII));
            out.flush();

            // Then
            byte type = in.readByte();
            assertThat((char) type).isEqualTo('E');
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            assertThat(new String(body, StandardCharsets.UTF_8)).contains("08P01");
        }
        assertEdgeStillServes();
    }

    private void readUntilReady(DataInputStream in) throws IOException {
        while (true) {
            byte type = in.readByte();
            byte[] body = new byte[in.readInt() - 4];
            in.readFully(body);
            if (type == 'E') throw new AssertionError("login failed: " + new String(body, StandardCharsets.UTF_8));
            if (type == 'Z') return;
        }
    }

    private String exchange(byte[] bytes) throws IOException {
        try (Socket s = new Socket("127.0.0.1", gw.edgePort())) {
            s.setSoTimeout(30_000);
            s.getOutputStream().write(bytes);
            s.getOutputStream().flush();
            return new String(s.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    private void assertEdgeStillServes() throws Exception {
        var r = gw.psql("alice", "demo", null, "-At", "-c", "SELECT 40 + 2");
        assertThat(r.exitCode()).as(r.toString()).isZero();
        assertThat(r.stdout().trim()).isEqualTo("42");
    }
}
