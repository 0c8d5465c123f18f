package dev.gatehouse.edge.fuzz;

import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.gatehouse.leakguard.LeakGuard;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import org.junit.jupiter.api.Timeout;

/**
 * A coverage-guided fuzz target of the edge (Jazzer). One class per target, named
 * {@code <Name>FuzzTest} in this package, extending this class and implementing
 * {@link #fuzzOne}; that is all it takes for it to
 * <ul>
 *   <li>run its seed corpus, the files in {@code src/test/resources/dev/gatehouse/edge/fuzz/<Name>FuzzTestInputs/fuzz/},
 *       and the empty input, with every {@code ./mvnw verify} (Jazzer's regression mode);
 *   <li>be fuzzed for 30 seconds in {@code ./mvnw verify} ({@link ShortFuzzingTest});
 *   <li>be fuzzed by hand as long as wanted: {@code ./gatehouse-fuzz <name> --inputs N}, where
 *       {@code <name>} is {@code <Name>} in kebab case ({@code FrontendDecoderFuzzTest} is
 *       {@code frontend-decoder}).
 * </ul>
 * A finding (an exception or assertion error out of {@code fuzzOne}, a buffer left unreleased,
 * a Netty leak report, an input running past the timeout) fails the run; the input is written
 * to the inputs directory above, where it stays as a regression test once the bug is fixed.
 *
 * <p>Every buffer a target allocates, or lets its channels allocate, must come from the
 * allocator it is given: after each input all of them must have been released.
 */
abstract class FuzzTarget {

    static {
        // The Jazzer command line (./gatehouse-fuzz) runs no JUnit session listeners: install here.
        LeakGuard.install();
        Unpooled.buffer(1).release(); // Netty creates its ByteBuf leak detector with the first buffer
        if (!LeakGuard.isActive()) {
            throw new IllegalStateException("Netty's leak detector is not the leak guard's: Netty was used before"
                    + " LeakGuard.install() ran, and leaks would only be logged");
        }
    }

    /**
     * One input. An input that takes longer than the timeout is a hang (libFuzzer's
     * {@code -timeout} when fuzzing, JUnit's in regression mode). {@link FuzzRun} sets how long
     * to fuzz; {@code maxDuration} only bounds fuzzing through JUnit ({@code JAZZER_FUZZ=1}).
     */
    @FuzzTest(maxDuration = "30s")
    @Timeout(10)
    final void fuzz(byte[] input) throws Exception {
        LeakCheckingAllocator alloc = new LeakCheckingAllocator();
        fuzzOne(new FuzzInput(input), alloc);
        alloc.assertAllReleased();
        LeakGuard.failIfAny(LeakGuard.drain(), "this input (or an earlier one: Netty reports when the garbage"
                + " collector has reclaimed the buffer)");
    }

    /**
     * Runs one input. Throws on anything that must not happen; returns normally for any input
     * that was handled as it should be, rejected ones included.
     */
    protected abstract void fuzzOne(FuzzInput input, ByteBufAllocator alloc) throws Exception;
}
