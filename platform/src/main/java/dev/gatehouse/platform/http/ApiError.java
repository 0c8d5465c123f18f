package dev.gatehouse.platform.http;

/**
 * A request an HTTP API refuses: the status to answer with and a message safe to show the caller.
 * {@link JsonReplies#fail} answers it as {@code {"error": message}}.
 */
public class ApiError extends RuntimeException {
    private final int status;

    public ApiError(int status, String message) {
        super(message, null, false, false);
        if (status < 400 || status > 599) throw new IllegalArgumentException("not an error status: " + status);
        this.status = status;
    }

    public int status() {
        return status;
    }
}
