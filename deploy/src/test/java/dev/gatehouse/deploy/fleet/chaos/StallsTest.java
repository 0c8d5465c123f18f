package dev.gatehouse.deploy.fleet.chaos;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class StallsTest {

    @Test
    void theLongestGapBetweenSuccessesInTheWindow() {
        // Given: successes every 100 ms, then nothing from 1200 to 4700
        long[] times = {1000, 1100, 1200, 4700, 4800, 9000};

        // When / Then
        assertThat(Stalls.longest(times, 1050, 5000)).isEqualTo(Duration.ofMillis(3500));
    }

    @Test
    void theGapOpenAtTheWindowsStartCountsFromTheStart() {
        // Given: the fault at 2000, the first success after it at 9000
        long[] times = {1000, 1100, 9000, 9100};

        // When / Then
        assertThat(Stalls.longest(times, 2000, 9500)).isEqualTo(Duration.ofMillis(7000));
    }

    @Test
    void noSuccessAtAllIsOneStallAsLongAsTheWindow() {
        assertThat(Stalls.longest(new long[]{100, 200}, 1000, 4000)).isEqualTo(Duration.ofMillis(3000));
        assertThat(Stalls.longest(new long[0], 0, 10)).isEqualTo(Duration.ofMillis(10));
    }

    @Test
    void aWindowEndingBeforeItStartsIsRefused() {
        assertThatThrownBy(() -> Stalls.longest(new long[0], 10, 5)).isInstanceOf(IllegalArgumentException.class);
    }
}
