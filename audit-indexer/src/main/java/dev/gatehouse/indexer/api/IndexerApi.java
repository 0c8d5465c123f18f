package dev.gatehouse.indexer.api;

import dev.gatehouse.platform.http.JsonReplies;
import dev.gatehouse.platform.http.ApiError;
import dev.gatehouse.platform.identity.BearerAuth;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.gatehouse.indexer.projection.TimelineJson;
import dev.gatehouse.indexer.store.SearchQuery;
import dev.gatehouse.indexer.store.TimelineStore;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.evidence.SessionExport;
import dev.gatehouse.platform.evidence.SessionRecord;
import io.vertx.core.Future;
import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.security.PublicKey;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Callable;
import java.util.function.Function;

/**
 * The indexer's HTTP API under {@code /api/v1} (see the issue-5 contract): session and command
 * search, one session's timeline, live sessions, and a session's evidence export. Every route
 * needs a bearer token of the read group. Other components (the console) may add routes to
 * {@link #router()} before {@link #start}.
 */
public final class IndexerApi {

    private static final Logger LOGGER = LoggerFactory.getLogger(IndexerApi.class);
    public static final String PREFIX = "/api/v1";

    private final Vertx vertx;
    private final TimelineStore store;
    private final BearerAuth auth;
    private final PublicKey sealingKey;
    private final Function<byte[], AuditEvent> decoder;
    private final Router router;
    private HttpServer server;

    /**
     * @param sealingKey the public half of the indexer's sealing key, for exports; may be null
     * @param decoder    decodes stored record values (for the seal of an export)
     */
    public IndexerApi(Vertx vertx, TimelineStore store, BearerAuth auth, PublicKey sealingKey, Function<byte[], AuditEvent> decoder) {
        this.vertx = Objects.requireNonNull(vertx, "vertx");
        this.store = Objects.requireNonNull(store, "store");
        this.auth = Objects.requireNonNull(auth, "auth");
        this.sealingKey = sealingKey;
        this.decoder = Objects.requireNonNull(decoder, "decoder");
        this.router = Router.router(vertx);
        router.get(PREFIX + "/sessions").handler(ctx -> serve(ctx, () -> sessions(query(ctx.queryParams()))));
        router.get(PREFIX + "/sessions/live").handler(ctx -> serve(ctx,
                () -> sessions(query(ctx.queryParams()).withStatus("open"))));
        router.get(PREFIX + "/sessions/:id").handler(ctx -> serve(ctx, () -> timeline(ctx.pathParam("id"))));
        router.get(PREFIX + "/sessions/:id/export").handler(ctx -> serve(ctx, () -> export(ctx.pathParam("id"))));
        router.get(PREFIX + "/commands").handler(ctx -> serve(ctx, () -> commands(query(ctx.queryParams()))));
    }

    /** The router, for more routes (they are not authenticated by this class). */
    public Router router() {
        return router;
    }

    public BearerAuth auth() {
        return auth;
    }

    /** A response: status and JSON text. */
    private record Reply(int status, String json) {
        static Reply ok(Object body) {
            return new Reply(200, TimelineJson.write(body));
        }
    }

    private void serve(RoutingContext ctx, Callable<Reply> work) {
        String what = ctx.request().method() + " " + ctx.request().path();
        io.vertx.core.Context context = vertx.getOrCreateContext();
        auth.authenticate(ctx.request().getHeader("Authorization"))
                .thenAccept(identity -> {
                    LOGGER.debug("indexer API request subject={} {}", identity.subject(), what);
                    context.<Reply>executeBlocking(work, false).onComplete(ar -> {
                        if (ar.succeeded()) JsonReplies.reply(ctx, ar.result().status(), ar.result().json());
                        else fail(ctx, what, ar.cause());
                    });
                })
                .exceptionally(err -> {
                    context.runOnContext(v -> fail(ctx, what, err));
                    return null;
                });
    }

