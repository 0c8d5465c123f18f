package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.BackendMessage;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

/**
 * The client side of a session in memory, for tests without a client socket: every message the
 * edge writes or relays goes to {@link #receive}, encoded with the given allocator; pause, resume
 * and close are remembered. A plaintext client at 127.0.0.1 with a fixed cancel key.
 */
abstract class InMemoryPgClient implements PgClient {
    private final ByteBufAllocator alloc;
    boolean paused;
    boolean closed;

    InMemoryPgClient(ByteBufAllocator alloc) {
        this.alloc = alloc;
    }

    /** One message the client received, as a frame; takes ownership of it. */
    abstract void receive(ByteBuf frame);

    @Override
    public void write(BackendMessage message) {
        receive(message.encode(alloc));
    }

    @Override
    public void relay(ByteBuf frame) {
        receive(frame);
    }

    @Override
    public void flush() {
    }

    @Override
    public boolean writeQueueFull() {
        return false;
    }

    @Override
    public void pause() {
        paused = true;
    }

    @Override
    public void resume() {
        paused = false;
    }

    @Override
    public void close() {
        closed = true;
    }

    @Override
    public boolean tls() {
        return false;
    }

    @Override
    public String address() {
        return "127.0.0.1:1";
    }

    @Override
    public String ip() {
        return "127.0.0.1";
    }

    @Override
    public int processId() {
        return 4711;
    }

    @Override
    public int secretKey() {
        return 42;
    }

    @Override
    public void register() {
    }

    @Override
    public void unregister() {
    }
}
