package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;

/**
 * The audit log's producer: appends events to {@code gatehouse.audit}, keyed by session id,
 * with idempotent producers, {@code acks=all}. One instance per process; thread-safe.
 *
 * <p>Two producers. Records somebody waits for (the write-ahead {@code CommandReceived}, the
 * session's opening, an approval's execution, and anything not listed below) go out at once
 * ({@code linger.ms=0}). The records written after a command or a session is over, which nobody
 * waits for ({@code CommandCompleted}, {@code ResultSampled}, {@code SessionClosed}:
 * {@link #afterTheFact}), wait up to {@link #AFTER_THE_FACT_LINGER_MS} ms for others to share a
 * produce request: under load one request carries many of them, where each took a request of its
 * own (and a wake-up of every reader of the topic). They keep their order among themselves (one
 * producer), so a session's {@code SessionClosed} follows its last {@code CommandCompleted}; a
 * {@code CommandCompleted} always follows its command's {@code CommandReceived} (the command ran
 * only after that was acknowledged), but may land after the session's next {@code CommandReceived}.
 *
 * <p>Fail-closed deadline: {@code delivery.timeout.ms} is set from
 * {@link Settings#deliveryTimeout()}, so when the broker is unreachable an append fails within
 * about that time. {@code max.block.ms} is 0: an append never blocks its caller (an event loop)
 * waiting for metadata; the producers keep the topic's metadata however long they are idle
 * ({@code metadata.max.idle.ms}), and when they have none (at start, before
 * {@link KafkaClients#awaitMetadata} saw it) the append fails at once, which is also failing closed. A record whose append failed is never retried afterwards by this producer.
 * (It may still be in the log if the broker wrote it but its acknowledgement was lost: the log
 * can hold a command that was rejected, never the reverse.)
 *
 * <p>Threads: the returned stage completes on the Kafka producer's network thread, or on the
 * caller's thread when the append is refused at once. Dependents must be quick and
 * non-blocking, or use the {@code *Async} variants.
 */
