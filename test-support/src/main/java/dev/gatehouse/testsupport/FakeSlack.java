package dev.gatehouse.testsupport;

import io.vertx.core.MultiMap;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A local stand-in for Slack: the Web API ({@code chat.postMessage}, {@code chat.update},
 * {@code users.info}), an incoming webhook, and {@code response_url}s, all capturing what they
 * receive; faults on demand (HTTP errors, 429 with {@code Retry-After}, {@code ok:false}); and
 * the other direction, interactivity callbacks signed with Slack's documented v0 algorithm
 * (HMAC-SHA256 over {@code v0:timestamp:body}, implemented here independently of Gatehouse).
 *
 * <pre>{@code
 * try (FakeSlack slack = FakeSlack.start("signing-secret")) {
 *     // approval.slack.api-url = slack.apiUrl(), bot token FakeSlack.BOT_TOKEN (or webhook-url = slack.webhookUrl())
 *     FakeSlack.Captured post = slack.awaitRequest(FakeSlack.POST_MESSAGE, Duration.ofSeconds(10));
 *     slack.user("U0BOB", "bob@example.com");
 *     HttpResponse<String> r = slack.click("http://127.0.0.1:18083/slack/interactivity", "U0BOB", "ap-1a2b3c", true);
 *     FakeSlack.Captured update = slack.awaitRequest(FakeSlack.RESPONSE_URL, Duration.ofSeconds(10));
 * }
 * }</pre>
 */
