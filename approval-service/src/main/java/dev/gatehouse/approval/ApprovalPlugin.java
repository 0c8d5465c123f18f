package dev.gatehouse.approval;

import io.vertx.ext.web.Router;

/**
 * Extends the approval service (the Slack integration is one): may supply the notifier and add
 * HTTP routes. Called once while the service starts, before the arbiter and the HTTP server.
 */
public interface ApprovalPlugin {

    /** The parts a plugin may use. */
    record Parts(ApprovalDesk desk, ApprovalEvents events, ApprovalLog log, io.vertx.core.Vertx vertx, String instanceId) {
    }

    /** The notifier to use, or null to leave it to another plugin (or the logging default). */
    default ApprovalNotifier notifier(Parts parts) {
        return null;
    }

    /** Adds routes to the approval service's HTTP server (e.g. {@code POST /slack/interactivity}). */
    default void routes(Router router, Parts parts) {
    }
}
