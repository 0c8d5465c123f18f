package dev.gatehouse.indexer.ocsf;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.kafka.DecisionService;
import dev.gatehouse.platform.kafka.KafkaClients;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Publishes the audit log as OCSF JSON: consumes {@code gatehouse.audit} as the consumer group
 * {@value #GROUP}, maps each partition's events with its own {@link OcsfMapper}, and writes the
 * results to {@code gatehouse.audit.ocsf} keyed by session id with an idempotent producer
 * ({@code acks=all}).
 *
 * <p>At least once: after each poll the produced records are flushed and only then offsets are
 * committed, and never past the oldest command still awaiting its outcome (so a restart rebuilds
 * that command's state by reading it again). Events may therefore be published twice after a crash
 * or a rebalance; {@code metadata.uid} is stable (command id for 6005, audit event id for 3002), so
 * a SIEM can de-duplicate on it.
 *
 * <p>Undecodable records are skipped with a warning and counted ({@code gatehouse.ocsf.skipped},
 * tag reason=undecodable); published events are counted in {@code gatehouse.ocsf.published} (tag
 * class_uid). Runs on its own thread between {@link #start()} and {@link #close()}.
 */
public final class OcsfExporter implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(OcsfExporter.class);

    /** The exporter's consumer group on the audit topic. */
    public static final String GROUP = "gatehouse-ocsf";

    private static final ObjectMapper JSON = new ObjectMapper();

    /**
     * Where the exporter reads and writes.
     *
     * @param bootstrapServers Kafka
     * @param sourceTopic      normally {@link Topics#AUDIT}
     * @param targetTopic      normally {@link Topics#AUDIT_OCSF}
     * @param groupId          normally {@link #GROUP}
     * @param mapper           how events are mapped and how much state is kept
     * @param pollTimeout      the longest one poll waits
     */
    public record Settings(String bootstrapServers, String sourceTopic, String targetTopic, String groupId,
                           OcsfMapper.Settings mapper, Duration pollTimeout) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(sourceTopic, "sourceTopic");
            Objects.requireNonNull(targetTopic, "targetTopic");
            Objects.requireNonNull(groupId, "groupId");
            Objects.requireNonNull(mapper, "mapper");
            Objects.requireNonNull(pollTimeout, "pollTimeout");
            if (sourceTopic.equals(targetTopic)) {
                throw new IllegalArgumentException("OCSF exporter would write to the topic it reads: " + sourceTopic);
            }
        }

        /** The standard topics and group, default mapper settings, 500 ms polls. */
        public static Settings of(String bootstrapServers) {
            return new Settings(bootstrapServers, Topics.AUDIT, Topics.AUDIT_OCSF, GROUP, OcsfMapper.Settings.defaults(),
                    Duration.ofMillis(500));
        }
    }

    private final Settings settings;
    private final EventSerde<AuditEvent> serde;
    private final MeterRegistry registry;
    private final Counter skipped;
    private final AtomicLong publishedTotal = new AtomicLong();
    private final AtomicLong skippedTotal = new AtomicLong();
    private final Map<TopicPartition, OcsfMapper> mappers = new HashMap<>();
    /** The published counter of each class_uid, registered once (a lookup per record cost more than the count). */
    private final Map<String, Counter> published = new HashMap<>();
    /** The next offset to read per partition, for commits. */
    private final Map<TopicPartition, Long> positions = new HashMap<>();
    private final KafkaConsumer<String, byte[]> consumer;
    /**
     * The producer's batch size: 256 KiB instead of Kafka's 16 KiB. A poll's events are sent at once
     * and flushed; a produce request carries one batch per partition (at most 1 MiB in all, Kafka's
     * {@code max.request.size}), so with 16 KiB batches a poll of a few hundred commands' events
     * (OCSF JSON, 1-2 KB each) took tens of requests one after the other, each with its own LZ4
     * frame buffers, where 256 KiB batches take one or two.
     */
    static final int BATCH_BYTES = 256 * 1024;

    private final KafkaProducer<String, byte[]> producer;
    private final Thread thread;
    private volatile boolean running;

    /**
     * @param serde    decodes {@code gatehouse.audit} values (the platform's AuditEventCodec)
     * @param registry where the counters go; null for none
     */
    public OcsfExporter(Settings settings, EventSerde<AuditEvent> serde, MeterRegistry registry) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.serde = Objects.requireNonNull(serde, "serde");
        this.registry = registry == null ? new SimpleMeterRegistry() : registry;
        this.skipped = Counter.builder("gatehouse.ocsf.skipped")
                .description("Audit records the OCSF exporter could not decode and skipped")
                .tag("reason", "undecodable").register(this.registry);
        Map<String, Object> consumerConfig = KafkaClients.groupConsumer(settings.bootstrapServers(),
                settings.groupId() + "-consumer", settings.groupId(), DecisionService.Settings.DEFAULT_SESSION_TIMEOUT, true);
        consumerConfig.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 2000);
        KafkaClients.readInBulk(consumerConfig); // one flush and commit per large poll, not per command
        this.consumer = new KafkaConsumer<>(consumerConfig, new StringDeserializer(), new ByteArrayDeserializer());
        // SIEM export is a stream, not somebody waiting: a little linger and compression pay off, and
        // batches of BATCH_BYTES (see there).
        Map<String, Object> producerConfig = KafkaClients.durableProducer(settings.bootstrapServers(),
                settings.groupId() + "-producer");
        producerConfig.put(ProducerConfig.LINGER_MS_CONFIG, 5);
        producerConfig.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        producerConfig.put(ProducerConfig.BATCH_SIZE_CONFIG, BATCH_BYTES);
        this.producer = new KafkaProducer<>(producerConfig, new StringSerializer(), new ByteArraySerializer());
        this.thread = Thread.ofPlatform().name("gatehouse-ocsf-exporter").daemon(true).unstarted(this::run);
    }

    /** Subscribes and starts exporting on the exporter's thread. */
    public void start() {
        if (running) throw new IllegalStateException("OCSF exporter already started");
        running = true;
        thread.start();
        LOGGER.info("OCSF exporter started source={} target={} group={} ocsfVersion={}", settings.sourceTopic(),
                settings.targetTopic(), settings.groupId(), OcsfMapper.OCSF_VERSION);
    }

    /** OCSF events published so far. */
    public long published() {
        return publishedTotal.get();
    }

    /** Undecodable audit records skipped so far. */
    public long skipped() {
        return skippedTotal.get();
    }

    private void run() {
        try {
            consumer.subscribe(List.of(settings.sourceTopic()), new ConsumerRebalanceListener() {
                @Override
                public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                    producer.flush();
                    commit(partitions);
                    partitions.forEach(OcsfExporter.this::forget);
                }

                @Override
                public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                    partitions.forEach(p -> mappers.put(p, new OcsfMapper(settings.mapper())));
                }

                @Override
                public void onPartitionsLost(Collection<TopicPartition> partitions) {
                    partitions.forEach(OcsfExporter.this::forget);
                }
            });
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(settings.pollTimeout());
                if (records.isEmpty()) continue;
                List<Future<?>> sends = new ArrayList<>();
                for (ConsumerRecord<String, byte[]> record : records) {
                    export(record, sends);
                }
                producer.flush();
                for (Future<?> send : sends) send.get(); // surfaces a failed send before anything is committed
                commit(records.partitions());
            }
        } catch (WakeupException e) {
            if (running) LOGGER.error("OCSF exporter woken up unexpectedly", e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (Exception e) {
            LOGGER.error("OCSF exporter stopped: {}; uncommitted audit records will be exported again on restart",
                    e.toString(), e);
        } finally {
            consumer.close(Duration.ofSeconds(5));
            producer.close(Duration.ofSeconds(5));
        }
    }

    private void export(ConsumerRecord<String, byte[]> record, List<Future<?>> sends) {
        TopicPartition partition = new TopicPartition(record.topic(), record.partition());
        positions.put(partition, record.offset() + 1);
        AuditEvent event;
        try {
            event = serde.decode(record.value());
        } catch (RuntimeException e) {
            skipped.increment();
            skippedTotal.incrementAndGet();
            LOGGER.warn("OCSF exporter skips an undecodable audit record partition={} offset={} error={}",
                    record.partition(), record.offset(), e.toString());
            return;
        }
        OcsfMapper mapper = mappers.computeIfAbsent(partition, p -> new OcsfMapper(settings.mapper()));
        for (ObjectNode ocsf : mapper.map(event, record.offset())) {
            byte[] value;
            try {
                value = JSON.writeValueAsBytes(ocsf);
            } catch (JsonProcessingException e) {
                throw new IllegalStateException("cannot serialize an OCSF event of " + event.header().eventId(), e);
            }
            Counter counter = published.computeIfAbsent(ocsf.path("class_uid").asText(), classUid ->
                    Counter.builder("gatehouse.ocsf.published")
                            .description("OCSF events written to " + settings.targetTopic())
                            .tag("class_uid", classUid).register(registry));
            sends.add(producer.send(new ProducerRecord<>(settings.targetTopic(), event.sessionId().value(), value),
                    (metadata, error) -> {
                        if (error == null) {
                            publishedTotal.incrementAndGet();
                            counter.increment();
                        }
                    }));
        }
    }

    /** Commits each partition's position, held back to the oldest command still awaiting its outcome. */
    private void commit(Collection<TopicPartition> partitions) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition p : partitions) {
            Long next = positions.get(p);
            if (next == null) continue;
            OcsfMapper mapper = mappers.get(p);
            long safe = mapper == null ? next : Math.min(next, mapper.oldestPendingOffset().orElse(next));
            offsets.put(p, new OffsetAndMetadata(safe));
        }
        if (!offsets.isEmpty()) consumer.commitSync(offsets);
    }

    private void forget(TopicPartition partition) {
        mappers.remove(partition);
        positions.remove(partition);
    }

    /** Stops exporting; what was published and not yet committed is published again by the next run. */
    @Override
    public void close() {
        if (!running) {
            if (!thread.isAlive()) {
                consumer.close(Duration.ZERO);
                producer.close(Duration.ZERO);
            }
            return;
        }
        running = false;
        consumer.wakeup();
        try {
            thread.join(Duration.ofSeconds(15));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        LOGGER.info("OCSF exporter stopped published={} skipped={}", publishedTotal.get(), skippedTotal.get());
    }
}
