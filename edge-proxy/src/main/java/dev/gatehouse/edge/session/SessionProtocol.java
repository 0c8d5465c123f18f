package dev.gatehouse.edge.session;

import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.platform.core.Decision;

import java.util.Map;
import java.util.concurrent.CompletionStage;

/**
 * What the protocol-neutral {@link SessionCore} asks of a protocol adapter (PostgreSQL, MySQL):
 * everything that has to do with bytes on the wire. Called on the session's thread only.
 */
public interface SessionProtocol {

    /** The protocol's name as events record it ("postgres", "mysql"). */
    String name();

    /** The protocol's own error code for a refusal (a PostgreSQL SQLSTATE), as events record it. */
    String errorCode(Refusal refusal);

    /** What the target said when the edge logged in. */
    record TargetLogin(Map<String, String> targetParameters, Integer targetProcessId) {
        public TargetLogin {
            targetParameters = targetParameters == null ? Map.of() : Map.copyOf(targetParameters);
        }
    }

    /**
     * Logs in to the target with the connection's own credentials; the stage may complete on any
     * thread and fails with a message a client may see (never a credential).
     */
    CompletionStage<TargetLogin> connectTarget(TargetConnection target);

    /** The session is registered: the edge's fleet directory and cancel routing know it. */
    void register();

    /** The session is no longer registered. */
    void unregister();

    /** The session is open: tell the client it is logged in, and start taking commands. */
    void opened();

    /**
     * Runs the command at the target under {@code decision} (an {@link Decision.Allow} or a
     * {@link Decision.Mask}; observe mode: Allow). The adapter calls
     * {@link SessionCore#completed} once the target answered all of it, or, when it cannot carry
     * the decision out (a mask it cannot apply), answers with an error and calls it then.
     */
    void forward(PendingCommand command, Decision decision);

    /**
     * Answers the command with an error, as the target would answer a failed command (leaving
     * client and target in the same transaction state), without running any of it; then calls
     * {@link SessionCore#completed}.
     */
    void reject(PendingCommand command, Refusal refusal);

    /** An informational message to the client while a command waits (PostgreSQL NoticeResponse). */
    void notice(String message);

    /** Sends a fatal error to the client; the core closes the session right after. */
    void fatal(Refusal refusal);

    /** Asks the target to cancel what it is running for this session. */
    void cancelAtTarget();

    /** Closes the client and target connections. Idempotent. */
    void close();
}
