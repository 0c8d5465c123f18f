package dev.gatehouse.edge.postgres;

import dev.gatehouse.platform.core.Verdict;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;

/** The edge's meters: commands by verdict, decision round trip, open sessions, violations. */
public final class EdgeMetrics {
    private final Map<Verdict, Counter> commands = new EnumMap<>(Verdict.class);
    private final Counter failedClosed;
    private final Counter observed;
    private final Counter violations;
    private final Timer decisionLatency;
    private final io.micrometer.core.instrument.DistributionSummary sampleBytes;
    private final Counter samplesTruncated;

    public EdgeMetrics(MeterRegistry registry, Supplier<Number> openSessions) {
        for (Verdict v : Verdict.values()) {
            commands.put(v, Counter.builder("gatehouse.edge.commands").tag("protocol", "postgres")
                    .tag("verdict", v.label()).description("Commands decided, by verdict").register(registry));
        }
        failedClosed = Counter.builder("gatehouse.edge.commands").tag("protocol", "postgres").tag("verdict", "failed_closed")
                .description("Commands rejected because no decision could be had").register(registry);
        observed = Counter.builder("gatehouse.edge.commands").tag("protocol", "postgres").tag("verdict", "observed")
                .description("Commands forwarded in observe mode without waiting").register(registry);
        violations = Counter.builder("gatehouse.edge.protocol.violations").tag("protocol", "postgres")
                .description("Malformed, truncated or oversized client input").register(registry);
        decisionLatency = Timer.builder("gatehouse.edge.decision.latency").tag("protocol", "postgres")
                .description("From the command's arrival to its decision at the edge (write-ahead included)")
                .publishPercentileHistogram().register(registry);
        sampleBytes = io.micrometer.core.instrument.DistributionSummary.builder("gatehouse.edge.result.sample.bytes")
                .tag("protocol", "postgres").baseUnit("bytes")
                .description("Value bytes of each result sample written to the audit log (ResultSampled)")
                .register(registry);
        samplesTruncated = Counter.builder("gatehouse.edge.result.samples.truncated").tag("protocol", "postgres")
                .description("Result samples that hold less than the whole result (row or byte limit reached)")
                .register(registry);
        registry.gauge("gatehouse.edge.sessions.open", java.util.List.of(io.micrometer.core.instrument.Tag.of("protocol", "postgres")),
                openSessions, s -> s.get().doubleValue());
    }

    void decided(Verdict verdict, Duration latency) {
        commands.get(verdict).increment();
        decisionLatency.record(latency);
    }

    void failedClosed() {
        failedClosed.increment();
    }

    void observed() {
        observed.increment();
    }

    void violation() {
        violations.increment();
    }

    void sampled(long bytes, boolean truncated) {
        sampleBytes.record(bytes);
        if (truncated) samplesTruncated.increment();
    }
}
