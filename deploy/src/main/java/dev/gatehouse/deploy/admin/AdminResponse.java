package dev.gatehouse.deploy.admin;

import io.vertx.core.json.JsonObject;

import java.util.Objects;

/** What an admin route answers: a status and a JSON body. */
public record AdminResponse(int status, JsonObject body) {
    public AdminResponse {
        Objects.requireNonNull(body, "body");
    }

    public static AdminResponse ok(JsonObject body) {
        return new AdminResponse(200, body);
    }

    public static AdminResponse created(JsonObject body) {
        return new AdminResponse(201, body);
    }
}
