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
import java.util.ArrayDeque;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;

/**
 * The policy side's loop, protocol-free: reads {@code CommandReceived} and {@code SessionRequested}
 * events (every {@link AuditEvent.DecisionRequest}) from
 * {@code gatehouse.audit} in the consumer group {@code gatehouse-policy}, asks the policy
 * function, and writes the {@code DecisionMade} to {@code gatehouse.audit} (keyed by session id) and,
 * when the edge waits for it ({@link AuditEvent.DecisionRequest#awaited()}: not in observe mode), to {@code gatehouse.decisions}
 * (partition = the command's reply partition). Other
 * events are skipped, and so are commands the edge refused itself ({@link #awaitsDecision}): no
 * decision is written for them, and requests the edge's own process decided and wrote with their
 * decision ({@link InlineDecisionPort}).
 *
 * <p>Pipelined and at-least-once: the decisions of a polled batch are sent with an idempotent
 * producer ({@code acks=all}) and the loop polls again at once, without waiting for their
 * acknowledgements; offsets are committed only up to batches whose every write is acknowledged
 * (in poll order), at most every {@link #COMMIT_INTERVAL}, before partitions are revoked, and at
 * close. A failed write makes the loop read again from that batch. After a crash or a rebalance
 * a command may be decided again; decisions are idempotent by command id (the edge completes a
 * command once and ignores the rest, the indexer de-duplicates). Records whose
 * {@link EventTypeHeader} names a type other than a decision request are skipped undecoded.
 * Transactions were tried and dropped: an open transaction on the audit
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
    /** Polled batches whose decisions are not all acknowledged yet, oldest first; loop thread only. */
    private final ArrayDeque<Batch> inFlight = new ArrayDeque<>();
    /** Offsets of acknowledged batches not committed yet; loop thread only. */
    private final Map<TopicPartition, OffsetAndMetadata> committable = new HashMap<>();
    private long lastCommitNanos = System.nanoTime();

    /** How long a poll waits for records when nothing is in flight. */
    private static final Duration IDLE_POLL = Duration.ofMillis(500);
    /** ... and while decisions are in flight, so acknowledged batches are settled promptly. */
    private static final Duration BUSY_POLL = Duration.ofMillis(5);
    /** Offsets are committed at most this often (and at close and before partitions are revoked). */
    static final Duration COMMIT_INTERVAL = Duration.ofMillis(200);
    /** Polled batches in flight before the loop waits for the oldest: bounds memory and redecisions. */
    private static final int MAX_BATCHES_IN_FLIGHT = 32;
    /**
     * The longest pause between polls while every request read was decided inline by its edge's own
     * process ({@link InlineDecisionPort}) and none needed this loop: such a stream only costs the loop
     * and the brokers a fetch per produce request. A request that needs a decision ends the pause at the
     * next poll; the first after a pause waits at most this much longer (see {@link #pauseAfter}).
     */
    static final Duration MAX_INLINE_PAUSE = Duration.ofMillis(20);
    /** The current pause between polls, in milliseconds (0: none); loop thread only. */
    private long pauseMillis;
    /** Pauses taken since start (see {@link #pauseAfter}). */
    private final AtomicLong pauses = new AtomicLong();

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
                if (partitions.isEmpty()) return;
                // what was decided on them is committed before another instance takes them over
                producer.flush();
                settle(true);
                LOGGER.info("Audit partitions revoked instanceId={} removed={}",
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
        // fetch.max.wait.ms stays at its default: the broker answers a waiting fetch as soon as a request
        // is appended (fetch.min.bytes 1), so a short wait only adds idle fetches, not speed
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
                ConsumerRecords<String, byte[]> records = consumer.poll(inFlight.isEmpty() ? IDLE_POLL : BUSY_POLL);
                Batch batch = records.isEmpty() ? null : answer(records);
                settle(false);
                updateLag();
                pauseAfter(batch);
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
            try {
                producer.flush();
                settle(true);
            } catch (RuntimeException e) {
                LOGGER.debug("Final commit skipped instanceId={} error={}", settings.instanceId(), e.toString());
            }
            consumer.close(Duration.ofSeconds(5));
            producer.close(Duration.ofSeconds(5));
        }
    }

    /**
     * Decides a polled batch and sends its decisions without waiting for them: the loop polls again
     * at once, so decisions of the next commands are not held behind this batch's acknowledgements.
     * The batch joins {@link #inFlight}; its offsets are committed by {@link #settle} once every
     * write of it and of every batch before it is acknowledged. Too many batches in flight (the
     * brokers are slow): wait for the oldest first.
     */
    private Batch answer(ConsumerRecords<String, byte[]> records) {
        while (inFlight.size() >= MAX_BATCHES_IN_FLIGHT) {
            inFlight.peekFirst().awaitQuietly(settings.sessionTimeout());
            settle(false);
            if (inFlight.size() >= MAX_BATCHES_IN_FLIGHT && inFlight.peekFirst().done.getCount() > 0) {
                // still unacknowledged after a session timeout: the producer fails it by its delivery timeout
                LOGGER.warn("Decision writes unacknowledged for {} instanceId={} batchesInFlight={}",
                        settings.sessionTimeout(), settings.instanceId(), inFlight.size());
            }
        }
        Batch batch = new Batch(records);
        for (ConsumerRecord<String, byte[]> record : records) {
            handle(record, batch);
        }
        batch.sealed();
        inFlight.addLast(batch);
        return batch;
    }

    /**
     * Pauses before the next poll when the batch held requests decided inline and none this loop had
     * to decide: 1 ms after the first such batch, doubling up to {@link #MAX_INLINE_PAUSE}. Any other
     * batch (a request to decide, or only records of other types, as from edges without the policy
     * role in their process) or an empty poll ends the pause. Only a process that decides inline ever
     * pauses; a fleet's policy service, whose edges are elsewhere, reads every record at once.
     */
    private void pauseAfter(Batch batch) {
        if (batch == null || batch.inline == 0 || batch.toDecide > 0) {
            pauseMillis = 0;
            return;
        }
        pauseMillis = Math.min(Math.max(1, pauseMillis * 2), MAX_INLINE_PAUSE.toMillis());
        pauses.incrementAndGet();
        try {
            Thread.sleep(pauseMillis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            running = false;
        }
    }

    /** Pauses between polls taken since start because every request read was decided inline. */
    public long pauses() {
        return pauses.get();
    }

    /**
     * Takes acknowledged batches off the head of {@link #inFlight} (in poll order, so a commit never
     * passes an unacknowledged decision) and commits their offsets: at once when {@code now}, else at
     * most every {@link #COMMIT_INTERVAL} (a commit per poll cost the brokers a request per command;
     * after a crash at most that much is decided again, and decisions are idempotent). A failed
     * batch: everything from its first records on is read and decided again.
     */
    private void settle(boolean now) {
        Batch head;
        while ((head = inFlight.peekFirst()) != null && head.done.getCount() == 0) {
            inFlight.removeFirst();
            if (head.failure != null) {
                LOGGER.warn("Decision writes failed, reading the batch again instanceId={} records={} error={}",
                        settings.instanceId(), head.records, head.failure.toString());
                rewindTo(head);
                return;
            }
            head.offsets.forEach((tp, next) -> committable.merge(tp, next, (a, b) -> b.offset() >= a.offset() ? b : a));
            decided.addAndGet(head.answered);
        }
        long nowNanos = System.nanoTime();
        if (committable.isEmpty() || !(now || nowNanos - lastCommitNanos >= COMMIT_INTERVAL.toNanos())) return;
        Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        committable.forEach((tp, o) -> {
            if (consumer.assignment().contains(tp)) offsets.put(tp, o);
        });
        committable.clear();
        lastCommitNanos = nowNanos;
        if (offsets.isEmpty()) return;
        if (now) {
            consumer.commitSync(offsets);
        } else {
            consumer.commitAsync(offsets, (o, error) -> {
                if (error != null) LOGGER.debug("Offset commit failed (those commands may be decided again) error={}", error.toString());
            });
        }
    }

    /** Reads again from {@code failed}'s first records: it and every later batch are dropped (their writes may still land: duplicates are harmless). */
    private void rewindTo(Batch failed) {
        Map<TopicPartition, Long> from = new HashMap<>(failed.firstOffsets);
        for (Batch later : inFlight) later.firstOffsets.forEach(from::putIfAbsent);
        inFlight.clear();
        from.forEach((tp, offset) -> {
            if (consumer.assignment().contains(tp)) consumer.seek(tp, offset);
        });
    }

    /** Answers one audit record. */
    private void handle(ConsumerRecord<String, byte[]> record, Batch batch) {
        if (!EventTypeHeader.mayBe(record, EventTypeHeader.DECISION_REQUESTS)) return;
        if (InlineDecisionPort.decidedInline(record)) {
            batch.inline++;
            return;
        }
        batch.toDecide++;
        AuditEvent event;
        try {
            event = serde.decode(record.value());
        } catch (RuntimeException e) {
            LOGGER.warn("Skipping undecodable audit record partition={} offset={} error={}",
                    record.partition(), record.offset(), e.toString());
            return;
        }
        if (!(event instanceof AuditEvent.DecisionRequest command)) return;
        if (!awaitsDecision(command)) {
            LOGGER.debug("Command refused by the edge, not decided sessionId={} commandId={}",
                    command.sessionId(), command.requestId());
            return;
        }
        AuditEvent.DecisionMade made = evaluate(command);
        byte[] value = serde.encode(made);
        String key = command.sessionId().value();
        int partition = command.replyPartition();
        var header = EventTypeHeader.of(made);
        // an observe-mode edge records and forwards without waiting: a reply would only be read and dropped
        if (command.awaited() && partition >= 0 && partition < decisionPartitions) {
            batch.send(new ProducerRecord<>(settings.decisionsTopic(), partition, key, value, List.of(header)));
        } else if (command.awaited()) {
            LOGGER.warn("Command names a reply partition that does not exist; decision goes to the audit log only "
                    + "sessionId={} commandId={} edgeId={} replyPartition={} partitions={}",
                    key, command.requestId(), command.edgeId(), partition, decisionPartitions);
        }
        batch.send(new ProducerRecord<>(settings.auditTopic(), null, key, value, List.of(header)));
        batch.answered++;
    }

    /**
     * One polled batch on its way: its decisions' writes, counted down as they are acknowledged,
     * the offsets to commit once all are, and where to read again if one fails.
     */
    private final class Batch {
        final Map<TopicPartition, OffsetAndMetadata> offsets = new HashMap<>();
        final Map<TopicPartition, Long> firstOffsets = new HashMap<>();
        final int records;
        /** One count per write plus one for the batch itself, released by {@link #sealed}. */
        final AtomicInteger outstanding = new AtomicInteger(1);
        final CountDownLatch done = new CountDownLatch(1);
        volatile Exception failure;
        int answered;
        /** Requests skipped as decided inline; requests this loop read to decide (answered or not). */
        int inline;
        int toDecide;

        Batch(ConsumerRecords<String, byte[]> polled) {
            records = polled.count();
            for (TopicPartition tp : polled.partitions()) {
                List<ConsumerRecord<String, byte[]>> list = polled.records(tp);
                firstOffsets.put(tp, list.getFirst().offset());
                offsets.put(tp, new OffsetAndMetadata(list.getLast().offset() + 1));
            }
        }

        void send(ProducerRecord<String, byte[]> record) {
            outstanding.incrementAndGet();
            try {
                producer.send(record, (metadata, error) -> {
                    if (error != null && failure == null) failure = error;
                    release();
                });
            } catch (RuntimeException e) {
                if (failure == null) failure = e;
                release();
            }
        }

        /** Every write of the batch has been handed to the producer. */
        void sealed() {
            release();
        }

        private void release() {
            if (outstanding.decrementAndGet() == 0) done.countDown();
        }

        void awaitQuietly(Duration atMost) {
            try {
                done.await(atMost.toMillis(), TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new WakeupException();
            }
        }
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
