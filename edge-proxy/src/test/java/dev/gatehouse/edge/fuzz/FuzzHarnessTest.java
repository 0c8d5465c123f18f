package dev.gatehouse.edge.fuzz;

import dev.gatehouse.edge.fuzz.FuzzRun.Finding;
import dev.gatehouse.edge.fuzz.FuzzRun.Result;
import dev.gatehouse.edge.fuzz.FuzzRun.Target;
import io.netty.buffer.ByteBuf;
import org.junit.jupiter.api.Test;

import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The parts of the fuzzing harness a finding depends on: input layout, leak count, report. */
class FuzzHarnessTest {

    private static final Target TARGET = new Target("frontend-decoder", FrontendDecoderFuzzTest.class.getName());

    @Test
    void readsSettingsThenCutsThePayloadIntoReads() {
        // Given
        FuzzInput input = new FuzzInput(new byte[] {3, (byte) 200, 'a', 'b', 'c', 'd', 'e'});

        // When
        int first = input.setting();
        int second = input.setting();
        byte[] payload = input.payload();

        // Then
        assertThat(first).isEqualTo(3);
        assertThat(second).isEqualTo(200);
        assertThat(FuzzInput.reads(payload, 2)).containsExactly(new byte[] {'a', 'b'}, new byte[] {'c', 'd'}, new byte[] {'e'});
        assertThat(FuzzInput.reads(payload, 0)).containsExactly(payload);
        assertThat(FuzzInput.reads(new byte[0], 0)).isEmpty();
    }

    @Test
    void settingsOfAShortInputAreZero() {
        // Given
        FuzzInput input = new FuzzInput(new byte[] {7});

        // When / Then
        assertThat(input.setting()).isEqualTo(7);
        assertThat(input.setting()).isZero();
        assertThat(input.payload()).isEmpty();
    }

    @Test
    void theAllocatorFindsABufferLeftUnreleased() {
        // Given
        LeakCheckingAllocator alloc = new LeakCheckingAllocator();
        alloc.buffer(8).release();
        ByteBuf kept = alloc.buffer(8).retain();
        kept.release();

        // When / Then
        assertThatThrownBy(alloc::assertAllReleased)
                .isInstanceOf(LeakCheckingAllocator.BufferLeakError.class)
                .hasMessage("1 of the 2 buffers allocated for this input were not released; reference counts [1]");
        kept.release();
    }

    @Test
    void theAllocatorForgetsWhatItCheckedAndPassesWhenAllWereReleased() {
        // Given
        LeakCheckingAllocator alloc = new LeakCheckingAllocator();
        ByteBuf buf = alloc.heapBuffer(8);
        buf.retainedSlice().release();
        buf.release();

        // When / Then
        assertThatCode(alloc::assertAllReleased).doesNotThrowAnyException();
        assertThatCode(alloc::assertAllReleased).doesNotThrowAnyException();
    }

    @Test
    void summarisesACleanRunFromLibFuzzersOutput() {
        // Given
        List<String> output = List.of("INFO: Seed: 2528557464",
                "#56\tINITED cov: 474 ft: 1295 corp: 37/13491b exec/s: 5 rss: 2203Mb",
                "#2064\tDONE   cov: 505 ft: 1679 corp: 104/40Kb lim: 962 exec/s: 66 rss: 2203Mb",
                "Done 2064 runs in 31 second(s)",
                "stat::number_of_executed_units: 2064",
                "stat::average_exec_per_sec:     66");

        // When
        Result result = parse(output, 0);

        // Then
        assertThat(result.clean()).isTrue();
        assertThat(result.summary()).isEqualTo("frontend-decoder: 2,064 inputs (66/s), coverage 505 edges and 1,679"
                + " features, corpus 104 inputs; crashes 0, hangs 0, leaks 0");
    }

    @Test
    void tellsCrashesLeaksAndHangsApart() {
        // Given
        List<String> output = List.of(
                "== Java Exception: java.lang.AssertionError: the decoder failed with something other than a protocol violation",
                "artifact_prefix='/src/'; Test unit written to /src/crash-1",
                "== Java Exception: dev.gatehouse.edge.fuzz.LeakCheckingAllocator$BufferLeakError: 1 of the 2 buffers",
                "artifact_prefix='/src/'; Test unit written to /src/crash-2",
                "== Java Exception: dev.gatehouse.leakguard.NettyLeakError: Netty reported 1 leaked resource(s)",
                "artifact_prefix='/src/'; Test unit written to /src/crash-3",
                "==123== ERROR: libFuzzer: timeout after 10 seconds",
                "artifact_prefix='/src/'; Test unit written to /src/timeout-4");

        // When
        Result result = parse(output, 77);

        // Then
        assertThat(result.clean()).isFalse();
        assertThat(result.findings()).containsExactly(new Finding("crash", "/src/crash-1"),
                new Finding("leak", "/src/crash-2"), new Finding("leak", "/src/crash-3"),
                new Finding("hang", "/src/timeout-4"));
        assertThat(result.summary()).contains("crashes 1, hangs 1, leaks 2");
    }

    private static Result parse(List<String> output, int exitCode) {
        FuzzRun.Parser parser = new FuzzRun.Parser();
        output.forEach(parser::accept);
        return parser.result(TARGET, exitCode, Path.of("x.log"));
    }
}
