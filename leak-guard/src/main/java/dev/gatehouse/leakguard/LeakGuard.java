package dev.gatehouse.leakguard;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Queue;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.TimeUnit;

/**
 * Turns Netty's leak reports into test failures. Netty's {@code ResourceLeakDetector} only logs
 * "LEAK: ... release() was not called"; here each report is recorded, and whoever checks next
 * fails with the records: {@link LeakGuardExtension} after every test and test class,
 * {@link LeakGuardSessionListener} at the end of the test run, after a garbage collection that
 * makes Netty report what is still pending.
 *
 * <p>Netty notices a leak only after the garbage collector has reclaimed the leaked object, so a
 * report that fails a test may come from an earlier test of the same JVM; its records say where
 * the resource was created and last touched.
 */
public final class LeakGuard {

    /** Netty's system property naming the leak detector class its factory instantiates. */
    public static final String DETECTOR_PROPERTY = "io.netty.customResourceLeakDetector";

    private static final String SENTINEL = "leak-guard sentinel ";
    private static final int SETTLE_LIMIT_SECONDS = 30;

    private static final Set<RecordingLeakDetector<?>> DETECTORS = ConcurrentHashMap.newKeySet();
    private static final Queue<LeakReport> REPORTS = new ConcurrentLinkedQueue<>();
    private static final Set<String> SENTINELS_REPORTED = ConcurrentHashMap.newKeySet();

    private LeakGuard() {
    }

    /**
     * Makes Netty create {@link RecordingLeakDetector}s, unless the JVM was started with another
     * custom detector. Takes effect only if Netty has not created its leak detectors yet, that is
     * before the first buffer is allocated: {@link LeakGuardSessionListener} calls it when the
     * test JVM's JUnit session opens.
     */
    public static void install() {
        if (System.getProperty(DETECTOR_PROPERTY) == null) {
            System.setProperty(DETECTOR_PROPERTY, RecordingLeakDetector.class.getName());
        }
    }

    /** True once Netty has created at least one {@link RecordingLeakDetector} in this JVM. */
    public static boolean isActive() {
        return !DETECTORS.isEmpty();
    }

    /**
     * The leaks reported since the last call, after asking every detector to report what the
     * garbage collector has already found (no collection is forced: cheap enough for every test).
     */
    public static List<LeakReport> pollAndDrain() {
        DETECTORS.forEach(RecordingLeakDetector::poll);
        return drain();
    }

    /**
     * The leaks reported since the last call, without asking the detectors (at Netty's paranoid
     * level they check with every allocation): cheap enough for every fuzz input.
     */
    public static List<LeakReport> drain() {
        List<LeakReport> reports = new ArrayList<>();
        LeakReport r;
        while ((r = REPORTS.poll()) != null) {
            reports.add(r);
        }
        return reports;
    }

    /**
     * Collects garbage until Netty has reported every resource that is unreachable now, then
     * {@link #pollAndDrain()}s. Each detector gets a sentinel, an object tracked and dropped at once;
     * when Netty has reported all sentinels (usually after one collection), nothing that leaked
     * before them is still pending. Between collections it gives the reference handler thread
     * more and more time (a loaded machine); after 30 s (or in a JVM
     * started with {@code -XX:+DisableExplicitGC}) it gives up and says so on standard error.
     */
    public static List<LeakReport> collectAndDrain() {
        collect();
        return pollAndDrain();
    }

    /** The collection part of {@link #collectAndDrain()}: the reports stay queued. */
    static void collect() {
        Map<String, RecordingLeakDetector<?>> pending = new LinkedHashMap<>();
        for (RecordingLeakDetector<?> detector : DETECTORS) {
            String marker = SENTINEL + UUID.randomUUID();
            detector.plantSentinel(marker);
            pending.put(marker, detector);
        }
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SETTLE_LIMIT_SECONDS);
        int collections = 0;
        long pauseMillis = 10;
        while (true) {
            System.gc();
            collections++;
            DETECTORS.forEach(RecordingLeakDetector::poll);
            if (SENTINELS_REPORTED.containsAll(pending.keySet())) {
                break;
            }
            if (System.nanoTime() - deadline > 0) {
                System.err.println("leak-guard: after " + collections + " garbage collections in "
                        + SETTLE_LIMIT_SECONDS + " s, Netty has not reported the sentinels of " + pending.entrySet()
                        .stream().filter(e -> !SENTINELS_REPORTED.contains(e.getKey())).map(e -> e.getValue().toString())
                        .toList() + "; leaks reported later in this JVM are missed");
                break;
            }
            pause(pauseMillis); // the reference handler thread enqueues what the collection cleared
            pauseMillis = Math.min(2 * pauseMillis, 1000);
            DETECTORS.forEach(RecordingLeakDetector::poll);
            if (SENTINELS_REPORTED.containsAll(pending.keySet())) {
                break;
            }
        }
        SENTINELS_REPORTED.removeAll(pending.keySet());
    }

    /**
     * Throws a {@link NettyLeakError} listing {@code reports} if there are any.
     *
     * @param during what ran while they were reported, for the message ("test X", "the test run")
     */
    public static void failIfAny(List<LeakReport> reports, String during) {
        if (!reports.isEmpty()) {
            throw new NettyLeakError(reports, during);
        }
    }

    static void register(RecordingLeakDetector<?> detector) {
        DETECTORS.add(detector);
    }

    static void record(LeakReport report) {
        REPORTS.add(report);
    }

    /** True, and noted, if {@code records} are those of a sentinel rather than a real leak. */
    static boolean sentinelReported(String records) {
        int at = records.indexOf(SENTINEL);
        if (at < 0) {
            return false;
        }
        int end = at + SENTINEL.length() + 36; // a UUID
        SENTINELS_REPORTED.add(records.substring(at, Math.min(end, records.length())));
        return true;
    }

    private static void pause(long millis) {
        try {
            TimeUnit.MILLISECONDS.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
