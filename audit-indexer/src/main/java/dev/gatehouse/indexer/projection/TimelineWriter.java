package dev.gatehouse.indexer.projection;

import java.util.Optional;

/**
 * What {@link TimelineProjection} reads and writes while it folds one event: sessions and their
 * entries. A store implements it inside its transaction; tests use {@link InMemoryTimelines}.
 */
public interface TimelineWriter {

    Optional<SessionSummary> session(String sessionId);

    void putSession(SessionSummary summary);

    /** The command entry of a command id in a session. */
    Optional<Entry.CommandEntry> command(String sessionId, String commandId);

    /**
     * Whether a command id is stored in a session already, asked once per {@code CommandReceived}:
     * a command's first record, so almost always no. A store may answer no without looking, when a
     * command stored twice fails its transaction (a unique key) and it projects the batch again
     * looking.
     */
    default boolean commandStored(String sessionId, String commandId) {
        return command(sessionId, commandId).isPresent();
    }

    /** The command entry whose approval has this id. */
    Optional<Entry.CommandEntry> commandByApproval(String sessionId, String approvalId);

    /** Adds or replaces (same command id) a command entry. */
    void putCommand(String sessionId, Entry.CommandEntry entry);

    void addEvent(String sessionId, Entry.EventEntry entry);
}
