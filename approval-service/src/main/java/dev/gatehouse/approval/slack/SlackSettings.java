package dev.gatehouse.approval.slack;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;

/**
 * How the approval service talks to Slack, secrets already resolved from the environment (the
 * configuration names only the variables). {@link #toString()} never shows a secret.
 *
 * @param channel          where requests are posted ("#db-approvals"); shown in audit events and notices
 * @param webhookUrl       an incoming webhook URL, or null (then {@code botToken} posts)
 * @param botToken         a bot token ({@code xoxb-…}) for {@code chat.postMessage} / {@code chat.update} /
 *                         {@code users.info}, or null
 * @param signingSecret    the app's signing secret for the interactivity endpoint, or null (no endpoint)
 * @param apiUrl           the Web API base (default {@code https://slack.com/api})
 * @param consoleUrl       the web console's base URL for links, or null
 * @param users            approvers by Slack user id ("U024BE7LH") or by e-mail address ("bob@example.com",
 *                         matched through {@code users.info} when {@code approversByEmail}); an entry by
 *                         user id with an issuer also links that person for originator confirmations
 *                         ({@link #slackUserOf})
 * @param approversByEmail look a clicking user's e-mail up with {@code users.info} (needs the bot token)
 * @param retry            delivery retries
 * @param sqlLimit         characters of SQL shown in a message (default 2500)
 */
public record SlackSettings(String channel, String webhookUrl, String botToken, String signingSecret, String apiUrl,
                            String consoleUrl, Map<String, User> users, boolean approversByEmail, Retry retry,
                            int sqlLimit) {

    public static final String DEFAULT_API_URL = "https://slack.com/api";

    /**
     * A Gatehouse approver a Slack user stands for.
     *
     * @param issuer null compares subjects only when checking self-approval and repeat votes
     */
    public record User(String subject, String issuer, List<String> groups, String displayName) {
        public User {
            Objects.requireNonNull(subject, "approval.slack.users: subject is required");
            if (subject.isBlank()) throw new IllegalArgumentException("approval.slack.users: subject must not be blank");
            groups = groups == null ? List.of() : List.copyOf(groups);
        }
    }

    /**
     * Delivery retries: exponential backoff from {@code initialBackoff}, doubling up to
     * {@code maxBackoff}, with jitter; a 429's {@code Retry-After} is honoured.
     */
    public record Retry(int maxAttempts, Duration initialBackoff, Duration maxBackoff) {
        public static final Retry DEFAULT = new Retry(6, Duration.ofSeconds(1), Duration.ofSeconds(60));

        public Retry {
            if (maxAttempts < 1) throw new IllegalArgumentException("approval.slack.retry: max-attempts must be at least 1");
            Objects.requireNonNull(initialBackoff, "initialBackoff");
            Objects.requireNonNull(maxBackoff, "maxBackoff");
            if (initialBackoff.isNegative() || initialBackoff.isZero() || maxBackoff.compareTo(initialBackoff) < 0) {
                throw new IllegalArgumentException("approval.slack.retry: need 0 < initial-backoff <= max-backoff");
            }
        }
    }

    public SlackSettings {
        channel = channel == null || channel.isBlank() ? "gatehouse approvals" : channel;
        webhookUrl = blankToNull(webhookUrl);
        botToken = blankToNull(botToken);
        signingSecret = blankToNull(signingSecret);
        apiUrl = apiUrl == null || apiUrl.isBlank() ? DEFAULT_API_URL : apiUrl.replaceAll("/+$", "");
        consoleUrl = blankToNull(consoleUrl);
        Map<String, User> byKey = new TreeMap<>();
        if (users != null) users.forEach((k, v) -> byKey.put(k.contains("@") ? k.toLowerCase(Locale.ROOT) : k, v));
        users = Map.copyOf(byKey);
        retry = retry == null ? Retry.DEFAULT : retry;
        sqlLimit = sqlLimit <= 0 ? SlackMessages.DEFAULT_SQL_LIMIT : sqlLimit;
        if (webhookUrl == null && botToken == null) {
            throw new IllegalArgumentException("approval.slack: set a webhook URL (webhook-url-env) or a bot token "
                    + "(bot-token-env); the variable named is empty or unset");
        }
        if (approversByEmail && botToken == null) {
            throw new IllegalArgumentException("approval.slack.approvers-by-email needs a bot token (bot-token-env) "
                    + "with the users:read.email scope");
        }
    }

    /** Settings with the default retries and SQL limit. */
    public SlackSettings(String channel, String webhookUrl, String botToken, String signingSecret, String apiUrl,
                         String consoleUrl, Map<String, User> users, boolean approversByEmail) {
        this(channel, webhookUrl, botToken, signingSecret, apiUrl, consoleUrl, users, approversByEmail, null, 0);
    }

    /** The approver configured for this Slack user id, if any. */
    public Optional<User> userById(String slackUserId) {
        return slackUserId == null || slackUserId.contains("@") ? Optional.empty() : Optional.ofNullable(users.get(slackUserId));
    }

    /** The approver configured for this e-mail address, if any (case-insensitive). */
    public Optional<User> userByEmail(String email) {
        return email == null ? Optional.empty() : Optional.ofNullable(users.get(email.toLowerCase(Locale.ROOT)));
    }

    /**
     * The Slack user id linked to a person, for originator confirmations: the one {@link #users}
     * entry keyed by a Slack user id whose subject and issuer are exactly these. Only such explicit
     * links count: an entry keyed by e-mail address or without an issuer never links a person (people
     * are never matched across issuers by e-mail). Empty when none is configured or several are
     * (ambiguous: nobody is asked).
     */
    public Optional<String> slackUserOf(String subject, String issuer) {
        if (subject == null || issuer == null || issuer.isBlank()) return Optional.empty();
        List<String> linked = users.entrySet().stream()
                .filter(e -> !e.getKey().contains("@"))
                .filter(e -> subject.equals(e.getValue().subject()) && issuer.equals(e.getValue().issuer()))
                .map(Map.Entry::getKey).toList();
        return linked.size() == 1 ? Optional.of(linked.getFirst()) : Optional.empty();
    }

    /** Whether messages are posted with the bot token (else the webhook). */
    public boolean usesBotToken() {
        return botToken != null;
    }

    private static String blankToNull(String s) {
        return s == null || s.isBlank() ? null : s;
    }

    @Override
    public String toString() {
        return "SlackSettings[channel=" + channel + ", webhook=" + (webhookUrl == null ? "none" : "set")
                + ", botToken=" + (botToken == null ? "none" : "set") + ", signingSecret="
                + (signingSecret == null ? "none" : "set") + ", apiUrl=" + apiUrl + ", consoleUrl=" + consoleUrl
                + ", users=" + users.keySet() + ", approversByEmail=" + approversByEmail + ", retry=" + retry
                + ", sqlLimit=" + sqlLimit + "]";
    }
}
