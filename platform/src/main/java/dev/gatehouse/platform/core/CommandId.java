package dev.gatehouse.platform.core;

import java.util.Objects;

/** Identifies one decoded command; decisions and completions refer to it. */
public record CommandId(String value) {
    public CommandId {
        Objects.requireNonNull(value, "value");
        if (value.isBlank()) throw new IllegalArgumentException("command id must not be blank");
    }

    public static CommandId random() {
        return new CommandId(Ids.next());
    }

    @Override
    public String toString() {
        return value;
    }
}
