package dev.gatehouse.approval.slack;

import dev.gatehouse.approval.ApprovalNotifier;
import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.EventHeader;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.client.HttpRequest;
import io.vertx.ext.web.client.HttpResponse;
import io.vertx.ext.web.client.WebClient;
import io.vertx.ext.web.client.WebClientOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ThreadLocalRandom;

/**
 * Posts approval requests to Slack and updates them with their outcome: through an incoming
 * webhook or {@code chat.postMessage} with a bot token (then {@code chat.update} edits the message
 * in place); through an interaction's {@code response_url} when a click decided it. An originator
 * confirmation goes only to the originator, as a direct message ({@link #undeliverable}). Never blocks
 * the caller: every call only starts asynchronous work on Vert.x's {@link WebClient}.
 *
 * <p>Failed deliveries (connection errors, 5xx, 429, {@code ok:false} with a transient error) are
 * retried with exponential backoff and jitter, honouring {@code Retry-After}; every attempt is
 * recorded as an {@code ApprovalNotified} event (destination = the channel name, never the webhook
 * URL or a token). When Slack stays unreachable the approval remains possible through the REST
 * API and the CLI.
 */
public final class SlackNotifier implements ApprovalNotifier, AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(SlackNotifier.class);

    /** The {@code channel} of this notifier's {@code ApprovalNotified} events. */
    public static final String CHANNEL = "slack";

    private static final Set<String> TRANSIENT_ERRORS = Set.of("ratelimited", "rate_limited", "internal_error",
            "fatal_error", "service_unavailable", "request_timeout");
    private static final int REMEMBERED = 10_000;

    /** Where one delivery goes. */
    enum Target { POST_MESSAGE, UPDATE, WEBHOOK, RESPONSE_URL }

    /**
     * The result of a delivery after its last attempt.
     *
     * @param messageRef "channelId/ts" of the posted message when known
     * @param error      the last error, null when delivered
     */
    public record Delivery(boolean delivered, int attempts, String messageRef, String error) {
    }

    private record Attempt(boolean delivered, boolean retryable, String messageRef, String error, Duration retryAfter) {
        static Attempt ok(String ref) {
            return new Attempt(true, false, ref, null, null);
        }

        static Attempt failed(boolean retryable, String error, Duration retryAfter) {
            return new Attempt(false, retryable, null, error, retryAfter);
        }
    }

    private final Vertx vertx;
    private final WebClient client;
    private final SlackSettings settings;
    private final SlackMessages messages;
    private final AuditSink events;
    private final String instance;
    private final MeterRegistry meters;
    private volatile boolean closed;
    /** approval id → "channel/ts" of the message this instance posted. */
    private final Map<String, String> posted = bounded();
    /** approval id → the latest response_url of a click on this instance. */
    private final Map<String, String> responseUrls = bounded();

    /**
     * @param events   where each attempt's {@code ApprovalNotified} goes: {@code ApprovalEvents::append}
     * @param instance this instance's id, for event headers
     */
    public SlackNotifier(Vertx vertx, SlackSettings settings, AuditSink events, MeterRegistry meters, String instance) {
        this.vertx = Objects.requireNonNull(vertx, "vertx");
        this.settings = Objects.requireNonNull(settings, "settings");
        this.events = Objects.requireNonNull(events, "events");
        this.meters = Objects.requireNonNull(meters, "meters");
        this.instance = Objects.requireNonNull(instance, "instance");
        this.messages = new SlackMessages(settings.consoleUrl(), settings.sqlLimit());
        this.client = WebClient.create(vertx, new WebClientOptions()
                .setConnectTimeout(5_000)
                .setIdleTimeout(30)
                .setUserAgent("gatehouse-approval")
                .setFollowRedirects(false));
        LOGGER.info("Slack notifier ready {}", settings);
    }

    public SlackMessages messages() {
        return messages;
    }

    public SlackSettings settings() {
        return settings;
    }

    @Override
    public void requested(Approval approval) {
        post(approval, messages.request(approval)).whenComplete((d, e) -> {
            if (d != null && d.delivered()) {
                LOGGER.info("Approval posted to Slack approvalId={} channel={} attempts={} messageRef={}",
                        approval.id(), destination(approval), d.attempts(), d.messageRef());
            } else {
                LOGGER.warn("Approval could not be posted to Slack; it stays open for the REST API and CLI "
                        + "approvalId={} channel={} error={}", approval.id(), destination(approval),
                        d == null ? String.valueOf(e) : d.error());
            }
        });
    }

    /**
     * An originator confirmation goes to the originator alone, as a direct message
     * ({@code chat.postMessage} to the Slack user id linked to the originator's subject and issuer in
     * {@code approval.slack.users}): why it cannot, when there is no such link, no bot token (a
     * webhook posts only to its own channel) or no originator.
     */
    @Override
    public Optional<String> undeliverable(Approval approval) {
        if (!approval.fromOriginator()) return Optional.empty();
        if (approval.delegation() == null) {
            return Optional.of("the session is not delegated, so there is no originator to ask");
        }
        String originator = approval.delegation().originator();
        String issuer = approval.delegation().originatorIssuer();
        if (settings.slackUserOf(originator, issuer).isEmpty()) {
            return Optional.of("no Slack user is linked to the originator " + originator + " (issuer " + issuer
                    + "): link one in approval.slack.users, keyed by the Slack user id, with this subject and issuer");
        }
        if (!settings.usesBotToken()) {
            return Optional.of("the originator " + originator + " is asked in a direct message, which needs the bot "
                    + "token (approval.slack.bot-token-env); a webhook posts only to its channel");
        }
        return Optional.empty();
    }

    /** Where an approval's messages go: the channel, or the originator's direct message. */
    String destination(Approval approval) {
        if (!approval.fromOriginator()) return settings.channel();
        return originatorUser(approval).map(u -> "direct message to " + u).orElse("nowhere (no linked Slack user)");
    }

    private Optional<String> originatorUser(Approval approval) {
        return approval.delegation() == null ? Optional.empty()
                : settings.slackUserOf(approval.delegation().originator(), approval.delegation().originatorIssuer());
    }

    @Override
    public void decided(Approval approval) {
        update(approval).whenComplete((d, e) -> LOGGER.info("Slack message updated with the outcome approvalId={} "
                + "state={} delivered={}", approval.id(), approval.state().label(), d != null && d.delivered()));
    }

    /**
     * Shows the approval's current state where it was posted: through the latest
     * {@code response_url} clicked on this instance, else {@code chat.update} of the posted message
     * (bot token), else as a new message.
     */
    public CompletionStage<Delivery> update(Approval approval) {
        JsonObject body = messages.current(approval);
        String responseUrl = responseUrls.get(approval.id());
        if (responseUrl != null) {
            return respond(approval, responseUrl, body.copy().put("replace_original", true), true);
        }
        Optional<String> ref = messageRef(approval);
        if (settings.usesBotToken() && ref.isPresent()) {
            String[] parts = ref.get().split("/", 2);
            JsonObject update = body.copy().put("channel", parts[0]).put("ts", parts[1]);
            return deliver(approval, Target.UPDATE, settings.apiUrl() + "/chat.update", update, true);
        }
        return post(approval, body);
    }

    /**
     * Posts to an interaction's {@code response_url} (with retries); remembers it for later
     * updates of this approval. {@code record}: write {@code ApprovalNotified} events.
     */
    public CompletionStage<Delivery> respond(Approval approval, String responseUrl, JsonObject body, boolean record) {
        responseUrls.put(approval.id(), responseUrl);
        return deliver(approval, Target.RESPONSE_URL, responseUrl, body, record);
    }

    /** Posts a one-off reply (an ephemeral refusal) to a {@code response_url}; no event, one retry cycle. */
    public CompletionStage<Delivery> reply(String responseUrl, JsonObject body) {
        return deliver(null, Target.RESPONSE_URL, responseUrl, body, false);
    }

    /** The e-mail address of a Slack user ({@code users.info}, bot token), empty when unknown. */
    public CompletionStage<Optional<String>> emailOf(String slackUserId) {
        if (!settings.usesBotToken()) return CompletableFuture.completedFuture(Optional.empty());
        CompletableFuture<Optional<String>> result = new CompletableFuture<>();
        client.getAbs(settings.apiUrl() + "/users.info")
                .addQueryParam("user", slackUserId)
                .putHeader("Authorization", "Bearer " + settings.botToken())
                .timeout(5_000)
                .send()
                .onComplete(ar -> {
                    if (ar.failed()) {
                        LOGGER.warn("users.info failed slackUser={} error={}", slackUserId, ar.cause().toString());
                        result.complete(Optional.empty());
                        return;
                    }
                    JsonObject json = json(ar.result());
                    if (!json.getBoolean("ok", false)) {
                        LOGGER.warn("users.info refused slackUser={} error={}", slackUserId, json.getString("error"));
                        result.complete(Optional.empty());
                        return;
                    }
                    JsonObject profile = json.getJsonObject("user", new JsonObject()).getJsonObject("profile", new JsonObject());
                    result.complete(Optional.ofNullable(profile.getString("email")));
                });
        return result;
    }

    private CompletionStage<Delivery> post(Approval approval, JsonObject body) {
        if (approval.fromOriginator()) {
            Optional<String> why = undeliverable(approval);
            if (why.isPresent()) return CompletableFuture.completedFuture(new Delivery(false, 0, null, why.get()));
            // a direct message: chat.postMessage to the user id opens (or reuses) the app's DM with them
            return deliver(approval, Target.POST_MESSAGE, settings.apiUrl() + "/chat.postMessage",
                    body.copy().put("channel", originatorUser(approval).orElseThrow()).put("unfurl_links", false)
                            .put("unfurl_media", false), true);
        }
        if (settings.usesBotToken()) {
            return deliver(approval, Target.POST_MESSAGE, settings.apiUrl() + "/chat.postMessage",
                    body.copy().put("channel", settings.channel()).put("unfurl_links", false).put("unfurl_media", false),
                    true);
        }
        return deliver(approval, Target.WEBHOOK, settings.webhookUrl(), body, true);
    }

    private Optional<String> messageRef(Approval approval) {
        String local = posted.get(approval.id());
        if (local != null) return Optional.of(local);
        List<Approval.Notification> notes = approval.notifications();
        for (int i = notes.size() - 1; i >= 0; i--) {
            Approval.Notification n = notes.get(i);
            if (CHANNEL.equals(n.channel()) && n.delivered() && n.messageRef() != null && n.messageRef().contains("/")) {
                return Optional.of(n.messageRef());
            }
        }
        return Optional.empty();
    }

    private CompletionStage<Delivery> deliver(Approval approval, Target target, String url, JsonObject body, boolean record) {
        CompletableFuture<Delivery> done = new CompletableFuture<>();
        attempt(approval, target, url, body, record, 1, done);
        return done;
    }

    private void attempt(Approval approval, Target target, String url, JsonObject body, boolean record, int n,
                         CompletableFuture<Delivery> done) {
        if (closed) {
            done.complete(new Delivery(false, n - 1, null, "notifier closed"));
            return;
        }
        send(target, url, body).onComplete(ar -> {
            Attempt a = ar.succeeded() ? ar.result()
                    : Attempt.failed(true, redact(ar.cause().toString(), url), null);
            String id = approval == null ? "-" : approval.id();
            if (a.delivered() && a.messageRef() != null && approval != null) posted.put(approval.id(), a.messageRef());
            if (record && approval != null) recordAttempt(approval, a, n);
            counter(target, a.delivered() ? "delivered" : a.retryable() ? "retrying" : "failed").increment();
            if (a.delivered()) {
                done.complete(new Delivery(true, n, a.messageRef(), null));
            } else if (a.retryable() && n < settings.retry().maxAttempts()) {
                Duration delay = backoff(n, a.retryAfter());
                LOGGER.warn("Slack delivery failed, retrying approvalId={} target={} attempt={} in={}ms error={}",
                        id, target, n, delay.toMillis(), a.error());
                vertx.setTimer(Math.max(1, delay.toMillis()), t -> attempt(approval, target, url, body, record, n + 1, done));
            } else {
                LOGGER.warn("Slack delivery failed for good approvalId={} target={} attempts={} error={}",
                        id, target, n, a.error());
                done.complete(new Delivery(false, n, null, a.error()));
            }
        });
    }

    /** Exponential backoff with jitter (between half and all of the step), at least {@code retryAfter}. */
    Duration backoff(int attempt, Duration retryAfter) {
        SlackSettings.Retry r = settings.retry();
        long base = r.initialBackoff().toMillis() << Math.min(attempt - 1, 20);
        long capped = Math.min(base, r.maxBackoff().toMillis());
        long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
        if (retryAfter != null) jittered = Math.max(jittered, retryAfter.toMillis());
        return Duration.ofMillis(jittered);
    }

    private Future<Attempt> send(Target target, String url, JsonObject body) {
        HttpRequest<Buffer> request = client.postAbs(url).timeout(10_000)
                .putHeader("Content-Type", "application/json; charset=utf-8");
        if (target == Target.POST_MESSAGE || target == Target.UPDATE) {
            request.putHeader("Authorization", "Bearer " + settings.botToken());
        }
        return request.sendBuffer(body.toBuffer()).map(response -> interpret(target, response));
    }

    private static Attempt interpret(Target target, HttpResponse<Buffer> response) {
        int status = response.statusCode();
        if (status == 429) {
            return Attempt.failed(true, "HTTP 429 rate limited", retryAfter(response.getHeader("Retry-After")));
        }
        if (status >= 500) return Attempt.failed(true, "HTTP " + status, null);
        if (status / 100 != 2) {
            return Attempt.failed(false, "HTTP " + status + " " + SlackText.clip(bodyText(response), 100), null);
        }
        if (target == Target.WEBHOOK) return Attempt.ok(null);
        JsonObject json = json(response);
        if (target == Target.RESPONSE_URL) {
            // response_url answers {"ok":true} (or a bare 200); ok:false names an error such as expired_url.
            if (json.getBoolean("ok", true)) return Attempt.ok(null);
            String error = json.getString("error", "unknown");
            return Attempt.failed(TRANSIENT_ERRORS.contains(error), "ok=false: " + error, null);
        }
        if (!json.getBoolean("ok", false)) {
            String error = json.getString("error", "no ok in the response");
            return Attempt.failed(TRANSIENT_ERRORS.contains(error), "ok=false: " + error, null);
        }
        String channel = json.getString("channel");
        String ts = json.getString("ts");
        return Attempt.ok(channel != null && ts != null ? channel + "/" + ts : null);
    }

    private void recordAttempt(Approval approval, Attempt a, int n) {
        AuditEvent.ApprovalNotified event = new AuditEvent.ApprovalNotified(
                EventHeader.now(approval.sessionId(), "approval", instance),
                approval.id(), CHANNEL, destination(approval), a.delivered(), n, a.error(), a.messageRef());
        try {
            events.append(event).whenComplete((v, e) -> {
                if (e != null) {
                    LOGGER.warn("ApprovalNotified could not be written approvalId={} attempt={} error={}",
                            approval.id(), n, e.toString());
                }
            });
        } catch (RuntimeException e) {
            LOGGER.warn("ApprovalNotified could not be written approvalId={} attempt={} error={}", approval.id(), n, e.toString());
        }
    }

    private Counter counter(Target target, String outcome) {
        return Counter.builder("gatehouse.approval.slack.deliveries")
                .description("Slack delivery attempts by target and outcome")
                .tag("target", target.name().toLowerCase(java.util.Locale.ROOT))
                .tag("outcome", outcome)
                .register(meters);
    }

    /** Never lets a webhook URL or response_url (both are bearer secrets) into an error text. */
    private String redact(String text, String url) {
        String out = text;
        if (url != null) out = out.replace(url, "<url>");
        if (settings.webhookUrl() != null) out = out.replace(settings.webhookUrl(), "<webhook>");
        if (settings.botToken() != null) out = out.replace(settings.botToken(), "<token>");
        return SlackText.clip(out, 300);
    }

    private static Duration retryAfter(String header) {
        if (header == null) return null;
        try {
            long seconds = Long.parseLong(header.trim());
            return Duration.ofSeconds(Math.clamp(seconds, 0, 600));
        } catch (NumberFormatException e) {
            return null;
        }
    }

    private static JsonObject json(HttpResponse<Buffer> response) {
        try {
            Buffer body = response.body();
            return body == null || body.length() == 0 ? new JsonObject() : new JsonObject(body);
        } catch (DecodeException | ClassCastException e) {
            return new JsonObject();
        }
    }

    private static String bodyText(HttpResponse<Buffer> response) {
        Buffer body = response.body();
        return body == null ? "" : body.toString().replaceAll("\\s+", " ");
    }

    private static <K, V> Map<K, V> bounded() {
        return java.util.Collections.synchronizedMap(new LinkedHashMap<>() {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
                return size() > REMEMBERED;
            }
        });
    }

    @Override
    public void close() {
        closed = true;
        client.close();
    }
}
