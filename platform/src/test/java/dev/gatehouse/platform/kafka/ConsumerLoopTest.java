package dev.gatehouse.platform.kafka;

import dev.gatehouse.dev.EmbeddedKafka;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.errors.TimeoutException;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

/** The supervised poll loop against one real embedded broker: health, restarts, failure, close. */
class ConsumerLoopTest {

    private static final Duration WAIT = Duration.ofSeconds(60);

    @TempDir
    static Path dir;
    private static EmbeddedKafka kafka;

    @BeforeAll
    static void startKafka() {
        kafka = EmbeddedKafka.start(dir, 0);
    }

    @AfterAll
    static void stopKafka() {
        if (kafka != null) kafka.close();
    }

    @Test
    void aCatchingUpLoopIsReadyOnlyOnceItHasReadToTheEnd() throws Exception {
        // Given five records, and a handler held at the first one
        String topic = topicWith(5);
        List<String> seen = new CopyOnWriteArrayList<>();
        CountDownLatch release = new CountDownLatch(1);
        AtomicReference<ConsumerLoop> ref = new AtomicReference<>();
        List<Long> lagSeen = new CopyOnWriteArrayList<>();
        Map<String, Object> config = new HashMap<>(config("catch-up"));
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);

        // When
        try (ConsumerLoop loop = new ConsumerLoop(settings("catch-up", config).catchingUp(), reading(topic, r -> {
            hold(release);
            seen.add(value(r));
            if (ref.get() != null) lagSeen.add(ref.get().health().lag());
        }))) {
            ref.set(loop);

            // Then it runs but is not ready while it has not read to the end
            await().atMost(WAIT).until(() -> loop.health().state() == ConsumerLoop.State.RUNNING);
            assertThat(loop.health().ready()).isFalse();
            assertThat(loop.health().problem()).isEqualTo("reading to the end of its topic");

            // When
            release.countDown();

            // Then
            loop.awaitReady(WAIT);
            assertThat(seen).containsExactly("r0", "r1", "r2", "r3", "r4");
            assertThat(loop.health().problem()).isNull();
            assertThat(lagSeen).anyMatch(lag -> lag > 0); // one record per poll: the rest were behind
            await().atMost(WAIT).until(() -> loop.health().lag() == 0);
        }
    }

    @Test
    void aGroupMemberIsReadyOnlyOnceItHasJoinedItsGroup() throws Exception {
        // Given a group whose one member holds the partition and stops polling: a rebalance waits for it
        String topic = topicWith(3);
        String group = "join-" + UUID.randomUUID();
        Map<String, Object> config = new HashMap<>(config("join"));
        config.put(ConsumerConfig.GROUP_ID_CONFIG, group);
        config.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        config.put(ConsumerConfig.MAX_POLL_INTERVAL_MS_CONFIG, (int) WAIT.multipliedBy(2).toMillis());
        List<String> seen = new CopyOnWriteArrayList<>();
        try (KafkaConsumer<String, byte[]> holder = new KafkaConsumer<>(config,
                new org.apache.kafka.common.serialization.StringDeserializer(),
                new org.apache.kafka.common.serialization.ByteArrayDeserializer())) {
            holder.subscribe(List.of(topic));
            await().atMost(WAIT).until(() -> {
                holder.poll(Duration.ofMillis(100));
                return !holder.assignment().isEmpty();
            });

            // When a loop subscribes in the same group
            try (ConsumerLoop loop = new ConsumerLoop(settings("join", config), ConsumerLoop.Handler.ofRecords(
                    consumer -> consumer.subscribe(List.of(topic)), r -> seen.add(value(r))))) {

                // Then it runs, but is not ready: it has no generation, nothing sent to the topic is its own
                await().atMost(WAIT).until(() -> loop.health().state() == ConsumerLoop.State.RUNNING);
                assertThat(loop.health().ready()).isFalse();
                assertThat(loop.health().joined()).isFalse();
                assertThat(loop.health().problem()).isEqualTo("joining its consumer group");
                assertThat(seen).isEmpty();

                // When the holder leaves the group
                holder.close();

                // Then the rebalance ends, the loop joins, is ready and reads the partition
                loop.awaitReady(WAIT);
                assertThat(loop.health().joined()).isTrue();
                await().atMost(WAIT).until(() -> seen.size() == 3);
            }
        }
    }

    @Test
    void aHandlerThatThrowsRestartsTheLoopAfterABackoffAndResumesAfterTheLastHandledRecord() throws Exception {
        // Given a handler that fails twice on r2 (one record per poll), held after its first failure
        String topic = topicWith(4);
        List<String> seen = new CopyOnWriteArrayList<>();
        AtomicInteger failures = new AtomicInteger();
        CountDownLatch mayRestart = new CountDownLatch(1);
        Map<String, Object> config = new HashMap<>(config("restart"));
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 1);
        ConsumerLoop.Settings settings = settings("restart", config).catchingUp()
                .withBackoff(Duration.ofMillis(50), Duration.ofMillis(200));
        ConsumerLoop.Handler reading = reading(topic, r -> {
            if (value(r).equals("r2") && failures.incrementAndGet() <= 2) throw new IllegalStateException("cannot take r2 now");
            seen.add(value(r));
        });

        // When
        try (ConsumerLoop loop = new ConsumerLoop(settings, onClosed(reading, cause -> {
            if (cause != null) hold(mayRestart);
        }))) {
            // Then after the failure it is restarting, not ready, and says why
            await().atMost(WAIT).until(() -> loop.health().state() == ConsumerLoop.State.RESTARTING);
            ConsumerLoop.Health restarting = loop.health();
            mayRestart.countDown();
            assertThat(restarting.ready()).isFalse();
            assertThat(restarting.restarts()).isEqualTo(1);
            assertThat(restarting.problem()).contains("restarting").contains("IllegalStateException: cannot take r2 now");

            // Then it comes back, and r0, r1 were not read again: it resumed at r2
            await().atMost(WAIT).until(() -> loop.health().ready() && seen.size() == 4);
            assertThat(seen).containsExactly("r0", "r1", "r2", "r3");
            assertThat(failures.get()).isEqualTo(3);
            assertThat(loop.health().restarts()).isEqualTo(2);
            assertThat(loop.health().reason()).contains("cannot take r2 now");
        }
    }

    @Test
    void aFatalErrorStopsTheLoopAndReportsItFailedWithTheReason() {
        // Given a handler that meets an authorization error (a new consumer would meet it again)
        String topic = topicWith(1);
        List<Throwable> closedBy = new CopyOnWriteArrayList<>();
        ConsumerLoop.Handler handler = reading(topic, r -> {
            throw new TopicAuthorizationException(Set.of(topic));
        });

        // When
        try (ConsumerLoop loop = new ConsumerLoop(settings("fatal", config("fatal")), onClosed(handler, closedBy::add))) {

            // Then
            await().atMost(WAIT).until(() -> loop.health().state() == ConsumerLoop.State.FAILED);
            assertThat(loop.health().ready()).isFalse();
            assertThat(loop.health().problem()).startsWith("failed: ").contains("TopicAuthorizationException");
            assertThat(loop.health().restarts()).isZero();
            await().atMost(WAIT).until(() -> !closedBy.isEmpty()); // the health is set first, then the consumer closed
            assertThat(closedBy).singleElement().isInstanceOf(TopicAuthorizationException.class);
            assertThatThrownBy(() -> loop.awaitReady(WAIT)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("failed: ");
        }
    }

    @Test
    void aLoopThatFailsAlwaysStopsOnAnyError() {
        // Given
        String topic = topicWith(1);
        ConsumerLoop.Settings settings = new ConsumerLoop.Settings("fail-always", config("fail-always"),
                ConsumerLoop.ErrorPolicy.failAlways(), Duration.ofMillis(200), false, Duration.ofMillis(50), Duration.ofMillis(50));

        // When
        try (ConsumerLoop loop = new ConsumerLoop(settings, reading(topic, r -> {
            throw new IllegalStateException("no restart for me");
        }))) {

            // Then
            await().atMost(WAIT).until(() -> loop.health().state() == ConsumerLoop.State.FAILED);
            assertThat(loop.health().reason()).contains("no restart for me");
            assertThat(loop.health().restarts()).isZero();
        }
    }

    @Test
    void closeWakesALongPollAndReportsTheLoopStopped() {
        // Given a loop waiting in a poll of an hour
        String topic = topicWith(0);
        List<Throwable> closedBy = new CopyOnWriteArrayList<>();
        ConsumerLoop loop = new ConsumerLoop(settings("close", config("close")).withPollTimeout(Duration.ofHours(1)),
                onClosed(reading(topic, r -> { }), closedBy::add));
        loop.awaitReady(WAIT);

        // When
        loop.close();

        // Then the poll was woken (else the thread would still be in it, and the loop running)
        assertThat(loop.health().state()).isEqualTo(ConsumerLoop.State.STOPPED);
        assertThat(loop.health().problem()).isEqualTo("stopped");
        assertThat(closedBy).containsExactly((Throwable) null);
    }

    @Test
    void closeEndsTheBackoffOfARestartingLoop() {
        // Given a loop waiting an hour before its restart
        String topic = topicWith(1);
        ConsumerLoop loop = new ConsumerLoop(settings("close-backoff", config("close-backoff"))
                .withBackoff(Duration.ofHours(1), Duration.ofHours(1)), reading(topic, r -> {
            throw new IllegalStateException("again");
        }));
        await().atMost(WAIT).until(() -> loop.health().state() == ConsumerLoop.State.RESTARTING);

        // When
        loop.close();

        // Then
        assertThat(loop.health().state()).isEqualTo(ConsumerLoop.State.STOPPED);
        assertThat(loop.health().restarts()).isEqualTo(1);
    }

    @Test
    void aMissingTopicAtStartIsReportedByAwaitReady() {
        // Given
        String topic = "missing-" + UUID.randomUUID();
        Map<String, Object> config = new HashMap<>(config("missing"));
        config.put(ConsumerConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, 2000);

        // When
        try (ConsumerLoop loop = new ConsumerLoop(settings("missing", config).withBackoff(Duration.ofHours(1), Duration.ofHours(1)),
                reading(topic, r -> { }))) {

            // Then
            assertThatThrownBy(() -> loop.awaitReady(WAIT)).isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("topic " + topic + " does not exist");
        }
    }

    @Test
    void fatalErrorsAreThoseANewConsumerWouldMeetAgain() {
        // Then
        assertThat(ConsumerLoop.isFatal(new TopicAuthorizationException(Set.of("t")))).isTrue();
        assertThat(ConsumerLoop.isFatal(new UnsupportedVersionException("old broker"))).isTrue();
        assertThat(ConsumerLoop.isFatal(new org.apache.kafka.common.errors.FencedInstanceIdException("fenced"))).isTrue();
        assertThat(ConsumerLoop.isFatal(new org.apache.kafka.common.config.ConfigException("bad"))).isTrue();
        assertThat(ConsumerLoop.isFatal(new ExecutionException(new TopicAuthorizationException(Set.of("t"))))).isTrue();
        assertThat(ConsumerLoop.isFatal(new OutOfMemoryError("heap"))).isTrue();
        assertThat(ConsumerLoop.isFatal(new TimeoutException("broker away"))).isFalse();
        assertThat(ConsumerLoop.isFatal(new IllegalStateException("bug"))).isFalse();
    }

    private static ConsumerLoop.Settings settings(String name, Map<String, Object> config) {
        return ConsumerLoop.Settings.of("test-loop-" + name, config, ConsumerLoop.ErrorPolicy.restartUnlessFatal())
                .withPollTimeout(Duration.ofMillis(200));
    }

    private static Map<String, Object> config(String name) {
        return Map.of(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers(),
                ConsumerConfig.CLIENT_ID_CONFIG, "test-loop-" + name,
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
    }

    /** Reads every partition of {@code topic} from the beginning, one record at a time. */
    private static ConsumerLoop.Handler reading(String topic, Consumer<ConsumerRecord<String, byte[]>> each) {
        return ConsumerLoop.Handler.ofRecords(
                consumer -> consumer.seekToBeginning(ConsumerLoop.assignAll(consumer, topic, Duration.ofSeconds(30))), each);
    }

    /** {@code handler}, with {@code closed} told of each close of its consumer. */
    private static ConsumerLoop.Handler onClosed(ConsumerLoop.Handler handler, Consumer<Throwable> closed) {
        return new ConsumerLoop.Handler() {
            @Override
            public void open(KafkaConsumer<String, byte[]> consumer) {
                handler.open(consumer);
            }

            @Override
            public void handle(ConsumerRecords<String, byte[]> records, KafkaConsumer<String, byte[]> consumer) {
                handler.handle(records, consumer);
            }

            @Override
            public void closed(Throwable cause) {
                closed.accept(cause);
            }
        };
    }

    /** A new one-partition topic holding r0..r(n-1). */
    private static String topicWith(int n) {
        String topic = "loop-" + UUID.randomUUID();
        TopicInitializer.ensure(kafka.bootstrapServers(), List.of(new TopicSettings(topic, 1, (short) 1, null, false)),
                Duration.ofSeconds(30));
        List<java.util.concurrent.CompletableFuture<Void>> sends = new ArrayList<>();
        try (FleetProducer producer = new FleetProducer(kafka.bootstrapServers(), "test-loop-producer", Duration.ofSeconds(30))) {
            for (int i = 0; i < n; i++) {
                sends.add(producer.send(topic, "k" + i, ("r" + i).getBytes(StandardCharsets.UTF_8)).toCompletableFuture());
            }
            sends.forEach(java.util.concurrent.CompletableFuture::join);
        }
        return topic;
    }

    private static String value(ConsumerRecord<String, byte[]> record) {
        return new String(record.value(), StandardCharsets.UTF_8);
    }

    private static void hold(CountDownLatch latch) {
        try {
            if (!latch.await(WAIT.toSeconds(), TimeUnit.SECONDS)) throw new IllegalStateException("latch not released");
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }
}
