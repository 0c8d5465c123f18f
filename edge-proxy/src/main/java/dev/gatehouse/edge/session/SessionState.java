package dev.gatehouse.edge.session;

import dev.gatehouse.platform.core.Decision;

/**
 * Where a session is in its life, as explicit types: the core moves from one to the next and
 * nothing else holds the truth. Commands are taken one at a time: a command is {@link Deciding},
 * {@link Holding} for approval or {@link Running} (forwarded, or being answered with an error)
 * until the protocol adapter reports it completed; then the session is {@link Open} again.
 */
public sealed interface SessionState {

    /** Connected, no credentials yet (PostgreSQL: before the password message). */
    record Starting() implements SessionState {
    }

    /** The token is being validated. */
    record Authenticating() implements SessionState {
    }

    /** The connection attempt is being decided by {@code on: connect} rules (or recorded in observe mode). */
    record Requesting() implements SessionState {
    }

    /** The edge logs in to the target. */
    record Connecting() implements SessionState {
    }

    /** Open and idle: the next command may be submitted. */
    record Open() implements SessionState {
    }

    /** A command is recorded and awaits its decision. */
    record Deciding(PendingCommand command) implements SessionState {
    }

    /** A command waits for the approval service's outcome. */
    record Holding(PendingCommand command, Decision.RequireApproval approval) implements SessionState {
    }

    /** A command was forwarded (or is being answered with an error) and awaits its completion. */
    record Running(PendingCommand command) implements SessionState {
    }

    /** Ended. */
    record Closed(String reason) implements SessionState {
    }

    /** The command in flight, if any. */
    default PendingCommand command() {
        return switch (this) {
            case Deciding d -> d.command();
            case Holding h -> h.command();
            case Running r -> r.command();
            default -> null;
        };
    }

    /** True before the session opened (nothing was forwarded yet). */
    default boolean beforeOpen() {
        return this instanceof Starting || this instanceof Authenticating || this instanceof Requesting
                || this instanceof Connecting;
    }
}
