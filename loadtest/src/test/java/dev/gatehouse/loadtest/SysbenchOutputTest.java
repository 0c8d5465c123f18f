package dev.gatehouse.loadtest;

import dev.gatehouse.loadtest.SysbenchOptions.Mode;
import dev.gatehouse.loadtest.SysbenchOptions.Workload;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

/** Reading what sysbench 1.0.20 prints, and the sysbench run's options. */
class SysbenchOutputTest {

    /** sysbench 1.0.20 oltp_read_only, 4 threads, 3 s, --report-interval=1 (as printed on this machine). */
    private static final String CLEAN = """
            sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)

            Running the test with following options:
            Number of threads: 4
            Report intermediate results every 1 second(s)
            Initializing random number generator from current time


            Initializing worker threads...

            Threads started!

            [ 1s ] thds: 4 tps: 614.40 qps: 9867.37 (r/w/o: 8635.57/0.00/1231.80) lat (ms,95%): 15.00 err/s: 0.00 reconn/s: 0.00
            [ 2s ] thds: 4 tps: 524.17 qps: 8385.75 (r/w/o: 7336.40/0.00/1049.34) lat (ms,95%): 14.21 err/s: 0.00 reconn/s: 0.00
            SQL statistics:
                queries performed:
                    read:                            24794
                    write:                           0
                    other:                           3542
                    total:                           28336
                transactions:                        1771   (587.98 per sec.)
                queries:                             28336  (9407.70 per sec.)
                ignored errors:                      0      (0.00 per sec.)
                reconnects:                          0      (0.00 per sec.)

            General statistics:
                total time:                          3.0115s
                total number of events:              1771

            Latency (ms):
                     min:                                    1.65
                     avg:                                    6.78
                     max:                                  172.15
                     95th percentile:                       13.70
                     sum:                                12011.22

            Threads fairness:
                events (avg/stddev):           442.7500/37.20
                execution time (avg/stddev):   3.0028/0.00

            """;

    /** A query error sysbench does not ignore: the run stops without a summary. */
    private static final String FAILED = """
            sysbench 1.0.20 (using system LuaJIT 2.1.0-beta3)

            Threads started!

            FATAL: mysql_drv_query() returned error 1146 (Table 'sbtest.sbtest3' doesn't exist) for query 'SELECT c FROM sbtest3 WHERE id=503'
            FATAL: `thread_run' function failed: /usr/share/sysbench/oltp_common.lua:419: SQL error, errno = 1146, state = '42S02': Table 'sbtest.sbtest3' doesn't exist
            (last message repeated 1 times)
            """;

    @Test
    void readsTheSummaryOfACleanRun() {
        // When
        SysbenchOutput o = SysbenchOutput.parse(CLEAN);

        // Then
        assertThat(o.complete()).isTrue();
        assertThat(o.reads()).isEqualTo(24794);
        assertThat(o.writes()).isZero();
        assertThat(o.other()).isEqualTo(3542);
        assertThat(o.queries()).isEqualTo(28336);
        assertThat(o.transactions()).isEqualTo(1771);
        assertThat(o.tps()).isEqualTo(587.98);
        assertThat(o.qps()).isEqualTo(9407.70);
        assertThat(o.ignoredErrors()).isZero();
        assertThat(o.reconnects()).isZero();
        assertThat(o.totalSeconds()).isEqualTo(3.0115);
        assertThat(o.latencyMinMs()).isEqualTo(1.65);
        assertThat(o.latencyAvgMs()).isEqualTo(6.78);
        assertThat(o.latencyMaxMs()).isEqualTo(172.15);
        assertThat(o.percentile()).isEqualTo(95);
        assertThat(o.latencyPercentileMs()).isEqualTo(13.70);
        assertThat(o.queriesPerTransaction()).isCloseTo(16.0, within(1e-9));
        assertThat(o.errors()).isEmpty();
    }

