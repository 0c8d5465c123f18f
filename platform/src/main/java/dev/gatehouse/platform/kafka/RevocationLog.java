package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.events.FleetCodec;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.RevocationSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The fleet's revocations, kept in the compacted {@code gatehouse.revocations} topic (key: the
 * revocation id, value: its latest state; a lift rewrites the record with {@code lifted=true}).
 * Each process reads the topic fully at start, so revocations survive restarts and an edge that
 * starts later knows them before it accepts a client, then follows it.
 *
 * <p>Threads: listeners run on the reader's poll thread; they must be quick.
 */
public final class RevocationLog implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(RevocationLog.class);

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param instanceId       this process, for client ids
     * @param topic            normally {@link Topics#REVOCATIONS}
     * @param timeout          bound on reading the topic at start and on a publish
     */
    public record Settings(String bootstrapServers, String instanceId, String topic, Duration timeout) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(instanceId, "instanceId");
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(timeout, "timeout");
        }

        public static Settings of(String bootstrapServers, String instanceId) {
            return new Settings(bootstrapServers, instanceId, Topics.REVOCATIONS, Duration.ofSeconds(30));
        }
    }

    private final Settings settings;
    private final FleetCodec codec = new FleetCodec();
    private final RevocationSet active = new RevocationSet();
    private final List<Consumer<Revocation>> listeners = new CopyOnWriteArrayList<>();
    private final Map<String, CompletableFuture<Void>> readBack = new ConcurrentHashMap<>();
    private final CompactedTopicReader<Revocation> reader;
    private FleetProducer producer;

    /**
     * Reads every revocation so far (in {@link #active()} when this returns), then follows the
     * topic.
     *
     * @throws IllegalStateException when the topic cannot be read to its end within the timeout
     */
    public RevocationLog(Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.reader = new CompactedTopicReader<>(new CompactedTopicReader.Settings(settings.bootstrapServers(),
                settings.topic(), "gatehouse-revocations-" + settings.instanceId(), settings.timeout()),
                codec::decodeRevocation, this::onRecord);
        LOGGER.info("Revocations loaded active={} instance={}", active.size(), settings.instanceId());
    }

    /** Calls {@code listener} with each revocation that comes into force from now on. */
    public void addListener(Consumer<Revocation> listener) {
        listeners.add(Objects.requireNonNull(listener, "listener"));
    }

    private void onRecord(String id, Revocation revocation) {
        if (revocation == null) {
            active.remove(id);
            return;
        }
        boolean isNew = active.apply(revocation);
        CompletableFuture<Void> waiter = readBack.remove(key(revocation));
        if (waiter != null) waiter.complete(null);
        if (isNew) {
            LOGGER.info("Revocation in force id={} selector={} revokedBy={}", revocation.id(), revocation.selector(),
                    revocation.revokedBy());
            for (Consumer<Revocation> listener : listeners) {
                try {
                    listener.accept(revocation);
                } catch (RuntimeException e) {
                    LOGGER.error("Revocation listener failed id={}", revocation.id(), e);
                }
            }
        } else if (revocation.lifted()) {
            LOGGER.info("Revocation lifted id={} selector={} liftedBy={}", revocation.id(), revocation.selector(),
                    revocation.liftedBy());
        }
    }

    /** The revocations in force as this process has read them. */
    public RevocationSet active() {
        return active;
    }

    /**
     * The reader's health: not ready when it stopped following the topic, i.e. when revocations
     * published from then on would not be enforced here.
     */
    public ConsumerLoop.Health health() {
        return reader.health();
    }

    /**
     * Writes a revocation (new, or lifted) to the topic. The stage completes once the broker has
     * it and this process has read it back (so {@link #active()} reflects it), or fails after the
     * timeout.
     */
    public CompletionStage<Void> publish(Revocation revocation) {
        CompletableFuture<Void> seen = new CompletableFuture<>();
        String key = key(revocation);
        readBack.put(key, seen);
        return producer().send(settings.topic(), revocation.id(), codec.encodeRevocation(revocation))
                .thenCompose(sent -> seen.orTimeout(settings.timeout().toMillis(), TimeUnit.MILLISECONDS))
                .whenComplete((ok, err) -> readBack.remove(key, seen));
    }

    private static String key(Revocation r) {
        return r.id() + (r.lifted() ? "/lifted" : "");
    }

    private synchronized FleetProducer producer() {
        if (producer == null) {
            producer = new FleetProducer(settings.bootstrapServers(), "gatehouse-revocations-" + settings.instanceId(),
                    settings.timeout());
        }
        return producer;
    }

    @Override
    public void close() {
        reader.close();
        synchronized (this) {
            if (producer != null) producer.close();
        }
    }
}
