package dev.gatehouse.platform.observability;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.Supplier;

/**
 * The operations endpoint of a Gatehouse process: {@code GET /metrics} (Prometheus),
 * {@code GET /health/live} (200 while the process serves requests) and {@code GET /health/ready}
 * (200 when every readiness check passes, else 503 naming the failing ones, with the reasons
 * those that can say give).
 *
 * <p>Readiness checks and the scrape run on a worker thread, never on the event loop; a check that
 * throws or returns anything but {@code true} fails. Keep a reference to {@code vertx}.
 */
public final class ObservabilityServer {

    private static final Logger LOGGER = LoggerFactory.getLogger(ObservabilityServer.class);

    static final String TEXT_FORMAT = "text/plain; version=0.0.4; charset=utf-8";
    static final String OPENMETRICS_FORMAT = "application/openmetrics-text; version=1.0.0; charset=utf-8";

    private final Vertx vertx;
    private final String host;
    private final int port;
    private final MetricsRegistry metrics;
    /** The problem of each check: null when ready, else why not ("" when it cannot say). */
    private final Map<String, Callable<String>> readinessChecks = new ConcurrentSkipListMap<>();
    private volatile HttpServer server;

    /**
     * @param port the port to listen on; 0 for any free port (see {@link #start()})
     */
    public ObservabilityServer(Vertx vertx, String host, int port, MetricsRegistry metrics) {
        this.vertx = Objects.requireNonNull(vertx, "vertx");
        this.host = Objects.requireNonNull(host, "host");
        this.metrics = Objects.requireNonNull(metrics, "metrics");
        if (port < 0 || port > 65535) {
            throw new IllegalArgumentException("port must be between 0 and 65535, got " + port);
        }
        this.port = port;
    }

    /**
     * Adds a readiness check; names are unique and appear in the 503 answer. The check runs on a
     * worker thread at every {@code /health/ready} request: keep it quick (read a flag or a
     * cached state rather than probing a remote system each time).
     */
    public void addReadinessCheck(String name, Callable<Boolean> check) {
        Objects.requireNonNull(check, "check");
        add(name, () -> Boolean.TRUE.equals(check.call()) ? null : "");
    }

    /**
     * Adds a readiness check that says what is wrong: {@code problem} returns null when ready,
     * else why not, shown under {@code reasons} in the 503 answer (so: no secrets). Otherwise as
     * {@link #addReadinessCheck}.
     */
    public void addReadinessProblem(String name, Supplier<String> problem) {
        Objects.requireNonNull(problem, "problem");
        add(name, problem::get);
    }

    private void add(String name, Callable<String> problem) {
        Objects.requireNonNull(name, "name");
        if (readinessChecks.putIfAbsent(name, problem) != null) {
            throw new IllegalArgumentException("readiness check `" + name + "` is already registered");
        }
    }

    /** Removes a readiness check; true when it was registered. */
    public boolean removeReadinessCheck(String name) {
        return readinessChecks.remove(name) != null;
    }

    /** Starts listening; the future holds the actual port. */
    public Future<Integer> start() {
        if (server != null) {
            return Future.failedFuture(new IllegalStateException("the observability server is already started"));
        }
        Router router = Router.router(vertx);
        router.get("/metrics").handler(this::metrics);
        router.get("/health/live").handler(ctx -> json(ctx, 200, new JsonObject().put("status", "UP")));
        router.get("/health/ready").handler(this::ready);
        return vertx.createHttpServer()
                .requestHandler(router)
                .listen(port, host)
                .map(started -> {
                    server = started;
                    LOGGER.info("observability endpoint listening host={} port={}", host, started.actualPort());
                    return started.actualPort();
                });
    }

    /** The bound port, or -1 before {@link #start()} completed. */
    public int port() {
        HttpServer current = server;
        return current == null ? -1 : current.actualPort();
    }

    /** Stops listening. */
    public Future<Void> stop() {
        HttpServer current = server;
        server = null;
        return current == null ? Future.succeededFuture() : current.close();
    }

    private void metrics(RoutingContext ctx) {
        String accept = ctx.request().getHeader("accept");
        boolean openMetrics = accept != null && accept.contains("application/openmetrics-text");
        vertx.executeBlocking(() -> openMetrics ? metrics.scrape(OPENMETRICS_FORMAT) : metrics.scrape(), false)
                .onSuccess(body -> ctx.response()
                        .putHeader("content-type", openMetrics ? OPENMETRICS_FORMAT : TEXT_FORMAT)
                        .end(body))
                .onFailure(e -> {
                    LOGGER.warn("metrics scrape failed: {}", e.toString());
                    ctx.response().setStatusCode(500).end();
                });
    }

    private void ready(RoutingContext ctx) {
        List<Map.Entry<String, Callable<String>>> checks = List.copyOf(readinessChecks.entrySet());
        vertx.executeBlocking(() -> {
            JsonObject results = new JsonObject();
            JsonObject reasons = new JsonObject();
            List<String> failing = new ArrayList<>();
            for (Map.Entry<String, Callable<String>> check : checks) {
                String problem;
                try {
                    problem = check.getValue().call();
                } catch (Exception e) {
                    LOGGER.warn("readiness check failed check={} error={}", check.getKey(), e.toString());
                    problem = e.toString();
                }
                results.put(check.getKey(), problem == null ? "UP" : "DOWN");
                if (problem != null) {
                    failing.add(check.getKey());
                    if (!problem.isEmpty()) reasons.put(check.getKey(), problem);
                }
            }
            JsonObject body = new JsonObject()
                    .put("status", failing.isEmpty() ? "UP" : "DOWN")
                    .put("checks", results)
                    .put("failing", new JsonArray(failing));
            return reasons.isEmpty() ? body : body.put("reasons", reasons);
        }, false).onComplete(ar -> {
            if (ar.succeeded()) {
                JsonObject body = ar.result();
                json(ctx, "UP".equals(body.getString("status")) ? 200 : 503, body);
            } else {
                json(ctx, 503, new JsonObject().put("status", "DOWN").put("error", "readiness checks could not run"));
            }
        });
    }

    private static void json(RoutingContext ctx, int status, JsonObject body) {
        ctx.response()
                .setStatusCode(status)
                .putHeader("content-type", "application/json")
                .putHeader("cache-control", "no-store")
                .end(body.encode());
    }
}
