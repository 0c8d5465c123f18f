package dev.gatehouse.platform.kafka;

import org.apache.kafka.clients.CommonClientConfigs;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/**
 * The Kafka client settings every Gatehouse service shares, in one place: a durable producer and a
 * consumer-group member with fast, client-chosen failure detection. Each returns a mutable map a
 * caller may add its own settings to.
 *
 * <p><b>Connection properties.</b> Every Kafka client of Gatehouse (producers, consumers, admin
 * clients) starts from {@link #client}, which adds the connection properties registered for its
 * bootstrap servers ({@link #register}: {@code kafka.properties} of the configuration, e.g.
 * {@code security.protocol}, SASL and TLS settings). The runtime and the CLI register them once at
 * start; code that builds a client needs nothing but the bootstrap string it already has. The
 * registry is keyed by the bootstrap string so that two runtimes in one JVM (tests) can each
 * connect with their own credential. Keys Gatehouse sets itself ({@link #REFUSED}) may not be
 * given: they carry its guarantees (durability, ordering, deadlines, group membership), so a
 * property never silently overrides one nor is silently overridden.
 */
public final class KafkaClients {

    /**
     * Client settings {@code kafka.properties} may not set: every key Gatehouse sets on some client
     * itself, and those that would change what a client writes or reads (serializers, interceptors,
     * the partitioner, transactions). Keep in step with the settings put anywhere in the code.
     */
    public static final Set<String> REFUSED = Set.of(
            "bootstrap.servers", "client.id",
            // producers: durability, no duplicates, ordering, the fail-closed deadlines
            "acks", "enable.idempotence", "transactional.id", "transaction.timeout.ms",
            "max.in.flight.requests.per.connection", "delivery.timeout.ms", "request.timeout.ms", "max.block.ms",
            "linger.ms", "batch.size", "buffer.memory", "compression.type", "retries", "partitioner.class",
            "partitioner.ignore.keys", "key.serializer", "value.serializer", "interceptor.classes",
            "reconnect.backoff.max.ms",
            // consumers: what is read, group membership and failover, commits
            "group.id", "group.instance.id", "group.protocol", "group.remote.assignor", "enable.auto.commit",
            "auto.commit.interval.ms", "auto.offset.reset", "isolation.level", "key.deserializer", "value.deserializer",
            "partition.assignment.strategy", "session.timeout.ms", "heartbeat.interval.ms", "max.poll.records",
            "fetch.min.bytes", "fetch.max.wait.ms", "default.api.timeout.ms",
            "allow.auto.create.topics", "check.crcs");

    private static final Map<String, Registered> CONNECTIONS = new HashMap<>();

    private record Registered(Map<String, String> properties, int users) {
    }

    private KafkaClients() {
    }

    /**
     * Checks connection properties: none may be blank or one of {@link #REFUSED}.
     *
     * @param prefix how the caller names the map in errors, e.g. {@code kafka.properties}
     * @throws IllegalArgumentException naming the first offending key (its value is never shown)
     */
    public static Map<String, String> checkProperties(String prefix, Map<String, String> properties) {
        Objects.requireNonNull(properties, "properties");
        for (String key : new TreeSet<>(properties.keySet())) {
            if (key == null || key.isBlank()) throw new IllegalArgumentException(prefix + ": a property has an empty name");
            if (REFUSED.contains(key.strip())) {
                throw new IllegalArgumentException(prefix + "." + key + " may not be set: Gatehouse sets "
                        + key + " itself on its Kafka clients (it carries durability, ordering, deadlines or group "
                        + "membership); remove it. Allowed are connection settings such as security.protocol, "
                        + "sasl.*, ssl.*");
            }
            if (properties.get(key) == null) throw new IllegalArgumentException(prefix + "." + key + " has no value");
        }
        return Map.copyOf(properties);
    }