    @Test
    void aRunStoppedByAnErrorHasNoSummaryAndKeepsTheErrorLines() {
        // When
        SysbenchOutput o = SysbenchOutput.parse(FAILED);

        // Then
        assertThat(o.complete()).isFalse();
        assertThat(o.transactions()).isZero();
        assertThat(o.tps()).isZero();
        assertThat(o.errors()).hasSize(2);
        assertThat(o.errors().getFirst()).startsWith("FATAL: mysql_drv_query() returned error 1146");
    }

    @Test
    void countsIgnoredErrorsAndReconnectsAndAnErrorNamedInsideALine() {
        // Given a run that ignored errors (--mysql-ignore-errors=all) and a connection error in its output
        String text = CLEAN.replace("ignored errors:                      0      (0.00 per sec.)",
                        "ignored errors:                      7      (2.33 per sec.)")
                .replace("reconnects:                          0      (0.00 per sec.)",
                        "reconnects:                          2      (0.67 per sec.)")
                .replace("Threads started!", "Threads started!\n(some prefix) error 2013: Lost connection to server during query");

        // When
        SysbenchOutput o = SysbenchOutput.parse(text);

        // Then
        assertThat(o.ignoredErrors()).isEqualTo(7);
        assertThat(o.reconnects()).isEqualTo(2);
        assertThat(o.errors()).containsExactly("(some prefix) error 2013: Lost connection to server during query");
    }

    @Test
    void aResultIsCleanOnlyWithoutAnyErrorAndWithTransactions() {
        // Given
        SysbenchOutput clean = SysbenchOutput.parse(CLEAN);
        SysbenchOutput failed = SysbenchOutput.parse(FAILED);

        // Then
        assertThat(new Sysbench.Result(0, false, clean, java.util.List.of(), 5).clean()).isTrue();
        assertThat(new Sysbench.Result(1, false, failed, java.util.List.of(), 5).clean()).isFalse();
        assertThat(new Sysbench.Result(0, false, clean, java.util.List.of("something on stderr"), 5).clean()).isFalse();
        assertThat(new Sysbench.Result(-1, true, clean, java.util.List.of(), -1).errors()).last().asString().contains("killed");
    }

    @Test
    void optionsDefaultToThirtyTwoClientsReadOnlyInEveryModeAndReadSysbenchsOwnWorkloadNames() {
        // When
        SysbenchOptions o = SysbenchOptions.parse(new String[0]);

        // Then
        assertThat(o.clients()).containsExactly(32);
        assertThat(o.modes()).containsExactly(Mode.DIRECT, Mode.OBSERVE, Mode.ENFORCE);
        assertThat(o.workloads()).containsExactly(Workload.OLTP_READ_ONLY);
        assertThat(o.tables()).isEqualTo(4);
        assertThat(o.tableSize()).isEqualTo(10_000);
        assertThat(o.mysqlSsl()).isFalse();
        assertThat(o.ignoreErrors()).isEmpty();
        assertThat(o.preloadClearPassword()).isTrue();
        assertThat(o.layout()).isEqualTo(Layout.SPLIT);
        assertThat(Mode.OBSERVE.minimum()).isEqualTo(0.3);
        assertThat(Mode.ENFORCE.minimum()).isEqualTo(0.2);
        assertThat(Mode.ENFORCE.connection()).isEqualTo("demo-mysql");
        assertThat(Mode.OBSERVE.connection()).isEqualTo("demo-mysql-observe");
        assertThat(SysbenchOptions.parse(new String[] {"--workloads=oltp_point_select,oltp-read-only", "--mysql-ssl=on",
                "--ignore-errors=all"}).workloads()).containsExactly(Workload.OLTP_POINT_SELECT, Workload.OLTP_READ_ONLY);
        assertThatThrownBy(() -> SysbenchOptions.parse(new String[] {"--modes=pgbouncer"})).hasMessageContaining("direct, observe");
        assertThatThrownBy(() -> SysbenchOptions.parse(new String[] {"--mysql-ssl=yes"})).hasMessageContaining("on or off");
        assertThatThrownBy(() -> SysbenchOptions.parse(new String[] {"--ignore-errors=some"})).hasMessageContaining("all");
    }
}
