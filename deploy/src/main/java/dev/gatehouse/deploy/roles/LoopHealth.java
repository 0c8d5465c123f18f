package dev.gatehouse.deploy.roles;

import dev.gatehouse.platform.kafka.ConsumerLoop;
import dev.gatehouse.platform.observability.ObservabilityServer;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;

import java.util.function.Supplier;

/**
 * Wires a {@link ConsumerLoop}'s health into the process: a readiness check of that name (not
 * ready, with the reason, while the loop restarts, after it failed or stopped, and while its role
 * is stopped) and its lag as the gauge {@code gatehouse.consumer.lag{loop=<name>}}.
 */
final class LoopHealth {

    private LoopHealth() {
    }

    /**
     * @param health the loop's health now; null while the part of the role that runs it is stopped
     */
    static void watch(ObservabilityServer observability, MeterRegistry meters, String name,
                      Supplier<ConsumerLoop.Health> health) {
        observability.addReadinessProblem(name, () -> {
            ConsumerLoop.Health now = health.get();
            return now == null ? "not running" : now.problem();
        });
        Gauge.builder("gatehouse.consumer.lag", health, h -> {
                    ConsumerLoop.Health now = h.get();
                    return now == null || now.lag() < 0 ? Double.NaN : now.lag();
                })
                .description("Records a consumer loop has not read yet, as of its last poll")
                .tag("loop", name)
                .strongReference(true)
                .register(meters);
    }
}
