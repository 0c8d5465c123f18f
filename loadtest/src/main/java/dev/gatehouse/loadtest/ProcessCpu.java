package dev.gatehouse.loadtest;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * CPU time of a process as the kernel counts it ({@code /proc/PID/stat}: utime and stime, in clock
 * ticks of {@code getconf CLK_TCK}, normally 100 a second, so one tick is 10 ms). Every thread of
 * the process is included. Linux only.
 */
public final class ProcessCpu {

    /** Ticks per second ({@code getconf CLK_TCK}). */
    public static final long TICKS_PER_SECOND = clockTicks();

    private ProcessCpu() {
    }

    /** utime + stime of {@code pid}, in ticks; -1 when the process is gone. */
    public static long ticks(long pid) {
        long[] f = fields(pid);
        return f == null ? -1 : f[0] + f[1];
    }

    /**
     * utime + stime of {@code pid}, plus the time of its children that ended and were waited for
     * (cutime + cstime), plus the utime + stime of its children alive now: a server such as
     * PostgreSQL whose work is done by child processes that come and go. -1 when it is gone.
     */
    public static long ticksWithChildren(long pid) {
        long[] f = fields(pid);
        if (f == null) return -1;
        long total = f[0] + f[1] + f[2] + f[3];
        for (ProcessHandle child : ProcessHandle.of(pid).map(p -> p.children().toList()).orElse(java.util.List.of())) {
            long t = ticks(child.pid());
            if (t > 0) total += t;
        }
        return total;
    }

    /**
     * cutime + cstime of a stat line: the CPU time of the children a process waited for. A shell
     * that ran one command and then printed its own {@code /proc/$$/stat} gives that command's time.
     */
    public static long childTicks(String statLine) {
        long[] f = parse(statLine);
        return f[2] + f[3];
    }

    /** Microseconds of {@code ticks}. */
    public static double micros(long ticks) {
        return ticks * 1_000_000.0 / TICKS_PER_SECOND;
    }

    /** utime, stime, cutime, cstime; null when the process is gone. */
    private static long[] fields(long pid) {
        try {
            return parse(Files.readString(Path.of("/proc", Long.toString(pid), "stat"), StandardCharsets.US_ASCII));
        } catch (NoSuchFileException e) {
            return null;
        } catch (IOException e) {
            // the process ended between listing and reading (ESRCH)
            return null;
        }
    }

    /** Fields 14-17 of proc(5)'s stat; the command name (field 2) may hold spaces and parentheses. */
    static long[] parse(String statLine) {
        int close = statLine.lastIndexOf(')');
        if (close < 0) throw new IllegalArgumentException("not a /proc/PID/stat line: " + statLine);
        // after ")": field 3 (state) is the first
        String[] f = statLine.substring(close + 2).strip().split(" ");
        return new long[] {Long.parseLong(f[11]), Long.parseLong(f[12]), Long.parseLong(f[13]), Long.parseLong(f[14])};
    }

    private static long clockTicks() {
        try {
            Process p = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII).strip();
            if (p.waitFor(10, TimeUnit.SECONDS) && p.exitValue() == 0) return Long.parseLong(out);
        } catch (IOException | NumberFormatException e) {
            // fall through to the Linux default
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 100;
    }
}
