package dev.gatehouse.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The whole machine's CPU time as the kernel counts it (the {@code cpu} line of {@code /proc/stat},
 * in clock ticks summed over every CPU): how busy the machine was over a window and how much of its
 * time the hypervisor gave to others ({@code steal}). On a virtual machine whose host is shared the
 * same code gives figures that differ by half from one hour to the next; steal shows part of that
 * from inside the guest (not the host's caches and memory bandwidth, which other guests share too).
 * Linux only.
 */
public final class MachineCpu {

    /**
     * The counters at one moment, in ticks.
     *
     * @param busy  user, nice, system, irq and softirq time
     * @param steal time a virtual CPU was ready to run and the host ran something else
     * @param total every field of the line (guest time is already part of user time and is not added again)
     */
    public record Ticks(long busy, long steal, long total) {
        /** The counters over the window from {@code before} to this. */
        public Share since(Ticks before) {
            long t = total - before.total;
            if (t <= 0) return new Share(0, 0);
            return new Share(100.0 * (busy - before.busy) / t, 100.0 * (steal - before.steal) / t);
        }
    }

    /** Shares of the machine's CPU time over a window, in percent. */
    public record Share(double busyPercent, double stealPercent) {
    }

    private MachineCpu() {
    }

    /** The counters now; null when {@code /proc/stat} cannot be read (not Linux). */
    public static Ticks now() {
        try {
            return parse(Files.readString(Path.of("/proc/stat"), StandardCharsets.US_ASCII));
        } catch (IOException e) {
            return null;
        }
    }

    /** The {@code cpu} line of a {@code /proc/stat} text: user nice system idle iowait irq softirq steal [guest guest_nice]. */
    static Ticks parse(String procStat) {
        String line = procStat.lines().filter(l -> l.startsWith("cpu ")).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no cpu line in /proc/stat"));
        String[] f = line.substring(4).strip().split("\\s+");
        if (f.length < 8) throw new IllegalArgumentException("a cpu line of /proc/stat with fewer than 8 fields: " + line);
        long[] v = new long[8];
        for (int i = 0; i < 8; i++) v[i] = Long.parseLong(f[i]);
        long busy = v[0] + v[1] + v[2] + v[5] + v[6];
        long total = 0;
        for (long x : v) total += x;
        return new Ticks(busy, v[7], total);
    }
}
