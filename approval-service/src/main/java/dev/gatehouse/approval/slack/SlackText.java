package dev.gatehouse.approval.slack;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.regex.Pattern;

/**
 * Makes untrusted text (SQL, subjects, reasons) safe to put into Slack {@code mrkdwn}: it can
 * never ping anyone, link, or format. Slack's documented escapes are {@code &amp; &lt; &gt;}
 * (so {@code <!channel>} or {@code <@U123>} are shown, not parsed); formatting characters
 * ({@code * _ ~ `}) get a zero-width space in front so they never pair up into bold, italics,
 * strike or code, and {@code @} one behind it so no bare {@code @here} is left; text objects carrying such text are also
 * sent with {@code verbatim: true} so Slack does not auto-link anything.
 */
public final class SlackText {

    /** U+200B ZERO WIDTH SPACE: invisible, but breaks Slack's markup matching. */
    static final char ZWSP = '\u200B';

    private static final Pattern SAFE_PATH = Pattern.compile("[A-Za-z0-9._/-]{1,200}");
    private static final Pattern SAFE_TOKEN = Pattern.compile("[A-Za-z0-9._-]{1,100}");

    private SlackText() {
    }

    /** Escapes text shown as plain words inside mrkdwn. */
    public static String escape(String text) {
        if (text == null) return "";
        StringBuilder out = new StringBuilder(text.length() + 16);
        for (int i = 0; i < text.length(); i++) {
            char c = text.charAt(i);
            switch (c) {
                case '&' -> out.append("&amp;");
                case '<' -> out.append("&lt;");
                case '>' -> out.append("&gt;");
                case '*', '_', '~', '`' -> out.append(ZWSP).append(c);
                case '@' -> out.append(c).append(ZWSP);
                default -> out.append(c);
            }
        }
        return out.toString();
    }

    /** A code block's content and whether it was cut short. */
    public record Code(String mrkdwn, boolean truncated) {
    }

    /**
     * Renders text as a mrkdwn code block ({@code ```...```}) of at most {@code maxChars} escaped
     * characters of content: {@code & < >} are escaped and every backtick is followed by a
     * zero-width space, so the text can never close the block. Markup inside a code block is not
     * interpreted by Slack, so other characters stay as they are.
     */
    public static Code codeBlock(String text, int maxChars) {
        String source = text == null ? "" : text;
        StringBuilder out = new StringBuilder(Math.min(source.length(), maxChars) + 16);
        boolean truncated = false;
        for (int i = 0; i < source.length(); i++) {
            char c = source.charAt(i);
            String piece = switch (c) {
                case '&' -> "&amp;";
                case '<' -> "&lt;";
                case '>' -> "&gt;";
                case '`' -> "`" + ZWSP;
                default -> String.valueOf(c);
            };
            if (out.length() + piece.length() > maxChars) {
                truncated = true;
                break;
            }
            out.append(piece);
        }
        // A high surrogate cut from its pair would render as garbage.
        if (truncated && !out.isEmpty() && Character.isHighSurrogate(out.charAt(out.length() - 1))) {
            out.setLength(out.length() - 1);
        }
        String body = out.toString();
        // Slack trims leading and trailing blank lines of code blocks; keep the fence on its own lines.
        return new Code("```\n" + body + (truncated ? "\n…" : "") + "\n```", truncated);
    }

    /**
     * A mrkdwn link {@code <url|label>}; the label is escaped. Only http(s) URLs built by
     * Gatehouse itself are passed here; {@code |}, {@code <} and {@code >} in them are percent-encoded.
     */
    public static String link(String url, String label) {
        String safeUrl = url.replace("|", "%7C").replace("<", "%3C").replace(">", "%3E").replace("&", "&amp;");
        return "<" + safeUrl + "|" + escape(label) + ">";
    }

    /** A path segment for a URL, percent-encoded. */
    public static String pathSegment(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }

    /** Whether a value is safe to put into a URL path unencoded (repository names like "org/repo"). */
    static boolean safePath(String value) {
        return value != null && SAFE_PATH.matcher(value).matches() && !value.contains("..");
    }

    /** Whether a value is a plain token (commit sha, run id). */
    static boolean safeToken(String value) {
        return value != null && SAFE_TOKEN.matcher(value).matches();
    }

    /** Cuts plain text to {@code max} characters with an ellipsis. */
    public static String clip(String text, int max) {
        if (text == null) return "";
        if (text.length() <= max) return text;
        int end = max - 1;
        if (Character.isHighSurrogate(text.charAt(end - 1))) end--;
        return text.substring(0, end) + "…";
    }
}
