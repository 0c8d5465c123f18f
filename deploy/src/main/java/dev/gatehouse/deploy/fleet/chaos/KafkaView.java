package dev.gatehouse.deploy.fleet.chaos;

import dev.gatehouse.platform.kafka.KafkaClients;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.admin.TopicDescription;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** What the chaos run asks the brokers: partition leaders and end offsets, with the Kafka Admin API. */
final class KafkaView {

    private static final Duration TIMEOUT = Duration.ofSeconds(20);

    private KafkaView() {
    }

    /** Leader node id by partition of each topic (-1: no leader now). */
    static Map<String, Map<Integer, Integer>> leaders(String bootstrapServers, List<String> topics) {
        try (Admin admin = Admin.create(KafkaClients.admin(bootstrapServers, "gatehouse-chaos", TIMEOUT))) {
            Map<String, TopicDescription> described = admin.describeTopics(topics).allTopicNames()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
            Map<String, Map<Integer, Integer>> leaders = new TreeMap<>();
            described.forEach((topic, d) -> {
                Map<Integer, Integer> byPartition = new TreeMap<>();
                for (TopicPartitionInfo p : d.partitions()) {
                    Node leader = p.leader();
                    byPartition.put(p.partition(), leader == null ? -1 : leader.id());
                }
                leaders.put(topic, byPartition);
            });
            return leaders;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking for partition leaders", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot describe topics " + topics + ": " + e, e);
        }
    }

    /** The node leading the most partitions of the topics (ties: the lowest id); -1 when none has a leader. */
    static int busiestLeader(Map<String, Map<Integer, Integer>> leaders) {
        Map<Integer, Integer> counts = new TreeMap<>();
        leaders.values().forEach(m -> m.values().forEach(id -> {
            if (id >= 0) counts.merge(id, 1, Integer::sum);
        }));
        int best = -1;
        int most = 0;
        for (Map.Entry<Integer, Integer> e : counts.entrySet()) {
            if (e.getValue() > most) {
                best = e.getKey();
                most = e.getValue();
            }
        }
        return best;
    }

    /** The end offset of every partition of {@code topic}. */
    static Map<Integer, Long> endOffsets(String bootstrapServers, String topic) {
        try (Admin admin = Admin.create(KafkaClients.admin(bootstrapServers, "gatehouse-chaos", TIMEOUT))) {
            TopicDescription d = admin.describeTopics(List.of(topic)).allTopicNames()
                    .get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS).get(topic);
            Map<TopicPartition, OffsetSpec> query = new HashMap<>();
            for (TopicPartitionInfo p : d.partitions()) query.put(new TopicPartition(topic, p.partition()), OffsetSpec.latest());
            Map<Integer, Long> ends = new TreeMap<>();
            admin.listOffsets(query).all().get(TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
                    .forEach((tp, info) -> ends.put(tp.partition(), info.offset()));
            return ends;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while asking for end offsets", e);
        } catch (ExecutionException | TimeoutException e) {
            throw new IllegalStateException("cannot read the end offsets of " + topic + ": " + e, e);
        }
    }
}
