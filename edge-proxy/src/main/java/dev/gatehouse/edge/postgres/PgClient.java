package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.BackendMessage;
import io.netty.buffer.ByteBuf;

/**
 * The client side of a PostgreSQL session as the adapter sees it: where answers go, and the
 * session's place in the edge (its cancel key, its registration). The socket glue
 * ({@link PgSession}) implements it over a Vert.x socket; tests implement it in memory.
 */
interface PgClient {
    /** Encodes and writes a message, flushed. */
    void write(BackendMessage message);

    /** Writes a frame from the target without flushing; takes ownership of the buffer. */
    void relay(ByteBuf frame);

    /** Flushes what was relayed. */
    void flush();

    /** Whether the client reads slower than answers arrive (its outbound buffer is above its high-water mark). */
    boolean writeQueueFull();

    /** Stops reading from the client. */
    void pause();

    /** Reads from the client again. */
    void resume();

    /** Closes the client connection (after what was written). */
    void close();

    /** Whether the client connection is encrypted. */
    boolean tls();

    /** The client's address as host:port. */
    String address();

    /** The client's IP address, without the port; may be null. */
    String ip();

    /** The process id the edge gave the client (its cancel key with {@link #secretKey()}). */
    int processId();

    int secretKey();

    /** Makes the session known to the edge's registry (cancel routing, kills, the fleet directory). */
    void register();

    void unregister();
}
