package dev.gatehouse.platform.kafka;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How one topic is created.
 *
 * @param name              topic name (Kafka's legal characters, at most 249)
 * @param partitions        partition count, at least 1
 * @param replicationFactor replication factor, at least 1 (1 for the embedded node, 3 in a fleet)
 * @param retention         how long records are kept; null keeps them forever
 * @param compacted         {@code cleanup.policy=compact} instead of delete
 */
public record TopicSettings(String name, int partitions, short replicationFactor, Duration retention, boolean compacted) {

    private static final Pattern LEGAL_NAME = Pattern.compile("[a-zA-Z0-9._-]{1,249}");

    public TopicSettings {
        Objects.requireNonNull(name, "name");
        if (!LEGAL_NAME.matcher(name).matches() || name.equals(".") || name.equals("..")) {
            throw new IllegalArgumentException("illegal topic name '" + name + "': use 1-249 of [a-zA-Z0-9._-]");
        }
        if (partitions < 1) throw new IllegalArgumentException("topic " + name + ": partitions must be >= 1, was " + partitions);
        if (replicationFactor < 1) {
            throw new IllegalArgumentException("topic " + name + ": replication factor must be >= 1, was " + replicationFactor);
        }
        if (retention != null && (retention.isNegative() || retention.isZero())) {
            throw new IllegalArgumentException("topic " + name + ": retention must be positive or absent (forever), was " + retention);
        }
    }

    /** {@code retention.ms} as Kafka wants it: -1 for forever. */
    public long retentionMs() {
        return retention == null ? -1L : retention.toMillis();
    }

    /**
     * The Gatehouse topics: audit kept forever, decisions and control for an hour; policies,
     * revocations and the session directory compacted (one partition each: small, read fully).
     *
     * @param partitions        partitions of audit, decisions and control
     * @param replicationFactor replication factor of all
     */
    public static List<TopicSettings> defaults(int partitions, short replicationFactor) {
        return List.of(
                new TopicSettings(Topics.AUDIT, partitions, replicationFactor, null, false),
                new TopicSettings(Topics.DECISIONS, partitions, replicationFactor, Duration.ofHours(1), false),
                new TopicSettings(Topics.CONTROL, partitions, replicationFactor, Duration.ofHours(1), false),
                new TopicSettings(Topics.POLICIES, 1, replicationFactor, null, true),
                new TopicSettings(Topics.REVOCATIONS, 1, replicationFactor, null, true),
                new TopicSettings(Topics.SESSIONS, 1, replicationFactor, null, true),
                // Derived from the audit log (rebuilt by resetting the exporter's group): a week is enough for a SIEM.
                new TopicSettings(Topics.AUDIT_OCSF, partitions, replicationFactor, Duration.ofDays(7), false),
                // Audit records the indexer could not decode, parked with the reason; kept forever like the audit log.
                new TopicSettings(Topics.AUDIT_DLQ, 1, replicationFactor, null, false),
                // The approval log is folded from its beginning by every approval-service instance:
                // kept 30 days, far longer than any approval's expiry plus its deferred validity.
                new TopicSettings(Topics.APPROVALS, 1, replicationFactor, Duration.ofDays(30), false));
    }
}
