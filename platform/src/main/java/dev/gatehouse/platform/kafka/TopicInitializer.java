package dev.gatehouse.platform.kafka;

import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.CreateTopicsResult;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.errors.TopicAuthorizationException;
import org.apache.kafka.common.errors.TopicExistsException;
import org.apache.kafka.common.errors.UnknownTopicOrPartitionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * Creates Gatehouse's topics at start-up, idempotently: topics that exist already are left as
 * they are, and a partition count different from the configured one is reported as a warning
 * (never changed: that would move keys between partitions).
 */
public final class TopicInitializer {

    private static final Logger LOGGER = LoggerFactory.getLogger(TopicInitializer.class);

    /** What {@link #ensure} did. */
    public record Report(List<String> created, List<String> existing, List<String> warnings) {
        public Report {
            created = List.copyOf(created);
            existing = List.copyOf(existing);
            warnings = List.copyOf(warnings);
        }
    }

    private TopicInitializer() {
    }

    /** Connects to {@code bootstrapServers} and ensures every topic; see {@link #ensure(Admin, List, Duration)}. */
    public static Report ensure(String bootstrapServers, List<TopicSettings> topics, Duration timeout) {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        try (Admin admin = Admin.create(KafkaClients.admin(bootstrapServers, "gatehouse-topic-initializer", timeout))) {
            return ensure(admin, topics, timeout);
        }
    }

    /**
     * Connects to {@code bootstrapServers} and checks that every topic exists, creating none (for
     * {@code kafka.provision-topics: false}); see {@link #missing}.
     *
     * @throws IllegalStateException naming the missing topics and the command that creates them
     */
    public static void requireExisting(String bootstrapServers, List<TopicSettings> topics, Duration timeout) {
        Objects.requireNonNull(bootstrapServers, "bootstrapServers");
        List<String> missing;
        try (Admin admin = Admin.create(KafkaClients.admin(bootstrapServers, "gatehouse-topic-check", timeout))) {
            missing = missing(admin, topics, timeout);
        }
        if (!missing.isEmpty()) {
            throw new IllegalStateException("Kafka topics missing: " + String.join(", ", missing)
                    + " (kafka.provision-topics is false, so this process creates none); create them with "
                    + "`gatehouse kafka provision --config FILE`");
        }
        LOGGER.info("Topics present topics={}", topics.size());
    }

    /**
     * The topics of {@code topics} the cluster does not have. A topic this principal may not
     * describe counts as present: the broker answers so whether it exists or not, and a role's
     * ACLs cover only the topics it uses (its clients fail on their own if one it uses is missing).
     *
     * @throws IllegalStateException when the cluster cannot be reached
     */
    public static List<String> missing(Admin admin, List<TopicSettings> topics, Duration timeout) {
        List<String> names = topics.stream().map(TopicSettings::name).toList();
        List<String> missing = new ArrayList<>();
        Map<String, org.apache.kafka.common.KafkaFuture<TopicDescription>> described =
                admin.describeTopics(names).topicNameValues();
        for (String name : names) {
            try {
                described.get(name).get(timeout.toMillis(), TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (e.getCause() instanceof UnknownTopicOrPartitionException) {
                    missing.add(name);
                } else if (!(e.getCause() instanceof TopicAuthorizationException)) {
                    throw new IllegalStateException("cannot describe topic " + name + ": " + e.getCause().getMessage(), e.getCause());
                }
            } catch (TimeoutException e) {
                throw new IllegalStateException("Kafka did not answer within " + timeout + " while describing topic " + name, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while describing topic " + name, e);
            }
        }
        return missing;
    }

    /**
     * Creates the topics that are missing and checks the partition count of the others.
     *
     * @throws IllegalStateException when the cluster cannot be reached or refuses a creation
     */
    public static Report ensure(Admin admin, List<TopicSettings> topics, Duration timeout) {
        Objects.requireNonNull(admin, "admin");
        Objects.requireNonNull(topics, "topics");
        long timeoutMs = timeout.toMillis();
        List<NewTopic> requests = topics.stream().map(TopicInitializer::newTopic).toList();
        CreateTopicsResult result = admin.createTopics(requests);
        List<String> created = new ArrayList<>();
        List<String> existing = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        for (TopicSettings t : topics) {
            try {
                result.values().get(t.name()).get(timeoutMs, TimeUnit.MILLISECONDS);
                created.add(t.name());
                LOGGER.info("Created topic topic={} partitions={} replicationFactor={} retentionMs={} compacted={}",
                        t.name(), t.partitions(), t.replicationFactor(), t.retentionMs(), t.compacted());
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof TopicExistsException)) {
                    throw new IllegalStateException("cannot create topic " + t.name() + ": " + e.getCause().getMessage(), e.getCause());
                }
                existing.add(t.name());
            } catch (TimeoutException e) {
                throw new IllegalStateException("Kafka did not answer within " + timeout + " while creating topic " + t.name(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while creating topic " + t.name(), e);
            }
        }
        if (!existing.isEmpty()) {
            Map<String, TopicDescription> described = describeExisting(admin, existing, timeout);
            for (TopicSettings t : topics) {
                TopicDescription d = described.get(t.name());
                if (d != null && d.partitions().size() != t.partitions()) {
                    String warning = "topic " + t.name() + " has " + d.partitions().size()
                            + " partitions, configuration says " + t.partitions() + "; left unchanged";
                    warnings.add(warning);
                    LOGGER.warn("Topic partition count mismatch topic={} actual={} configured={}",
                            t.name(), d.partitions().size(), t.partitions());
                }
            }
        }
        return new Report(created, existing, warnings);
    }

    /**
     * Describes topics the controller said exist. A broker learns of a topic another process just
     * created a moment later than the controller (KRaft metadata propagates): until then it answers
     * "unknown topic", so that answer is asked again, until {@code timeout}.
     */
    private static Map<String, TopicDescription> describeExisting(Admin admin, List<String> existing, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (true) {
            long left = Math.max(1, TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime()));
            try {
                return admin.describeTopics(existing).allTopicNames().get(left, TimeUnit.MILLISECONDS);
            } catch (ExecutionException e) {
                if (!(e.getCause() instanceof UnknownTopicOrPartitionException) || System.nanoTime() - deadline > 0) {
                    throw new IllegalStateException("cannot describe existing topics " + existing + ": " + e.getMessage(), e);
                }
                LOGGER.debug("Existing topics not yet known to the broker, asking again topics={}", existing);
            } catch (TimeoutException e) {
                throw new IllegalStateException("cannot describe existing topics " + existing + ": " + e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while describing topics", e);
            }
            try {
                Thread.sleep(100);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException("interrupted while describing topics", e);
            }
        }
    }

    static NewTopic newTopic(TopicSettings t) {
        Map<String, String> configs = new HashMap<>();
        configs.put(TopicConfig.RETENTION_MS_CONFIG, Long.toString(t.retentionMs()));
        configs.put(TopicConfig.CLEANUP_POLICY_CONFIG, t.compacted() ? TopicConfig.CLEANUP_POLICY_COMPACT : TopicConfig.CLEANUP_POLICY_DELETE);
        return new NewTopic(t.name(), t.partitions(), t.replicationFactor()).configs(configs);
    }
}
