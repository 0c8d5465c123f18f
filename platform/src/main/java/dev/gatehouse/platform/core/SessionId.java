package dev.gatehouse.platform.core;

import java.util.Objects;
import java.util.UUID;

/** Identifies one client session at one edge; the key of every audit event of that session. */
public record SessionId(String value) {
    public SessionId {
        Objects.requireNonNull(value, "value");
        if (value.isBlank()) throw new IllegalArgumentException("session id must not be blank");
    }

    public static SessionId random() {
        return new SessionId(UUID.randomUUID().toString());
    }

    @Override
    public String toString() {
        return value;
    }
}
