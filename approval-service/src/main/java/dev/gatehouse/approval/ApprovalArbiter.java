package dev.gatehouse.approval;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.kafka.ConsumerLoop;
import dev.gatehouse.platform.kafka.KafkaClients;
import dev.gatehouse.platform.kafka.Topics;
import org.apache.kafka.clients.consumer.ConsumerRebalanceListener;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.InvalidSessionTimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Collection;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * The one instance that writes outcomes. Membership of the consumer group {@code gatehouse-approval}
 * on the single-partition approvals topic elects it (classic protocol, so a standby takes over
 * after the session timeout); the group consumer only holds the assignment (its partition stays
 * paused), the state comes from the {@link ApprovalLog}.
 *
 * <p>On assignment it waits until the log is read to the partition's end, then arms an expiry timer
 * per pending approval, notifies pending approvals nobody was told about yet, and writes outcomes the
 * votes already decided. While active: a vote that decides an approval → {@code ApprovalGranted} /
 * {@code ApprovalDenied}; a timer that fires on a still-open approval → {@code ApprovalExpired}. The
 * first outcome in the log wins; the arbiter whose outcome event won then sends, in hold mode, the
 * final {@code DecisionMade} to the waiting edge, so even two arbiters in a handover window send at
 * most one final decision per command.
 *
 * <p>All work runs on one thread ({@code gatehouse-approval-arbiter-<instance>}).
 */