public final class FakeSlack implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(FakeSlack.class);

    /** The bot token the fake Web API accepts. */
    public static final String BOT_TOKEN = "xoxb-fake-gatehouse-token";
    /** The channel id the fake reports for every channel name. */
    public static final String CHANNEL_ID = "C0FAKECHAN";

    public static final String POST_MESSAGE = "chat.postMessage";
    public static final String UPDATE = "chat.update";
    public static final String USERS_INFO = "users.info";
    public static final String WEBHOOK = "webhook";
    public static final String RESPONSE_URL = "response_url";

    /**
     * One request the fake received.
     *
     * @param kind    {@link #POST_MESSAGE}, {@link #UPDATE}, {@link #USERS_INFO}, {@link #WEBHOOK} or {@link #RESPONSE_URL}
     * @param path    the request path
     * @param headers the request headers (lower-case names)
     * @param body    the raw body
     * @param status  the HTTP status the fake answered
     */
    public record Captured(String kind, String path, Map<String, String> headers, String body, int status, Instant at) {
        /** The body as JSON (empty object when it is not JSON). */
        public JsonObject json() {
            try {
                return new JsonObject(body);
            } catch (DecodeException | ClassCastException e) {
                return new JsonObject();
            }
        }

        /** Whether the fake accepted it (2xx and, for the Web API, ok=true). */
        public boolean accepted() {
            return status / 100 == 2 && !json().getBoolean("ok", true).equals(false);
        }
    }

    /** A fault to answer the next delivery with. */
    private record Fault(int status, Integer retryAfterSeconds, String okFalseError) {
    }

    private final Vertx vertx;
    private final boolean ownVertx;
    private final String signingSecret;
    private final HttpServer server;
    private final List<Captured> captured = new ArrayList<>();
    private final Deque<Fault> faults = new ArrayDeque<>();
    private final Map<String, String> emails = new ConcurrentHashMap<>();
    private final AtomicLong ts = new AtomicLong(1_700_000_000_000L);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private FakeSlack(Vertx vertx, boolean ownVertx, String signingSecret) {
        this.vertx = vertx;
        this.ownVertx = ownVertx;
        this.signingSecret = signingSecret;
        this.server = vertx.createHttpServer().requestHandler(this::handle);
        try {
            server.listen(0, "127.0.0.1").toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            if (ownVertx) vertx.close();
            throw new IllegalStateException("fake Slack could not listen: " + e.getMessage(), e);
        }
        LOGGER.info("fake Slack listening on {}", baseUrl());
    }

    /** A fake on its own Vert.x instance (closed with the fake), signing callbacks with {@code signingSecret}. */
    public static FakeSlack start(String signingSecret) {
        return new FakeSlack(Vertx.vertx(), true, signingSecret);
    }

    /** A fake on the given Vert.x instance. */
    public static FakeSlack start(Vertx vertx, String signingSecret) {
        return new FakeSlack(vertx, false, signingSecret);
    }

    public String baseUrl() {
        return "http://127.0.0.1:" + server.actualPort();
    }

    /** The Web API base, for {@code approval.slack.api-url}. */
    public String apiUrl() {
        return baseUrl() + "/api";
    }

    /** An incoming webhook URL. */
    public String webhookUrl() {
        return baseUrl() + "/services/T0FAKE/B0FAKE/fakewebhooksecret";
    }

    /** A fresh {@code response_url} for one interaction. */
    public String responseUrl() {
        return baseUrl() + "/actions/T0FAKE/" + ts.incrementAndGet() + "/fakeresponse";
    }

    /** Registers a workspace user for {@code users.info}. */
    public void user(String slackUserId, String email) {
        emails.put(slackUserId, email);
    }

    /** The next {@code n} deliveries (postMessage, update, webhook, response_url) answer HTTP {@code status}. */
    public synchronized void failNext(int n, int status) {
        for (int i = 0; i < n; i++) faults.add(new Fault(status, null, null));
    }

    /** The next {@code n} deliveries answer 429 with {@code Retry-After: retryAfterSeconds}. */
    public synchronized void rateLimitNext(int n, int retryAfterSeconds) {
        for (int i = 0; i < n; i++) faults.add(new Fault(429, retryAfterSeconds, null));
    }

    /** The next {@code n} Web API calls answer HTTP 200 with {@code {"ok":false,"error":error}}. */
    public synchronized void okFalseNext(int n, String error) {
        for (int i = 0; i < n; i++) faults.add(new Fault(200, null, error));
    }

    /** Everything received so far, in order. */
    public synchronized List<Captured> requests() {
        return List.copyOf(captured);
    }

    /** Everything of one kind received so far, in order. */
    public synchronized List<Captured> requests(String kind) {
        return captured.stream().filter(c -> c.kind().equals(kind)).toList();
    }

    /** Waits until a request of this kind has been accepted (2xx, ok) and returns the latest one. */
    public Captured awaitRequest(String kind, Duration timeout) {
        return awaitRequests(kind, 1, timeout).getLast();
    }

    /** Waits until {@code count} requests of this kind have been accepted; returns the accepted ones. */
    public List<Captured> awaitRequests(String kind, int count, Duration timeout) {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (this) {
            while (true) {
                List<Captured> ok = captured.stream().filter(c -> c.kind().equals(kind) && c.accepted()).toList();
                if (ok.size() >= count) return ok;
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    throw new AssertionError("fake Slack: expected " + count + " accepted " + kind + " request(s) within "
                            + timeout + ", got " + ok.size() + "; all received: " + captured);
                }
                try {
                    TimeUnit.NANOSECONDS.timedWait(this, left);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError("interrupted", e);
                }
            }
        }
    }

    /** Forgets everything received (faults and users stay). */
    public synchronized void clear() {
        captured.clear();
    }

    // ---- the other direction: signed interactivity callbacks ----

    /**
     * Clicks Approve or Deny on the message of {@code approvalId} as Slack user {@code userId}:
     * POSTs a signed {@code block_actions} payload to {@code interactivityUrl} with a fresh
     * {@link #responseUrl()}, timestamped now.
     */
    public HttpResponse<String> click(String interactivityUrl, String userId, String approvalId, boolean approve) {
        return send(interactivityUrl, blockActions(userId, approvalId, approve, responseUrl()));
    }

    /** POSTs {@code payload=<json>} form-encoded, signed now with the fake's signing secret. */
    public HttpResponse<String> send(String interactivityUrl, String payloadJson) {
        String body = formBody(payloadJson);
        String timestamp = Long.toString(Instant.now().getEpochSecond());
        return post(interactivityUrl, body, timestamp, sign(signingSecret, timestamp, body));
    }

    /** POSTs a raw body with exactly the given timestamp and signature headers (null: header left out). */
    public HttpResponse<String> post(String interactivityUrl, String rawBody, String timestamp, String signature) {
        HttpRequest.Builder b = HttpRequest.newBuilder(URI.create(interactivityUrl))
                .timeout(Duration.ofSeconds(10))
                .header("Content-Type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(rawBody, StandardCharsets.UTF_8));
        if (timestamp != null) b.header("X-Slack-Request-Timestamp", timestamp);
        if (signature != null) b.header("X-Slack-Signature", signature);
        try {
            return http.send(b.build(), HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
    }

    /** The form body Slack sends: {@code payload=} + the URL-encoded JSON. */
    public static String formBody(String payloadJson) {
        return "payload=" + URLEncoder.encode(payloadJson, StandardCharsets.UTF_8);
    }

    /** A {@code block_actions} payload as Slack sends it for a button click. */
    public static String blockActions(String userId, String approvalId, boolean approve, String responseUrl) {
        String actionId = approve ? "gatehouse_approve" : "gatehouse_deny";
        JsonObject payload = new JsonObject()
                .put("type", "block_actions")
                .put("user", new JsonObject().put("id", userId).put("username", userId.toLowerCase()).put("team_id", "T0FAKE"))
                .put("api_app_id", "A0FAKE")
                .put("team", new JsonObject().put("id", "T0FAKE").put("domain", "fake"))
                .put("container", new JsonObject().put("type", "message").put("message_ts", "1700000000.000100")
                        .put("channel_id", CHANNEL_ID).put("is_ephemeral", false))
                .put("channel", new JsonObject().put("id", CHANNEL_ID).put("name", "db-approvals"))
                .put("message", new JsonObject().put("type", "message").put("ts", "1700000000.000100")
                        .put("metadata", new JsonObject().put("event_type", "gatehouse_approval")
                                .put("event_payload", new JsonObject().put("approval_id", approvalId))))
                .put("trigger_id", "1.2.fake")
                .put("response_url", responseUrl)
                .put("actions", new JsonArray().add(new JsonObject()
                        .put("type", "button")
                        .put("action_id", actionId)
                        .put("block_id", "gatehouse_approval_actions")
                        .put("value", approvalId)
                        .put("action_ts", Instant.now().getEpochSecond() + ".000200")));
        return payload.encode();
    }

    /** Slack's v0 signature: {@code "v0=" + hex(HMAC-SHA256(secret, "v0:" + timestamp + ":" + body))}. */
    public static String sign(String secret, String timestamp, String body) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"));
            byte[] digest = mac.doFinal(("v0:" + timestamp + ":" + body).getBytes(StandardCharsets.UTF_8));
            return "v0=" + HexFormat.of().formatHex(digest);
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException(e);
        }
    }

    // ---- the server ----

    private void handle(HttpServerRequest req) {
        req.body().onComplete(ar -> {
            String body = ar.succeeded() ? ar.result().toString(StandardCharsets.UTF_8) : "";
            String path = req.path();
            String kind = kindOf(path);
            if (kind == null) {
                reply(req, null, path, body, 404, "text/plain", "no such endpoint", null);
                return;
            }
            Fault fault = switch (kind) {
                case POST_MESSAGE, UPDATE, WEBHOOK, RESPONSE_URL -> nextFault();
                default -> null;
            };
            if (fault != null) {
                if (fault.okFalseError() != null) {
                    reply(req, kind, path, body, 200, "application/json",
                            new JsonObject().put("ok", false).put("error", fault.okFalseError()).encode(), null);
                } else {
                    reply(req, kind, path, body, fault.status(), "text/plain",
                            fault.status() == 429 ? "rate_limited" : "fake failure", fault.retryAfterSeconds());
                }
                return;
            }
            switch (kind) {
                case POST_MESSAGE, UPDATE -> webApi(req, kind, path, body);
                case USERS_INFO -> usersInfo(req, path, body);
                case WEBHOOK -> reply(req, kind, path, body, 200, "text/plain", "ok", null);
                case RESPONSE_URL -> reply(req, kind, path, body, 200, "application/json", "{\"ok\":true}", null);
                default -> reply(req, kind, path, body, 404, "text/plain", "no such endpoint", null);
            }
        });
    }

    private static String kindOf(String path) {
        if (path.equals("/api/chat.postMessage")) return POST_MESSAGE;
        if (path.equals("/api/chat.update")) return UPDATE;
        if (path.equals("/api/users.info")) return USERS_INFO;
        if (path.startsWith("/services/")) return WEBHOOK;
        if (path.startsWith("/actions/")) return RESPONSE_URL;
        return null;
    }

    private synchronized Fault nextFault() {
        return faults.poll();
    }

    private void webApi(HttpServerRequest req, String kind, String path, String body) {
        if (!("Bearer " + BOT_TOKEN).equals(req.getHeader("Authorization"))) {
            reply(req, kind, path, body, 200, "application/json", "{\"ok\":false,\"error\":\"invalid_auth\"}", null);
            return;
        }
        JsonObject json;
        try {
            json = new JsonObject(body);
        } catch (DecodeException e) {
            reply(req, kind, path, body, 200, "application/json", "{\"ok\":false,\"error\":\"invalid_json\"}", null);
            return;
        }
        if (json.getString("channel") == null) {
            reply(req, kind, path, body, 200, "application/json", "{\"ok\":false,\"error\":\"channel_not_found\"}", null);
            return;
        }
        String messageTs;
        if (kind.equals(UPDATE)) {
            messageTs = json.getString("ts");
            if (messageTs == null || !CHANNEL_ID.equals(json.getString("channel"))) {
                reply(req, kind, path, body, 200, "application/json", "{\"ok\":false,\"error\":\"message_not_found\"}", null);
                return;
            }
        } else {
            long n = ts.incrementAndGet();
            messageTs = (n / 1_000_000) + "." + String.format("%06d", n % 1_000_000);
        }
        JsonObject answer = new JsonObject().put("ok", true).put("channel", CHANNEL_ID).put("ts", messageTs)
                .put("message", new JsonObject().put("text", json.getString("text")).put("ts", messageTs));
        reply(req, kind, path, body, 200, "application/json", answer.encode(), null);
    }

    private void usersInfo(HttpServerRequest req, String path, String body) {
        if (!("Bearer " + BOT_TOKEN).equals(req.getHeader("Authorization"))) {
            reply(req, USERS_INFO, path, body, 200, "application/json", "{\"ok\":false,\"error\":\"invalid_auth\"}", null);
            return;
        }
        String user = req.getParam("user");
        if (user == null && body.contains("user=")) {
            user = java.net.URLDecoder.decode(body.substring(body.indexOf("user=") + 5).split("&")[0], StandardCharsets.UTF_8);
        }
        String email = user == null ? null : emails.get(user);
        if (email == null) {
            reply(req, USERS_INFO, path, body, 200, "application/json", "{\"ok\":false,\"error\":\"user_not_found\"}", null);
            return;
        }
        JsonObject answer = new JsonObject().put("ok", true).put("user", new JsonObject().put("id", user)
                .put("name", user.toLowerCase()).put("profile", new JsonObject().put("email", email)));
        reply(req, USERS_INFO, path, body, 200, "application/json", answer.encode(), null);
    }

    private void reply(HttpServerRequest req, String kind, String path, String body, int status, String contentType,
                       String answer, Integer retryAfter) {
        if (kind != null) {
            Map<String, String> headers = new java.util.TreeMap<>();
            MultiMap h = req.headers();
            h.names().forEach(n -> headers.put(n.toLowerCase(java.util.Locale.ROOT), h.get(n)));
            synchronized (this) {
                captured.add(new Captured(kind, path, Map.copyOf(headers), body, status, Instant.now()));
                notifyAll();
            }
        }
        var response = req.response().setStatusCode(status).putHeader("Content-Type", contentType);
        if (retryAfter != null) response.putHeader("Retry-After", retryAfter.toString());
        response.end(answer);
    }

    @Override
    public void close() {
        try {
            server.close().toCompletionStage().toCompletableFuture().get(10, TimeUnit.SECONDS);
        } catch (Exception e) {
            LOGGER.warn("fake Slack did not close cleanly: {}", e.toString());
        }
        http.close();
        if (ownVertx) vertx.close();
    }
}
