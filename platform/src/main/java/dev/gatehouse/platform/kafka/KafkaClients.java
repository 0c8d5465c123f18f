package dev.gatehouse.platform.kafka;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.CooperativeStickyAssignor;
import org.apache.kafka.clients.producer.ProducerConfig;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;

/**
 * The Kafka client settings every Gatehouse service shares, in one place: a durable producer and a
 * consumer-group member with fast, client-chosen failure detection. Each returns a mutable map a
 * caller may add its own settings to.
 */
public final class KafkaClients {

    private KafkaClients() {
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
        Map<String, Object> config = new HashMap<>();
        config.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ProducerConfig.CLIENT_ID_CONFIG, clientId);
        config.put(ProducerConfig.ACKS_CONFIG, "all");
        config.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
        config.put(ProducerConfig.LINGER_MS_CONFIG, 0);
        config.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, PRODUCE_REQUESTS_IN_FLIGHT);
        return config;
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
        Map<String, Object> config = new HashMap<>();
        config.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers);
        config.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
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
