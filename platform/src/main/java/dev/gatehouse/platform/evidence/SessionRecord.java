package dev.gatehouse.platform.evidence;

import java.util.Arrays;
import java.util.Objects;

/**
 * One event of a session as the log holds it: where it sits and its exact record value bytes,
 * which are what the chain hashes.
 *
 * @param partition the partition of {@code gatehouse.audit}
 * @param offset    the offset within that partition
 * @param eventId   the event's id (from its envelope)
 * @param value     the exact Kafka record value: the Avro single-object encoded event
 */
public record SessionRecord(int partition, long offset, String eventId, byte[] value) {
    public SessionRecord {
        Objects.requireNonNull(eventId, "eventId");
        value = Objects.requireNonNull(value, "value").clone();
    }

    /** A copy of the record value bytes. */
    @Override
    public byte[] value() {
        return value.clone();
    }

    @Override
    public boolean equals(Object other) {
        return other instanceof SessionRecord r && r.partition == partition && r.offset == offset
                && r.eventId.equals(eventId) && Arrays.equals(r.value, value);
    }

    @Override
    public int hashCode() {
        return Objects.hash(partition, offset, eventId, Arrays.hashCode(value));
    }

    @Override
    public String toString() {
        return "SessionRecord[" + partition + "@" + offset + ", " + eventId + ", " + value.length + " bytes]";
    }
}
