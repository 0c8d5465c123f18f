package dev.gatehouse.approval.slack;

import com.fasterxml.jackson.annotation.JsonProperty;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The {@code approval.slack} section of the configuration, as written in YAML. Secrets are never
 * in the file: it names the environment variables holding them. {@link #settings(Function)}
 * resolves them into {@link SlackSettings}.
 *
 * <pre>
 * approval:
 *   slack:
 *     channel: "#db-approvals"
 *     bot-token-env: SLACK_BOT_TOKEN            # chat.postMessage / chat.update / users.info
 *     webhook-url-env: SLACK_WEBHOOK_URL        # or an incoming webhook (no in-place updates)
 *     signing-secret-env: SLACK_SIGNING_SECRET  # the interactivity endpoint
 *     api-url: https://slack.com/api
 *     console-url: http://127.0.0.1:18082
 *     users: {U024BE7LH: {subject: bob, groups: [dba]}, "carol@example.com": {subject: carol, groups: [dba]}}
 *     approvers-by-email: true
 *     retry: {max-attempts: 6, initial-backoff: 1s, max-backoff: 60s}
 * </pre>
 *
 * @param users approvers by Slack user id, or by e-mail address (keys containing "@"), matched
 *              through {@code users.info} when {@code approversByEmail}; an entry by Slack user id
 *              with an {@code issuer} also links that person for originator confirmations
 *              ({@link SlackSettings#slackUserOf})
 */
public record SlackConfig(String channel,
                          @JsonProperty("webhook-url-env") String webhookUrlEnv,
                          @JsonProperty("bot-token-env") String botTokenEnv,
                          @JsonProperty("signing-secret-env") String signingSecretEnv,
                          @JsonProperty("api-url") String apiUrl,
                          @JsonProperty("console-url") String consoleUrl,
                          Map<String, User> users,
                          @JsonProperty("approvers-by-email") Boolean approversByEmail,
                          Retry retry,
                          @JsonProperty("sql-limit") Integer sqlLimit) {

    private static final Pattern DURATION = Pattern.compile("(\\d+)(ms|s|m|h)");

    /** One approver a Slack user (or e-mail address) stands for. */
    public record User(String subject, String issuer, List<String> groups,
                       @JsonProperty("display-name") String displayName) {
        public User {
            if (subject == null || subject.isBlank()) {
                throw new IllegalArgumentException("approval.slack.users: every entry needs a subject");
            }
            groups = groups == null ? List.of() : List.copyOf(groups);
        }
    }

    /** Delivery retries; durations like 500ms, 1s, 2m. */
    public record Retry(@JsonProperty("max-attempts") Integer maxAttempts,
                        @JsonProperty("initial-backoff") String initialBackoff,
                        @JsonProperty("max-backoff") String maxBackoff) {
    }

    public SlackConfig {
        webhookUrlEnv = webhookUrlEnv == null || webhookUrlEnv.isBlank() ? "SLACK_WEBHOOK_URL" : webhookUrlEnv;
        botTokenEnv = botTokenEnv == null || botTokenEnv.isBlank() ? "SLACK_BOT_TOKEN" : botTokenEnv;
        signingSecretEnv = signingSecretEnv == null || signingSecretEnv.isBlank() ? "SLACK_SIGNING_SECRET" : signingSecretEnv;
        users = users == null ? Map.of() : Map.copyOf(users);
        approversByEmail = approversByEmail != null && approversByEmail;
        if (retry != null) toRetry(retry); // fail at load, naming the field
    }

    /**
     * The settings with secrets read through {@code env} (normally {@code System::getenv}).
     *
     * @throws IllegalArgumentException naming the variables when neither a webhook URL nor a bot token is set
     */
    public SlackSettings settings(Function<String, String> env) {
        Map<String, SlackSettings.User> byKey = new LinkedHashMap<>();
        users.forEach((k, u) -> byKey.put(k, new SlackSettings.User(u.subject(), u.issuer(), u.groups(), u.displayName())));
        String webhook = env.apply(webhookUrlEnv);
        String token = env.apply(botTokenEnv);
        if (blank(webhook) && blank(token)) {
            throw new IllegalArgumentException("approval.slack: neither " + webhookUrlEnv + " nor " + botTokenEnv
                    + " is set in the environment");
        }
        return new SlackSettings(channel, webhook, token, env.apply(signingSecretEnv), apiUrl, consoleUrl, byKey,
                approversByEmail, retry == null ? null : toRetry(retry), sqlLimit == null ? 0 : sqlLimit);
    }

    private static SlackSettings.Retry toRetry(Retry r) {
        SlackSettings.Retry d = SlackSettings.Retry.DEFAULT;
        return new SlackSettings.Retry(r.maxAttempts() == null ? d.maxAttempts() : r.maxAttempts(),
                r.initialBackoff() == null ? d.initialBackoff() : duration("approval.slack.retry.initial-backoff", r.initialBackoff()),
                r.maxBackoff() == null ? d.maxBackoff() : duration("approval.slack.retry.max-backoff", r.maxBackoff()));
    }

    static Duration duration(String field, String text) {
        Matcher m = DURATION.matcher(text.trim());
        if (!m.matches()) throw new IllegalArgumentException(field + ": '" + text + "' is not a duration like 500ms, 1s, 2m, 1h");
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            default -> Duration.ofHours(n);
        };
    }

    private static boolean blank(String s) {
        return s == null || s.isBlank();
    }
}
