package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.edge.catalog.ConnectionCatalog;
import dev.gatehouse.testsupport.InMemoryDecisionPort;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.vertx.core.Vertx;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.net.Socket;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;

import static org.assertj.core.api.Assertions.assertThat;

/** The listener's bindings, one per event loop, on one port per listener. */
class PgEdgeListenerTest {

    private final Vertx vertx = Vertx.vertx();

    @AfterEach
    void tearDown() {
        vertx.close().await();
    }

    @Test
    void twoListenersAskingForAnyPortInOneVertxGetAPortEachAndEachAnswersOnEveryBinding() throws Exception {
        // Given two edges in one Vert.x, each asked for port 0 and bound on two event loops
        PgEdge first = edge("edge-a");
        PgEdge second = edge("edge-b");
        try {
            int a = first.start().await();
            int b = second.start().await();

            // Then each has a port of its own
            assertThat(a).isPositive().isNotEqualTo(b);
            assertThat(b).isPositive();

            // and every connection to either port is answered by that listener (an SSLRequest gets its 'N':
            // neither offers TLS), whichever binding accepts it
            for (int port : List.of(a, b)) {
                for (int i = 0; i < 4; i++) assertThat(sslAnswer(port)).isEqualTo('N');
            }
        } finally {
            first.close();
            second.close();
        }
    }

    private PgEdge edge(String id) {
        PgEdgeConfig config = new PgEdgeConfig("127.0.0.1", 0, null, null, true, Duration.ofSeconds(5), 1 << 20, 1024, id,
                PgEdgeConfig.DEFAULT_AUTHENTICATION_TIMEOUT, PgEdgeConfig.DEFAULT_MAX_CONNECTIONS, 2);
        InMemoryDecisionPort log = new InMemoryDecisionPort();
        return new PgEdge(vertx, config, new ConnectionCatalog(List.of()), token -> new CompletableFuture<>(), log, log,
                sql -> { throw new AssertionError("nothing is analysed here"); }, null, new SimpleMeterRegistry());
    }

    private static char sslAnswer(int port) throws Exception {
        try (Socket s = new Socket("127.0.0.1", port)) {
            s.setSoTimeout(10_000);
            DataOutputStream out = new DataOutputStream(s.getOutputStream());
            out.writeInt(8);
            out.writeInt(80877103);
            out.flush();
            return (char) new DataInputStream(s.getInputStream()).readByte();
        }
    }
}
