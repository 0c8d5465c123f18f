package dev.gatehouse.deploy.admin;

import io.vertx.core.http.HttpMethod;

import java.util.concurrent.CompletionStage;

/**
 * A group of admin API routes (revocations, sessions, policies...), added to an
 * {@link AdminServer} before it starts. Every route is authenticated and restricted to the
 * admin group by the server; a handler only sees {@link AdminRequest}s of administrators.
 */
@FunctionalInterface
public interface AdminRoutes {

    void register(Registrar registrar);

    /** Where routes are added. Paths are Vert.x Web paths under {@code /admin/v1}, e.g. {@code /revocations/:id}. */
    interface Registrar {
        void route(HttpMethod method, String path, Handler handler);
    }

    /**
     * Answers one request. May complete on any thread; fail with an {@link AdminException} for
     * an answer other than 500.
     */
    @FunctionalInterface
    interface Handler {
        CompletionStage<AdminResponse> handle(AdminRequest request);
    }
}
