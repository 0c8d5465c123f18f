package dev.gatehouse.deploy.admin;

import dev.gatehouse.platform.core.Identity;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.RoutingContext;

import java.util.Objects;

/** One authenticated admin request: the administrator's identity and what they sent. */
public final class AdminRequest {
    private final RoutingContext context;
    private final Identity admin;

    AdminRequest(RoutingContext context, Identity admin) {
        this.context = Objects.requireNonNull(context, "context");
        this.admin = Objects.requireNonNull(admin, "admin");
    }

    /** The authenticated administrator; record their {@code subject()} on every action. */
    public Identity admin() {
        return admin;
    }

    /** A path parameter ({@code /revocations/:id}). */
    public String pathParam(String name) {
        return context.pathParam(name);
    }

    /** A query parameter, or null. */
    public String queryParam(String name) {
        return context.queryParams().get(name);
    }

    /**
     * The body as a JSON object.
     *
     * @throws AdminException (400) when the body is missing or not a JSON object
     */
    public JsonObject json() {
        try {
            JsonObject body = context.body().asJsonObject();
            if (body == null) throw AdminException.badRequest("a JSON object body is required");
            return body;
        } catch (DecodeException | ClassCastException e) {
            throw AdminException.badRequest("the body is not a JSON object: " + e.getMessage());
        }
    }
}
