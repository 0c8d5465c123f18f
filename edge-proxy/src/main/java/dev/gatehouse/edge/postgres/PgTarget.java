package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.FrontendMessage;

import java.util.List;
import java.util.concurrent.CompletionStage;

/**
 * The target side of a PostgreSQL session as the adapter sees it: log in, send messages, hold
 * back and resume its answers (which arrive through the {@link Upstream.Listener} it was opened
 * with), cancel what runs, close. {@link Upstream} is the real one; fuzzing uses a simulated
 * backend.
 */
interface PgTarget {
    /** Logs in with the connection's credentials; the stage fails with a message a client may see. */
    CompletionStage<Upstream.Ready> connect();

    /** Sends one message (a CopyData's buffer is released). */
    void write(FrontendMessage message);

    /** Sends messages in one write. */
    void writeAll(List<FrontendMessage> messages);

    /** Stops reading the target's answers. */
    void pause();

    /** Reads the target's answers again. */
    void resume();

    /** Asks the target to cancel what it runs for this session (on a connection of its own). */
    void cancel();

    void close();
}
