package dev.gatehouse.edge.fuzz;

import dev.gatehouse.edge.fuzz.FuzzRun.Bounds;
import dev.gatehouse.edge.fuzz.FuzzRun.Result;
import dev.gatehouse.edge.fuzz.FuzzRun.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

/**
 * The short fuzzing run of {@code ./mvnw verify}: every fuzz target for {@value #SECONDS} seconds
 * (a bound in time, not inputs, so that CI time does not depend on the machine), each in its own
 * JVM, after its seed corpus. A crash, hang or leak fails the build and leaves its input in the
 * target's inputs directory. {@code -DskipFuzz} skips it; {@code ./gatehouse-fuzz} runs longer.
 */
class ShortFuzzingTest {

    private static final int SECONDS = 30;

    static List<Target> targets() {
        return FuzzRun.targets();
    }

    @Test
    void findsTheTargets() {
        // When
        List<Target> targets = targets();

        // Then
        assertThat(targets).extracting(Target::name).contains("frontend-decoder", "session", "my-sql-packet");
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("targets")
    void fuzzingFindsNothing(Target target) throws Exception {
        assumeFalse(Boolean.getBoolean("skipFuzz"), "-DskipFuzz");

        // When
        Result result = FuzzRun.fuzz(target, new Bounds(0, SECONDS), FuzzRun.PARANOID, System.out);

        // Then
        System.out.println(result.summary());
        assertThat(result.inputs()).as("inputs run").isPositive();
        assertThat(result.clean()).as(result.summary()).isTrue();
    }
}
