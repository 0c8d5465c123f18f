package dev.gatehouse.loadtest;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The per-process CPU counters the load runs divide by commands. */
class ProcessCpuTest {

    @Test
    void readsUserSystemAndChildrenTimeEvenWhenTheCommandNameHoldsSpacesAndParentheses() {
        // Given a stat line whose command name looks like more fields
        String stat = "4242 (java (worker) 1) S 1 4242 4242 0 -1 4194304 100 0 0 0 1234 567 89 10 20 0 30 0 12345 0 0";

        // When
        long[] fields = ProcessCpu.parse(stat);

        // Then utime, stime, cutime, cstime are fields 14 to 17
        assertThat(fields).containsExactly(1234, 567, 89, 10);
        assertThat(ProcessCpu.childTicks(stat)).isEqualTo(99);
    }

    @Test
    void aShellThatWaitedForACommandReportsThatCommandsCpuTimeAsItsChildrensTime() throws Exception {
        // Given a command that spends CPU, run the way Pgbench runs pgbench
        Process p = new ProcessBuilder(List.of("sh", "-c",
                "i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done & wait; cat /proc/$$/stat")).start();

        // When
        String stat = new String(p.getInputStream().readAllBytes(), StandardCharsets.US_ASCII);
        p.waitFor();

        // Then the shell's children's time holds it (a busy loop of 300,000 steps costs well over one tick)
        assertThat(ProcessCpu.childTicks(stat)).isPositive();
    }

    @Test
    void aProcessThatIsGoneHasNoCounters() {
        // Given a pid no process has (above the kernel's pid_max)
        long gone = 1L << 23;

        // When / Then
        assertThat(ProcessCpu.ticks(gone)).isEqualTo(-1);
        assertThat(ProcessCpu.ticksWithChildren(gone)).isEqualTo(-1);
        assertThat(ProcessCpu.ticks(ProcessHandle.current().pid())).isPositive();
    }

    @Test
    void theMachinesBusyAndStolenSharesComeFromTheCpuLineOfProcStat() {
        // Given two readings of /proc/stat: user nice system idle iowait irq softirq steal guest guest_nice
        MachineCpu.Ticks before = MachineCpu.parse("cpu  1000 0 500 8000 10 0 90 0 0 0\ncpu0 500 0 250 4000 5 0 45 0 0 0\n");
        MachineCpu.Ticks after = MachineCpu.parse("cpu  1600 0 700 8100 10 0 100 100 50 0\ncpu0 800 0 350 4050 5 0 50 50 25 0\n");

        // When
        MachineCpu.Share share = after.since(before);

        // Then over the window: 810 busy, 100 idle, 100 stolen ticks of 1010 (guest time is inside user time)
        assertThat(share.busyPercent()).isCloseTo(100.0 * 810 / 1010, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(share.stealPercent()).isCloseTo(100.0 * 100 / 1010, org.assertj.core.data.Offset.offset(1e-9));
        assertThat(MachineCpu.now()).isNotNull();
    }
}
