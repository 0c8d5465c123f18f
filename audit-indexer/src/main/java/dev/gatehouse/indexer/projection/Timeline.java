package dev.gatehouse.indexer.projection;

import java.util.List;
import java.util.Objects;

/** One session and its entries in log order: the API's {@code {"session":..., "entries":[...]}}. */
public record Timeline(SessionSummary session, List<Entry> entries) {
    public Timeline {
        Objects.requireNonNull(session, "session");
        entries = List.copyOf(entries);
    }
}
