package dev.gatehouse.leakguard;

import org.junit.platform.launcher.LauncherSession;
import org.junit.platform.launcher.LauncherSessionListener;

import java.util.List;

/**
 * Installs the {@link RecordingLeakDetector} when a test JVM's JUnit session opens (before any
 * test touches Netty), and at its end collects garbage so that pending leak reports surface, then
 * fails the run with their records. Registered through {@code META-INF/services}, so it is active
 * wherever this artifact is on the test class path (test-support brings it to every module).
 */
public final class LeakGuardSessionListener implements LauncherSessionListener {

    @Override
    public void launcherSessionOpened(LauncherSession session) {
        LeakGuard.install();
    }

    @Override
    public void launcherSessionClosed(LauncherSession session) {
        if (!LeakGuard.isActive()) {
            return; // Netty never created a leak detector: nothing was tracked
        }
        long start = System.nanoTime();
        List<LeakReport> reports = LeakGuard.collectAndDrain();
        LeakGuard.failIfAny(reports, "the test run (found by the final garbage collection)");
        System.out.printf("leak-guard: no leak reported by the end of the test run (final collection: %d ms)%n",
                (System.nanoTime() - start) / 1_000_000);
    }
}