    /**
     * Registers the connection properties of the clients connecting to {@code bootstrapServers}
     * (checked as {@link #checkProperties} does) until the returned registration is closed. The same
     * bootstrap string may be registered again with equal properties (runtimes in one JVM); with
     * different ones while still registered, that is refused: use another spelling of the address
     * (e.g. {@code localhost} and {@code 127.0.0.1}) for a second credential.
     */
    public static synchronized Registration register(String bootstrapServers, Map<String, String> properties) {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Map<String, String> checked = checkProperties("kafka.properties", properties);
        Registered current = CONNECTIONS.get(bootstrapServers);
        if (current != null && !current.properties().equals(checked)) {
            throw new IllegalStateException("Kafka bootstrap servers " + bootstrapServers + " are already in use in this "
                    + "process with other kafka.properties; one connection per bootstrap-servers string");
        }
        CONNECTIONS.put(bootstrapServers, new Registered(checked, current == null ? 1 : current.users() + 1));
        return new Registration(bootstrapServers);
    }

    /** The connection properties registered for {@code bootstrapServers}; empty when none were. */
    public static synchronized Map<String, String> connectionProperties(String bootstrapServers) {
        Registered r = CONNECTIONS.get(bootstrapServers);
        return r == null ? Map.of() : r.properties();
    }

    private static synchronized void release(String bootstrapServers) {
        Registered r = CONNECTIONS.get(bootstrapServers);
        if (r == null) return;
        if (r.users() <= 1) CONNECTIONS.remove(bootstrapServers);
        else CONNECTIONS.put(bootstrapServers, new Registered(r.properties(), r.users() - 1));
    }

    /** A registration of connection properties; closing it (once) ends it. */
    public static final class Registration implements AutoCloseable {
        private final String bootstrapServers;
        private boolean closed;

        private Registration(String bootstrapServers) {
            this.bootstrapServers = bootstrapServers;
        }

        @Override
        public synchronized void close() {
            if (closed) return;
            closed = true;
            release(bootstrapServers);
        }
    }

    /**
     * The start of every Gatehouse client's settings: the registered connection properties of
     * {@code bootstrapServers}, the bootstrap servers and the client id. A mutable map.
     */
    public static Map<String, Object> client(String bootstrapServers, String clientId) {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        Map<String, Object> config = new HashMap<>(connectionProperties(bootstrapServers));
        config.put(CommonClientConfigs.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(CommonClientConfigs.CLIENT_ID_CONFIG, Objects.requireNonNull(clientId, "clientId"));
        return config;
    }

    /**
     * An admin client's settings: {@link #client} with API and request timeouts from {@code timeout}
     * (requests at most 30 s).
     */
    public static Map<String, Object> admin(String bootstrapServers, String clientId, Duration timeout) {
        Map<String, Object> config = client(bootstrapServers, clientId);
        config.put(AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) timeout.toMillis());
        config.put(AdminClientConfig.REQUEST_TIMEOUT_MS_CONFIG, (int) Math.min(timeout.toMillis(), 30_000));
        return config;
    }

    /**
     * Produce requests in flight per broker connection: one. Writes made while a request is out wait
     * and go together in the next, so batches grow with load without a linger, and an idle system
     * sends each write at once. Five (Kafka's default) was used before. Measured 2026-12-03 on the
     * pgbench run, 32 clients, select-simple, after the edge's after-the-fact records got a producer
     * of their own (so a write-ahead record no longer waits behind a {@code CommandCompleted}):
     * produce requests per command 0.72 -> 0.47 (enforce) and 0.54 -> 0.37 (observe), broker CPU
     * 145 -> 119 µs per command, gateway + broker 631 -> 578 µs (enforce); one client, enforce,
     * added p50 0.87-0.95 ms (select-prepared) and 1.39-1.40 ms (select-simple), no worse than with
     * five (1.05-1.31 ms).
     */
    public static final int PRODUCE_REQUESTS_IN_FLIGHT = 1;

