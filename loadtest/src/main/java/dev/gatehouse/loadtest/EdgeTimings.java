package dev.gatehouse.loadtest;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;

import java.util.concurrent.TimeUnit;

/**
 * A snapshot of the edge's own timers (what {@code /metrics} shows), so that a run through the
 * edge can say where its time went: the write-ahead produce to Kafka ({@code gatehouse.produce.latency},
 * every topic) and the decision round trip in enforce mode ({@code gatehouse.edge.decision.latency}).
 */
public record EdgeTimings(long produces, double produceMillis, long decisions, double decisionMillis, double commands) {

    public static EdgeTimings of(MeterRegistry registry) {
        long produces = 0;
        double produceMillis = 0;
        for (Timer t : registry.find("gatehouse.produce.latency").timers()) {
            produces += t.count();
            produceMillis += t.totalTime(TimeUnit.MILLISECONDS);
        }
        long decisions = 0;
        double decisionMillis = 0;
        for (Timer t : registry.find("gatehouse.edge.decision.latency").timers()) {
            decisions += t.count();
            decisionMillis += t.totalTime(TimeUnit.MILLISECONDS);
        }
        double commands = registry.find("gatehouse.edge.commands").counters().stream().mapToDouble(Counter::count).sum();
        return new EdgeTimings(produces, produceMillis, decisions, decisionMillis, commands);
    }

    /** What happened between {@code before} and this snapshot. */
    public EdgeTimings since(EdgeTimings before) {
        return new EdgeTimings(produces - before.produces, produceMillis - before.produceMillis,
                decisions - before.decisions, decisionMillis - before.decisionMillis, commands - before.commands);
    }

    /** Mean time from append to the broker's acknowledgement, ms; 0 when nothing was produced. */
    public double meanProduceMillis() {
        return produces == 0 ? 0 : produceMillis / produces;
    }

    /** Mean time from a command's arrival to its decision at the edge, ms; 0 when nothing was decided. */
    public double meanDecisionMillis() {
        return decisions == 0 ? 0 : decisionMillis / decisions;
    }
}
