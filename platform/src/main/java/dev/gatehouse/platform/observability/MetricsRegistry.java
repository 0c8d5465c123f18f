package dev.gatehouse.platform.observability;

import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

/**
 * Holds the process' Prometheus meter registry, with the JVM binders (memory, GC, threads,
 * class loading, processor, uptime) already bound. Services register their own meters on
 * {@link #registry()}; {@link ObservabilityServer} serves {@link #scrape()}. Close it on shutdown.
 */
public final class MetricsRegistry implements AutoCloseable {

    private final PrometheusMeterRegistry registry;
    private final JvmGcMetrics gcMetrics;

    private MetricsRegistry(Tags commonTags) {
        this.registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
        registry.config().commonTags(commonTags);
        new JvmMemoryMetrics().bindTo(registry);
        this.gcMetrics = new JvmGcMetrics();
        gcMetrics.bindTo(registry);
        new JvmThreadMetrics().bindTo(registry);
        new ClassLoaderMetrics().bindTo(registry);
        new ProcessorMetrics().bindTo(registry);
        new UptimeMetrics().bindTo(registry);
    }

    /** A registry without common tags. */
    public static MetricsRegistry create() {
        return new MetricsRegistry(Tags.empty());
    }

    /** A registry whose every meter carries {@code commonTags} (e.g. service, instance). */
    public static MetricsRegistry create(Tags commonTags) {
        return new MetricsRegistry(commonTags);
    }

    public PrometheusMeterRegistry registry() {
        return registry;
    }

    /** All meters in the Prometheus text exposition format 0.0.4. */
    public String scrape() {
        return registry.scrape();
    }

    /** All meters in the given exposition format (an {@code Accept} header value). */
    public String scrape(String contentType) {
        return registry.scrape(contentType);
    }

    @Override
    public void close() {
        gcMetrics.close();
        registry.close();
    }
}
