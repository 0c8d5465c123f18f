package dev.gatehouse.deploy.admin;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.kafka.RevocationLog;
import dev.gatehouse.platform.revocation.EdgeSessions;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.Selector;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionStage;
import java.util.function.Supplier;

/**
 * {@code POST /revocations} (revoke), {@code GET /revocations} (those in force),
 * {@code DELETE /revocations/:id} (lift). Each change is first recorded in the audit log as
 * {@code AccessRevoked} (with the administrator's subject), then written to the revocation log,
 * which every edge follows. A revocation of a selector type that a live edge does not enforce (an
 * edge older than the type, by its heartbeat) is refused with 409, naming the edges: in force
 * everywhere or not at all.
 */
public final class RevocationRoutes implements AdminRoutes {
    private static final Logger LOGGER = LoggerFactory.getLogger(RevocationRoutes.class);
    /** The audit key of revocation events (they belong to no client session). */
    static final SessionId AUDIT_KEY = SessionId.system("revocation");

    private final RevocationLog log;
    private final AuditSink audit;
    private final String instanceId;
    private final Supplier<List<EdgeSessions>> edges;

    /**
     * @param edges the fleet's edges as their last heartbeats describe them
     */
    public RevocationRoutes(RevocationLog log, AuditSink audit, String instanceId, Supplier<List<EdgeSessions>> edges) {
        this.log = Objects.requireNonNull(log, "log");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.instanceId = Objects.requireNonNull(instanceId, "instanceId");
        this.edges = Objects.requireNonNull(edges, "edges");
    }

    @Override
    public void register(Registrar registrar) {
        registrar.route(HttpMethod.POST, "/revocations", this::revoke);
        registrar.route(HttpMethod.GET, "/revocations", this::list);
        registrar.route(HttpMethod.DELETE, "/revocations/:id", this::lift);
    }

    /** Body: {@code {"selector": "subject=alice", "reason": "..."}} or {@code {"type": ..., "value": ...}}. */
    private CompletionStage<AdminResponse> revoke(AdminRequest request) {
        JsonObject body = request.json();
        Selector selector;
        try {
            String text = body.getString("selector");
            selector = text != null ? Selector.parse(text)
                    : new Selector(Selector.Type.parse(required(body, "type")), required(body, "value"));
        } catch (IllegalArgumentException | ClassCastException e) {
            throw AdminException.badRequest(e.getMessage());
        }
        refuseIfNotEnforcedEverywhere(selector);
        Revocation revocation = Revocation.create(selector, request.admin().subject(), body.getString("reason"));
        LOGGER.info("Revoking id={} selector={} revokedBy={}", revocation.id(), selector, revocation.revokedBy());
        return record(revocation, revocation.revokedBy())
                .thenCompose(v -> log.publish(revocation))
                .thenApply(v -> AdminResponse.created(AdminJson.revocation(revocation)));
    }

    /** Edges that predate a selector type would skip its revocations: refused, so that nothing is half in force. */
    private void refuseIfNotEnforcedEverywhere(Selector selector) {
        Instant now = Instant.now();
        List<String> unable = edges.get().stream().filter(e -> e.alive(now) && !e.enforces(selector.type()))
                .map(EdgeSessions::edgeId).toList();
        if (unable.isEmpty()) return;
        String hint = selector.type() != Selector.Type.ACTOR ? "" : "; meanwhile subject=" + selector.value()
                + " ends the sessions in which " + selector.value() + " is the current actor on every edge";
        throw AdminException.conflict("not revoked: edge(s) " + String.join(", ", unable) + " run an older version that"
                + " cannot enforce " + selector.type().label() + " revocations; upgrade them first" + hint);
    }

    private CompletionStage<AdminResponse> list(AdminRequest request) {
        JsonArray all = new JsonArray();
        log.active().all().forEach(r -> all.add(AdminJson.revocation(r)));
        return AdminServer.now(AdminResponse.ok(new JsonObject().put("revocations", all)));
    }

    private CompletionStage<AdminResponse> lift(AdminRequest request) {
        String id = request.pathParam("id");
        Revocation current = log.active().find(id)
                .orElseThrow(() -> AdminException.notFound("no revocation " + id + " is in force"));
        Revocation lifted = current.lift(request.admin().subject());
        LOGGER.info("Lifting id={} selector={} liftedBy={}", id, current.selector(), lifted.liftedBy());
        return record(lifted, lifted.liftedBy())
                .thenCompose(v -> log.publish(lifted))
                .thenApply(v -> AdminResponse.ok(AdminJson.revocation(lifted)));
    }

    /** AccessRevoked; {@code revokedBy} is the administrator of this action (for a lift: who lifted). */
    private CompletionStage<Void> record(Revocation r, String by) {
        return audit.append(new AuditEvent.AccessRevoked(EventHeader.now(AUDIT_KEY, "admin", instanceId),
                r.selector().type().label(), r.selector().value(), by, r.reason(), r.lifted()));
    }

    private static String required(JsonObject body, String field) {
        String value = body.getString(field);
        if (value == null) throw new IllegalArgumentException("'selector' (type=value) or '" + field + "' is required");
        return value;
    }
}
