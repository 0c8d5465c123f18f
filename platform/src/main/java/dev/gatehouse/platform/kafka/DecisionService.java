package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
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
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidSessionTimeoutException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Collection;
import java.util.HashMap;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import org.apache.kafka.clients.producer.RecordMetadata;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The policy side's loop, protocol-free: reads {@code CommandReceived} and {@code SessionRequested}
 * events (every {@link AuditEvent.DecisionRequest}) from
 * {@code gatehouse.audit} in the consumer group {@code gatehouse-policy}, asks the policy
 * function, and writes the {@code DecisionMade} both to {@code gatehouse.decisions} (partition =
 * the command's reply partition) and to {@code gatehouse.audit} (keyed by session id). Other
 * events are skipped, and so are commands the edge refused itself ({@link #awaitsDecision}): no
 * decision is written for them.
 *
 * <p>At-least-once: the decisions of a polled batch are written with an idempotent producer
 * ({@code acks=all}), and the batch's offsets are committed only once every write is
 * acknowledged. After a crash or a rebalance a command may be decided again; decisions are
 * idempotent by command id (the edge completes a command once and ignores the rest, the indexer
 * de-duplicates). Transactions were tried and dropped: an open transaction on the audit
 * partition holds back the last stable offset for every {@code read_committed} reader, and the
 * commit markers added about 100 ms to every decision.
 *
 * <p>Fail closed: when the policy function throws or returns null the command is denied
 * ({@code ruleId "policy-error"}, reason "policy evaluation failed").
 *
 * <p>{@code instanceId} names the instance in client ids and in the decisions it writes.
 */
public final class DecisionService implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(DecisionService.class);

    /** The rule id of the denial recorded when the policy function fails. */
    public static final String POLICY_ERROR_RULE = "policy-error";

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param groupId          consumer group, normally {@code gatehouse-policy}
     * @param instanceId       unique per running instance (host name, pod name)
     * @param auditTopic       normally {@link Topics#AUDIT}
     * @param decisionsTopic   normally {@link Topics#DECISIONS}
     * @param fromBeginning    where a new group starts: the beginning of the log (true) or its end
     * @param sessionTimeout   how long the group coordinator waits for a heartbeat before it declares
     *                         an instance dead and gives its partitions to the others (the client's
     *                         {@code session.timeout.ms}; heartbeats every third of it). Must lie within
     *                         the brokers' {@code group.min.session.timeout.ms} (default 6 s) and
     *                         {@code group.max.session.timeout.ms}. Default {@link #DEFAULT_SESSION_TIMEOUT}.
     */
    public record Settings(String bootstrapServers, String groupId, String instanceId, String auditTopic,
                           String decisionsTopic, boolean fromBeginning, Duration sessionTimeout) {

        /** The brokers' default lower bound: the quickest failure detection a stock cluster allows. */
        public static final Duration DEFAULT_SESSION_TIMEOUT = Duration.ofSeconds(6);

        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(groupId, "groupId");
            Objects.requireNonNull(instanceId, "instanceId");
            Objects.requireNonNull(auditTopic, "auditTopic");
            Objects.requireNonNull(decisionsTopic, "decisionsTopic");
            Objects.requireNonNull(sessionTimeout, "sessionTimeout");
            if (groupId.isBlank()) throw new IllegalArgumentException("groupId must not be blank");
            if (instanceId.isBlank()) throw new IllegalArgumentException("instanceId must not be blank");
            if (sessionTimeout.toMillis() < 300) {
                throw new IllegalArgumentException("sessionTimeout must be at least 300ms, was " + sessionTimeout);
            }
        }

        /** As the canonical constructor, with {@link #DEFAULT_SESSION_TIMEOUT}. */
        public Settings(String bootstrapServers, String groupId, String instanceId, String auditTopic,
                        String decisionsTopic, boolean fromBeginning) {
            this(bootstrapServers, groupId, instanceId, auditTopic, decisionsTopic, fromBeginning, DEFAULT_SESSION_TIMEOUT);
        }

        public static Settings of(String bootstrapServers, String instanceId) {
            return new Settings(bootstrapServers, "gatehouse-policy", instanceId, Topics.AUDIT, Topics.DECISIONS, true);
        }

        public Settings withSessionTimeout(Duration timeout) {
            return new Settings(bootstrapServers, groupId, instanceId, auditTopic, decisionsTopic, fromBeginning, timeout);
        }
    }

    private final Settings settings;
    private final EventSerde<AuditEvent> serde;
    private final Function<AuditEvent.DecisionRequest, AuditEvent.DecisionMade> policy;
    private final KafkaConsumer<String, byte[]> consumer;
    private final KafkaProducer<String, byte[]> producer;
    private final int decisionPartitions;
    private final AtomicLong lag = new AtomicLong();
    private final AtomicLong decided = new AtomicLong();
    private final Thread loop;
    private volatile boolean running = true;

    /**
     * Connects and starts the poll loop.
     *
     * @param policy   the policy engine; called on the loop's thread, one command at a time
     * @param registry where to publish {@code gatehouse.policy.consumer.lag}; may be null
     */
    public DecisionService(Settings settings, EventSerde<AuditEvent> serde,
                           Function<AuditEvent.DecisionRequest, AuditEvent.DecisionMade> policy, MeterRegistry registry) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.serde = Objects.requireNonNull(serde, "serde");
        this.policy = Objects.requireNonNull(policy, "policy");
        this.producer = new KafkaProducer<>(producerConfig(settings), new StringSerializer(), new ByteArraySerializer());
        this.consumer = new KafkaConsumer<>(consumerConfig(settings), new StringDeserializer(), new ByteArrayDeserializer());
        try {
            this.decisionPartitions = producer.partitionsFor(settings.decisionsTopic()).size();
        } catch (RuntimeException e) {
            producer.close(Duration.ZERO);
            consumer.close(Duration.ZERO);
            throw new IllegalStateException("decision service " + settings.instanceId() + " cannot start: " + e.getMessage(), e);
        }
        if (registry != null) {
            Gauge.builder("gatehouse.policy.consumer.lag", lag, AtomicLong::get)
                    .description("Audit records not yet read by this policy instance")
                    .tag("group", settings.groupId())
                    .register(registry);
        }
        consumer.subscribe(List.of(settings.auditTopic()), new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                if (!partitions.isEmpty()) LOGGER.info("Audit partitions assigned instanceId={} added={} now={}",
                        settings.instanceId(), partitionNumbers(partitions), partitionNumbers(consumer.assignment()));
            }

            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                if (!partitions.isEmpty()) LOGGER.info("Audit partitions revoked instanceId={} removed={}",
                        settings.instanceId(), partitionNumbers(partitions));
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> partitions) {
                LOGGER.warn("Audit partitions lost (this instance was too slow or cut off; their commands are decided "
                        + "by another instance) instanceId={} lost={}", settings.instanceId(), partitionNumbers(partitions));
            }
        });
        this.loop = Thread.ofPlatform().daemon().name("gatehouse-policy-loop-" + settings.instanceId()).unstarted(this::run);
        loop.start();
        LOGGER.info("Decision service started instanceId={} group={} decisionPartitions={} sessionTimeoutMs={}",
                settings.instanceId(), settings.groupId(), decisionPartitions, settings.sessionTimeout().toMillis());
    }

    private static List<Integer> partitionNumbers(Collection<TopicPartition> partitions) {
        return partitions.stream().map(TopicPartition::partition).sorted().toList();
    }

    private static Map<String, Object> producerConfig(Settings settings) {
        return KafkaClients.durableProducer(settings.bootstrapServers(), "gatehouse-policy-" + settings.instanceId());
    }

    private static Map<String, Object> consumerConfig(Settings settings) {
        Map<String, Object> config = KafkaClients.groupConsumer(settings.bootstrapServers(),
                "gatehouse-policy-" + settings.instanceId(), settings.groupId(), settings.sessionTimeout(),
                settings.fromBeginning());
        config.put(ConsumerConfig.MAX_POLL_RECORDS_CONFIG, 200);
        config.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, 5);
        return config;
    }

    /** Decisions written and acknowledged since start. */
    public long decidedCount() {
        return decided.get();
    }

    /** The consumer lag summed over this instance's partitions, as of the last poll. */
    public long lag() {
        return lag.get();
    }

    private void run() {
        try {
            while (running) {
                ConsumerRecords<String, byte[]> records = consumer.poll(Duration.ofMillis(500));
                if (!records.isEmpty()) answer(records);
                updateLag();
            }
        } catch (WakeupException e) {
            if (running) LOGGER.error("Decision service woken unexpectedly instanceId={}", settings.instanceId());
        } catch (InvalidSessionTimeoutException e) {
            LOGGER.error("Decision service stops: the brokers refuse sessionTimeout={} (it must lie within their "
                    + "group.min.session.timeout.ms and group.max.session.timeout.ms) instanceId={}",
                    settings.sessionTimeout(), settings.instanceId());
        } catch (ProducerFencedException | AuthorizationException | UnsupportedVersionException e) {
            LOGGER.error("Decision service stops: fatal Kafka error instanceId={} error={}", settings.instanceId(), e.toString());
        } catch (RuntimeException e) {
            LOGGER.error("Decision service stops: unexpected error instanceId={}", settings.instanceId(), e);
        } finally {
            running = false;
            consumer.close(Duration.ofSeconds(5));
            producer.close(Duration.ofSeconds(5));
        }
    }

    private void answer(ConsumerRecords<String, byte[]> records) {
        List<Future<RecordMetadata>> sends = new ArrayList<>();
        int answered = 0;
        for (ConsumerRecord<String, byte[]> record : records) {
            if (handle(record, sends)) answered++;
        }
        try {
            for (Future<RecordMetadata> send : sends) send.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new WakeupException();
        } catch (ExecutionException e) {
            LOGGER.warn("Decision writes failed, reading the batch again instanceId={} records={} error={}",
                    settings.instanceId(), records.count(), e.getCause().toString());
            rewind(records);
            return;
        }
        // offsets only after every decision of the batch is durable: at-least-once
        consumer.commitAsync(nextOffsets(records), (offsets, error) -> {
            if (error != null) LOGGER.debug("Offset commit failed (the batch may be decided again) error={}", error.toString());
        });
        decided.addAndGet(answered);
    }

    /** Answers one audit record; returns whether a decision was written. */
    private boolean handle(ConsumerRecord<String, byte[]> record, List<Future<RecordMetadata>> sends) {
        AuditEvent event;
        try {
            event = serde.decode(record.value());
        } catch (RuntimeException e) {
            LOGGER.warn("Skipping undecodable audit record partition={} offset={} error={}",
                    record.partition(), record.offset(), e.toString());
            return false;
        }
        if (!(event instanceof AuditEvent.DecisionRequest command)) return false;
        if (!awaitsDecision(command)) {
            LOGGER.debug("Command refused by the edge, not decided sessionId={} commandId={}",
                    command.sessionId(), command.requestId());
            return false;
        }
        AuditEvent.DecisionMade made = evaluate(command);
        byte[] value = serde.encode(made);
        String key = command.sessionId().value();
        int partition = command.replyPartition();
        if (partition >= 0 && partition < decisionPartitions) {
            sends.add(producer.send(new ProducerRecord<>(settings.decisionsTopic(), partition, key, value)));
        } else {
            LOGGER.warn("Command names a reply partition that does not exist; decision goes to the audit log only "
                    + "sessionId={} commandId={} edgeId={} replyPartition={} partitions={}",
                    key, command.requestId(), command.edgeId(), partition, decisionPartitions);
        }
        sends.add(producer.send(new ProducerRecord<>(settings.auditTopic(), key, value)));
        return true;
    }

    /**
     * Whether a request is to be decided: every one except a command the edge refused itself
     * ({@code CommandReceived.refusal} set), which nobody waits for and which must not look decided
     * in the log.
     */
    public static boolean awaitsDecision(AuditEvent.DecisionRequest request) {
        return !(request instanceof AuditEvent.CommandReceived c && c.refusal() != null);
    }

    private AuditEvent.DecisionMade evaluate(AuditEvent.DecisionRequest command) {
        long t0 = System.nanoTime();
        try {
            AuditEvent.DecisionMade made = policy.apply(command);
            if (made == null) throw new IllegalStateException("policy returned no decision");
            return made;
        } catch (RuntimeException e) {
            CommandId id = command.requestId();
            LOGGER.error("Policy evaluation failed, denying sessionId={} requestId={} error={}",
                    command.sessionId(), id, e.toString());
            Decision deny = new Decision.Deny(id, POLICY_ERROR_RULE, "policy evaluation failed", null);
            return new AuditEvent.DecisionMade(EventHeader.now(command.sessionId(), "policy", settings.instanceId()),
                    id, command instanceof AuditEvent.CommandReceived c ? c.command().sequence() : 0, deny, command.edgeId(), command.replyPartition(), command.mode(),
                    Duration.ofNanos(System.nanoTime() - t0));
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> nextOffsets(ConsumerRecords<String, byte[]> records) {
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        for (TopicPartition tp : records.partitions()) {
            List<ConsumerRecord<String, byte[]>> list = records.records(tp);
            offsets.put(tp, new OffsetAndMetadata(list.getLast().offset() + 1));
        }
        return offsets;
    }

    private void rewind(ConsumerRecords<String, byte[]> records) {
        for (TopicPartition tp : records.partitions()) {
            consumer.seek(tp, records.records(tp).getFirst().offset());
        }
    }

    private void updateLag() {
        long total = 0;
        for (TopicPartition tp : consumer.assignment()) {
            OptionalLong l = consumer.currentLag(tp);
            if (l.isPresent()) total += l.getAsLong();
        }
        lag.set(total);
    }

    /** Whether the loop is still running (false after close or a fatal error). */
    public boolean isRunning() {
        return running && loop.isAlive();
    }

    /** Stops the loop and leaves the group. */
    @Override
    public void close() {
        running = false;
        consumer.wakeup();
        try {
            loop.join(Duration.ofSeconds(15));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
