package dev.gatehouse.platform.kafka;

import dev.gatehouse.platform.core.AuditEvent;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

import java.nio.charset.StandardCharsets;
import java.util.Set;

/**
 * The record header {@value #NAME} that names an audit record's event type ({@code CommandReceived},
 * {@code DecisionMade}, ...: the simple name of its {@link AuditEvent} record), so that a consumer
 * that handles a few types skips the others without decoding them. The value is a hint for
 * skipping only: what a record is, is what its value decodes to. Records without the header
 * (written by an older release or by a writer that does not set it) are decoded as before.
 */
public final class EventTypeHeader {

    /** The header's key. */
    public static final String NAME = "gatehouse.event";

    /** The types the policy service decides: {@link AuditEvent.DecisionRequest}'s. */
    public static final Set<String> DECISION_REQUESTS = Set.of(
            AuditEvent.CommandReceived.class.getSimpleName(), AuditEvent.SessionRequested.class.getSimpleName());

    private EventTypeHeader() {
    }

    /** The header for {@code event}. */
    public static Header of(AuditEvent event) {
        return new RecordHeader(NAME, event.getClass().getSimpleName().getBytes(StandardCharsets.US_ASCII));
    }

    /** The type a record's header names, or null when it has none. */
    public static String of(ConsumerRecord<?, ?> record) {
        Header h = record.headers().lastHeader(NAME);
        return h == null || h.value() == null ? null : new String(h.value(), StandardCharsets.US_ASCII);
    }

    /** Whether {@code record} may be one of {@code types}: it names one of them, or names none. */
    public static boolean mayBe(ConsumerRecord<?, ?> record, Set<String> types) {
        String type = of(record);
        return type == null || types.contains(type);
    }
}
