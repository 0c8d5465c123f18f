package dev.gatehouse.deploy.admin;

import dev.gatehouse.platform.http.JsonReplies;
import dev.gatehouse.platform.identity.BearerAuth;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The admin HTTP API ({@code /admin/v1/...}): every route requires an administrator's bearer
 * token of the admin group (see {@link BearerAuth}); 401 with {@code WWW-Authenticate} without one, 403 outside the
 * admin group. Routes come from {@link AdminRoutes}, added before {@link #start()}. Answers are
 * JSON; errors are {@code {"error": "..."}}.
 */
public final class AdminServer {
    private static final Logger LOGGER = LoggerFactory.getLogger(AdminServer.class);

    /** Every admin route lives under this prefix. */
    public static final String PREFIX = "/admin/v1";
    private static final int MAX_BODY = 64 * 1024;

    private final Vertx vertx;
    private final String host;
    private final int port;
    private final BearerAuth auth;
    private final Router router;
    private HttpServer server;

    /** @param auth bearer tokens, normally requiring the admin group */
    public AdminServer(Vertx vertx, String host, int port, BearerAuth auth) {
        this.vertx = Objects.requireNonNull(vertx, "vertx");
        this.host = Objects.requireNonNull(host, "host");
        this.port = port;
        this.auth = Objects.requireNonNull(auth, "auth");
        this.router = Router.router(vertx);
        router.route(PREFIX + "/*").handler(BodyHandler.create().setBodyLimit(MAX_BODY));
    }

    /** Adds a group of routes; call before {@link #start()}. */
    public AdminServer add(AdminRoutes routes) {
        routes.register(this::route);
        return this;
    }

    private void route(HttpMethod method, String path, AdminRoutes.Handler handler) {
        if (!path.startsWith("/")) throw new IllegalArgumentException("admin route path must start with '/': " + path);
        router.route(method, PREFIX + path).handler(ctx -> dispatch(ctx, handler));
    }

    private void dispatch(RoutingContext ctx, AdminRoutes.Handler handler) {
        Context context = vertx.getOrCreateContext();
        String what = ctx.request().method() + " " + ctx.request().path();
        auth.authenticate(ctx.request().getHeader("Authorization"))
                .thenCompose(admin -> {
                    LOGGER.info("admin request subject={} {}", admin.subject(), what);
                    try {
                        return handler.handle(new AdminRequest(ctx, admin));
                    } catch (RuntimeException e) {
                        return CompletableFuture.failedFuture(e);
                    }
                })
                .whenComplete((response, err) -> context.runOnContext(v -> {
                    if (err == null) {
                        JsonReplies.reply(ctx, response.status(), response.body());
                    } else {
                        JsonReplies.fail(ctx, LOGGER, what, err);
                    }
                }));
    }

    /** Starts listening; the future holds the bound port. */
    public Future<Integer> start() {
        router.route(PREFIX + "/*").last().handler(ctx -> JsonReplies.reply(ctx, 404,
                JsonReplies.error("no admin route " + ctx.request().method() + " " + ctx.request().path())));
        server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port));
        return server.requestHandler(router).listen().map(s -> {
            LOGGER.info("admin API on http://{}:{}{} (admin group {})", host, s.actualPort(), PREFIX, auth.requiredGroup());
            return s.actualPort();
        });
    }

    public Future<Void> stop() {
        return server == null ? Future.succeededFuture() : server.close();
    }

    /** A completed stage, for handlers that answer at once. */
    public static CompletionStage<AdminResponse> now(AdminResponse response) {
        return CompletableFuture.completedFuture(response);
    }
}
