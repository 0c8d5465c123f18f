package dev.gatehouse.approval.slack;

import dev.gatehouse.approval.Approver;
import dev.gatehouse.approval.VoteRefusedException;
import dev.gatehouse.approval.VoteResult;
import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Handler;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerRequest;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import io.vertx.ext.web.Router;
import io.vertx.ext.web.RoutingContext;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;

/**
 * {@code POST /slack/interactivity}: Slack's interactivity request URL. Verifies the request
 * signature on the raw body first (refusals: 401, logged with the reason, counted in
 * {@code gatehouse.approval.slack.rejected{reason}} and written as a {@code ProtocolViolation}
 * with protocol "slack"), then answers 200 at once (Slack wants an answer within 3 seconds) and
 * does the rest asynchronously: maps the clicking Slack user to an approver (configured by user
 * id, or by e-mail through {@code users.info}; an originator confirmation only by user id), casts the
 * vote (the desk refuses anyone but the originator of an originator confirmation, and the requester,
 * originator and earlier actors of a group approval), and posts the result to the
 * interaction's {@code response_url} (the updated message, or an ephemeral refusal).
 *
 * <p>Register it before any {@code BodyHandler} on the same path: the signature covers the raw bytes.
 */
public final class SlackInteractivity implements Handler<RoutingContext> {

    private static final Logger LOGGER = LoggerFactory.getLogger(SlackInteractivity.class);

    public static final String PATH = "/slack/interactivity";
    /** Slack's interactive payloads are small; anything larger is refused unread. */
    static final int MAX_BODY = 256 * 1024;

    /** Casts a vote: {@code ApprovalDesk::vote}. */
    @FunctionalInterface
    public interface Voter {
        CompletionStage<VoteResult> vote(String approvalId, Approver approver, boolean approve, String reason,
                                         String channel, String externalUser);

        /**
         * The approval as the desk's fold shows it ({@code ApprovalDesk::get}), to tell an originator
         * confirmation from a group approval before the vote; empty when unknown.
         */
        default Optional<Approval> approval(String approvalId) {
            return Optional.empty();
        }
    }

    /** A Slack user mapped to an approver, and whether through an e-mail address ({@code users.info}). */
    private record Mapped(Approver approver, boolean byEmail) {
    }

    private final SlackSettings settings;
    private final SlackSignatureVerifier verifier;
    private final SlackNotifier notifier;
    private final Voter voter;
    private final AuditSink audit;
    private final MeterRegistry meters;
    private final String instance;

