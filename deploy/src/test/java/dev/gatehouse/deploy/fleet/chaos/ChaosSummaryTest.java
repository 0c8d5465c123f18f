package dev.gatehouse.deploy.fleet.chaos;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ChaosSummaryTest {

    private static AuditLogCheck.Findings findings(long unvouched) {
        return new AuditLogCheck.Findings(7032, 2322, 6, 2, unvouched, List.of(), 2326, 0, 2326, 0, 0, List.of(), 0, List.of(), 4, 7);
    }

    private static ChaosSummary summary(long unvouched, ChaosSummary.DigestComparison digests, Duration stall) {
        return new ChaosSummary(Instant.parse("2026-12-05T01:51:00Z"), Duration.ofSeconds(90), Duration.ofSeconds(252), 3, 2322,
                List.of(new ChaosSummary.FaultResult("edge", List.of("edge-1"), Instant.parse("2026-12-05T01:53:00Z"),
                        Duration.ofSeconds(30), Duration.ofMillis(400), Duration.ofSeconds(31), stall, null)),
                findings(unvouched), Map.of("58000", 120L), Map.of("58000", "ERROR: gatehouse: the command was not executed"),
                digests, Map.of("edge-1", List.of(Duration.ofSeconds(52), Duration.ofSeconds(30))), ChaosRun.BROKER_STOP,
                ChaosRun.ABORT_MARKER);
    }

    private static final ChaosSummary.DigestComparison EQUAL = IndexerRebuild.compare("test", Map.of("s1", "aa"), Map.of("s1", "aa"));

    @Test
    void aCleanRunPassesEvenWhenAStallMissesTheGoal(@TempDir Path dir) throws Exception {
        // Given
        ChaosSummary s = summary(0, EQUAL, Duration.ofSeconds(24));

        // When
        String text = s.render();
        s.write(dir.resolve("chaos-summary.json"));

        // Then
        assertThat(s.passed()).isTrue();
        assertThat(text).contains("GOAL MISSED (> 15 s)").contains("result: PASSED").contains("stall goal MISSED for 1 fault(s)")
                .contains("without earlier CommandReceived:                   0 (must be 0: ok)")
                .contains("58000").contains("EQUAL (1 sessions live");
        JsonNode json = new ObjectMapper().readTree(dir.resolve("chaos-summary.json").toFile());
        assertThat(json.get("passed").asBoolean()).isTrue();
        assertThat(json.get("faults").get(0).get("longestStallSeconds").asDouble()).isEqualTo(24.0);
        assertThat(json.get("faults").get(0).get("stallGoalMet").asBoolean()).isFalse();
        assertThat(json.get("auditCheck").get("withoutEarlierCommandReceived").asLong()).isZero();
        assertThat(json.get("roleStartSeconds").get("edge-1").get(1).asDouble()).isEqualTo(30.0);
    }

    @Test
    void aMustBeZeroCountOrDifferentDigestsFail() {
        assertThat(summary(1, EQUAL, Duration.ofSeconds(1)).passed()).isFalse();
        assertThat(summary(1, EQUAL, Duration.ofSeconds(1)).render()).contains("1 (must be 0: VIOLATED)").contains("result: FAILED");
        ChaosSummary.DigestComparison different = IndexerRebuild.compare("test", Map.of("s1", "aa"), Map.of("s1", "ab"));
        assertThat(summary(0, different, Duration.ofSeconds(1)).passed()).isFalse();
        assertThat(summary(0, different, Duration.ofSeconds(1)).render()).contains("DIFFERENT").contains("differing:");
    }
}
