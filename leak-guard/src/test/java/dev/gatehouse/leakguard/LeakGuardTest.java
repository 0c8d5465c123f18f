package dev.gatehouse.leakguard;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.core.LauncherConfig;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;
import org.junit.platform.launcher.listeners.TestExecutionSummary;
import org.junit.platform.launcher.listeners.TestExecutionSummary.Failure;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;
import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

/**
 * The guard itself, with buffers leaked on purpose: each test takes the report it provoked, so
 * the guard does not fail this module's run for them.
 */
class LeakGuardTest {

    private static volatile boolean runningLeakingTests;

    @BeforeEach
    void nettyCreatesRecordingDetectors() {
        // Given (Netty's ByteBuf detector is created with the first buffer, after the session opened)
        ByteBufAllocator.DEFAULT.buffer(1).release();
        assertThat(LeakGuard.isActive()).as("leak guard installed by its session listener").isTrue();
    }

    @Test
    void recordsALeakedBufferWithWhereItWasCreated() {
        // Given
        leakABuffer();

        // When
        List<LeakReport> reports = LeakGuard.collectAndDrain();

        // Then
        assertThat(reports).singleElement().satisfies(r -> {
            assertThat(r.resourceType()).isEqualTo("ByteBuf");
            assertThat(r.records()).contains("LeakGuardTest.leakABuffer");
        });
    }

    @Test
    void reportsNothingForBuffersThatWereReleased() {
        // Given
        ByteBuf buf = ByteBufAllocator.DEFAULT.buffer(16).writeLong(42);
        buf.release();

        // When
        List<LeakReport> reports = LeakGuard.collectAndDrain();

        // Then
        assertThat(reports).isEmpty();
    }

    @Test
    void aLeakReportedDuringATestFailsThatTest() {
        // Given
        Launcher launcher = LauncherFactory.create(LauncherConfig.builder()
                .enableLauncherSessionListenerAutoRegistration(false) // this JVM's own session guards the run
                .build());
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(selectClass(LeakingTests.class))
                .configurationParameter("junit.jupiter.extensions.autodetection.enabled", "true")
                .configurationParameter("junit.jupiter.extensions.autodetection.include", "dev.gatehouse.*")
                .build();
        SummaryGeneratingListener listener = new SummaryGeneratingListener();

        // When
        runningLeakingTests = true;
        try {
            launcher.execute(request, listener);
        } finally {
            runningLeakingTests = false;
        }

        // Then
        TestExecutionSummary summary = listener.getSummary();
        assertThat(summary.getTestsSucceededCount()).as("the test that released its buffer").isEqualTo(1);
        assertThat(summary.getFailures()).singleElement().satisfies((Failure f) -> {
            assertThat(f.getTestIdentifier().getDisplayName()).isEqualTo("leaksABuffer()");
            assertThat(f.getException()).isInstanceOf(NettyLeakError.class)
                    .hasMessageContaining("during test " + LeakingTests.class.getName() + " > leaksABuffer()")
                    .hasMessageContaining("LeakGuardTest.leakABuffer");
            assertThat(((NettyLeakError) f.getException()).reports()).hasSize(1);
        });
    }

    @Test
    void theEndOfTheRunSurfacesLeaksTheGarbageCollectorHasNotFoundYet() {
        // Given
        leakABuffer();

        // When / Then
        assertThatThrownBy(() -> new LeakGuardSessionListener().launcherSessionClosed(null))
                .isInstanceOf(NettyLeakError.class)
                .hasMessageContaining("during the test run")
                .hasMessageContaining("LeakGuardTest.leakABuffer");
    }

    private static void leakABuffer() {
        ByteBufAllocator.DEFAULT.buffer(16).writeLong(42);
    }

    /** Run only by {@link #aLeakReportedDuringATestFailsThatTest()}, through a launcher of its own. */
    static class LeakingTests {

        @BeforeEach
        void onlyAsPartOfTheGuardsOwnTest() {
            assumeTrue(runningLeakingTests, "leaks on purpose; run by LeakGuardTest");
        }

        @Test
        void leaksABuffer() {
            leakABuffer();
            LeakGuard.collect();
        }

        @Test
        void releasesItsBuffer() {
            ByteBufAllocator.DEFAULT.buffer(16).release();
            LeakGuard.collect();
        }
    }
}
