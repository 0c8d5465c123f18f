package dev.gatehouse.approval;

import dev.gatehouse.platform.http.JsonReplies;
import dev.gatehouse.platform.http.ApiError;
import dev.gatehouse.platform.identity.BearerAuth;
import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.Identity;
import io.vertx.core.Context;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import io.vertx.ext.web.handler.BodyHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.EnumSet;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;

/**
 * The approval service's HTTP server: the REST API under {@code /api/v1/approvals} (every route
 * needs an OIDC bearer token; the approver is the token's subject, issuer and groups) and whatever
 * other routes are added with {@link #addRoutes} before {@link #start()} (the Slack interactivity
 * endpoint, which authenticates by its own signature).
 *
 * <ul>
 *   <li>{@code GET /api/v1/approvals?state=pending|granted|denied|expired|executed|all} (default pending)</li>
 *   <li>{@code GET /api/v1/approvals/{id}}</li>
 *   <li>{@code POST /api/v1/approvals/{id}/approve} and {@code /deny}, body {@code {"reason": "..."}}
 *       (required to deny)</li>
 * </ul>
 * Errors are {@code {"error": "..."}}: 401 (with {@code WWW-Authenticate}) without a valid token,
 * 403 for the requester's own request (or, delegated, the originator's or an actor's), outside the
 * approver group or not the originator of an originator confirmation, 404 unknown, 409 already
 * decided / voted / expired.
 */
public final class ApprovalHttpServer {

    private static final Logger LOGGER = LoggerFactory.getLogger(ApprovalHttpServer.class);

    /** The REST API's prefix. */
    public static final String PREFIX = "/api/v1/approvals";
    /** The realm named in challenges. */
    public static final String REALM = "gatehouse-approvals";
    private static final int MAX_BODY = 64 * 1024;

    private final Vertx vertx;
    private final String host;
    private final int port;
    private final ApprovalDesk desk;
    private final BearerAuth auth;
    private final Router router;
    private HttpServer server;

    public ApprovalHttpServer(Vertx vertx, String host, int port, ApprovalDesk desk, BearerAuth auth) {
        this.vertx = Objects.requireNonNull(vertx, "vertx");
        this.host = Objects.requireNonNull(host, "host");
        this.port = port;
        this.desk = Objects.requireNonNull(desk, "desk");
        this.auth = Objects.requireNonNull(auth, "auth");
        this.router = Router.router(vertx);
        router.route(PREFIX + "*").handler(BodyHandler.create().setBodyLimit(MAX_BODY));
        router.get(PREFIX).handler(ctx -> authenticated(ctx, who -> list(ctx)));
        router.get(PREFIX + "/:id").handler(ctx -> authenticated(ctx, who -> show(ctx)));
        router.post(PREFIX + "/:id/approve").handler(ctx -> authenticated(ctx, who -> vote(ctx, who, true)));
        router.post(PREFIX + "/:id/deny").handler(ctx -> authenticated(ctx, who -> vote(ctx, who, false)));
        router.get("/health").handler(ctx -> JsonReplies.reply(ctx, 200, new JsonObject().put("status", "UP")));
    }

    /** Adds routes (e.g. {@code POST /slack/interactivity}); call before {@link #start()}. */
    public ApprovalHttpServer addRoutes(Consumer<Router> routes) {
        if (server != null) throw new IllegalStateException("routes must be added before the server starts");
        routes.accept(router);
        return this;
    }

    /** The Vert.x instance the server runs on (for route handlers). */
    public Vertx vertx() {
        return vertx;
    }

    private void authenticated(RoutingContext ctx, java.util.function.Function<Identity, CompletionStage<JsonObject>> handler) {
        Context context = vertx.getOrCreateContext();
        String what = ctx.request().method() + " " + ctx.request().path();
        CompletionStage<Identity> who = auth.authenticate(ctx.request().getHeader("Authorization"));
        who.thenCompose(identity -> {
            LOGGER.debug("approval request subject={} {}", identity.subject(), what);
            try {
                return handler.apply(identity);
            } catch (RuntimeException e) {
                return CompletableFuture.failedFuture(e);
            }
        }).whenComplete((body, err) -> context.runOnContext(v -> {
            if (err == null) JsonReplies.reply(ctx, 200, body);
            else JsonReplies.fail(ctx, LOGGER, what, err);
        }));
    }

    private CompletionStage<JsonObject> list(RoutingContext ctx) {
        String state = ctx.request().getParam("state", "pending").toLowerCase(Locale.ROOT);
        Set<Approval.State> states;
        if (state.equals("all")) {
            states = Set.of();
        } else {
            try {
                states = EnumSet.of(Approval.State.valueOf(state.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new ApiError(400, "unknown state '" + state + "': use pending, granted, denied, expired, executed or all");
            }
        }
        JsonArray items = new JsonArray();
        desk.list(new ApprovalFilter(states, 500)).forEach(a -> items.add(ApprovalJson.toJson(a)));
        return CompletableFuture.completedFuture(new JsonObject().put("approvals", items));
    }

    private CompletionStage<JsonObject> show(RoutingContext ctx) {
        String id = ctx.pathParam("id");
        return CompletableFuture.completedFuture(desk.get(id).map(ApprovalJson::toJson)
                .orElseThrow(() -> new ApiError(404, "no approval " + id)));
    }

    private CompletionStage<JsonObject> vote(RoutingContext ctx, Identity who, boolean approve) {
        String id = ctx.pathParam("id");
        String reason = null;
        String body = ctx.body() == null ? null : ctx.body().asString();
        if (body != null && !body.isBlank()) {
            try {
                Object r = new JsonObject(body).getValue("reason");
                if (r != null && !(r instanceof String)) throw new ApiError(400, "\"reason\" must be a string");
                reason = (String) r;
            } catch (DecodeException | ClassCastException e) {
                throw new ApiError(400, "the body must be a JSON object like {\"reason\": \"...\"}");
            }
        }
        if (!approve && (reason == null || reason.isBlank())) {
            throw new ApiError(400, "a reason is required to deny ({\"reason\": \"...\"})");
        }
        return desk.vote(id, Approver.of(who), approve, reason, "rest", null)
                .thenApply(result -> ApprovalJson.toJson(result.approval()).put("counted", result.counted())
                        .put("tally", result.tally().label()));
    }

    /** Starts listening; the future holds the bound port. */
    public Future<Integer> start() {
        server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port));
        return server.requestHandler(router).listen().map(s -> {
            LOGGER.info("Approval API on http://{}:{}{}", host, s.actualPort(), PREFIX);
            return s.actualPort();
        });
    }

    /** The bound port (after {@link #start()}). */
    public int port() {
        return server == null ? -1 : server.actualPort();
    }

    public Future<Void> stop() {
        return server == null ? Future.succeededFuture() : server.close();
    }
}
