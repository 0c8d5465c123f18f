package dev.gatehouse.platform.core;

import java.util.Objects;

/** Identifies one client session at one edge; the key of every audit event of that session. */
public record SessionId(String value) {
    public SessionId {
        Objects.requireNonNull(value, "value");
        if (value.isBlank()) throw new IllegalArgumentException("session id must not be blank");
    }

    /**
     * The key of fleet events that belong to no client session (policy activations,
     * revocations): {@code system:<subsystem>}, e.g. {@code system:policy}.
     */
    public static SessionId system(String subsystem) {
        return new SessionId("system:" + Objects.requireNonNull(subsystem, "subsystem"));
    }

    /** Whether this is a {@link #system} key rather than a client session. */
    public boolean isSystem() {
        return value.startsWith("system:");
    }

    public static SessionId random() {
        return new SessionId(Ids.next());
    }

    @Override
    public String toString() {
        return value;
    }
}
