package dev.gatehouse.platform.core;

import java.util.Locale;

/** The outcome of a decision, as it is recorded. */
public enum Verdict {
    ALLOW, DENY, MASK, REQUIRE_APPROVAL;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    public static Verdict parse(String text) {
        return valueOf(text.trim().toUpperCase(Locale.ROOT));
    }
}
