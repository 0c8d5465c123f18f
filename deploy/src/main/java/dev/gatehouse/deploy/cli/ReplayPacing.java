package dev.gatehouse.deploy.cli;

import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * How long {@code gatehouse replay} waits between two timeline entries: the original gap divided by
 * the speed, each gap capped at {@link #CAP} before the division (so a coffee break is not
 * replayed); a longer gap is announced instead ({@code … 3m elapsed}).
 */
final class ReplayPacing {
    /** The longest original gap that is replayed as such. */
    static final Duration CAP = Duration.ofSeconds(5);

    /** The wait before an entry, and the original gap when it was longer than the cap (else null). */
    record Pause(Duration delay, Duration longGap) {
    }

    private ReplayPacing() {
    }

    /**
     * The pause between an entry at {@code previous} and one at {@code next} (ISO instants) at
     * {@code speed} (greater than 0). Unknown or backwards times give no pause.
     */
    static Pause between(String previous, String next, double speed) {
        if (!(speed > 0) || Double.isInfinite(speed)) {
            throw new IllegalArgumentException("--speed must be a positive number, not " + speed);
        }
        Duration gap;
        try {
            if (previous == null || next == null) return new Pause(Duration.ZERO, null);
            gap = Duration.between(Instant.parse(previous), Instant.parse(next));
        } catch (DateTimeParseException e) {
            return new Pause(Duration.ZERO, null);
        }
        if (gap.isNegative() || gap.isZero()) return new Pause(Duration.ZERO, null);
        Duration replayed = gap.compareTo(CAP) > 0 ? CAP : gap;
        Duration delay = Duration.ofNanos((long) (replayed.toNanos() / speed));
        return new Pause(delay, gap.compareTo(CAP) > 0 ? gap : null);
    }
}
