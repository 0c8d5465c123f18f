package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DecisionPort;
import dev.gatehouse.platform.core.DecisionUnavailableException;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.utils.Utils;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.TimeUnit;

/**
 * The edge's side of reply routing (ARCHITECTURE.md, "Reply routing").
 *
 * <p>The edge's reply partition is {@link #replyPartitionFor(String, int) murmur2(edgeId) mod
 * partitions} of {@code gatehouse.decisions}, looked up at start. A consumer without a group
 * reads only that partition, from its end, on its own thread. {@link #decide} registers the
 * request (a command or a connection attempt) as pending, by its request id, <em>before</em>
 * appending it to the audit log, then waits for the DecisionMade naming that id as its command
 * id; decisions for requests this edge does not hold (other edges on the partition, duplicates,
 * late arrivals) are ignored.
 *
 * <p>Write-ahead, exactly: the stage returned by {@link #decide} completes with the decision only
 * once <em>both</em> the decision has arrived <em>and</em> the request's own append was
 * acknowledged by the audit sink ({@code acks=all}), in whichever order they come. The policy
 * service can read and decide a request before the edge's producer hears its acknowledgement,
 * and an acknowledgement can still turn into a failure then; so an append that reports failure
 * fails the stage with {@link DecisionUnavailableException} even when a decision has arrived, and
 * the caller rejects the request (fails closed): nothing runs whose record the edge does not know
 * to be durable. The deadline given to {@code decide} covers both waits. Each pending request is
 * settled exactly once, by the last of decision and acknowledgement, or by the first of append
 * failure, deadline and {@link #close}; its deadline timer is then cancelled and removed from the
 * scheduler's queue at once.
 *
 * <p>Held approvals: when the decision for a request is a held {@link Decision.RequireApproval},
 * an outcome waiter for the command is registered on the poll thread before the next record is
 * read, whether or not the append has been acknowledged yet, so the final decision (a second
 * DecisionMade for the same command, written by the approval service) cannot be missed;
 * {@link #awaitOutcome} hands it out. Uncollected waiters are dropped at the approval's expiry
 * plus {@link #OUTCOME_RETENTION}, and at once when the request fails (its append failed or its
 * deadline passed before the acknowledgement): the command was rejected, so no outcome is awaited.
 *
 * <p>Threads: a stage returned by this class completes on the thread that settled it: the decision
 * poll thread, the audit producer's I/O thread, or the timer thread ({@code gatehouse-decisions-<edge>}),
 * without a hand-off in between (each cost a thread wake-up per command). Dependents must hop to
 * their own event loop at once and never block.
 */
