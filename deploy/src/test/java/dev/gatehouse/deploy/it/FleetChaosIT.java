package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.fleet.chaos.ChaosRun;
import dev.gatehouse.deploy.fleet.chaos.ChaosSummary;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A short chaos run on the whole fleet (every member in its own process, haproxy in front of the
 * edges): 90 s of load with the six faults compressed into it. Nothing may run on the target
 * unrecorded or undecided, every allowed command must complete or end with its aborted session,
 * and an indexer rebuilt from the log must give the live one's digests.
 */
class FleetChaosIT {

    @Test
    void killingTheFleetsProcessesUnderLoadLetsNothingSlipThrough(@TempDir Path dir) throws IOException {
        // Given
        ChaosRun.Options options = new ChaosRun.Options(dir, freePort(), Duration.ofSeconds(90), 3, Duration.ofMillis(20),
                Duration.ofSeconds(10), Duration.ofSeconds(120));

        // When
        long started = System.nanoTime();
        ChaosSummary summary = ChaosRun.run(options, line -> System.out.println("chaos: " + line));
        System.out.print(summary.render());
        System.out.printf("FleetChaosIT took %.1f min%n", (System.nanoTime() - started) / 60e9);

        // Then
        assertThat(summary.faults()).hasSize(6);
        assertThat(summary.findings().clientStatements()).as(summary.render()).isGreaterThan(100);
        assertThat(summary.findings().withoutEarlierCommandReceived()).as(summary.render()).isZero();
        assertThat(summary.findings().forwardedWithoutDecision()).as(summary.render()).isZero();
        assertThat(summary.findings().allowedWithoutCompletion()).as(summary.render()).isZero();
        assertThat(summary.digests().equal()).as(summary.render()).isTrue();
        assertThat(summary.passed()).isTrue();
        assertThat(dir.resolve("chaos-summary.json")).exists();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }
}