public final class KafkaAuditSink implements AuditSink, AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(KafkaAuditSink.class);

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param topic            the audit topic, normally {@link Topics#AUDIT}
     * @param clientId         producer client id (the instance name, for broker-side logs)
     * @param deliveryTimeout  the longest an append may take before it fails; at least 1 s
     */
    public record Settings(String bootstrapServers, String topic, String clientId, Duration deliveryTimeout) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(clientId, "clientId");
            Objects.requireNonNull(deliveryTimeout, "deliveryTimeout");
            if (bootstrapServers.isBlank()) throw new IllegalArgumentException("bootstrapServers must not be blank");
            if (deliveryTimeout.compareTo(Duration.ofSeconds(1)) < 0 || deliveryTimeout.compareTo(Duration.ofMinutes(10)) > 0) {
                throw new IllegalArgumentException("deliveryTimeout must be between 1s and 10min, was " + deliveryTimeout);
            }
        }

        public static Settings of(String bootstrapServers, Duration deliveryTimeout) {
            return new Settings(bootstrapServers, Topics.AUDIT, "gatehouse-audit", deliveryTimeout);
        }
    }

    /** How long an after-the-fact record waits for others to share its produce request (Kafka 4's default linger). */
    public static final int AFTER_THE_FACT_LINGER_MS = 5;

    private final Settings settings;
    private final EventSerde<AuditEvent> serde;
    /** One producer and its latency timer (null without a registry). */
    private record Lane(KafkaProducer<String, byte[]> producer, Timer latency) {
    }

    private final Lane writeAhead;
    private final Lane afterTheFact;

    /**
     * Creates the producer and fetches the topic's metadata, so that later appends do not block
     * the caller on a metadata lookup.
     *
     * @param registry where to publish {@code gatehouse.produce.latency}; may be null
     * @throws org.apache.kafka.common.KafkaException when the topic's metadata cannot be had
     *         within the delivery timeout
     */
    public KafkaAuditSink(Settings settings, EventSerde<AuditEvent> serde, MeterRegistry registry) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.retryTimer = java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().name("gatehouse-audit-retry").daemon().factory());
        this.retry = new AfterTheFactRetry(retryTimer, () -> closed);
        this.serde = Objects.requireNonNull(serde, "serde");
        this.writeAhead = new Lane(new KafkaProducer<>(producerConfig(settings, settings.clientId(), 0),
                new StringSerializer(), new ByteArraySerializer()), timer(registry, settings, "write-ahead"));
        this.afterTheFact = new Lane(new KafkaProducer<>(producerConfig(settings, settings.clientId() + "-after",
                AFTER_THE_FACT_LINGER_MS), new StringSerializer(), new ByteArraySerializer()),
                timer(registry, settings, "after-the-fact"));
        try {
            KafkaClients.awaitMetadata(afterTheFact.producer(), settings.topic(), settings.bootstrapServers(),
                    settings.deliveryTimeout());
            int partitions = KafkaClients.awaitMetadata(writeAhead.producer(), settings.topic(), settings.bootstrapServers(),
                    settings.deliveryTimeout());
            LOGGER.info("Audit sink ready topic={} partitions={} deliveryTimeoutMs={}",
                    settings.topic(), partitions, settings.deliveryTimeout().toMillis());
        } catch (RuntimeException e) {
            writeAhead.producer().close(Duration.ZERO);
            afterTheFact.producer().close(Duration.ZERO);
            retryTimer.shutdownNow();
            throw e;
        }
    }

    private static Timer timer(MeterRegistry registry, Settings settings, String records) {
        return registry == null ? null : Timer.builder("gatehouse.produce.latency")
                .description("Time from append to the broker's acknowledgement (acks=all)")
                .tag("topic", settings.topic())
                .tag("records", records)
                .publishPercentileHistogram()
                .register(registry);
    }

    /** Whether {@code event} is written after its command or session is over, and nobody waits for it. */
    static boolean afterTheFact(AuditEvent event) {
        return event instanceof AuditEvent.CommandCompleted || event instanceof AuditEvent.ResultSampled
                || event instanceof AuditEvent.SessionClosed;
    }

    static Map<String, Object> producerConfig(Settings settings, String clientId, int lingerMs) {
        int deliveryMs = (int) settings.deliveryTimeout().toMillis();
        Map<String, Object> config = KafkaClients.client(settings.bootstrapServers(), clientId);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, KafkaClients.PRODUCE_REQUESTS_IN_FLIGHT);
        config.put(ProducerConfig.LINGER_MS_CONFIG, lingerMs);
        // delivery.timeout.ms >= linger.ms + request.timeout.ms is enforced by the client
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, deliveryMs);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(deliveryMs - lingerMs, 30_000));
        // never block the caller (see class comment), and keep the topic's metadata however long the
        // edge is idle: forgotten, the next append (the first connection after a quiet spell) would
        // fail at once, refusing the client
        KafkaClients.neverBlocking(config);
        config.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1000);
        return config;
    }

    /**
     * Appends one event; the stage completes when every in-sync replica has it, and fails
     * (never hangs) when it cannot be written within the delivery timeout.
     */
    @Override
    public CompletionStage<Void> append(AuditEvent event) {
        if (!afterTheFact(event)) return send(writeAhead, event, null);
        // nobody waits for it and it cannot fail a client any more: retried until the log takes it
        return retry.send(() -> send(afterTheFact, event, null),
                event.getClass().getSimpleName() + " sessionId=" + event.sessionId().value() + " eventId=" + event.header().eventId());
    }

    /**
     * Appends a decision request and the decision its own process's policy made about it
     * ({@link InlineDecisionPort}): the request first, with the header
     * {@value InlineDecisionPort#DECIDED_HEADER} naming {@code decider} so that no decision service
     * decides it again, then the decision, both on the write-ahead producer and so in this order on
     * the session's partition (mostly in one produce request). The stage completes when both are
     * durable and fails when either fails; when the request is refused at once the decision is not
     * sent.
     */
    public CompletionStage<Void> appendDecided(AuditEvent.DecisionRequest request, AuditEvent.DecisionMade decision,
                                               String decider) {
        CompletableFuture<Void> first = send(writeAhead, request,
                new RecordHeader(InlineDecisionPort.DECIDED_HEADER, decider.getBytes(StandardCharsets.UTF_8)));
        if (first.isCompletedExceptionally()) return first;
        return first.thenCombine(send(writeAhead, decision, null), (a, b) -> null);
    }

    private CompletableFuture<Void> send(Lane lane, AuditEvent event, Header extra) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        byte[] value;
        try {
            value = serde.encode(event);
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
            return done;
        }
        String key = event.sessionId().value();
        long t0 = System.nanoTime();
        List<Header> headers = extra == null ? List.of(EventTypeHeader.of(event)) : List.of(EventTypeHeader.of(event), extra);
        try {
            lane.producer().send(new ProducerRecord<>(settings.topic(), null, key, value, headers), (metadata, error) -> {
                if (error != null) {
                    LOGGER.warn("Audit append failed sessionId={} eventId={} error={}", key, event.header().eventId(), error.toString());
                    done.completeExceptionally(error);
                } else {
                    if (lane.latency() != null) lane.latency().record(System.nanoTime() - t0, TimeUnit.NANOSECONDS);
                    done.complete(null);
                }
            });
        } catch (RuntimeException e) {
            // send() throws for buffer exhaustion, metadata timeouts, a closed producer
            LOGGER.warn("Audit append refused sessionId={} eventId={} error={}", key, event.header().eventId(), e.toString());
            done.completeExceptionally(e);
        }
        return done;
    }

    private final java.util.concurrent.ScheduledExecutorService retryTimer;
    private final AfterTheFactRetry retry;
    private volatile boolean closed;

    public Settings settings() {
        return settings;
    }

    /** Flushes what is pending (bounded by the delivery timeout) and closes the producers. */
    @Override
    public void close() {
        closed = true;
        retryTimer.shutdownNow();
        afterTheFact.producer().close(settings.deliveryTimeout());
        writeAhead.producer().close(settings.deliveryTimeout());
    }
}
