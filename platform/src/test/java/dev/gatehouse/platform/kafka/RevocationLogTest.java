package dev.gatehouse.platform.kafka;

import dev.gatehouse.dev.EmbeddedKafka;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.revocation.EdgeSessions;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.Selector;
import dev.gatehouse.platform.revocation.SessionInfo;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/** The revocation log and the session directory against one real embedded broker. */
class RevocationLogTest {

    @TempDir
    static Path dir;
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() {
        kafka = EmbeddedKafka.start(dir, 0);
        TopicInitializer.ensure(kafka.bootstrapServers(), TopicSettings.defaults(2, (short) 1), Duration.ofSeconds(30));
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) kafka.close();
    }

    private static Identity subject(String s) {
        return new Identity(s, "https://issuer", List.of(), List.of(), Map.of(), null);
    }

    @Test
    void aRevocationReachesFollowersAndIsKnownToAReaderStartedLaterUntilLifted() throws Exception {
        // Given
        List<Revocation> seen = new CopyOnWriteArrayList<>();
        Revocation r = Revocation.create(Selector.parse("subject=mallory"), "admin", "stolen laptop");
        try (RevocationLog admin = new RevocationLog(RevocationLog.Settings.of(kafka.bootstrapServers(), "admin"));
             RevocationLog edge = new RevocationLog(RevocationLog.Settings.of(kafka.bootstrapServers(), "edge-1"))) {
            edge.addListener(seen::add);

            // When
            admin.publish(r).toCompletableFuture().get(30, TimeUnit.SECONDS);

            // Then
            assertThat(admin.active().find(r.id())).contains(r); // read back before publish completes
            await().atMost(Duration.ofSeconds(30)).until(() -> seen.contains(r));
            assertThat(edge.active().matching(subject("mallory"))).contains(r);
            try (RevocationLog late = new RevocationLog(RevocationLog.Settings.of(kafka.bootstrapServers(), "edge-late"))) {
                assertThat(late.active().matching(subject("mallory"))).contains(r); // known before the constructor returns
            }

            // When
            admin.publish(r.lift("admin")).toCompletableFuture().get(30, TimeUnit.SECONDS);

            // Then
            await().atMost(Duration.ofSeconds(30)).until(() -> edge.active().matching(subject("mallory")).isEmpty());
            try (RevocationLog late = new RevocationLog(RevocationLog.Settings.of(kafka.bootstrapServers(), "edge-later"))) {
                assertThat(late.active().find(r.id())).isEmpty();
            }
        }
    }

    @Test
    void heartbeatsFillTheDirectoryAndACleanStopRemovesTheEdge() {
        // Given
        SessionInfo s = new SessionInfo("s-1", "alice", "https://issuer", List.of("dba"), null, null, "demo", "/1.2.3.4:5",
                Instant.now());
        List<SessionInfo> live = new CopyOnWriteArrayList<>();
        try (SessionDirectory directory = new SessionDirectory(kafka.bootstrapServers(), "reader", Topics.SESSIONS,
                Duration.ofSeconds(30))) {
            SessionHeartbeat heartbeat = new SessionHeartbeat(kafka.bootstrapServers(), Topics.SESSIONS, "edge-hb",
                    Duration.ofSeconds(30), () -> List.copyOf(live));
            await().atMost(Duration.ofSeconds(30)).until(() -> directory.edges().stream()
                    .anyMatch(e -> e.edgeId().equals("edge-hb") && e.sessions().isEmpty()));

            // When
            live.add(s);
            heartbeat.changed();

            // Then
            await().atMost(Duration.ofSeconds(10)).until(() -> directory.edges().stream()
                    .filter(e -> e.edgeId().equals("edge-hb")).map(EdgeSessions::sessions).anyMatch(l -> l.contains(s)));

            // When
            heartbeat.close();

            // Then
            await().atMost(Duration.ofSeconds(10)).until(() -> directory.edges().stream().noneMatch(e -> e.edgeId().equals("edge-hb")));
        }
    }
}