public final class KafkaDecisionPort implements DecisionPort, AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(KafkaDecisionPort.class);

    /** How long an outcome waiter outlives the approval's expiry (or an arrived outcome its arrival) uncollected. */
    public static final Duration OUTCOME_RETENTION = Duration.ofMinutes(2);
    /** How long an outcome is awaited when the RequireApproval names no expiry. */
    static final Duration OUTCOME_WAIT_WITHOUT_EXPIRY = Duration.ofHours(1);

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param edgeId           this edge's instance id (stable across restarts if possible)
     * @param decisionsTopic   normally {@link Topics#DECISIONS}
     * @param startTimeout     how long start-up may wait for the topic's metadata and end offset
     */
    public record Settings(String bootstrapServers, String edgeId, String decisionsTopic, Duration startTimeout) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(edgeId, "edgeId");
            Objects.requireNonNull(decisionsTopic, "decisionsTopic");
            Objects.requireNonNull(startTimeout, "startTimeout");
            if (edgeId.isBlank()) throw new IllegalArgumentException("edgeId must not be blank");
            if (startTimeout.isNegative() || startTimeout.isZero()) throw new IllegalArgumentException("startTimeout must be positive");
        }

        public static Settings of(String bootstrapServers, String edgeId) {
            return new Settings(bootstrapServers, edgeId, Topics.DECISIONS, Duration.ofSeconds(30));
        }
    }

    private final Settings settings;
    private final AuditSink sink;
    private final EventSerde<AuditEvent> serde;
    private final TopicPartition replyPartition;
    private final KafkaConsumer<String, byte[]> consumer;
    private final Map<CommandId, Request> pending = new ConcurrentHashMap<>();
    private final Map<CommandId, Pending> outcomes = new ConcurrentHashMap<>();
    private final ScheduledThreadPoolExecutor completer;
    private final Thread poller;
    private volatile boolean running = true;

    /** A stage and its deadline timer: an outcome waiter, or the base of a {@link Request}. */
    private static class Pending {
        final CompletableFuture<Decision> future = new CompletableFuture<>();
        volatile ScheduledFuture<?> timer;

        CompletableFuture<Decision> future() {
            return future;
        }

        void cancelTimer() {
            ScheduledFuture<?> t = timer;
            if (t != null) t.cancel(false);
        }
    }

    /**
     * A request awaiting its decision and its append's acknowledgement. The decision comes on the
     * poll thread, the acknowledgement or failure on the producer's thread, the deadline on the
     * completer: the state is guarded by this object's monitor, and exactly one of them settles it.
     * The timer is set before the append, so it is there before anything can settle the request.
     */
    private static final class Request extends Pending {
        private Decision decision;
        private boolean acknowledged;
        private boolean settled;
        /** The outcome waiter registered for a held approval, dropped if the request fails. */
        private Pending waiter;

        /** Whether a DecisionMade for this id now is the request's decision (not an outcome or a duplicate). */
        synchronized boolean awaitsDecision() {
            return !settled && decision == null;
        }

        /**
         * Records the decision (and the outcome waiter of a held approval, or null).
         *
         * @return whether it settles the request (the append was acknowledged already); when the
         *         request failed meanwhile, the waiter is handed back through {@link #waiter()}
         */
        synchronized boolean decided(Decision made, Pending outcomeWaiter) {
            waiter = outcomeWaiter;
            if (settled) return false;
            decision = made;
            settled = acknowledged;
            return settled;
        }

        /** Records the acknowledgement; returns the decision when that settles the request, else null. */
        synchronized Decision acknowledged() {
            if (settled) return null;
            acknowledged = true;
            settled = decision != null;
            return settled ? decision : null;
        }

        /** Settles the request as failed; false when it was settled already. */
        synchronized boolean fail() {
            if (settled) return false;
            settled = true;
            return true;
        }

        synchronized boolean hasDecision() {
            return decision != null;
        }

        synchronized Pending waiter() {
            return waiter;
        }
    }

    /**
     * Looks up the partition count, assigns the reply partition, positions at its end and starts
     * polling. Decisions written after this constructor returns are seen.
     *
     * @param sink  where commands are appended (the process's one {@link KafkaAuditSink})
     * @param serde the audit event codec, to read DecisionMade records
     * @throws IllegalStateException when the topic does not exist or cannot be reached in time
     */
    public KafkaDecisionPort(Settings settings, AuditSink sink, EventSerde<AuditEvent> serde) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.sink = Objects.requireNonNull(sink, "sink");
        this.serde = Objects.requireNonNull(serde, "serde");
        this.consumer = new KafkaConsumer<>(consumerConfig(settings), new StringDeserializer(), new ByteArrayDeserializer());
        try {
            List<PartitionInfo> partitions = consumer.partitionsFor(settings.decisionsTopic(), settings.startTimeout());
            if (partitions == null || partitions.isEmpty()) {
                throw new IllegalStateException("topic " + settings.decisionsTopic() + " does not exist; create it first (TopicInitializer)");
            }
            int partition = replyPartitionFor(settings.edgeId(), partitions.size());
            this.replyPartition = new TopicPartition(settings.decisionsTopic(), partition);
            consumer.assign(Set.of(replyPartition));
            consumer.seekToEnd(Set.of(replyPartition));
            long start = consumer.position(replyPartition, settings.startTimeout()); // resolve the end offset now
            LOGGER.info("Decision port ready edgeId={} topic={} replyPartition={} of {} startOffset={}",
                    settings.edgeId(), settings.decisionsTopic(), partition, partitions.size(), start);
        } catch (RuntimeException e) {
            consumer.close(Duration.ZERO);
            throw e instanceof IllegalStateException ? e
                    : new IllegalStateException("decision port for edge " + settings.edgeId() + " cannot start: " + e.getMessage(), e);
        }
        this.completer = new ScheduledThreadPoolExecutor(1, Thread.ofPlatform().daemon()
                .name("gatehouse-decisions-" + settings.edgeId()).factory());
        // a settled request's timer leaves the queue at once instead of staying there for its whole deadline
        completer.setRemoveOnCancelPolicy(true);
        completer.setExecuteExistingDelayedTasksAfterShutdownPolicy(false);
        this.poller = Thread.ofPlatform().daemon().name("gatehouse-decisions-poll-" + settings.edgeId()).unstarted(this::pollLoop);
        poller.start();
    }

    /** The reply partition of an edge: murmur2 of its id (UTF-8), made positive, modulo the count. */
    public static int replyPartitionFor(String edgeId, int partitionCount) {
        if (partitionCount < 1) throw new IllegalArgumentException("partitionCount must be >= 1, was " + partitionCount);
        return Utils.toPositive(Utils.murmur2(edgeId.getBytes(StandardCharsets.UTF_8))) % partitionCount;
    }

    private static Map<String, Object> consumerConfig(Settings settings) {
        Map<String, Object> config = KafkaClients.client(settings.bootstrapServers(), "gatehouse-decisions-" + settings.edgeId());
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "latest");
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        // no fetch.max.wait.ms override: a fetch waiting on the broker is answered the moment a decision
        // is appended (fetch.min.bytes 1), so the default 500 ms costs no latency; 5 ms cost an idle edge
        // 200 fetch requests a second
        return config;
    }

    @Override
    public int replyPartition() {
        return replyPartition.partition();
    }

    /**
     * Whether decisions are still read: false once closed or after the poll loop failed (then
     * every request fails closed at once); the edge reports itself not ready.
     */
    public boolean isRunning() {
        return running && poller.isAlive();
    }

    /** The number of requests awaiting their decision, their append's acknowledgement, or both. */
    public int pendingCount() {
        return pending.size();
    }

    /** The number of timers queued (deadlines of pending requests, outcome waiters' expiries), for tests. */
    int scheduledCount() {
        return completer.getQueue().size();
    }

    @Override
    public CompletionStage<Decision> decide(AuditEvent.DecisionRequest command, Duration deadline) {
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(deadline, "deadline");
        CommandId id = command.requestId();
        Request request = new Request();
        CompletableFuture<Decision> future = request.future();
        if (!running) {
            future.completeExceptionally(new DecisionUnavailableException("decision port is closed"));
            return future.minimalCompletionStage();
        }
        if (pending.putIfAbsent(id, request) != null) {
            future.completeExceptionally(new DecisionUnavailableException("request " + id + " is already awaiting a decision"));
            return future.minimalCompletionStage();
        }
        try {
            request.timer = completer.schedule(() -> expire(id, request, deadline), deadline.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            pending.remove(id, request);
            future.completeExceptionally(new DecisionUnavailableException("decision port is closed"));
            return future.minimalCompletionStage();
        }
        // the entry exists before the write, so a decision cannot arrive unregistered
        CompletionStage<Void> append;
        try {
            append = sink.append(command);
        } catch (RuntimeException e) {
            append = CompletableFuture.failedFuture(e);
        }
        append.whenComplete((ok, error) -> {
            if (error != null) {
                boolean decided = request.hasDecision();
                if (fail(id, request, "audit log unreachable: " + rootMessage(error), error) && decided) {
                    LOGGER.warn("Append failed after the decision arrived, failing closed edgeId={} requestId={}",
                            settings.edgeId(), id);
                }
                return;
            }
            Decision decision = request.acknowledged();
            if (decision != null) settle(id, request, decision);
        });
        return future.minimalCompletionStage();
    }

    /** Completes a request with its decision, which arrived and whose append was acknowledged. */
    private void settle(CommandId id, Request request, Decision decision) {
        pending.remove(id, request);
        request.cancelTimer();
        request.future().complete(decision);
    }

    /**
     * Fails a request closed unless it was settled already, whether or not its decision arrived:
     * the caller must not act on a decision about a request the log may not hold.
     *
     * @return whether this call settled it
     */
    private boolean fail(CommandId id, Request request, String reason, Throwable cause) {
        if (!request.fail()) return false;
        pending.remove(id, request);
        request.cancelTimer();
        dropWaiter(id, request.waiter());
        DecisionUnavailableException failure = cause == null ? new DecisionUnavailableException(reason)
                : new DecisionUnavailableException(reason, cause);
        request.future().completeExceptionally(failure);
        return true;
    }

    /** Drops the outcome waiter of a held command that was rejected after all: no outcome is awaited for it. */
    private void dropWaiter(CommandId id, Pending waiter) {
        if (waiter != null && outcomes.remove(id, waiter)) {
            waiter.cancelTimer();
            waiter.future().completeExceptionally(new DecisionUnavailableException(
                    "the command failed closed before its outcome was awaited"));
        }
    }

    @Override
    public CompletionStage<Void> record(AuditEvent.DecisionRequest command) {
        CompletableFuture<Void> done = new CompletableFuture<>();
        sink.append(command).whenComplete((ok, error) -> {
            if (error == null) done.complete(null);
            else done.completeExceptionally(new DecisionUnavailableException("audit log unreachable: " + rootMessage(error), error));
        });
        return done.minimalCompletionStage();
    }

    @Override
    public CompletionStage<Decision> awaitOutcome(CommandId commandId, Duration deadline) {
        Objects.requireNonNull(commandId, "commandId");
        Objects.requireNonNull(deadline, "deadline");
        Pending entry = outcomes.get(commandId);
        if (entry == null) {
            return CompletableFuture.<Decision>failedFuture(new DecisionUnavailableException(
                    "no approval is awaited for command " + commandId)).minimalCompletionStage();
        }
        if (!entry.future().isDone()) {
            entry.cancelTimer();
            try {
                entry.timer = completer.schedule(() -> expireOutcome(commandId, entry, deadline), deadline.toNanos(),
                        TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                outcomes.remove(commandId, entry);
                entry.future().completeExceptionally(new DecisionUnavailableException("decision port is closed"));
            }
        }
        return entry.future().minimalCompletionStage();
    }

    /** The number of held commands whose outcome is awaited or not yet collected. */
    public int outcomeCount() {
        return outcomes.size();
    }

    private void expireOutcome(CommandId id, Pending entry, Duration deadline) {
        if (outcomes.remove(id, entry) && !entry.future().isDone()) {
            LOGGER.warn("No approval outcome within deadline edgeId={} commandId={} deadlineMs={}", settings.edgeId(), id,
                    deadline.toMillis());
            entry.future().completeExceptionally(new DecisionUnavailableException("no approval outcome within " + human(deadline)));
        }
    }

    /**
     * Registers the outcome waiter of a held command; on the poll thread, before the next record.
     *
     * @return the waiter, or null when one was registered already or the port is closed
     */
    private Pending awaitApproval(Decision.RequireApproval held) {
        CommandId id = held.commandId();
        Pending waiter = new Pending();
        if (outcomes.putIfAbsent(id, waiter) != null) return null;
        java.time.Instant expiry = held.expiresAt();
        Duration untilExpiry = (expiry == null ? OUTCOME_WAIT_WITHOUT_EXPIRY
                : Duration.between(java.time.Instant.now(), expiry)).plus(OUTCOME_RETENTION);
        Duration keep = untilExpiry.isNegative() ? OUTCOME_RETENTION : untilExpiry;
        try {
            waiter.timer = completer.schedule(() -> expireOutcome(id, waiter, keep), keep.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            outcomes.remove(id, waiter);
            return null;
        }
        return waiter;
    }

    private void expire(CommandId id, Request request, Duration deadline) {
        boolean decided = request.hasDecision();
        String reason = (decided ? "the audit log did not acknowledge the request within " : "no decision within ")
                + human(deadline);
        if (fail(id, request, reason, null)) {
            LOGGER.warn("Deadline passed, failing closed edgeId={} requestId={} deadlineMs={} decisionArrived={}",
                    settings.edgeId(), id, deadline.toMillis(), decided);
        }
    }

    private void pollLoop() {
        try {
            while (running) {
                for (ConsumerRecord<String, byte[]> record : consumer.poll(Duration.ofSeconds(1))) {
                    onRecord(record);
                }
            }
        } catch (WakeupException e) {
            if (running) LOGGER.error("Decision poll loop woken unexpectedly edgeId={}", settings.edgeId());
        } catch (RuntimeException e) {
            LOGGER.error("Decision poll loop failed edgeId={}; pending and future decisions fail closed", settings.edgeId(), e);
            running = false;
            failAll("decision consumer failed: " + e.getMessage());
        } finally {
            consumer.close(Duration.ofSeconds(5));
        }
    }

    private void onRecord(ConsumerRecord<String, byte[]> record) {
        AuditEvent event;
        try {
            event = serde.decode(record.value());
        } catch (RuntimeException e) {
            LOGGER.warn("Skipping undecodable decision record partition={} offset={} error={}",
                    record.partition(), record.offset(), e.toString());
            return;
        }
        if (!(event instanceof AuditEvent.DecisionMade made)) return;
        CommandId id = made.commandId();
        Request request = pending.get(id);
        if (request == null || !request.awaitsDecision()) {
            onOutcome(made);
            return;
        }
        Pending waiter = made.decision() instanceof Decision.RequireApproval held && !held.deferred() && held.approvalId() != null
                ? awaitApproval(held) // before the next record, acknowledged or not: the outcome cannot slip by
                : null;
        if (request.decided(made.decision(), waiter)) {
            settle(id, request, made.decision());
        } else if (!request.hasDecision()) {
            dropWaiter(id, waiter); // the request failed meanwhile
        }
        // else: decided, the append's acknowledgement settles it
    }

    /** A decision for a command not awaiting its first decision: the outcome of a held approval, or nothing of ours. */
    private void onOutcome(AuditEvent.DecisionMade made) {
        if (made.decision() instanceof Decision.RequireApproval) return; // a redelivered first decision
        Pending waiter = outcomes.get(made.commandId());
        if (waiter == null || waiter.future().isDone()) return; // another edge's command, or a duplicate outcome
        waiter.cancelTimer();
        CommandId id = made.commandId();
        try {
            // kept a little for an awaitOutcome that comes after the outcome
            waiter.timer = completer.schedule(() -> outcomes.remove(id, waiter), OUTCOME_RETENTION.toNanos(), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException e) {
            outcomes.remove(id, waiter);
        }
        LOGGER.info("Approval outcome edgeId={} commandId={} verdict={} rule={}", settings.edgeId(), id,
                made.decision().verdict(), made.decision().ruleId());
        waiter.future().complete(made.decision());
    }

    private void failAll(String reason) {
        for (CommandId id : List.copyOf(pending.keySet())) {
            Request request = pending.get(id);
            if (request != null) fail(id, request, reason, null);
        }
        for (CommandId id : List.copyOf(outcomes.keySet())) {
            Pending entry = outcomes.remove(id);
            if (entry != null) {
                entry.cancelTimer();
                entry.future().completeExceptionally(new DecisionUnavailableException(reason));
            }
        }
    }

    /** Stops polling; decisions still pending fail with {@link DecisionUnavailableException}. */
    @Override
    public void close() {
        if (!running) {
            joinQuietly();
            completer.shutdown();
            return;
        }
        running = false;
        consumer.wakeup();
        joinQuietly();
        failAll("decision port closed");
        completer.shutdown();
        try {
            completer.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private void joinQuietly() {
        try {
            poller.join(Duration.ofSeconds(10));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    static String rootMessage(Throwable error) {
        Throwable t = error;
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t.getMessage() == null ? t.getClass().getSimpleName() : t.getMessage();
    }

    private static String human(Duration d) {
        return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
    }
}
