package dev.gatehouse.indexer.projection;

import dev.gatehouse.indexer.store.TimelineStore;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.evidence.SessionSealer;
import dev.gatehouse.platform.kafka.KafkaClients;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import dev.gatehouse.platform.revocation.EdgeSessions;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.header.internals.RecordHeader;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Supplier;

/**
 * The indexer's loop: reads {@code gatehouse.audit} in the consumer group {@code gatehouse-indexer}
 * ({@code read_committed}) and hands each polled batch to {@link TimelineStore#project}, which
 * stores the rows and the next offsets in one transaction. It reads in bulk
 * ({@link KafkaClients#readInBulk}): nobody waits on it per command, and a larger batch is
 * cheaper per event (a command's events mostly land in one transaction). On assignment it seeks to the offsets
 * the store holds (the group's committed offsets are written for monitoring only), so a crash or
 * a rebalance neither skips nor repeats an event.
 *
 * <p>A record that cannot be decoded goes to {@code gatehouse.audit.dlq} with the reason before its
 * offset is stored, and is counted ({@code gatehouse.indexer.dead.letters}). Every check interval
 * (a second by default) the loop marks sessions aborted whose edge stopped reporting them ({@link AbortDetector}) and seals
 * ended sessions ({@link SessionSealer}), each only on partitions it has read to the end.
 */