    /**
     * @param audit where refused callbacks are recorded as {@code ProtocolViolation} (the audit log), or null
     */
    public SlackInteractivity(SlackSettings settings, SlackSignatureVerifier verifier, SlackNotifier notifier,
                              Voter voter, AuditSink audit, MeterRegistry meters, String instance) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.verifier = Objects.requireNonNull(verifier, "verifier");
        this.notifier = Objects.requireNonNull(notifier, "notifier");
        this.voter = Objects.requireNonNull(voter, "voter");
        this.audit = audit;
        this.meters = Objects.requireNonNull(meters, "meters");
        this.instance = Objects.requireNonNull(instance, "instance");
    }

    /** The endpoint with a verifier for the settings' signing secret. */
    public static SlackInteractivity create(SlackSettings settings, SlackNotifier notifier, Voter voter, AuditSink audit,
                                            MeterRegistry meters, String instance) {
        if (settings.signingSecret() == null) {
            throw new IllegalArgumentException("approval.slack: the interactivity endpoint needs a signing secret "
                    + "(signing-secret-env names an empty or unset variable)");
        }
        return new SlackInteractivity(settings, new SlackSignatureVerifier(settings.signingSecret()), notifier, voter,
                audit, meters, instance);
    }

    /** Adds {@code POST /slack/interactivity} to the router. */
    public void register(Router router) {
        router.post(PATH).handler(this);
    }

    @Override
    public void handle(RoutingContext ctx) {
        if (ctx.body() != null && ctx.body().available()) {
            Buffer buffer = ctx.body().buffer();
            if (buffer == null) {
                LOGGER.error("The Slack interactivity body was consumed before signature verification: register "
                        + "SlackInteractivity before any BodyHandler on {}", PATH);
                ctx.response().setStatusCode(500).end();
                return;
            }
            process(ctx, buffer);
            return;
        }
        HttpServerRequest request = ctx.request();
        Buffer body = Buffer.buffer();
        boolean[] tooLarge = {false};
        request.handler(chunk -> {
            if (tooLarge[0]) return;
            if (body.length() + chunk.length() > MAX_BODY) {
                tooLarge[0] = true;
            } else {
                body.appendBuffer(chunk);
            }
        });
        request.exceptionHandler(e -> LOGGER.debug("Slack interactivity request failed: {}", e.toString()));
        request.endHandler(v -> {
            if (tooLarge[0]) {
                refuse(ctx, 413, "too-large", "body larger than " + MAX_BODY + " bytes");
            } else {
                process(ctx, body);
            }
        });
    }

    private void process(RoutingContext ctx, Buffer raw) {
        HttpServerRequest request = ctx.request();
        SlackSignatureVerifier.Verdict verdict = verifier.verify(request.getHeader("X-Slack-Request-Timestamp"),
                request.getHeader("X-Slack-Signature"), raw.getBytes());
        if (!verdict.valid()) {
            refuse(ctx, 401, verdict.refusal().tag(), verdict.detail());
            return;
        }
        JsonObject payload;
        try {
            payload = payload(raw.toString(StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            refuse(ctx, 400, "malformed-payload", e.getMessage());
            return;
        }
        String type = payload.getString("type", "");
        JsonObject action = approvalAction(payload);
        // Acknowledge at once; Slack retries (and shows an error) when nothing answers within 3 seconds.
        ctx.response().setStatusCode(200).end();
        if (!"block_actions".equals(type) || action == null) {
            LOGGER.debug("Slack interaction ignored type={}", type);
            return;
        }
        String approvalId = action.getString("value");
        boolean approve = SlackMessages.APPROVE_ACTION.equals(action.getString("action_id"));
        String slackUser = payload.getJsonObject("user", new JsonObject()).getString("id");
        String responseUrl = payload.getString("response_url");
        LOGGER.info("Slack click approvalId={} slackUser={} approve={}", approvalId, slackUser, approve);
        approver(slackUser)
                .thenCompose(mapped -> {
                    if (mapped.isEmpty()) {
                        throw new VoteRefusedException("UNMAPPED", "your Slack account (" + slackUser + ") is not a "
                                + "Gatehouse approver: ask an administrator to add it to approval.slack.users");
                    }
                    // people are linked across issuers only explicitly: an e-mail match never confirms for an originator
                    if (mapped.get().byEmail() && voter.approval(approvalId).map(Approval::fromOriginator).orElse(false)) {
                        throw new VoteRefusedException(Approval.Refusal.Kind.NOT_ORIGINATOR.name(), "only the originator's "
                                + "Slack user, linked by its user id in approval.slack.users, may confirm " + approvalId
                                + "; your account (" + slackUser + ") is matched by e-mail address, which never links a person");
                    }
                    return voter.vote(approvalId, mapped.get().approver(), approve, approve ? null : "denied in Slack",
                            SlackNotifier.CHANNEL, slackUser);
                })
                .whenComplete((result, error) -> answer(approvalId, slackUser, responseUrl, result, error));
    }

    private void answer(String approvalId, String slackUser, String responseUrl, VoteResult result, Throwable error) {
        if (responseUrl == null || responseUrl.isBlank()) {
            LOGGER.warn("Slack interaction without response_url approvalId={} slackUser={}", approvalId, slackUser);
            return;
        }
        if (error == null) {
            JsonObject message = notifier.messages().current(result.approval()).put("replace_original", true);
            notifier.respond(result.approval(), responseUrl, message, true);
            return;
        }
        Throwable cause = error instanceof CompletionException && error.getCause() != null ? error.getCause() : error;
        String text;
        if (cause instanceof VoteRefusedException refused) {
            LOGGER.info("Slack vote refused approvalId={} slackUser={} kind={} why={}", approvalId, slackUser,
                    refused.kind(), refused.getMessage());
            text = "Your vote on " + approvalId + " was not counted: " + refused.getMessage();
        } else {
            LOGGER.warn("Slack vote failed approvalId={} slackUser={} error={}", approvalId, slackUser, cause.toString());
            text = "Your vote on " + approvalId + " could not be recorded; try again, or use "
                    + "`gatehouse approvals approve " + approvalId + "`.";
        }
        notifier.reply(responseUrl, SlackMessages.ephemeral(text));
    }

    private CompletionStage<Optional<Mapped>> approver(String slackUser) {
        if (slackUser == null) return CompletableFuture.completedFuture(Optional.empty());
        Optional<SlackSettings.User> byId = settings.userById(slackUser);
        if (byId.isPresent()) {
            return CompletableFuture.completedFuture(byId.map(u -> new Mapped(toApprover(u, slackUser), false)));
        }
        if (!settings.approversByEmail()) return CompletableFuture.completedFuture(Optional.empty());
        return notifier.emailOf(slackUser).thenApply(email -> email.flatMap(settings::userByEmail)
                .map(u -> new Mapped(toApprover(u, slackUser), true)));
    }

    private static Approver toApprover(SlackSettings.User user, String slackUser) {
        return new Approver(user.subject(), user.issuer(), user.groups(),
                user.displayName() == null ? user.subject() : user.displayName());
    }

    /** The first Approve / Deny action of the payload, or null. */
    private static JsonObject approvalAction(JsonObject payload) {
        JsonArray actions = payload.getJsonArray("actions", new JsonArray());
        for (int i = 0; i < actions.size(); i++) {
            Object o = actions.getValue(i);
            if (o instanceof JsonObject a) {
                String id = a.getString("action_id");
                if ((SlackMessages.APPROVE_ACTION.equals(id) || SlackMessages.DENY_ACTION.equals(id))
                        && a.getString("value") != null && !a.getString("value").isBlank()) {
                    return a;
                }
            }
        }
        return null;
    }

    /** The {@code payload} form field as JSON. */
    static JsonObject payload(String formBody) {
        for (String pair : formBody.split("&")) {
            int eq = pair.indexOf('=');
            if (eq > 0 && pair.substring(0, eq).equals("payload")) {
                String json = URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
                try {
                    return new JsonObject(json);
                } catch (DecodeException | ClassCastException e) {
                    throw new IllegalArgumentException("the payload field is not a JSON object");
                }
            }
        }
        throw new IllegalArgumentException("no payload field in the form body");
    }

    private void refuse(RoutingContext ctx, int status, String reason, String detail) {
        String client = ctx.request().remoteAddress() == null ? null : ctx.request().remoteAddress().hostAddress();
        LOGGER.warn("Slack callback refused reason={} client={} detail={}", reason, client, detail);
        Counter.builder("gatehouse.approval.slack.rejected")
                .description("Slack interactivity callbacks refused, by reason")
                .tag("reason", reason)
                .register(meters).increment();
        if (audit != null) {
            AuditEvent.ProtocolViolation violation = new AuditEvent.ProtocolViolation(
                    EventHeader.now(SessionId.system("slack"), "approval", instance), "slack", client,
                    "interactivity callback refused: " + reason + ": " + detail);
            try {
                audit.append(violation).whenComplete((v, e) -> {
                    if (e != null) LOGGER.warn("ProtocolViolation could not be written: {}", e.toString());
                });
            } catch (RuntimeException e) {
                LOGGER.warn("ProtocolViolation could not be written: {}", e.toString());
            }
        }
        ctx.response().setStatusCode(status).putHeader("Content-Type", "text/plain; charset=utf-8")
                .end(status == 401 ? "invalid request signature" : "bad request");
    }
}
