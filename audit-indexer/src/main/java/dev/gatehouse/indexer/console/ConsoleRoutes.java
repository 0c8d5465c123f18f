package dev.gatehouse.indexer.console;

import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpClient;
import io.vertx.core.http.HttpClientOptions;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import io.vertx.ext.web.handler.StaticHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URI;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * The web console on the indexer's HTTP server: the static pages under {@code /console/}
 * (classpath {@code console/}), {@code /} redirecting there, and a same-origin proxy of the
 * approval service's REST API at {@code /api/v1/approvals} (GET list and one, POST approve / deny)
 * that forwards the caller's {@code Authorization} header unchanged, so the approval service
 * decides who may read and vote. The pages themselves hold no data: every call they make carries
 * the user's bearer token.
 *
 * <p>Install with {@link #install} before the indexer API starts (its catch-all 404 for
 * {@code /api/v1/*} is added at start, after these routes).
 */
public final class ConsoleRoutes {

    private static final Logger LOGGER = LoggerFactory.getLogger(ConsoleRoutes.class);

    /** Where the console is served. */
    public static final String PATH = "/console/";
    static final String APPROVALS = "/api/v1/approvals";
    static final int MAX_VOTE_BODY = 16 * 1024;
    /**
     * Scripts and styles only from the console itself, no inline code, no framing: a second line of
     * defence behind rendering all data as text.
     */
    static final String CONTENT_SECURITY_POLICY = "default-src 'self'; script-src 'self'; style-src 'self'; "
            + "img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; "
            + "frame-ancestors 'none'";

    private final Supplier<URI> approvalsUrl;
    private final HttpClient client;

    private ConsoleRoutes(Vertx vertx, Supplier<URI> approvalsUrl) {
        this.approvalsUrl = approvalsUrl;
        this.client = vertx.createHttpClient(new HttpClientOptions().setConnectTimeout(5_000).setIdleTimeout(30));
    }

    /**
     * Adds the console routes to the indexer's router.
     *
     * @param approvalsUrl the approval service's base URL (e.g. {@code http://127.0.0.1:18083}), or null when
     *                     there is none: the approvals page then says so
     */
    public static ConsoleRoutes install(Vertx vertx, Router router, URI approvalsUrl) {
        if (approvalsUrl != null) check(approvalsUrl);
        return install(vertx, router, () -> approvalsUrl);
    }

    /**
     * Adds the console routes, asking for the approval service's URL on every call (it may start on a
     * free port after the indexer); the supplier returns null while there is none.
     */
    public static ConsoleRoutes install(Vertx vertx, Router router, Supplier<URI> approvalsUrl) {
        Objects.requireNonNull(vertx, "vertx");
        Objects.requireNonNull(router, "router");
        Objects.requireNonNull(approvalsUrl, "approvalsUrl");
        ConsoleRoutes routes = new ConsoleRoutes(vertx, approvalsUrl);
        routes.addTo(router);
        LOGGER.info("Web console at {}", PATH);
        return routes;
    }

    private static URI check(URI url) {
        if (url.getHost() == null || !("http".equalsIgnoreCase(url.getScheme()) || "https".equalsIgnoreCase(url.getScheme()))) {
            throw new IllegalArgumentException("the approval service URL must be http(s)://host[:port], was " + url);
        }
        return url;
    }

    private void addTo(Router router) {
        router.get("/").handler(ctx -> ctx.redirect(PATH));
        router.get("/console").handler(ctx -> {
            if (ctx.request().path().endsWith("/")) ctx.next(); // Vert.x matches "/console/" here too
            else ctx.redirect(PATH);
        });
        router.route(PATH + "*").handler(ctx -> {
            ctx.response().putHeader("Content-Security-Policy", CONTENT_SECURITY_POLICY)
                    .putHeader("X-Content-Type-Options", "nosniff")
                    .putHeader("Referrer-Policy", "no-referrer")
                    .putHeader("X-Frame-Options", "DENY");
            ctx.next();
        });
        router.route(PATH + "*").handler(StaticHandler.create("console").setIndexPage("index.html")
                .setMaxAgeSeconds(60).setIncludeHidden(false).setDirectoryListing(false));

        router.post(APPROVALS + "/:id/:vote").handler(BodyHandler.create().setBodyLimit(MAX_VOTE_BODY));
        router.get(APPROVALS).handler(ctx -> proxy(ctx, HttpMethod.GET, APPROVALS, null));
        router.get(APPROVALS + "/:id").handler(ctx -> proxy(ctx, HttpMethod.GET, APPROVALS + "/" + segment(ctx, "id"), null));
        router.post(APPROVALS + "/:id/:vote").handler(ctx -> {
            String vote = ctx.pathParam("vote");
            if (!vote.equals("approve") && !vote.equals("deny")) {
                reply(ctx, 404, "no route POST " + ctx.request().path() + " (use /approve or /deny)");
                return;
            }
            Buffer body = ctx.body() == null || ctx.body().buffer() == null ? Buffer.buffer() : ctx.body().buffer();
            proxy(ctx, HttpMethod.POST, APPROVALS + "/" + segment(ctx, "id") + "/" + vote, body);
        });
    }

    private static String segment(RoutingContext ctx, String name) {
        return URLEncoder.encode(ctx.pathParam(name), StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Forwards one call to the approval service with the caller's Authorization header; relays status and JSON body. */
    private void proxy(RoutingContext ctx, HttpMethod method, String path, Buffer body) {
        URI target;
        try {
            target = approvalsUrl.get();
            if (target != null) check(target);
        } catch (RuntimeException e) {
            reply(ctx, 503, "the approval service URL is not usable: " + e.getMessage());
            return;
        }
        if (target == null) {
            reply(ctx, 503, "no approval service is configured for this indexer's console");
            return;
        }
        String query = ctx.request().query();
        String base = target.getRawPath() == null ? "" : target.getRawPath().replaceAll("/+$", "");
        String uri = base + path + (query == null || query.isEmpty() ? "" : "?" + query);
        boolean tls = "https".equalsIgnoreCase(target.getScheme());
        int port = target.getPort() > 0 ? target.getPort() : tls ? 443 : 80;
        RequestOptions options = new RequestOptions().setMethod(method).setHost(target.getHost()).setPort(port).setSsl(tls)
                .setURI(uri).setTimeout(30_000).putHeader("Accept", "application/json");
        String authorization = ctx.request().getHeader("Authorization");
        if (authorization != null) options.putHeader("Authorization", authorization);
        if (body != null) options.putHeader("Content-Type", "application/json");
        client.request(options)
                .compose(request -> body == null ? request.send() : request.send(body))
                .compose(response -> response.body().map(b -> new Relayed(response.statusCode(), b)))
                .onSuccess(r -> {
                    if (ctx.response().ended()) return;
                    ctx.response().setStatusCode(r.status()).putHeader("Content-Type", "application/json").end(r.body());
                })
                .onFailure(err -> {
                    LOGGER.warn("approval service unreachable for the console: {} {}: {}", method, path, err.toString());
                    reply(ctx, 502, "the approval service at " + target + " did not answer: " + err.getMessage());
                });
    }

    private record Relayed(int status, Buffer body) {
    }

    private static void reply(RoutingContext ctx, int status, String message) {
        if (ctx.response().ended()) return;
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json")
                .end(new JsonObject().put("error", message).encode());
    }

    /** Closes the proxy's HTTP client. */
    public Future<Void> close() {
        return client.close();
    }
}
