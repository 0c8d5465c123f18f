package dev.gatehouse.edge;

import dev.gatehouse.platform.core.Verdict;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.function.Supplier;

/**
 * The meters of one protocol listener of an edge: commands by verdict, decision round trip, open
 * sessions and connections, violations, refusals, authentication timeouts, connection-limit refusals.
 */
public final class EdgeMetrics {
    private final Map<Verdict, Counter> commands = new EnumMap<>(Verdict.class);
    private final Counter failedClosed;
    private final Counter observed;
    private final Counter violations;
    private final Timer decisionLatency;
    private final io.micrometer.core.instrument.DistributionSummary sampleBytes;
    private final Counter samplesTruncated;
    private final Counter refused;
    private final Counter authenticationTimeouts;
    private final Counter connectionsRefused;

    /** The meters of the PostgreSQL listener. */
    public EdgeMetrics(MeterRegistry registry, Supplier<Number> openSessions) {
        this(registry, "postgres", openSessions, () -> 0);
    }

    /**
     * @param protocol        the listener's protocol, the {@code protocol} tag of every meter
     * @param openSessions    sessions open (authenticated, target connected)
     * @param openConnections client connections accepted and not yet closed
     */
    public EdgeMetrics(MeterRegistry registry, String protocol, Supplier<Number> openSessions,
                       Supplier<Number> openConnections) {
        for (Verdict v : Verdict.values()) {
            commands.put(v, Counter.builder("gatehouse.edge.commands").tag("protocol", protocol)
                    .tag("verdict", v.label()).description("Commands decided, by verdict").register(registry));
        }
        failedClosed = Counter.builder("gatehouse.edge.commands").tag("protocol", protocol).tag("verdict", "failed_closed")
                .description("Commands rejected because no decision could be had").register(registry);
        observed = Counter.builder("gatehouse.edge.commands").tag("protocol", protocol).tag("verdict", "observed")
                .description("Commands forwarded in observe mode without waiting").register(registry);
        violations = Counter.builder("gatehouse.edge.protocol.violations").tag("protocol", protocol)
                .description("Malformed, truncated or oversized client input").register(registry);
        decisionLatency = Timer.builder("gatehouse.edge.decision.latency").tag("protocol", protocol)
                .description("From the command's arrival to its decision at the edge (write-ahead included)")
                .publishPercentileHistogram().register(registry);
        sampleBytes = io.micrometer.core.instrument.DistributionSummary.builder("gatehouse.edge.result.sample.bytes")
                .tag("protocol", protocol).baseUnit("bytes")
                .description("Value bytes of each result sample written to the audit log (ResultSampled)")
                .register(registry);
        samplesTruncated = Counter.builder("gatehouse.edge.result.samples.truncated").tag("protocol", protocol)
                .description("Result samples that hold less than the whole result (row or byte limit reached)")
                .register(registry);
        registry.gauge("gatehouse.edge.sessions.open", java.util.List.of(io.micrometer.core.instrument.Tag.of("protocol", protocol)),
                openSessions, s -> s.get().doubleValue());
        registry.gauge("gatehouse.edge.connections.open", java.util.List.of(io.micrometer.core.instrument.Tag.of("protocol", protocol)),
                openConnections, s -> s.get().doubleValue());
        refused = Counter.builder("gatehouse.edge.commands").tag("protocol", protocol).tag("verdict", "refused")
                .description("Commands the edge refused itself, before any decision (a session invariant)").register(registry);
        authenticationTimeouts = Counter.builder("gatehouse.edge.authentication.timeouts").tag("protocol", protocol)
                .description("Connections closed because they did not authenticate in time").register(registry);
        connectionsRefused = Counter.builder("gatehouse.edge.connections.refused").tag("protocol", protocol)
                .tag("reason", "limit").description("Connections refused because the edge had as many as it may take")
                .register(registry);
    }

    public void decided(Verdict verdict, Duration latency) {
        commands.get(verdict).increment();
        decisionLatency.record(latency);
    }

    public void failedClosed() {
        failedClosed.increment();
    }

    public void observed() {
        observed.increment();
    }

    public void violation() {
        violations.increment();
    }

    public void sampled(long bytes, boolean truncated) {
        sampleBytes.record(bytes);
        if (truncated) samplesTruncated.increment();
    }

    public void refused() {
        refused.increment();
    }

    public void authenticationTimeout() {
        authenticationTimeouts.increment();
    }

    public void connectionRefused() {
        connectionsRefused.increment();
    }
}