    private static void fail(RoutingContext ctx, String what, Throwable err) {
        // a query the store cannot answer as asked (a bad filter, cursor or time) is the caller's error
        Throwable cause = JsonReplies.unwrap(err);
        JsonReplies.fail(ctx, LOGGER, what, cause instanceof IllegalArgumentException bad ? new ApiError(400, bad.getMessage()) : cause);
    }

    static SearchQuery query(MultiMap p) {
        return new SearchQuery(p.get("subject"), p.get("originator"), p.get("actor"), p.get("group"), p.get("issuer"), p.get("repository"), p.get("commit"),
                p.get("connection"), p.get("verdict"), instant(p, "from"), instant(p, "to"), p.get("object"), p.get("kind"),
                p.get("text"), p.get("status"), integer(p, "limit"), p.get("before"));
    }

    private static Instant instant(MultiMap p, String name) {
        String v = p.get(name);
        if (v == null || v.isBlank()) return null;
        try {
            return Instant.parse(v.strip());
        } catch (DateTimeParseException e) {
            throw new IllegalArgumentException(name + " must be an ISO-8601 instant such as 2025-01-31T12:00:00Z, was " + v);
        }
    }

    private static int integer(MultiMap p, String name) {
        String v = p.get(name);
        if (v == null || v.isBlank()) return 0;
        try {
            int n = Integer.parseInt(v.strip());
            if (n <= 0) throw new IllegalArgumentException(name + " must be positive, was " + v);
            return n;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(name + " must be a number, was " + v);
        }
    }

    private Reply sessions(SearchQuery q) {
        var page = store.sessions(q);
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("sessions", page.items());
        body.put("next", page.next());
        return Reply.ok(body);
    }

    private Reply commands(SearchQuery q) {
        var page = store.commands(q);
        List<Map<String, Object>> hits = new ArrayList<>();
        for (var hit : page.items()) {
            Map<String, Object> h = new LinkedHashMap<>();
            h.put("session", hit.session());
            h.put("command", hit.command());
            hits.add(h);
        }
        Map<String, Object> body = new LinkedHashMap<>();
        body.put("commands", hits);
        body.put("next", page.next());
        return Reply.ok(body);
    }

    private Reply timeline(String sessionId) {
        var timeline = store.timeline(sessionId).orElseThrow(() -> new ApiError(404, "no session " + sessionId));
        return Reply.ok(timeline);
    }

    private Reply export(String sessionId) {
        if (store.timeline(sessionId).isEmpty()) throw new ApiError(404, "no session " + sessionId);
        List<SessionRecord> records = new ArrayList<>();
        AuditEvent.SessionSealed seal = null;
        for (TimelineStore.StoredEvent e : store.events(sessionId)) {
            if ("SessionSealed".equals(e.type())) {
                if (seal == null && decoder.apply(e.value()) instanceof AuditEvent.SessionSealed s) seal = s;
                continue;
            }
            records.add(new SessionRecord(e.partition(), e.offset(), e.eventId(), e.value()));
        }
        ObjectNode json = SessionExport.toJson(sessionId, records, seal, sealingKey);
        return new Reply(200, json.toString());
    }

    /** Starts listening; the future holds the bound port. */
    public Future<Integer> start(String host, int port) {
        router.route(PREFIX + "/*").last().handler(ctx -> JsonReplies.reply(ctx, 404,
                JsonReplies.error("no route " + ctx.request().method() + " " + ctx.request().path())));
        server = vertx.createHttpServer(new HttpServerOptions().setHost(host).setPort(port));
        return server.requestHandler(router).listen().map(s -> {
            LOGGER.info("Indexer API on http://{}:{}{} (read group {})", host, s.actualPort(), PREFIX, auth.requiredGroup());
            return s.actualPort();
        });
    }

    public Future<Void> stop() {
        return server == null ? Future.succeededFuture() : server.close();
    }
}
