package dev.gatehouse.loadtest;

/**
 * A snapshot of the edge process's own timers (from its {@code /metrics}), so that a run through
 * the edge can say where its time went: the write-ahead Kafka produces of that process
 * ({@code gatehouse.produce.latency} with {@code records="write-ahead"}, to the broker's acks=all; the
 * after-the-fact records, which linger on purpose, are left out) and the decision round trip in
 * enforce mode ({@code gatehouse.edge.decision.latency}).
 */
public record EdgeTimings(long produces, double produceMillis, long decisions, double decisionMillis, double commands) {

    public static EdgeTimings of(PrometheusText metrics) {
        return new EdgeTimings(
                Math.round(metrics.sum("gatehouse_produce_latency_seconds_count", "records", "write-ahead")),
                metrics.sum("gatehouse_produce_latency_seconds_sum", "records", "write-ahead") * 1000,
                Math.round(metrics.sum("gatehouse_edge_decision_latency_seconds_count")),
                metrics.sum("gatehouse_edge_decision_latency_seconds_sum") * 1000,
                metrics.sum("gatehouse_edge_commands_total"));
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
