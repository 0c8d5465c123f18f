package dev.gatehouse.deploy.fleet.chaos;

import java.time.Duration;

/** The longest interval in which no client completed any command, from the clients' success times. */
public final class Stalls {

    private Stalls() {
    }

    /**
     * The longest interval within {@code [from, to]} (epoch ms) containing no success. Successes are
     * the sorted times of every client's completed commands; the interval before the first success
     * in the window starts at {@code from}, the one after the last ends at {@code to}.
     */
    public static Duration longest(long[] sortedSuccesses, long from, long to) {
        if (to < from) throw new IllegalArgumentException("the window ends before it starts: " + from + " > " + to);
        long previous = from;
        long longest = 0;
        int i = java.util.Arrays.binarySearch(sortedSuccesses, from);
        if (i < 0) i = -i - 1;
        while (i > 0 && sortedSuccesses[i - 1] == from) i--;
        for (; i < sortedSuccesses.length && sortedSuccesses[i] <= to; i++) {
            longest = Math.max(longest, sortedSuccesses[i] - previous);
            previous = sortedSuccesses[i];
        }
        longest = Math.max(longest, to - previous);
        return Duration.ofMillis(longest);
    }
}
