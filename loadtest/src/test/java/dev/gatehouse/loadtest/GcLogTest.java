package dev.gatehouse.loadtest;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** The heap in use after each collection, from a unified GC log. */
class GcLogTest {

    @Test
    void readsTheHeapAfterEachCollectionOfG1ParallelAndZgc(@TempDir Path dir) throws Exception {
        // Given lines as -Xlog:gc:file=F:timemillis writes them
        Path log = Files.writeString(dir.resolve("gc.log"), """
                [1796274313000ms] Using G1
                [1796274313749ms] GC(0) Pause Young (Normal) (G1 Evacuation Pause) 24M->3M(256M) 3.456ms
                [1796274313800ms] GC(1) Concurrent Mark Cycle 12.345ms
                [1796274313900ms] GC(2) Pause Young (Allocation Failure) 1536K->512K(251M) 1.234ms
                [1796274314000ms] GC(3) Pause Full (System.gc()) 2G->20M(6G) 80.1ms
                [1796274314100ms] GC(4) Major Collection (Warmup) 94M(1%)->30M(0%) 0.100s
                """);

        // When
        var collections = GcLog.read(log);

        // Then
        assertThat(collections).extracting(GcLog.Collection::afterBytes)
                .containsExactly(3L << 20, 512L << 10, 20L << 20, 30L << 20);
        assertThat(collections.getFirst().epochMillis()).isEqualTo(1796274313749L);
        assertThat(GcLog.read(dir.resolve("absent.log"))).isEmpty();
    }
}
