package dev.gatehouse.approval.slack;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.security.MessageDigest;
import java.time.Clock;
import java.time.Duration;
import java.util.HexFormat;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Verifies Slack's request signatures (scheme {@code v0}): {@code X-Slack-Signature} must be
 * {@code "v0=" + hex(HMAC-SHA256(signing secret, "v0:" + X-Slack-Request-Timestamp + ":" + raw body))},
 * compared in constant time; the timestamp must lie within the window (default ±5 minutes) of
 * this host's clock; and a signature already accepted within the window is refused as a replay.
 *
 * <p>Replay protection is per instance: the cache of accepted signatures lives in memory. With
 * several approval-service instances behind a load balancer a replay that lands on another
 * instance passes this check, which is harmless for votes: the approval fold counts one vote per
 * approver, so a replayed click never adds a vote. Thread-safe.
 */
public final class SlackSignatureVerifier {

    private static final Logger LOGGER = LoggerFactory.getLogger(SlackSignatureVerifier.class);

    /** The window Slack documents for request timestamps. */
    public static final Duration DEFAULT_WINDOW = Duration.ofMinutes(5);

    /** How many accepted signatures are remembered at most (oldest forgotten first). */
    public static final int DEFAULT_REMEMBERED = 100_000;

    private static final String VERSION = "v0";
    private static final HexFormat HEX = HexFormat.of();

    /** Why a request was refused; {@link #tag()} names it in metrics and logs. */
    public enum Refusal {
        MISSING_HEADERS("missing-headers"),
        MALFORMED_TIMESTAMP("malformed-timestamp"),
        STALE("stale"),
        FUTURE("future"),
        BAD_SIGNATURE("bad-signature"),
        REPLAYED("replayed");

        private final String tag;

        Refusal(String tag) {
            this.tag = tag;
        }

        public String tag() {
            return tag;
        }
    }

    /**
     * The outcome of one check.
     *
     * @param refusal null when the request is authentic
     * @param detail  a human explanation (never the secret nor the expected signature)
     */
    public record Verdict(Refusal refusal, String detail) {
        static final Verdict OK = new Verdict(null, "valid");

        public boolean valid() {
            return refusal == null;
        }
    }

    private final SecretKeySpec key;
    private final Clock clock;
    private final long windowSeconds;
    private final int maxRemembered;
    /** Accepted signatures → their timestamp (epoch seconds), oldest first. */
    private final LinkedHashMap<String, Long> seen = new LinkedHashMap<>();

    /** A verifier with the documented 5-minute window. */
    public SlackSignatureVerifier(String signingSecret) {
        this(signingSecret, Clock.systemUTC(), DEFAULT_WINDOW, DEFAULT_REMEMBERED);
    }

    public SlackSignatureVerifier(String signingSecret, Clock clock, Duration window, int maxRemembered) {
        Objects.requireNonNull(signingSecret, "signingSecret");
        if (signingSecret.isBlank()) throw new IllegalArgumentException("the Slack signing secret is empty");
        if (window.isNegative() || window.isZero()) throw new IllegalArgumentException("window must be positive");
        if (maxRemembered < 1) throw new IllegalArgumentException("maxRemembered must be positive");
        this.key = new SecretKeySpec(signingSecret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
        this.clock = Objects.requireNonNull(clock, "clock");
        this.windowSeconds = window.toSeconds();
        this.maxRemembered = maxRemembered;
    }

    /**
     * Checks one request.
     *
     * @param timestamp the {@code X-Slack-Request-Timestamp} header (epoch seconds), may be null
     * @param signature the {@code X-Slack-Signature} header, may be null
     * @param rawBody   the body exactly as received, before any parsing
     */
    public Verdict verify(String timestamp, String signature, byte[] rawBody) {
        if (timestamp == null || timestamp.isBlank() || signature == null || signature.isBlank()) {
            return new Verdict(Refusal.MISSING_HEADERS, "X-Slack-Request-Timestamp or X-Slack-Signature missing");
        }
        long ts;
        try {
            ts = Long.parseLong(timestamp.trim());
        } catch (NumberFormatException e) {
            return new Verdict(Refusal.MALFORMED_TIMESTAMP, "X-Slack-Request-Timestamp is not a number of seconds");
        }
        long now = clock.instant().getEpochSecond();
        if (ts < now - windowSeconds) {
            return new Verdict(Refusal.STALE, "request timestamp is " + (now - ts) + "s old, more than the "
                    + windowSeconds + "s allowed");
        }
        if (ts > now + windowSeconds) {
            return new Verdict(Refusal.FUTURE, "request timestamp is " + (ts - now) + "s in the future, more than the "
                    + windowSeconds + "s allowed");
        }
        byte[] expected = expectedSignature(timestamp.trim(), rawBody).getBytes(StandardCharsets.US_ASCII);
        byte[] given = signature.trim().getBytes(StandardCharsets.US_ASCII);
        if (!MessageDigest.isEqual(expected, given)) {
            return new Verdict(Refusal.BAD_SIGNATURE, "X-Slack-Signature does not match the body and timestamp");
        }
        synchronized (seen) {
            forgetOlderThan(now - windowSeconds);
            if (seen.putIfAbsent(signature.trim(), ts) != null) {
                return new Verdict(Refusal.REPLAYED, "this signed request was already accepted");
            }
            if (seen.size() > maxRemembered) {
                Iterator<String> oldest = seen.keySet().iterator();
                oldest.next();
                oldest.remove();
                LOGGER.warn("slack replay cache full ({} signatures): forgetting the oldest", maxRemembered);
            }
        }
        return Verdict.OK;
    }

    private void forgetOlderThan(long cutoff) {
        // Insertion order is roughly timestamp order: drop from the head until a recent one. An
        // out-of-order older entry behind it stays a little longer, which only costs memory.
        Iterator<Map.Entry<String, Long>> it = seen.entrySet().iterator();
        while (it.hasNext() && it.next().getValue() < cutoff) {
            it.remove();
        }
    }

    private String expectedSignature(String timestamp, byte[] rawBody) {
        return sign(key, timestamp, rawBody);
    }

    /** The {@code X-Slack-Signature} value Slack would send for this body and timestamp. */
    public static String sign(String signingSecret, String timestamp, byte[] rawBody) {
        return sign(new SecretKeySpec(signingSecret.getBytes(StandardCharsets.UTF_8), "HmacSHA256"), timestamp, rawBody);
    }

    private static String sign(SecretKeySpec key, String timestamp, byte[] rawBody) {
        try {
            Mac mac = Mac.getInstance("HmacSHA256");
            mac.init(key);
            mac.update((VERSION + ":" + timestamp + ":").getBytes(StandardCharsets.UTF_8));
            mac.update(rawBody);
            return VERSION + "=" + HEX.formatHex(mac.doFinal());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 unavailable", e);
        }
    }
}
