package dev.gatehouse.platform.kafka;

import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.PartitionInfo;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigException;
import org.apache.kafka.common.errors.AuthenticationException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.FencedInstanceIdException;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.errors.InvalidGroupIdException;
import org.apache.kafka.common.errors.InvalidSessionTimeoutException;
import org.apache.kafka.common.errors.ProducerFencedException;
import org.apache.kafka.common.errors.UnsupportedVersionException;
import org.apache.kafka.common.errors.WakeupException;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * One supervised Kafka poll loop: it owns the thread (named after the loop), the consumer, the
 * poll, a prompt close (by {@link KafkaConsumer#wakeup()}) and the loop's {@link Health}, which a
 * process wires into {@code /health/ready}.
 *
 * <p>What the loop does is its {@link Handler}: {@code open} assigns or subscribes a new consumer,
 * {@code handle} gets every poll's whole batch. What an exception from either (or from the
 * consumer) does is the loop's {@link ErrorPolicy}, stated where the loop is made: restart with a
 * new consumer after a growing backoff, or stop and report the loop failed, with the reason.
 *
 * <p>A restart resumes every manually assigned partition after the last record handled (a batch
 * whose handler threw is delivered again: at least once); a group member resumes from its
 * committed offsets. A loop that {@linkplain Settings#catchingUp() catches up} is ready only once
 * it has read every assigned partition to the end offsets of the moment it started, and stays so
 * afterwards: for a compacted topic whose state is only whole once read to the end.
 *
 * <p>Threads: {@code open}, {@code handle} and {@code closed} run on the loop's thread; the
 * consumer is used by that thread only. {@link #health()} and {@link #close()} are safe from any
 * thread.
 */
public final class ConsumerLoop implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(ConsumerLoop.class);
    private static final Duration JOIN = Duration.ofSeconds(10);

    /** What one loop does with its consumer. Every method runs on the loop's thread. */
    public interface Handler {
        /**
         * Assigns and seeks, or subscribes, a new consumer: at start and after every restart. A
         * restart then moves assigned partitions already read to after their last handled record.
         */
        void open(KafkaConsumer<String, byte[]> consumer);

        /**
         * Handles one poll's records: called after every poll, also with none (a place to commit,
         * flush or look at the clock). A throw goes to the {@link ErrorPolicy}.
         */
        void handle(ConsumerRecords<String, byte[]> records, KafkaConsumer<String, byte[]> consumer);

        /**
         * The consumer was closed: {@code cause} is null at {@link #close()}, else the error that
         * ended it ({@link #health()} already says whether the loop restarts or failed).
         */
        default void closed(Throwable cause) {
        }

        /** A handler that opens the consumer with {@code open} and hands every record, in order, to {@code each}. */
        static Handler ofRecords(java.util.function.Consumer<KafkaConsumer<String, byte[]>> open,
                                 java.util.function.Consumer<ConsumerRecord<String, byte[]>> each) {
            Objects.requireNonNull(open, "open");
            Objects.requireNonNull(each, "each");
            return new Handler() {
                @Override
                public void open(KafkaConsumer<String, byte[]> consumer) {
                    open.accept(consumer);
                }

                @Override
                public void handle(ConsumerRecords<String, byte[]> records, KafkaConsumer<String, byte[]> consumer) {
                    records.forEach(each);
                }
            };
        }
    }

    /** What the loop does after an exception. */
    public enum Action {
        /** Close the consumer, wait the backoff, open a new one. */
        RESTART,
        /** Close the consumer and stay stopped; the health is {@link State#FAILED} with the reason. */
        FAIL
    }

    /** Chooses the {@link Action} for an exception from the consumer or the handler. */
    @FunctionalInterface
    public interface ErrorPolicy {
        Action onError(Throwable error);

        /** Fails on {@linkplain #isFatal fatal errors}, restarts on every other. */
        static ErrorPolicy restartUnlessFatal() {
            return error -> isFatal(error) ? Action.FAIL : Action.RESTART;
        }

        /** Fails on any exception: for a loop whose restart could not keep its promises. */
        static ErrorPolicy failAlways() {
            return error -> Action.FAIL;
        }
    }

    /** Where a loop is. */
    public enum State {
        /** Opening its consumer for the first time. */
        STARTING,
        /** Polling. */
        RUNNING,
        /** Waiting for the backoff after an error, then opening a new consumer. */
        RESTARTING,
        /** Stopped by an error its policy does not restart after. */
        FAILED,
        /** Closed. */
        STOPPED
    }

    /**
     * A loop's health.
     *
     * @param name     the loop's (and its thread's) name
     * @param state    where the loop is
     * @param caughtUp whether it has read to the end once (always true for a loop that does not catch up, once running)
     * @param joined   whether its consumer has joined its group (a first generation), or needs not
     *                 (a consumer that assigns partitions itself); false again while a new consumer
     *                 after a restart joins
     * @param reason   the last error, as its class and message; null before any
     * @param restarts how many times it restarted
     * @param lag      records behind the end of its assigned partitions as of the last poll; -1 when unknown
     */
    public record Health(String name, State state, boolean caughtUp, boolean joined, String reason, int restarts, long lag) {

        /**
         * Running, a member of its group if it subscribes (before that, no partition is its own, and
         * nothing sent to the topic is handled) and, for a loop that catches up, caught up.
         */
        public boolean ready() {
            return state == State.RUNNING && joined && caughtUp;
        }

        /** Null when ready, else why not (for {@code /health/ready}; error messages, no secrets). */
        public String problem() {
            if (ready()) return null;
            return switch (state) {
                case STARTING -> "starting";
                case RUNNING -> joined ? "reading to the end of its topic" : "joining its consumer group";
                case RESTARTING -> "restarting (" + restarts + " restarts) after " + reason;
                case FAILED -> "failed: " + reason;
                case STOPPED -> "stopped";
            };
        }

        Health to(State next, String why) {
            return new Health(name, next, caughtUp, joined, why == null ? reason : why, restarts, lag);
        }
    }

    /**
     * @param name           the loop's name: its thread's and the one in logs
     * @param consumerConfig the consumer's settings (bootstrap servers, client id, group...); key and
     *                       value deserializers are the loop's (String, byte[])
     * @param onError        what an exception does
     * @param pollTimeout    how long one poll waits for records
     * @param catchUp        whether the loop is ready only after reading to the end once
     * @param minBackoff     the wait before the first restart, doubled at each restart in a row
     * @param maxBackoff     the longest wait between restarts
     */
    public record Settings(String name, Map<String, Object> consumerConfig, ErrorPolicy onError, Duration pollTimeout,
                           boolean catchUp, Duration minBackoff, Duration maxBackoff) {
        public Settings {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(onError, "onError");
            Objects.requireNonNull(pollTimeout, "pollTimeout");
            Objects.requireNonNull(minBackoff, "minBackoff");
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            consumerConfig = Map.copyOf(consumerConfig);
            if (name.isBlank()) throw new IllegalArgumentException("name must not be blank");
            if (pollTimeout.isNegative()) throw new IllegalArgumentException("pollTimeout must not be negative");
            if (minBackoff.isNegative() || minBackoff.isZero() || maxBackoff.compareTo(minBackoff) < 0) {
                throw new IllegalArgumentException("backoff must be positive and min <= max, was " + minBackoff + ".." + maxBackoff);
            }
        }

        /** Polls for up to 1 s, does not catch up, restarts after 200 ms doubling up to 30 s. */
        public static Settings of(String name, Map<String, Object> consumerConfig, ErrorPolicy onError) {
            return new Settings(name, consumerConfig, onError, Duration.ofSeconds(1), false, Duration.ofMillis(200),
                    Duration.ofSeconds(30));
        }

        /** Ready only once every assigned partition was read to its end of the moment the loop started. */
        public Settings catchingUp() {
            return new Settings(name, consumerConfig, onError, pollTimeout, true, minBackoff, maxBackoff);
        }

        public Settings withPollTimeout(Duration timeout) {
            return new Settings(name, consumerConfig, onError, timeout, catchUp, minBackoff, maxBackoff);
        }

        public Settings withBackoff(Duration min, Duration max) {
            return new Settings(name, consumerConfig, onError, pollTimeout, catchUp, min, max);
        }
    }

    /**
     * Whether an error is one a new consumer would meet again, so restarting cannot help: an
     * {@link Error}, or (anywhere in the cause chain) an authentication or authorization failure,
     * an unsupported version, a fenced instance or producer, or an invalid configuration (a
     * session timeout or group id the brokers refuse included).
     */
    public static boolean isFatal(Throwable error) {
        for (Throwable e = error; e != null; e = e.getCause() == e ? null : e.getCause()) {
            if (!(e instanceof Exception)
                    || e instanceof AuthenticationException || e instanceof AuthorizationException
                    || e instanceof UnsupportedVersionException
                    || e instanceof FencedInstanceIdException || e instanceof ProducerFencedException
                    || e instanceof ConfigException || e instanceof InvalidConfigurationException
                    || e instanceof InvalidSessionTimeoutException || e instanceof InvalidGroupIdException) {
                return true;
            }
        }
        return false;
    }

    /**
     * Assigns every partition of {@code topic} to {@code consumer} (no group) and returns them.
     *
     * @throws IllegalStateException when the topic does not exist
     */
    public static List<TopicPartition> assignAll(KafkaConsumer<String, byte[]> consumer, String topic, Duration timeout) {
        List<PartitionInfo> infos = consumer.partitionsFor(topic, timeout);
        if (infos == null || infos.isEmpty()) throw new IllegalStateException("topic " + topic + " does not exist");
        List<TopicPartition> partitions = infos.stream().map(i -> new TopicPartition(i.topic(), i.partition())).toList();
        consumer.assign(partitions);
        return partitions;
    }

    private final Settings settings;
    private final Handler handler;
    private final Thread thread;
    private final CountDownLatch closing = new CountDownLatch(1);
    private final Object changed = new Object();
    /** Next offset of every manually assigned partition with a handled record (loop thread only). */
    private final Map<TopicPartition, Long> handled = new HashMap<>();
    private volatile KafkaConsumer<String, byte[]> consumer;
    private volatile Health health;
    /** The wait before the next restart (loop thread only). */
    private Duration backoff;

    /** Starts the loop's thread; the first consumer is opened there. */
    public ConsumerLoop(Settings settings, Handler handler) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.handler = Objects.requireNonNull(handler, "handler");
        this.health = new Health(settings.name(), State.STARTING, !settings.catchUp(), false, null, 0, -1);
        this.backoff = settings.minBackoff();
        this.thread = Thread.ofPlatform().daemon().name(settings.name()).unstarted(this::run);
        thread.start();
    }

    /**
     * Starts a loop and waits until it is ready (see {@link #awaitReady}); when it is not, closes
     * it and throws.
     */
    public static ConsumerLoop started(Settings settings, Handler handler, Duration timeout) {
        ConsumerLoop loop = new ConsumerLoop(settings, handler);
        try {
            loop.awaitReady(timeout);
            return loop;
        } catch (RuntimeException e) {
            loop.close();
            throw e;
        }
    }

    /** The loop's health now. */
    public Health health() {
        return health;
    }

    /**
     * Waits until the loop is ready (running, and caught up if it catches up).
     *
     * @throws IllegalStateException when it restarts, fails or stops first (with the reason), or
     *                               is not ready within {@code timeout}
     */
    public void awaitReady(Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (changed) {
            while (true) {
                Health now = health;
                if (now.ready()) return;
                if (now.state() != State.STARTING && now.state() != State.RUNNING) {
                    throw new IllegalStateException(settings.name() + " did not start: " + now.problem());
                }
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new IllegalStateException(settings.name() + " was not ready within " + timeout + " ("
                            + now.problem() + ")");
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(changed, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for " + settings.name(), e);
                }
            }
        }
    }

    private void run() {
        while (!closing()) {
            KafkaConsumer<String, byte[]> c = null;
            Throwable error = null;
            try {
                c = new KafkaConsumer<>(settings.consumerConfig(), new StringDeserializer(), new ByteArrayDeserializer());
                consumer = c;
                if (!closing()) poll(c); // else close() may have missed this consumer
            } catch (Throwable e) {
                error = e;
            } finally {
                consumer = null;
            }
            if (error == null || closing()) {
                if (c != null) close(c, null);
                break;
            }
            Action action = failed(error instanceof WakeupException
                    ? new IllegalStateException("woken up unexpectedly", error) : error);
            if (c != null) close(c, error);
            if (action == Action.FAIL) return; // the health stays FAILED
            pause(backoff);
            Duration doubled = backoff.multipliedBy(2);
            backoff = doubled.compareTo(settings.maxBackoff()) > 0 ? settings.maxBackoff() : doubled;
        }
        update(health.to(State.STOPPED, null));
    }

    /** Opens the consumer and polls until closed; throws what ends it. */
    private void poll(KafkaConsumer<String, byte[]> c) {
        handler.open(c);
        if (c.subscription().isEmpty()) resume(c);
        Map<TopicPartition, Long> end = health.caughtUp() ? null : c.endOffsets(c.assignment());
        Health before = health;
        boolean atEnd = caughtUp(c, end);
        boolean joined = joined(c);
        LOGGER.info("Consumer loop running loop={} restarts={} caughtUp={} joined={}", settings.name(), before.restarts(),
                atEnd, joined);
        update(new Health(before.name(), State.RUNNING, atEnd, joined, before.reason(), before.restarts(), -1));
        while (!closing()) {
            ConsumerRecords<String, byte[]> records = c.poll(settings.pollTimeout());
            handler.handle(records, c);
            backoff = settings.minBackoff();
            for (TopicPartition tp : records.partitions()) handled.put(tp, records.records(tp).getLast().offset() + 1);
            Health now = health;
            long lag = lag(c);
            boolean caughtUp = caughtUp(c, end);
            boolean joinedNow = now.joined() || joined(c);
            if (lag != now.lag() || caughtUp != now.caughtUp() || joinedNow != now.joined()) {
                if (caughtUp && !now.caughtUp()) LOGGER.info("Consumer loop caught up loop={}", settings.name());
                if (joinedNow && !now.joined()) {
                    LOGGER.info("Consumer loop joined its group loop={} partitions={}", settings.name(), c.assignment().size());
                }
                update(new Health(now.name(), now.state(), caughtUp, joinedNow, now.reason(), now.restarts(), lag));
            }
        }
    }

    private boolean closing() {
        return closing.getCount() == 0;
    }

    /** Records an unexpected error in the health and returns what its policy says to do. */
    private Action failed(Throwable e) {
        Action action;
        try {
            action = Objects.requireNonNull(settings.onError().onError(e), "action");
        } catch (RuntimeException policyError) {
            action = Action.FAIL;
        }
        Health now = health;
        if (action == Action.FAIL) {
            LOGGER.error("Consumer loop failed and stops loop={} restarts={}", settings.name(), now.restarts(), e);
            update(now.to(State.FAILED, e.toString()));
        } else {
            LOGGER.warn("Consumer loop failed, restarting loop={} backoffMs={} restarts={}", settings.name(),
                    backoff.toMillis(), now.restarts() + 1, e);
            update(new Health(now.name(), State.RESTARTING, now.caughtUp(), false, e.toString(), now.restarts() + 1, now.lag()));
        }
        return action;
    }

    private void close(KafkaConsumer<String, byte[]> c, Throwable cause) {
        try {
            c.close(Duration.ofSeconds(5));
        } catch (RuntimeException e) {
            LOGGER.debug("Closing the consumer failed loop={} error={}", settings.name(), e.toString());
        }
        try {
            handler.closed(cause);
        } catch (RuntimeException e) {
            LOGGER.warn("Consumer loop's close handler failed loop={}", settings.name(), e);
        }
    }

    private void pause(Duration backoff) {
        try {
            closing.await(backoff.toNanos(), TimeUnit.NANOSECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            closing.countDown();
        }
    }

    /** After a restart: every assigned partition already read continues after its last handled record. */
    private void resume(KafkaConsumer<String, byte[]> c) {
        for (TopicPartition tp : c.assignment()) {
            Long next = handled.get(tp);
            if (next != null) c.seek(tp, next);
        }
    }

    /**
     * A consumer that assigns its partitions needs no group; one that subscribes has joined once the
     * group gave it a generation (with none, one or more partitions: a group may have more members
     * than partitions).
     */
    private static boolean joined(KafkaConsumer<String, byte[]> c) {
        return c.subscription().isEmpty() || c.groupMetadata().generationId() > 0;
    }

    private boolean caughtUp(KafkaConsumer<String, byte[]> c, Map<TopicPartition, Long> end) {
        if (health.caughtUp()) return true;
        if (end == null) return false;
        for (Map.Entry<TopicPartition, Long> e : end.entrySet()) {
            if (c.position(e.getKey()) < e.getValue()) return false;
        }
        return true;
    }

    private static long lag(KafkaConsumer<String, byte[]> c) {
        long total = 0;
        for (TopicPartition tp : c.assignment()) {
            OptionalLong lag = c.currentLag(tp);
            if (lag.isEmpty()) return -1;
            total += lag.getAsLong();
        }
        return total;
    }

    private void update(Health next) {
        synchronized (changed) {
            health = next;
            changed.notifyAll();
        }
    }

    /** Stops the loop: wakes the poll, closes the consumer, waits for the thread. */
    @Override
    public void close() {
        closing.countDown();
        KafkaConsumer<String, byte[]> c = consumer;
        try {
            if (c != null) c.wakeup();
        } catch (RuntimeException e) {
            LOGGER.debug("Waking the consumer failed loop={} error={}", settings.name(), e.toString());
        }
        if (Thread.currentThread() == thread) return;
        try {
            thread.join(JOIN);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        if (thread.isAlive()) LOGGER.warn("Consumer loop did not stop within {} loop={}", JOIN, settings.name());
    }

    @Override
    public String toString() {
        Health h = health;
        return "ConsumerLoop[" + h.name() + " " + h.state().name().toLowerCase(Locale.ROOT) + "]";
    }
}
