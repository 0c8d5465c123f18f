package dev.gatehouse.indexer.projection;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/** Timelines held in memory: the fold's reference store, for tests and tools. Not thread-safe. */
public final class InMemoryTimelines implements TimelineWriter {

    private final Map<String, SessionSummary> sessions = new LinkedHashMap<>();
    private final Map<String, List<Entry>> entries = new LinkedHashMap<>();

    @Override
    public Optional<SessionSummary> session(String sessionId) {
        return Optional.ofNullable(sessions.get(sessionId));
    }

    @Override
    public void putSession(SessionSummary summary) {
        sessions.put(summary.sessionId(), summary);
    }

    @Override
    public Optional<Entry.CommandEntry> command(String sessionId, String commandId) {
        return commands(sessionId).filter(c -> c.commandId().equals(commandId)).findFirst();
    }

    @Override
    public Optional<Entry.CommandEntry> commandByApproval(String sessionId, String approvalId) {
        return commands(sessionId).filter(c -> c.approval() != null && approvalId.equals(c.approval().approvalId()))
                .findFirst();
    }

    private java.util.stream.Stream<Entry.CommandEntry> commands(String sessionId) {
        return entries.getOrDefault(sessionId, List.of()).stream()
                .filter(Entry.CommandEntry.class::isInstance).map(Entry.CommandEntry.class::cast);
    }

    @Override
    public void putCommand(String sessionId, Entry.CommandEntry entry) {
        List<Entry> list = entries.computeIfAbsent(sessionId, k -> new ArrayList<>());
        list.removeIf(e -> e instanceof Entry.CommandEntry c && c.commandId().equals(entry.commandId()));
        list.add(entry);
        list.sort(Comparator.comparingLong(Entry::offset));
    }

    @Override
    public void addEvent(String sessionId, Entry.EventEntry entry) {
        List<Entry> list = entries.computeIfAbsent(sessionId, k -> new ArrayList<>());
        list.add(entry);
        list.sort(Comparator.comparingLong(Entry::offset));
    }

    /** One session's timeline, entries in log order. */
    public Optional<Timeline> timeline(String sessionId) {
        Objects.requireNonNull(sessionId, "sessionId");
        return session(sessionId).map(s -> new Timeline(s, List.copyOf(entries.getOrDefault(sessionId, List.of()))));
    }

    /** Every session, in the order first seen. */
    public List<SessionSummary> sessions() {
        return List.copyOf(sessions.values());
    }
}
