package dev.gatehouse.deploy.admin;

import dev.gatehouse.platform.kafka.SessionDirectory;
import dev.gatehouse.platform.revocation.EdgeSessions;
import dev.gatehouse.platform.revocation.SessionInfo;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

import java.time.Instant;
import java.util.Locale;
import java.util.Objects;
import java.util.concurrent.CompletionStage;

/**
 * {@code GET /sessions?subject=&commit=&repository=&connection=&edge=&originator=&actor=}: the live sessions of the
 * fleet, from the edges' heartbeats. Sessions of an edge that stopped heart-beating are listed
 * with {@code edgeAlive: false} (the edge is presumed dead, the sessions aborted). {@code originator}
 * and {@code actor} match delegated sessions only, as the revocation selectors of those names do:
 * the person agents act for; the current actor (the session's subject) or an earlier one.
 */
public final class SessionRoutes implements AdminRoutes {

    private final SessionDirectory directory;

    public SessionRoutes(SessionDirectory directory) {
        this.directory = Objects.requireNonNull(directory, "directory");
    }

    @Override
    public void register(Registrar registrar) {
        registrar.route(HttpMethod.GET, "/sessions", this::list);
    }

    private CompletionStage<AdminResponse> list(AdminRequest request) {
        Filter filter = new Filter(request.queryParam("subject"), request.queryParam("commit"),
                request.queryParam("repository"), request.queryParam("connection"), request.queryParam("edge"),
                request.queryParam("originator"), request.queryParam("actor"));
        Instant now = Instant.now();
        JsonArray sessions = new JsonArray();
        JsonArray edges = new JsonArray();
        for (EdgeSessions edge : directory.edges()) {
            boolean alive = edge.alive(now);
            edges.add(AdminJson.edge(edge, now));
            if (filter.edge != null && !filter.edge.equals(edge.edgeId())) continue;
            edge.sessions().stream().filter(filter::matches).forEach(s -> sessions.add(AdminJson.session(s, edge, alive)));
        }
        return AdminServer.now(AdminResponse.ok(new JsonObject().put("sessions", sessions).put("edges", edges)));
    }

    private record Filter(String subject, String commit, String repository, String connection, String edge,
                          String originator, String actor) {
        boolean matches(SessionInfo s) {
            return (subject == null || subject.equals(s.subject()))
                    && (commit == null || s.ciCommitSha() != null
                    && s.ciCommitSha().toLowerCase(Locale.ROOT).startsWith(commit.toLowerCase(Locale.ROOT)))
                    && (repository == null || repository.equalsIgnoreCase(s.ciRepository()))
                    && (connection == null || connection.equals(s.connection()))
                    && (originator == null || s.delegated() && originator.equals(s.originator()))
                    && (actor == null || s.delegated() && (actor.equals(s.subject()) || s.earlierActors().contains(actor)));
        }
    }
}
