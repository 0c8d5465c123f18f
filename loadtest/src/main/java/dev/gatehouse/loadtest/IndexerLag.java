package dev.gatehouse.loadtest;

import dev.gatehouse.indexer.projection.AuditProjector;
import dev.gatehouse.platform.kafka.Topics;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListOffsetsResult;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.common.TopicPartition;

import java.io.IOException;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * How far the audit indexer is behind the audit log, two ways: its own gauge
 * ({@code gatehouse_indexer_lag} on the indexer process's {@code /metrics}: records not yet projected
 * on its partitions, as of its last poll), and the broker's view (the log end offsets of
 * {@code gatehouse.audit} minus the offsets the indexer's group committed after storing each batch).
 * Caught up means both are 0.
 */
public final class IndexerLag implements AutoCloseable {
    /** The indexer's lag gauge as Prometheus names it. */
    public static final String GAUGE = "gatehouse_indexer_lag";
    /** The indexer's consumer group, as the indexer names it. */
    static final String GROUP = AuditProjector.Settings.of("unused:9092", "unused").groupId();

    /** One reading; {@code gauge} is -1 when the indexer process does not export it. */
    public record Reading(long gauge, long committed) {
        public boolean zero() {
            return gauge <= 0 && committed == 0;
        }

        @Override
        public String toString() {
            return (gauge < 0 ? "n/a" : Long.toString(gauge)) + " / " + committed;
        }
    }

    private final Admin admin;
    private final GatewayProcess indexer;

    public IndexerLag(String bootstrapServers, GatewayProcess indexer) {
        this.admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                AdminClientConfig.CLIENT_ID_CONFIG, "gatehouse-loadtest-lag"));
        this.indexer = indexer;
    }

    public Reading read() throws IOException, InterruptedException {
        PrometheusText metrics = indexer.metrics();
        long gauge = metrics.has(GAUGE) ? Math.round(metrics.sum(GAUGE)) : -1;
        return new Reading(gauge, committedLag());
    }

    /**
     * Polls every 250 ms until the lag is 0 on both counts; returns how long that took, or null when it
     * did not happen within {@code bound}. The gauge is polled until it reads 0 and only then the
     * group's offsets, so that the wait adds few requests of its own to the broker's counts.
     */
    public Duration awaitZero(Duration bound) throws IOException, InterruptedException {
        long start = System.nanoTime();
        long deadline = start + bound.toNanos();
        while (true) {
            PrometheusText metrics = indexer.metrics();
            if ((!metrics.has(GAUGE) || metrics.sum(GAUGE) == 0) && committedLag() == 0) {
                return Duration.ofNanos(System.nanoTime() - start);
            }
            if (System.nanoTime() > deadline) return null;
            Thread.sleep(250);
        }
    }

    /** Log end offsets of the audit topic minus the group's committed offsets (a partition never committed counts whole). */
    private long committedLag() throws IOException, InterruptedException {
        try {
            Map<TopicPartition, OffsetAndMetadata> committed = admin.listConsumerGroupOffsets(GROUP)
                    .partitionsToOffsetAndMetadata().get(30, TimeUnit.SECONDS);
            List<TopicPartition> partitions = admin.describeTopics(List.of(Topics.AUDIT)).allTopicNames().get(30, TimeUnit.SECONDS)
                    .get(Topics.AUDIT).partitions().stream().map(p -> new TopicPartition(Topics.AUDIT, p.partition())).toList();
            Map<TopicPartition, OffsetSpec> latest = new HashMap<>();
            partitions.forEach(tp -> latest.put(tp, OffsetSpec.latest()));
            Map<TopicPartition, ListOffsetsResult.ListOffsetsResultInfo> ends = admin.listOffsets(latest).all().get(30, TimeUnit.SECONDS);
            long lag = 0;
            for (TopicPartition tp : partitions) {
                OffsetAndMetadata c = committed.get(tp);
                lag += Math.max(0, ends.get(tp).offset() - (c == null ? 0 : c.offset()));
            }
            return lag;
        } catch (ExecutionException | TimeoutException e) {
            throw new IOException("cannot read the indexer group's offsets: " + e, e);
        }
    }

    @Override
    public void close() {
        admin.close(Duration.ofSeconds(5));
    }
}
