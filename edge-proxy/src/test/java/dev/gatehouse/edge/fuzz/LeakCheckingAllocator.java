package dev.gatehouse.edge.fuzz;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.UnpooledDirectByteBuf;
import io.netty.buffer.UnpooledHeapByteBuf;

import java.util.ArrayList;
import java.util.List;

/**
 * An allocator that remembers every buffer it hands out, so that a fuzz target can check after
 * each input that all of them were released: a leak is pinned on the input that caused it, not
 * on whatever runs when the garbage collector gets to it. Its buffers are also tracked by Netty's
 * leak detector, as any allocator's (the fuzz runs with {@code -Dio.netty.leakDetection.level=paranoid}).
 * Unpooled heap buffers unless asked for direct ones; one thread at a time, as an event loop.
 */
final class LeakCheckingAllocator extends AbstractByteBufAllocator {

    private final List<ByteBuf> handedOut = new ArrayList<>();

    LeakCheckingAllocator() {
        super(false);
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledHeapByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        return track(new UnpooledDirectByteBuf(this, initialCapacity, maxCapacity));
    }

    @Override
    public boolean isDirectBufferPooled() {
        return false;
    }

    private ByteBuf track(ByteBuf buf) {
        handedOut.add(buf);
        return toLeakAwareBuffer(buf);
    }

    /**
     * Fails if a buffer handed out since the last call has not been released (to a reference
     * count of zero), then forgets them all.
     */
    void assertAllReleased() {
        List<ByteBuf> unreleased = handedOut.stream().filter(b -> b.refCnt() > 0).toList();
        int total = handedOut.size();
        handedOut.clear();
        if (!unreleased.isEmpty()) {
            throw new BufferLeakError(unreleased.size() + " of the " + total + " buffers allocated for this input were"
                    + " not released; reference counts " + unreleased.stream().map(ByteBuf::refCnt).toList());
        }
    }

    /** Buffers left unreleased by one input (a name {@link FuzzRun} counts as a leak, not a crash). */
    static final class BufferLeakError extends AssertionError {

        private static final long serialVersionUID = 1L;

        BufferLeakError(String message) {
            super(message);
        }
    }
}
