package dev.gatehouse.leakguard;

import io.netty.util.ResourceLeakDetector;
import io.netty.util.ResourceLeakTracker;

/**
 * Netty's leak detector, but a report is also recorded for {@link LeakGuard}, which fails the test
 * with it (Netty itself only logs "LEAK: ... release() was not called").
 *
 * <p>Netty creates one detector per kind of resource (ByteBuf, timers, ...) through its
 * {@code io.netty.customResourceLeakDetector} system property, which {@link LeakGuard#install()}
 * sets before Netty is first used. Netty reports a leak only when the leaked object has been
 * garbage-collected and the same detector is next asked to track something; {@link #poll()}
 * does that on demand.
 */
public final class RecordingLeakDetector<T> extends ResourceLeakDetector<T> {

    private final String resourceType;

    /** The constructor Netty's factory looks up for {@code io.netty.customResourceLeakDetector}. */
    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval) {
        super(resourceType, samplingInterval);
        this.resourceType = resourceType.getSimpleName();
        LeakGuard.register(this);
    }

    /** The older constructor Netty's factory also looks up; {@code maxActive} has no effect in Netty 4.1+. */
    public RecordingLeakDetector(Class<?> resourceType, int samplingInterval, long maxActive) {
        this(resourceType, samplingInterval);
    }

    /** Reports even when Netty's own logger is switched off, where Netty would drop them silently. */
    @Override
    protected boolean needReport() {
        return true;
    }

    @Override
    protected void reportTracedLeak(String resourceType, String records) {
        if (LeakGuard.sentinelReported(records)) {
            return;
        }
        super.reportTracedLeak(resourceType, records);
        LeakGuard.record(new LeakReport(resourceType, records, Thread.currentThread().getName()));
    }

    @Override
    protected void reportUntracedLeak(String resourceType) {
        super.reportUntracedLeak(resourceType);
        LeakGuard.record(new LeakReport(resourceType, "", Thread.currentThread().getName()));
    }

    /** Makes Netty report now what the garbage collector has found leaked so far for this detector. */
    void poll() {
        T probe = newObject();
        trackForcibly(probe).close(probe);
    }

    /**
     * Tracks an object that is never released and becomes unreachable at once: when it is reported,
     * every resource that became unreachable before it has been reported too.
     */
    void plantSentinel(String marker) {
        ResourceLeakTracker<T> tracker = trackForcibly(newObject());
        tracker.record(marker);
    }

    @Override
    public String toString() {
        return resourceType;
    }

    @SuppressWarnings("unchecked")
    private T newObject() {
        return (T) new Object(); // the detector only holds it weakly; its type is never looked at
    }
}