public final class ApprovalArbiter implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(ApprovalArbiter.class);

    /** The consumer group whose single member is the active arbiter. */
    public static final String GROUP = "gatehouse-approval";
    /** The rule id of a final deny after a denial. */
    public static final String DENIED_RULE = "approval-denied";
    /** The rule id of a final deny after expiry. */
    public static final String EXPIRED_RULE = "approval-expired";
    /** Who denies a request nobody can answer (an originator confirmation that cannot reach its originator). */
    public static final String UNDELIVERABLE_BY = "gatehouse";
    private static final Duration RETRY = Duration.ofSeconds(1);

    /**
     * @param sessionTimeout   how long until a dead arbiter's standby takes over (6 s .. brokers' max)
     * @param deferredValidity how long a deferred grant stays redeemable when the request names no validity
     */
    public record Settings(String bootstrapServers, String groupId, String topic, String instanceId,
                           Duration sessionTimeout, Duration deferredValidity) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(groupId, "groupId");
            Objects.requireNonNull(topic, "topic");
            Objects.requireNonNull(instanceId, "instanceId");
            Objects.requireNonNull(sessionTimeout, "sessionTimeout");
            Objects.requireNonNull(deferredValidity, "deferredValidity");
            if (deferredValidity.isNegative() || deferredValidity.isZero()) {
                throw new IllegalArgumentException("deferredValidity must be positive, was " + deferredValidity);
            }
        }

        public static Settings of(String bootstrapServers, String instanceId, Duration deferredValidity) {
            return new Settings(bootstrapServers, GROUP, Topics.APPROVALS, instanceId, Duration.ofSeconds(6), deferredValidity);
        }
    }

    private final Settings settings;
    private final ApprovalLog log;
    private final ApprovalEvents events;
    private final ApprovalNotifier notifier;
    private final Clock clock;
    private final ScheduledExecutorService executor;
    private final ConsumerLoop group;
    private final ApprovalLog.Listener listener = this::onLogEvent;
    private volatile boolean running = true;

    // confined to the executor thread
    private boolean active;
    private long generation;
    private final Map<String, ScheduledFuture<?>> timers = new HashMap<>();
    private final Set<String> writing = new HashSet<>();
    private final Set<String> myOutcomeEvents = new HashSet<>();
    private volatile boolean activeView;

    public ApprovalArbiter(Settings settings, ApprovalLog log, ApprovalEvents events, ApprovalNotifier notifier, Clock clock) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.log = Objects.requireNonNull(log, "log");
        this.events = Objects.requireNonNull(events, "events");
        this.notifier = Objects.requireNonNull(notifier, "notifier");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.executor = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("gatehouse-approval-arbiter-" + settings.instanceId()).factory());
        // Group membership only elects the arbiter: its one partition stays paused (the log follower reads it).
        Map<String, Object> config = KafkaClients.groupConsumer(settings.bootstrapServers(),
                "gatehouse-approval-arbiter-" + settings.instanceId(), settings.groupId(), settings.sessionTimeout(), false);
        log.addListener(listener);
        // Any error ends the membership (a standby takes over); a fatal one (e.g. a session timeout the
        // brokers refuse) stops it for good, others rejoin after a backoff.
        this.group = new ConsumerLoop(ConsumerLoop.Settings.of("gatehouse-approval-group-" + settings.instanceId(), config,
                ConsumerLoop.ErrorPolicy.restartUnlessFatal()).withPollTimeout(Duration.ofMillis(500)), new ConsumerLoop.Handler() {
            @Override
            public void open(KafkaConsumer<String, byte[]> consumer) {
                consumer.subscribe(List.of(settings.topic()), election(consumer));
            }

            @Override
            public void handle(ConsumerRecords<String, byte[]> records, KafkaConsumer<String, byte[]> consumer) {
                // nothing arrives: the partition is paused
            }

            @Override
            public void closed(Throwable cause) {
                if (cause instanceof InvalidSessionTimeoutException) {
                    LOGGER.error("Approval arbiter cannot join its group: the brokers refuse approval.session-timeout={} (it "
                            + "must lie within their group.min.session.timeout.ms and group.max.session.timeout.ms); this "
                            + "instance is not ready and never becomes the arbiter instanceId={}", settings.sessionTimeout(),
                            settings.instanceId());
                }
                try {
                    executor.execute(() -> deposed("stopped"));
                } catch (java.util.concurrent.RejectedExecutionException e) {
                    // closing
                }
            }
        });
    }

    /** Elects this instance when the group assigns it the partition, deposes it when taken away. */
    private ConsumerRebalanceListener election(KafkaConsumer<String, byte[]> consumer) {
        return new ConsumerRebalanceListener() {
            @Override
            public void onPartitionsAssigned(Collection<TopicPartition> partitions) {
                if (partitions.isEmpty()) return;
                consumer.pause(partitions);
                long end = consumer.endOffsets(partitions, Duration.ofSeconds(10)).values().stream()
                        .mapToLong(Long::longValue).max().orElse(0);
                LOGGER.info("Approval arbiter elected instanceId={} endOffset={}", settings.instanceId(), end);
                executor.execute(() -> elected(end));
            }

            @Override
            public void onPartitionsRevoked(Collection<TopicPartition> partitions) {
                if (!partitions.isEmpty()) executor.execute(() -> deposed("revoked"));
            }

            @Override
            public void onPartitionsLost(Collection<TopicPartition> partitions) {
                if (!partitions.isEmpty()) executor.execute(() -> deposed("lost"));
            }
        };
    }

    /**
     * Whether this instance still takes part in the arbiter election (its group membership loop
     * runs). False after a fatal group error, e.g. a session timeout the brokers refuse: the
     * instance could never take over, so it is not ready.
     */
    public boolean isMember() {
        return group.health().ready();
    }

    /** The group membership loop's health (failed after a fatal group error, with the reason). */
    public ConsumerLoop.Health health() {
        return group.health();
    }

    /** Whether this instance is the active arbiter (caught up and writing outcomes). */
    public boolean isActive() {
        return activeView;
    }

    private void elected(long endOffset) {
        long gen = ++generation;
        log.awaitPosition(endOffset, Duration.ofMinutes(1)).whenComplete((v, err) -> executor.execute(() -> {
            if (gen != generation || !running) return;
            if (err != null) {
                LOGGER.error("Approval arbiter could not catch up with the approvals log; retrying instanceId={} error={}",
                        settings.instanceId(), err.toString());
                executor.schedule(() -> { if (gen == generation) elected(endOffset); }, RETRY.toMillis(), TimeUnit.MILLISECONDS);
                return;
            }
            takeOver();
        }));
    }

    private void takeOver() {
        active = true;
        activeView = true;
        int armed = 0;
        int owed = 0;
        for (Approval a : log.book().pending()) {
            if (a.outcomeDue()) {
                owed++;
                writeOutcome(a.id());
                continue;
            }
            arm(a);
            armed++;
            if (a.notifications().isEmpty()) ask(a);
        }
        LOGGER.info("Approval arbiter active instanceId={} position={} timersArmed={} outcomesOwed={}",
                settings.instanceId(), log.position(), armed, owed);
    }

    private void deposed(String why) {
        generation++;
        if (!active) return;
        active = false;
        activeView = false;
        timers.values().forEach(t -> t.cancel(false));
        timers.clear();
        writing.clear();
        LOGGER.info("Approval arbiter inactive instanceId={} why={}", settings.instanceId(), why);
    }

    private void onLogEvent(long offset, AuditEvent event, Optional<Approval> after) {
        if (after.isEmpty() || !running) return;
        executor.execute(() -> {
            if (!active) return;
            handle(offset, event, after.get());
        });
    }

    private void handle(long offset, AuditEvent event, Approval snapshot) {
        Approval a = log.book().get(snapshot.id()).orElse(snapshot);
        switch (event) {
            case AuditEvent.ApprovalRequested r -> {
                if (a.requestOffset() != offset) return;
                if (a.outcome() == null) {
                    arm(a);
                    ask(a);
                }
            }
            case AuditEvent.ApprovalVoted v -> {
                if (a.outcomeDue()) writeOutcome(a.id());
            }
            case AuditEvent.ApprovalGranted g -> decided(a, offset, g.header().eventId());
            case AuditEvent.ApprovalDenied d -> decided(a, offset, d.header().eventId());
            case AuditEvent.ApprovalExpired x -> decided(a, offset, x.header().eventId());
            default -> {
            }
        }
    }

    private void decided(Approval a, long offset, String eventId) {
        writing.remove(a.id());
        if (a.outcome() == null || a.outcome().offset() != offset) {
            myOutcomeEvents.remove(eventId);
            return; // a later outcome: ignored by the fold
        }
        ScheduledFuture<?> timer = timers.remove(a.id());
        if (timer != null) timer.cancel(false);
        boolean mine = myOutcomeEvents.remove(eventId);
        LOGGER.info("Approval decided approvalId={} state={} by={} offset={} writtenHere={}",
                a.id(), a.outcome().state().label(), a.outcome().by(), offset, mine);
        if (mine && !a.deferred()) sendFinalDecision(a);
        notifySafely(a, false);
    }

    private void arm(Approval a) {
        if (a.expiresAt() == null) {
            LOGGER.warn("Approval has no expiry; it stays pending until decided approvalId={}", a.id());
            return;
        }
        ScheduledFuture<?> old = timers.remove(a.id());
        if (old != null) old.cancel(false);
        long delay = Math.max(0, Duration.between(clock.instant(), a.expiresAt()).toMillis());
        timers.put(a.id(), executor.schedule(() -> expire(a.id()), delay, TimeUnit.MILLISECONDS));
    }

    private void expire(String approvalId) {
        timers.remove(approvalId);
        if (!active) return;
        Approval a = log.book().get(approvalId).orElse(null);
        if (a == null || !a.open()) return;
        Instant now = clock.instant();
        if (now.isBefore(a.expiresAt())) {
            arm(a);
            return;
        }
        write(a, new AuditEvent.ApprovalExpired(header(a, now), a.id()));
    }

    private void writeOutcome(String approvalId) {
        Approval a = log.book().get(approvalId).orElse(null);
        if (a == null || !a.outcomeDue()) return;
        Instant now = clock.instant();
        AuditEvent outcome = switch (a.tally()) {
            case GRANTED -> new AuditEvent.ApprovalGranted(header(a, now), a.id(), a.approvedBy(),
                    a.deferred() ? now.plus(a.validFor() != null ? a.validFor() : settings.deferredValidity()) : null);
            case DENIED -> {
                Approval.Vote v = a.deniedBy().orElseThrow();
                yield new AuditEvent.ApprovalDenied(header(a, now), a.id(), v.approver(), v.reason());
            }
            default -> null;
        };
        if (outcome != null) write(a, outcome);
    }

    private void write(Approval a, AuditEvent outcome) {
        if (!writing.add(a.id())) return;
        myOutcomeEvents.add(outcome.header().eventId());
        long gen = generation;
        // The id stays in 'writing' until the outcome comes back through the log (decided()): a vote
        // folded between the write's ack and then must not make this arbiter write a second outcome.
        events.write(outcome).whenComplete((offset, err) -> executor.execute(() -> {
            if (err == null) return;
            writing.remove(a.id());
            myOutcomeEvents.remove(outcome.header().eventId());
            LOGGER.warn("Writing an approval outcome failed, retrying approvalId={} event={} error={}",
                    a.id(), outcome.getClass().getSimpleName(), err.toString());
            executor.schedule(() -> {
                if (gen != generation || !active) return;
                Approval now = log.book().get(a.id()).orElse(null);
                if (now == null) return;
                if (now.outcomeDue()) writeOutcome(now.id());
                else if (now.open() && outcome instanceof AuditEvent.ApprovalExpired) expire(now.id());
            }, RETRY.toMillis(), TimeUnit.MILLISECONDS);
        }));
    }

    private void sendFinalDecision(Approval a) {
        Approval.Outcome o = a.outcome();
        Decision decision = switch (o.state()) {
            case GRANTED -> new Decision.Allow(a.commandId(), a.ruleId(),
                    "approved by " + String.join(", ", o.by()) + " (approval " + a.id() + ")", null);
            case DENIED -> new Decision.Deny(a.commandId(), DENIED_RULE, "denied by " + String.join(", ", o.by())
                    + (o.reason() == null || o.reason().isBlank() ? "" : ": " + o.reason()) + " (approval " + a.id() + ")", null);
            case EXPIRED -> new Decision.Deny(a.commandId(), EXPIRED_RULE, "approval " + a.id() + " expired after "
                    + human(Duration.between(asked(a), a.expiresAt())) + " unanswered", null);
            default -> throw new IllegalStateException("no final decision for state " + o.state());
        };
        long sequence = a.command() == null ? 0 : a.command().sequence();
        AuditEvent.DecisionMade made = new AuditEvent.DecisionMade(header(a, clock.instant()), a.commandId(), sequence,
                decision, a.edgeId(), a.replyPartition(), "enforce", Duration.between(a.requestedAt(), clock.instant()));
        events.decide(made).whenComplete((v, err) -> {
            if (err != null) {
                LOGGER.error("Final decision could not be sent; the held command fails closed at its deadline "
                        + "approvalId={} commandId={} error={}", a.id(), a.commandId(), err.toString());
            } else {
                LOGGER.info("Final decision sent approvalId={} commandId={} verdict={} edgeId={} replyPartition={}",
                        a.id(), a.commandId(), decision.verdict(), a.edgeId(), a.replyPartition());
            }
        });
    }

    /** When the command arrived (the expiry counts from there), else when the request was written. */
    private static Instant asked(Approval a) {
        return a.command() != null && a.command().receivedAt() != null ? a.command().receivedAt() : a.requestedAt();
    }

    /** "10m", "90s", "1h30m", to the nearest second. */
    static String human(Duration d) {
        if (d == null || d.isNegative()) return "?";
        long s = d.plusMillis(500).toSeconds();
        if (s < 60 || s % 60 != 0) return s + "s";
        long m = s / 60;
        if (m < 60) return m + "m";
        return m % 60 == 0 ? (m / 60) + "h" : (m / 60) + "h" + (m % 60) + "m";
    }

    /**
     * Asks the people who may answer, or, when nobody can (an originator confirmation in a session that
     * is not delegated, or one the notifier cannot deliver to the originator), denies it at once: it
     * fails closed with the reason instead of holding the command until it expires.
     */
    private void ask(Approval a) {
        Optional<String> why;
        if (a.fromOriginator() && a.delegation() == null) {
            why = Optional.of("the session is not delegated, so there is no originator to confirm");
        } else {
            try {
                why = notifier.undeliverable(a);
            } catch (RuntimeException e) {
                LOGGER.error("Approval notifier failed approvalId={}", a.id(), e);
                why = Optional.of("the notifier failed: " + e);
            }
        }
        if (why.isEmpty()) {
            notifySafely(a, true);
            return;
        }
        if (!a.open()) return;
        LOGGER.warn("Approval request cannot reach anyone who may answer it, denied approvalId={} sessionId={} rule={} why={}",
                a.id(), a.sessionId(), a.ruleId(), why.get());
        write(a, new AuditEvent.ApprovalDenied(header(a, clock.instant()), a.id(), UNDELIVERABLE_BY,
                "nobody can confirm it: " + why.get()));
    }

    private void notifySafely(Approval a, boolean request) {
        try {
            if (request) notifier.requested(a);
            else notifier.decided(a);
        } catch (RuntimeException e) {
            LOGGER.error("Approval notifier failed approvalId={} request={}", a.id(), request, e);
        }
    }

    private EventHeader header(Approval a, Instant now) {
        return EventHeader.at(a.sessionId(), now, "approval", settings.instanceId());
    }

    /** Leaves the group (a standby takes over at once) and stops the timers. */
    @Override
    public void close() {
        running = false;
        log.removeListener(listener);
        group.close();
        executor.shutdown();
        try {
            executor.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        executor.shutdownNow();
    }
}