public final class AuditProjector implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(AuditProjector.class);

    /** Dead-letter headers (see {@link Topics#AUDIT_DLQ}). */
    public static final String DLQ_REASON = "gatehouse.dlq.reason";
    public static final String DLQ_TOPIC = "gatehouse.dlq.topic";
    public static final String DLQ_PARTITION = "gatehouse.dlq.partition";
    public static final String DLQ_OFFSET = "gatehouse.dlq.offset";

    /**
     * @param groupId       normally {@code gatehouse-indexer}
     * @param abortGrace    how long a session's edge must have stopped reporting it before it is aborted
     * @param checkInterval how often open sessions are checked and ended sessions sealed
     */
    public record Settings(String bootstrapServers, String groupId, String instanceId, String auditTopic, String dlqTopic,
                           Duration sessionTimeout, Duration abortGrace, Duration checkInterval) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(groupId, "groupId");
            Objects.requireNonNull(instanceId, "instanceId");
            Objects.requireNonNull(auditTopic, "auditTopic");
            Objects.requireNonNull(dlqTopic, "dlqTopic");
            Objects.requireNonNull(sessionTimeout, "sessionTimeout");
            Objects.requireNonNull(abortGrace, "abortGrace");
            Objects.requireNonNull(checkInterval, "checkInterval");
            if (checkInterval.toMillis() < 10) throw new IllegalArgumentException("checkInterval must be at least 10ms");
        }

        /** The defaults: group {@code gatehouse-indexer}, the standard topics, 15 s abort grace, checks every second. */
        public static Settings of(String bootstrapServers, String instanceId) {
            return new Settings(bootstrapServers, "gatehouse-indexer", instanceId, Topics.AUDIT, Topics.AUDIT_DLQ,
                    Duration.ofSeconds(6), Duration.ofSeconds(15), Duration.ofSeconds(1));
        }

        public Settings withTopics(String audit, String dlq) {
            return new Settings(bootstrapServers, groupId, instanceId, audit, dlq, sessionTimeout, abortGrace, checkInterval);
        }

        public Settings withGroup(String group) {
            return new Settings(bootstrapServers, group, instanceId, auditTopic, dlqTopic, sessionTimeout, abortGrace, checkInterval);
        }

        public Settings withAbortGrace(Duration grace, Duration interval) {
            return new Settings(bootstrapServers, groupId, instanceId, auditTopic, dlqTopic, sessionTimeout, grace, interval);
        }
    }

    private final Settings settings;
    private final TimelineStore store;
    private final EventSerde<AuditEvent> serde;
    private final SessionSealer sealer;
    private final Supplier<List<EdgeSessions>> directory;
    private final Clock clock;
    private final AbortDetector aborts;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final MeterRegistry registry;
    private final Counter eventsCounter;
    private final AtomicLong lag = new AtomicLong();
    private final Gauge lagGauge;
    private final AtomicLong projected = new AtomicLong();
    private final AtomicLong deadLetters = new AtomicLong();
    private final Thread loop;
    private volatile boolean running = true;
    private Instant lastCheck = Instant.EPOCH;

    /**
     * Connects and starts the loop.
     *
     * @param sealer    signs ended sessions; null to not seal
     * @param directory the session directory's edges; null to never abort sessions
     * @param registry  where the indexer's metrics go; may be null
     */
    public AuditProjector(Settings settings, TimelineStore store, EventSerde<AuditEvent> serde, SessionSealer sealer,
                          Supplier<List<EdgeSessions>> directory, MeterRegistry registry, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.store = Objects.requireNonNull(store, "store");
        this.serde = Objects.requireNonNull(serde, "serde");
        this.sealer = sealer;
        this.directory = directory;
        this.clock = Objects.requireNonNull(clock, "clock");
        this.aborts = new AbortDetector(settings.abortGrace());
        this.registry = registry;
        this.eventsCounter = registry == null ? null : Counter.builder("gatehouse.indexer.events")
                .description("Audit events projected into timelines").register(registry);
        // removed again on close, so that a projector started later in the same process reports its own lag
        this.lagGauge = registry == null ? null : Gauge.builder("gatehouse.indexer.lag", lag, AtomicLong::get)
                .description("Audit records not yet projected by this indexer instance").register(registry);
        this.producer = new KafkaProducer<>(producerConfig(settings), new StringSerializer(), new ByteArraySerializer());
        this.consumer = new KafkaConsumer<>(consumerConfig(settings), new StringDeserializer(), new ByteArrayDeserializer());
        consumer.subscribe(List.of(settings.auditTopic()), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                if (partitions.isEmpty()) return;
                seekToStored(partitions);
            }

            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                if (!partitions.isEmpty()) LOGGER.info("Audit partitions revoked instanceId={} removed={}",
                        settings.instanceId(), numbers(partitions));
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> partitions) {
                LOGGER.warn("Audit partitions lost instanceId={} lost={}", settings.instanceId(), numbers(partitions));
            }
        });
        this.loop = Thread.ofPlatform().daemon().name("gatehouse-indexer-" + settings.instanceId()).unstarted(this::run);
        loop.start();
        LOGGER.info("Audit indexer started instanceId={} group={} topic={} sealing={} abortCheck={}", settings.instanceId(),
                settings.groupId(), settings.auditTopic(), sealer != null, directory != null);
    }

    private static List<Integer> numbers(Collection<TopicPartition> partitions) {
        return partitions.stream().map(TopicPartition::partition).sorted().toList();
    }

    private static Map<String, Object> producerConfig(Settings settings) {
        return KafkaClients.durableProducer(settings.bootstrapServers(), "gatehouse-indexer-" + settings.instanceId());
    }

    private static Map<String, Object> consumerConfig(Settings settings) {
        Map<String, Object> config = KafkaClients.groupConsumer(settings.bootstrapServers(),
                "gatehouse-indexer-" + settings.instanceId(), settings.groupId(), settings.sessionTimeout(), true);
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        KafkaClients.readInBulk(config);
        return config;
    }

    /** Seeks partitions to the offsets the store holds; partitions it has never seen start at the beginning. */
    private void seekToStored(Collection<TopicPartition> partitions) {
        Map<Integer, Long> stored = store.nextOffsets(settings.auditTopic());
        List<TopicPartition> fresh = new ArrayList<>();
        for (TopicPartition tp : partitions) {
            Long next = stored.get(tp.partition());
            if (next == null) fresh.add(tp);
            else consumer.seek(tp, next);
        }
        if (!fresh.isEmpty()) consumer.seekToBeginning(fresh);
        LOGGER.info("Audit partitions assigned instanceId={} added={} storedOffsets={}", settings.instanceId(),
                numbers(partitions), stored);
    }

    private void run() {
        try {
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(200));
                if (!records.isEmpty()) handle(records);
                updateLag();
                Instant now = clock.instant();
                if (!now.isBefore(lastCheck.plus(settings.checkInterval()))) {
                    lastCheck = now;
                    checkSessions(now);
                }
            }
        } catch (WakeupException e) {
            if (running) LOGGER.error("Audit indexer woken unexpectedly instanceId={}", settings.instanceId());
        } catch (RuntimeException e) {
            LOGGER.error("Audit indexer stops: unexpected error instanceId={}", settings.instanceId(), e);
        } finally {
            running = false;
            consumer.close(Duration.ofSeconds(5));
            producer.close(Duration.ofSeconds(5));
        }
    }

    private void handle(ConsumerRecords<String, byte[]> records) {
        List<TimelineStore.IndexedRecord> batch = new ArrayList<>(records.count());
        List<Future<RecordMetadata>> dead = new ArrayList<>();
        for (ConsumerRecord<String, byte[]> r : records) {
            AuditEvent event = null;
            try {
                event = serde.decode(r.value());
            } catch (RuntimeException e) {
                dead.add(deadLetter(r, e));
            }
            batch.add(new TimelineStore.IndexedRecord(r.partition(), r.offset(), r.value(), event));
        }
        try {
            for (Future<RecordMetadata> f : dead) f.get(30, TimeUnit.SECONDS);
            TimelineStore.ProjectionResult result = store.project(settings.auditTopic(), batch);
            projected.addAndGet(result.projected());
            if (eventsCounter != null) eventsCounter.increment(result.projected());
            if (result.duplicates() > 0 || result.skipped() > 0) {
                LOGGER.info("Batch projected instanceId={} projected={} duplicates={} alreadyStored={}",
                        settings.instanceId(), result.projected(), result.duplicates(), result.skipped());
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WakeupException();
        } catch (ExecutionException | TimeoutException | TimelineStore.StoreException e) {
            LOGGER.warn("Batch not projected, reading it again from the stored offsets instanceId={} records={} error={}",
                    settings.instanceId(), records.count(), e instanceof ExecutionException ? e.getCause().toString() : e.toString());
            pause();
            seekToStored(records.partitions());
            return;
        }
        // for monitoring tools only: the store's offsets are the ones that count
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            offsets.put(tp, new OffsetAndMetadata(records.records(tp).getLast().offset() + 1));
        }
        consumer.commitAsync(offsets, (o, error) -> {
            if (error != null) LOGGER.debug("Offset commit failed (informational only) error={}", error.toString());
        });
    }

    private Future<RecordMetadata> deadLetter(ConsumerRecord<String, byte[]> r, RuntimeException error) {
        String reason = error.getMessage() == null ? error.toString() : error.getMessage();
        String kind = reason.contains("unknown schema") ? "unknown-schema" : "undecodable";
        LOGGER.warn("Dead letter: audit record cannot be decoded partition={} offset={} reason={}", r.partition(), r.offset(), reason);
        deadLetters.incrementAndGet();
        if (registry != null) {
            Counter.builder("gatehouse.indexer.dead.letters").description("Audit records the indexer could not decode")
                    .tag("reason", kind).register(registry).increment();
        }
        ProducerRecord<String, byte[]> letter = new ProducerRecord<>(settings.dlqTopic(), null, r.key(), r.value());
        letter.headers().add(new RecordHeader(DLQ_REASON, reason.getBytes(StandardCharsets.UTF_8)));
        letter.headers().add(new RecordHeader(DLQ_TOPIC, r.topic().getBytes(StandardCharsets.UTF_8)));
        letter.headers().add(new RecordHeader(DLQ_PARTITION, Integer.toString(r.partition()).getBytes(StandardCharsets.UTF_8)));
        letter.headers().add(new RecordHeader(DLQ_OFFSET, Long.toString(r.offset()).getBytes(StandardCharsets.UTF_8)));
        return producer.send(letter);
    }

    private void pause() {
        try {
            Thread.sleep(1000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WakeupException();
        }
    }

    /** Aborts sessions whose edge stopped reporting them and seals ended sessions, on partitions read to the end. */
    private void checkSessions(Instant now) {
        try {
            if (directory != null) {
                List<TimelineStore.OpenSession> open = store.openSessions().stream().filter(s -> caughtUp(s.partition())).toList();
                for (AbortDetector.Abort abort : aborts.check(open, directory.get(), now)) {
                    if (store.markAborted(abort.sessionId(), now)) {
                        LOGGER.warn("Session aborted sessionId={} edgeId={} why={}", abort.sessionId(), abort.edgeId(), abort.why());
                    }
                }
            }
            if (sealer != null) seal();
        } catch (TimelineStore.StoreException e) {
            LOGGER.warn("Session check failed, trying again later instanceId={} error={}", settings.instanceId(), e.toString());
        }
    }

    private void seal() {
        for (TimelineStore.PendingSeal pending : store.pendingSeals()) {
            if (!caughtUp(pending.partition())) continue;
            AuditEvent.SessionSealed seal = sealer.seal(new SessionId(pending.sessionId()), pending.chainHead(),
                    pending.events(), pending.status());
            try {
                producer.send(new ProducerRecord<>(settings.auditTopic(), pending.sessionId(), serde.encode(seal)))
                        .get(30, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new WakeupException();
            } catch (ExecutionException | TimeoutException e) {
                LOGGER.warn("Seal not written, trying again later sessionId={} error={}", pending.sessionId(), e.toString());
                return;
            }
            store.sealWritten(pending.sessionId());
            LOGGER.info("Session sealed sessionId={} status={} events={} keyId={}", pending.sessionId(), pending.status(),
                    pending.events(), seal.keyId());
        }
    }

    /** Whether this instance owns the partition and has read it to its end (as of the last poll). */
    private boolean caughtUp(int partition) {
        TopicPartition tp = new TopicPartition(settings.auditTopic(), partition);
        if (!consumer.assignment().contains(tp)) return false;
        OptionalLong l = consumer.currentLag(tp);
        return l.isPresent() && l.getAsLong() == 0;
    }

    private void updateLag() {
        long total = 0;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong l = consumer.currentLag(tp);
            if (l.isPresent()) total += l.getAsLong();
        }
        lag.set(total);
    }

    /** Events projected since start (duplicates and dead letters not counted). */
    public long projectedCount() {
        return projected.get();
    }

    /** Records sent to the dead-letter topic since start. */
    public long deadLetterCount() {
        return deadLetters.get();
    }

    /** Records not yet projected on this instance's partitions, as of the last poll. */
    public long lag() {
        return lag.get();
    }

    public boolean isRunning() {
        return running && loop.isAlive();
    }

    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            loop.join(Duration.ofSeconds(15));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (lagGauge != null) registry.remove(lagGauge);
    }
}
