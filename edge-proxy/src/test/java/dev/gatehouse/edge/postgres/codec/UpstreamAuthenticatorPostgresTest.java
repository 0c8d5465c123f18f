package dev.gatehouse.edge.postgres.codec;

import dev.gatehouse.edge.postgres.codec.FrontendMessage.Query;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.StartupMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufUtil;
import io.netty.buffer.Unpooled;
import io.netty.buffer.UnpooledByteBufAllocator;
import io.netty.channel.embedded.EmbeddedChannel;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Logs in to a real PostgreSQL 15 with trust, md5 and SCRAM-SHA-256 using only the codec
 * (FrontendEncoder, BackendFrameDecoder, UpstreamAuthenticator) over a plain socket, then runs
 * {@code SELECT 1}.
 */
class UpstreamAuthenticatorPostgresTest {

    @TempDir
    static Path dir;

    private static EmbeddedPostgres postgres;

    @BeforeAll
    static void startPostgres() throws Exception {
        Path hba = dir.resolve("pg_hba.conf");
        Files.writeString(hba, """
                local all all trust
                host all postgres 127.0.0.1/32 trust
                host all postgres ::1/128 trust
                host all trustuser 127.0.0.1/32 trust
                host all md5user 127.0.0.1/32 md5
                host all scramuser 127.0.0.1/32 scram-sha-256
                """);
        postgres = EmbeddedPostgres.builder()
                .setServerConfig("password_encryption", "scram-sha-256")
                .setServerConfig("hba_file", hba.toString())
                .start();
        try (Connection c = postgres.getPostgresDatabase().getConnection(); Statement s = c.createStatement()) {
            s.execute("CREATE ROLE trustuser LOGIN");
            s.execute("CREATE ROLE scramuser LOGIN PASSWORD 'scram-pass'");
            s.execute("SET password_encryption = 'md5'");
            s.execute("CREATE ROLE md5user LOGIN PASSWORD 'md5-pass'");
        }
    }

    @AfterAll
    static void stopPostgres() throws IOException {
        if (postgres != null) {
            postgres.close();
        }
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"trustuser,", "md5user,md5-pass", "scramuser,scram-pass"})
    void logsInAndRunsSelectOne(String user, String password) throws Exception {
        // Given
        try (Client client = new Client(postgres.getPort())) {
            UpstreamAuthenticator authenticator = new UpstreamAuthenticator(user, password);

            // When
            List<BackendFrame> login = client.login(user, authenticator);
            client.send(new Query("SELECT 1"));
            List<BackendFrame> result = client.readUntilReady();

            // Then
            assertThat(authenticator.isAuthenticated()).isTrue();
            assertThat(login).extracting(f -> (char) f.type()).contains('S', 'K').endsWith('Z');
            assertThat(result).extracting(f -> (char) f.type()).containsExactly('T', 'D', 'C', 'Z');
            assertThat(BackendFrames.parseDataRow(result.get(1))).singleElement()
                    .satisfies(v -> assertThat(new String(v)).isEqualTo("1"));
            assertThat(BackendFrames.parseCommandComplete(result.get(2))).isEqualTo("SELECT 1");
            assertThat(BackendFrames.parseReadyForQuery(result.get(3))).isEqualTo(PgProtocol.TX_IDLE);
            login.forEach(BackendFrame::release);
            result.forEach(BackendFrame::release);
        }
    }

    @Test
    void aWrongScramPasswordEndsInTheServersError() throws Exception {
        // Given
        try (Client client = new Client(postgres.getPort())) {
            UpstreamAuthenticator authenticator = new UpstreamAuthenticator("scramuser", "wrong");

            // When / Then
            assertThatThrownBy(() -> client.login("scramuser", authenticator))
                    .hasMessageContaining("28P01")
                    .hasMessageContaining("password authentication failed for user \"scramuser\"");
            assertThat(authenticator.isAuthenticated()).isFalse();
        }
    }

    /** A blocking client built from the codec: encoder out, frame decoder in. */
    private static final class Client implements AutoCloseable {
        private final Socket socket;
        private final InputStream in;
        private final OutputStream out;
        private final EmbeddedChannel frames = new EmbeddedChannel(new BackendFrameDecoder(1 << 20));

        Client(int port) throws IOException {
            socket = new Socket("127.0.0.1", port);
            socket.setSoTimeout(10_000);
            in = socket.getInputStream();
            out = socket.getOutputStream();
        }

        void send(FrontendMessage m) throws IOException {
            ByteBuf buf = FrontendEncoder.encode(UnpooledByteBufAllocator.DEFAULT, m);
            try {
                out.write(ByteBufUtil.getBytes(buf));
                out.flush();
            } finally {
                buf.release();
            }
        }

        BackendFrame next() throws IOException {
            byte[] chunk = new byte[8192];
            BackendFrame frame;
            while ((frame = frames.readInbound()) == null) {
                int n = in.read(chunk);
                if (n < 0) {
                    throw new IOException("target closed the connection");
                }
                frames.writeInbound(Unpooled.copiedBuffer(chunk, 0, n));
            }
            return frame;
        }

        List<BackendFrame> login(String user, UpstreamAuthenticator authenticator) throws IOException {
            LinkedHashMap<String, String> params = new LinkedHashMap<>();
            params.put("user", user);
            params.put("database", "postgres");
            params.put("client_encoding", "UTF8");
            send(new StartupMessage(PgProtocol.PROTOCOL_VERSION_3_0, params));
            List<BackendFrame> after = new ArrayList<>();
            while (true) {
                BackendFrame f = next();
                switch (f.type()) {
                    case PgProtocol.BE_AUTHENTICATION -> {
                        var answer = authenticator.onAuthentication(BackendFrames.parseAuthentication(f));
                        f.release();
                        if (answer.isPresent()) {
                            send(answer.get());
                        }
                    }
                    case PgProtocol.BE_ERROR_RESPONSE -> {
                        Map<Character, String> fields = BackendFrames.parseErrorOrNotice(f);
                        f.release();
                        after.forEach(BackendFrame::release);
                        throw new IllegalStateException("login failed: " + fields.get('C') + " " + fields.get('M'));
                    }
                    default -> {
                        after.add(f);
                        if (f.type() == PgProtocol.BE_READY_FOR_QUERY) {
                            return after;
                        }
                    }
                }
            }
        }

        List<BackendFrame> readUntilReady() throws IOException {
            List<BackendFrame> result = new ArrayList<>();
            BackendFrame f;
            do {
                f = next();
                result.add(f);
            } while (f.type() != PgProtocol.BE_READY_FOR_QUERY);
            return result;
        }

        @Override
        public void close() throws IOException {
            try {
                send(new FrontendMessage.Terminate());
            } finally {
                socket.close();
                frames.finishAndReleaseAll();
            }
        }
    }
}
