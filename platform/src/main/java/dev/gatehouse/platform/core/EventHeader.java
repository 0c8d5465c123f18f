package dev.gatehouse.platform.core;

import java.time.Instant;
import java.util.Objects;

/**
 * What every audit event carries.
 *
 * @param eventId   unique id of this event (consumers de-duplicate on it)
 * @param sessionId the session the event belongs to; the Kafka key
 * @param timestamp when the producing service created the event
 * @param service   the producing service ("edge", "policy", ...)
 * @param instance  the producing instance (edge id, host name)
 */
public record EventHeader(String eventId, SessionId sessionId, Instant timestamp, String service, String instance) {
    public EventHeader {
        Objects.requireNonNull(eventId, "eventId");
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(service, "service");
        Objects.requireNonNull(instance, "instance");
    }

    public static EventHeader now(SessionId sessionId, String service, String instance) {
        return at(sessionId, Instant.now(), service, instance);
    }

    /** A new event's header: a new id ({@link Ids}), at {@code timestamp}. */
    public static EventHeader at(SessionId sessionId, Instant timestamp, String service, String instance) {
        return new EventHeader(Ids.next(), sessionId, timestamp, service, instance);
    }
}
