package dev.gatehouse.deploy.cli;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ReplayPacingTest {

    @Test
    void theOriginalGapIsDividedByTheSpeed() {
        // When
        ReplayPacing.Pause pause = ReplayPacing.between("2026-11-24T07:00:00Z", "2026-11-24T07:00:02Z", 10);

        // Then
        assertThat(pause.delay()).isEqualTo(Duration.ofMillis(200));
        assertThat(pause.longGap()).isNull();
    }

    @Test
    void aLongGapIsCappedAndAnnounced() {
        // When
        ReplayPacing.Pause pause = ReplayPacing.between("2026-11-24T07:00:00Z", "2026-11-24T07:03:00Z", 1);

        // Then
        assertThat(pause.delay()).isEqualTo(ReplayPacing.CAP);
        assertThat(pause.longGap()).isEqualTo(Duration.ofMinutes(3));
    }

    @Test
    void unknownOrBackwardsTimesDoNotWait() {
        // When / Then
        assertThat(ReplayPacing.between(null, "2026-11-24T07:00:00Z", 1).delay()).isZero();
        assertThat(ReplayPacing.between("2026-11-24T07:00:05Z", "2026-11-24T07:00:00Z", 1).delay()).isZero();
        assertThat(ReplayPacing.between("yesterday", "2026-11-24T07:00:00Z", 1).delay()).isZero();
    }

    @Test
    void aNonPositiveSpeedIsRefused() {
        // When / Then
        assertThatThrownBy(() -> ReplayPacing.between("2026-11-24T07:00:00Z", "2026-11-24T07:00:01Z", 0))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("--speed");
    }
}
