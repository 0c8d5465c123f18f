package dev.gatehouse.deploy.admin;

import dev.gatehouse.platform.revocation.EdgeSessions;
import dev.gatehouse.platform.revocation.Revocation;
import dev.gatehouse.platform.revocation.Selector;
import dev.gatehouse.platform.revocation.SessionInfo;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;

/** The admin API's JSON forms of revocations and sessions (the CLI reads the same names). */
public final class AdminJson {
    private AdminJson() {
    }

    public static JsonObject revocation(Revocation r) {
        return new JsonObject()
                .put("id", r.id())
                .put("selector", r.selector().toString())
                .put("type", r.selector().type().label())
                .put("value", r.selector().value())
                .put("revokedBy", r.revokedBy())
                .put("reason", r.reason())
                .put("revokedAt", r.revokedAt().toString())
                .put("lifted", r.lifted())
                .put("liftedBy", r.liftedBy())
                .put("liftedAt", r.liftedAt() == null ? null : r.liftedAt().toString())
                .put("message", r.message());
    }

    public static JsonObject session(SessionInfo s, EdgeSessions edge, boolean edgeAlive) {
        return new JsonObject()
                .put("sessionId", s.sessionId())
                .put("subject", s.subject())
                .put("issuer", s.issuer())
                .put("groups", new JsonArray(s.groups()))
                .put("ciRepository", s.ciRepository())
                .put("ciCommitSha", s.ciCommitSha())
                .put("connection", s.connection())
                .put("clientAddress", s.clientAddress())
                .put("startedAt", s.startedAt().toString())
                .put("originator", s.originator())
                .put("earlierActors", new JsonArray(s.earlierActors()))
                .put("edgeId", edge.edgeId())
                .put("edgeAlive", edgeAlive);
    }

    public static JsonObject edge(EdgeSessions e, Instant now) {
        return new JsonObject()
                .put("edgeId", e.edgeId())
                .put("heartbeatAt", e.heartbeatAt().toString())
                .put("intervalMillis", e.interval().toMillis())
                .put("alive", e.alive(now))
                .put("sessions", e.sessions().size())
                .put("revocationSelectors", new JsonArray(e.selectorTypes().stream().map(Selector.Type::label).toList()));
    }
}
