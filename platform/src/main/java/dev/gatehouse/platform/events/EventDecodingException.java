package dev.gatehouse.platform.events;

/**
 * Bytes that are not a decodable event of ours: not single-object encoded, written with an unknown
 * schema, truncated, or holding values the core model refuses. Never carries the bytes themselves.
 */
public final class EventDecodingException extends RuntimeException {
    public EventDecodingException(String message) {
        super(message);
    }

    public EventDecodingException(String message, Throwable cause) {
        super(message, cause);
    }
}
