package dev.gatehouse.deploy.it;

import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufAllocatorMetricProvider;
import io.netty.util.internal.PlatformDependent;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/**
 * What the edge hosted in this test JVM holds in memory: the heap retained after a full GC, and
 * the direct memory of Netty's default allocator (which every edge socket and codec uses) and of
 * the JDK's direct buffer pool. A relay that buffers a result stream, or leaks the frames it
 * relays, shows up in one of them.
 */
record EdgeMemory(long heapUsed, long nettyDirect, long jdkDirect) {

    /** Measures after a full collection (retained memory, not garbage). */
    static EdgeMemory measure() {
        for (int i = 0; i < 2; i++) System.gc();
        long heap = ManagementFactory.getMemoryMXBean().getHeapMemoryUsage().getUsed();
        long netty = ByteBufAllocator.DEFAULT instanceof ByteBufAllocatorMetricProvider p ? p.metric().usedDirectMemory() : 0;
        long noCleaner = Math.max(0, PlatformDependent.usedDirectMemory());
        long jdk = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class).stream()
                .filter(b -> b.getName().equals("direct")).mapToLong(BufferPoolMXBean::getMemoryUsed).sum();
        return new EdgeMemory(heap, netty, Math.max(jdk, noCleaner));
    }

    /** Heap plus direct memory; Netty's pooled chunks are JDK direct buffers or cleaner-less memory, so the max of the two direct figures. */
    long total() {
        return heapUsed + Math.max(nettyDirect, jdkDirect);
    }

    long growthSince(EdgeMemory baseline) {
        return total() - baseline.total();
    }

    @Override
    public String toString() {
        return "heap=" + mb(heapUsed) + " netty-direct=" + mb(nettyDirect) + " jdk-direct=" + mb(jdkDirect);
    }

    static String mb(long bytes) {
        return String.format("%.1f MB", bytes / (1024.0 * 1024.0));
    }
}
