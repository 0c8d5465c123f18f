package dev.gatehouse.edge.session;

import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.SqlCommand;

/**
 * One command between its submission and its completion, as the core tracks it. Read by the
 * protocol adapter (its SQL command, its own payload, the decision it runs under); changed only
 * by the core, on the session's thread.
 */
public final class PendingCommand {
    private final CommandDraft draft;
    private final SqlCommand command;
    private final long startNanos;
    private Decision decision;
    private boolean forwarded;
    private boolean completed;
    private long noticeTimer = -1;

    PendingCommand(CommandDraft draft, SqlCommand command, long startNanos) {
        this.draft = draft;
        this.command = command;
        this.startNanos = startNanos;
    }

    /** The command as recorded: id, sequence, statements and their analysis. */
    public SqlCommand command() {
        return command;
    }

    /** What the adapter submitted, its payload included. */
    public CommandDraft draft() {
        return draft;
    }

    /** The adapter's own state for this command. */
    @SuppressWarnings("unchecked")
    public <T> T payload() {
        return (T) draft.payload();
    }

    /** The decision it runs (or was refused) under; null before one arrived or in observe mode. */
    public Decision decision() {
        return decision;
    }

    /** When it was submitted ({@link System#nanoTime()}). */
    public long startNanos() {
        return startNanos;
    }

    /** Whether the core let it reach the target. */
    public boolean forwarded() {
        return forwarded;
    }

    /** Whether its CommandCompleted was written. */
    public boolean completed() {
        return completed;
    }

    void decided(Decision d) {
        this.decision = d;
    }

    void markForwarded() {
        this.forwarded = true;
    }

    void markCompleted() {
        this.completed = true;
    }

    long noticeTimer() {
        return noticeTimer;
    }

    void noticeTimer(long id) {
        this.noticeTimer = id;
    }

    @Override
    public String toString() {
        return "PendingCommand[" + command.id() + " #" + command.sequence() + "]";
    }
}
