package dev.gatehouse.deploy.config;

import java.time.Duration;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Parses the durations of configuration files: {@code 500ms}, {@code 5s}, {@code 10m}, {@code 2h}, {@code 30d}. */
public final class Durations {
    private static final Pattern FORMAT = Pattern.compile("\\s*(\\d+)\\s*(ms|s|m|h|d)\\s*");

    private Durations() {
    }

    public static Duration parse(String field, String text) {
        if (text == null) return null;
        Matcher m = FORMAT.matcher(text);
        if (!m.matches()) {
            throw new IllegalArgumentException(field + ": '" + text + "' is not a duration (use 500ms, 5s, 10m, 2h or 30d)");
        }
        long n = Long.parseLong(m.group(1));
        return switch (m.group(2)) {
            case "ms" -> Duration.ofMillis(n);
            case "s" -> Duration.ofSeconds(n);
            case "m" -> Duration.ofMinutes(n);
            case "h" -> Duration.ofHours(n);
            default -> Duration.ofDays(n);
        };
    }
}
