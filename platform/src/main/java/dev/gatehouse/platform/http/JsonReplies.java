package dev.gatehouse.platform.http;

import dev.gatehouse.platform.identity.BearerAuth;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;

import java.util.concurrent.CompletionException;

/**
 * How Gatehouse's JSON APIs (admin, approvals, audit indexer) answer: one place that turns a
 * failure into a status and an {@code {"error": ...}} body. A refused bearer token answers with its
 * status (and the {@code WWW-Authenticate} challenge on 401), an {@link ApiError} with its status,
 * anything else 500, logged.
 */
public final class JsonReplies {

    private JsonReplies() {
    }

    /** Answers {@code body} as JSON with {@code status}, unless the response already ended. */
    public static void reply(RoutingContext ctx, int status, String body) {
        if (ctx.response().ended()) return;
        ctx.response().setStatusCode(status).putHeader("Content-Type", "application/json").end(body);
    }

    public static void reply(RoutingContext ctx, int status, JsonObject body) {
        reply(ctx, status, body.encode());
    }

    /**
     * Answers a failed request.
     *
     * @param what   the request, for the log ("GET /admin/v1/sessions")
     * @param logger where an unexpected failure is logged, with its stack
     */
    public static void fail(RoutingContext ctx, Logger logger, String what, Throwable err) {
        Throwable cause = unwrap(err);
        switch (cause) {
            case BearerAuth.Refused r -> {
                if (r.challenge() != null) ctx.response().putHeader("WWW-Authenticate", r.challenge());
                reply(ctx, r.status(), error(r.getMessage()));
            }
            case ApiError e -> reply(ctx, e.status(), error(e.getMessage()));
            default -> {
                logger.error("request failed {}", what, cause);
                reply(ctx, 500, error("internal error: " + cause.getMessage()));
            }
        }
    }

    /** The body {@code {"error": message}}. */
    public static JsonObject error(String message) {
        return new JsonObject().put("error", message == null ? "error" : message);
    }

    /** The failure a {@link CompletionException} wraps. */
    public static Throwable unwrap(Throwable t) {
        while (t instanceof CompletionException && t.getCause() != null) t = t.getCause();
        return t;
    }
}
