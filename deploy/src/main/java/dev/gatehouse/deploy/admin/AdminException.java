package dev.gatehouse.deploy.admin;

import dev.gatehouse.platform.http.ApiError;

/** A request the admin API refuses: the HTTP status and a message safe to show the caller. */
public final class AdminException extends ApiError {
    public AdminException(int status, String message) {
        super(status, message);
    }

    public static AdminException badRequest(String message) {
        return new AdminException(400, message);
    }

    public static AdminException notFound(String message) {
        return new AdminException(404, message);
    }

    public static AdminException conflict(String message) {
        return new AdminException(409, message);
    }
}
