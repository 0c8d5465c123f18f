package dev.gatehouse.loadtest;

import dev.gatehouse.loadtest.LoadtestOptions.Mode;
import dev.gatehouse.loadtest.LoadtestOptions.Workload;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The options of the pgbench comparison and of the large-select run. */
class LoadtestOptionsTest {

    @Test
    void defaultsCompareEveryPathAtOneEightAndThirtyTwoClientsInTheSplitLayout() {
        // When
        LoadtestOptions o = LoadtestOptions.parse(new String[0]);

        // Then
        assertThat(o.clients()).containsExactly(1, 8, 32);
        assertThat(o.modes()).containsExactly(Mode.DIRECT, Mode.PGBOUNCER, Mode.FLOOR, Mode.OBSERVE, Mode.ENFORCE);
        assertThat(o.workloads()).containsExactly(Workload.SELECT_SIMPLE, Workload.SELECT_PREPARED);
        assertThat(o.layout()).isEqualTo(Layout.SPLIT);
        assertThat(o.jvmOptions()).isEmpty();
        assertThat(o.poolMode()).isEqualTo("session");
        assertThat(o.threadsFor(1)).isEqualTo(1);
        assertThat(o.threadsFor(32)).isEqualTo(2);
    }

    @Test
    void readsListsLayoutsAndJvmOptionsAndRefusesWhatItDoesNotKnow() {
        // When
        LoadtestOptions o = LoadtestOptions.parse(new String[] {"--clients=1, 4", "--layout", "per-role",
                "--jvm-args=-Xmx1g  -XX:+UseParallelGC", "--modes=enforce", "--threads=4", "--jvm-args="});

        // Then (a later blank value is absent: the default, no options)
        assertThat(o.clients()).containsExactly(1, 4);
        assertThat(o.layout()).isEqualTo(Layout.PER_ROLE);
        assertThat(o.jvmOptions()).isEmpty();
        assertThat(o.threadsFor(4)).isEqualTo(4);
        assertThat(LoadtestOptions.parse(new String[] {"--jvm-args=-Xmx1g  -XX:+UseParallelGC"}).jvmOptions())
                .containsExactly("-Xmx1g", "-XX:+UseParallelGC");
        assertThatThrownBy(() -> LoadtestOptions.parse(new String[] {"--layout=two"})).hasMessageContaining("per-role");
        assertThatThrownBy(() -> LoadtestOptions.parse(new String[] {"--client=8"})).hasMessageContaining("unknown option");
        assertThatThrownBy(() -> LoadtestOptions.parse(new String[] {"--pool-mode=statement"})).hasMessageContaining("session");
    }

    @Test
    void theLargeSelectReadsTenMillionRowsDirectAndEnforcedWithTheEdgeAlone() {
        // When
        LargeSelectOptions o = LargeSelectOptions.parse(new String[0]);

        // Then
        assertThat(o.rows()).isEqualTo(10_000_000);
        assertThat(o.modes()).isEqualTo(List.of(Mode.DIRECT, Mode.ENFORCE));
        assertThat(o.layout()).isEqualTo(Layout.PER_ROLE);
        assertThatThrownBy(() -> LargeSelectOptions.parse(new String[] {"--modes=pgbouncer"}))
                .isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void countsTheDataRowBytesOfTheLargeResult() {
        // Given rows 1..10: 47 bytes of framing and md5 each, plus the digits of g (nine of 1, one of 2)
        // When / Then
        assertThat(LargeSelectComparison.dataRowBytes(10)).isEqualTo(10 * 47 + 11);
    }
}