    /**
     * A producer whose writes are durable and never duplicated by its own retries: {@code acks=all},
     * idempotence on, no linger (every write is somebody waiting), {@link #PRODUCE_REQUESTS_IN_FLIGHT}
     * requests in flight.
     */
    public static Map<String, Object> durableProducer(String bootstrapServers, String clientId) {
        Map<String, Object> config = client(bootstrapServers, clientId);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, PRODUCE_REQUESTS_IN_FLIGHT);
        return config;
    }

    /** How long a producer that never blocks keeps an idle topic's metadata: a year, i.e. as long as it runs. */
    public static final long METADATA_KEPT_MS = Duration.ofDays(365).toMillis();

    /**
     * Makes a producer's {@code send} never block its caller (an event loop) on metadata:
     * {@code max.block.ms=0}, and the metadata of a topic it wrote kept however long it is idle.
     * By default a producer forgets a topic not written for 5 minutes ({@code metadata.max.idle.ms}),
     * and the next send would then fail at once; the metadata is still refreshed every
     * {@code metadata.max.age.ms}. Fetch the topic's metadata once at start with {@link #awaitMetadata}.
     */
    public static Map<String, Object> neverBlocking(Map<String, Object> producerConfig) {
        producerConfig.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, 0L);
        producerConfig.put(ProducerConfig.METADATA_MAX_IDLE_CONFIG, METADATA_KEPT_MS);
        return producerConfig;
    }

    /**
     * Waits until a {@linkplain #neverBlocking never-blocking} producer has {@code topic}'s metadata
     * (each lookup only starts a fetch: asks again until it is there) and returns its partition count.
     *
     * @throws IllegalStateException when it has none within {@code timeout}
     */
    public static int awaitMetadata(org.apache.kafka.clients.producer.Producer<?, ?> producer, String topic,
                                    String bootstrapServers, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            try {
                return producer.partitionsFor(topic).size();
            } catch (org.apache.kafka.common.errors.TimeoutException e) {
                if (System.nanoTime() > deadline) {
                    throw new IllegalStateException("no metadata for topic " + topic + " from " + bootstrapServers
                            + " within " + timeout + " (broker down, or topic missing?)", e);
                }
                try {
                    Thread.sleep(20);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException("interrupted while waiting for metadata of " + topic, ie);
                }
            }
        }
    }

    /** How long a bulk reader's fetch waits on the broker for {@link #BULK_FETCH_MIN_BYTES} (see {@link #readInBulk}). */
    public static final int BULK_FETCH_MAX_WAIT_MS = 200;
    /** The bytes a bulk reader's fetch waits for, at most {@link #BULK_FETCH_MAX_WAIT_MS}. */
    public static final int BULK_FETCH_MIN_BYTES = 256 * 1024;

    /**
     * Makes {@code consumerConfig} a bulk reader: a consumer nobody waits on per record (the
     * indexer, the SIEM export) asks the broker to answer a fetch only once 256 KiB are there or
     * 200 ms have passed, instead of once per record. Under load that turns a fetch per command
     * into one per few hundred, and each poll into one large batch; idle, it adds at most 200 ms
     * of delay. Consumers on a command's path (decisions) keep the default of answering at once.
     */
    public static Map<String, Object> readInBulk(Map<String, Object> consumerConfig) {
        consumerConfig.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, BULK_FETCH_MIN_BYTES);
        consumerConfig.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, BULK_FETCH_MAX_WAIT_MS);
        return consumerConfig;
    }

    /**
     * A consumer-group member that commits by itself (no auto-commit) and reads only committed
     * records. Failover: the classic group protocol, whose session timeout the client chooses
     * (KIP-848's "consumer" protocol takes it from broker configs, 45 s at least on stock brokers),
     * heartbeats every third of it, and the cooperative assignor, so the members that stay keep
     * their partitions while a dead or leaving member's partitions move.
     *
     * @param sessionTimeout must lie within the brokers' {@code group.min.session.timeout.ms}
     *                       (default 6 s) and {@code group.max.session.timeout.ms}
     * @param fromBeginning  where a new group starts: the beginning of the log or its end
     */
    public static Map<String, Object> groupConsumer(String bootstrapServers, String clientId, String groupId,
                                                    Duration sessionTimeout, boolean fromBeginning) {
        Map<String, Object> config = client(bootstrapServers, clientId);
        config.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        config.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false);
        config.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, "read_committed");
        config.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, fromBeginning ? "earliest" : "latest");
        config.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "classic");
        config.put(ConsumerConfig.PARTITION_ASSIGNMENT_STRATEGY_CONFIG, CooperativeStickyAssignor.class.getName());
        config.put(ConsumerConfig.SESSION_TIMEOUT_MS_CONFIG, (int) sessionTimeout.toMillis());
        config.put(ConsumerConfig.HEARTBEAT_INTERVAL_MS_CONFIG, (int) Math.max(100, sessionTimeout.toMillis() / 3));
        return config;
    }
}
