package dev.gatehouse.edge.masking;

import java.util.Objects;
import java.util.function.Predicate;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Finds one kind of sensitive value inside text: a pattern for candidates, a cheap pre-check that
 * skips values which cannot contain one, and a validator for the candidates (Luhn for cards, the
 * mod-97 check digits for IBANs, ...). Immutable and thread-safe. The built-in detectors are in
 * {@link Detectors}.
 */
public final class Detector {
    private final String name;
    private final Pattern pattern;
    private final Predicate<String> mightContain;
    private final Predicate<String> valid;

    Detector(String name, Pattern pattern, Predicate<String> mightContain, Predicate<String> valid) {
        this.name = Objects.requireNonNull(name, "name");
        this.pattern = Objects.requireNonNull(pattern, "pattern");
        this.mightContain = Objects.requireNonNull(mightContain, "mightContain");
        this.valid = Objects.requireNonNull(valid, "valid");
    }

    /** The name recorded in masking statistics, e.g. {@code email}, or a custom regex's name. */
    public String name() {
        return name;
    }

    /** Whether {@code text} holds at least one value this detector accepts. */
    public boolean matches(String text) {
        return replace(text, MASK_ALL) != text;
    }

    private static final MaskMethod MASK_ALL = new MaskMethod.Redact();

    /**
     * {@code text} with each value found replaced by {@code method}; the same instance when
     * nothing was found; null when the method yields SQL NULL for a value found.
     */
    public String replace(String text, MaskMethod method) {
        if (text.isEmpty() || !mightContain.test(text)) return text;
        Matcher m = pattern.matcher(text);
        StringBuilder out = null;
        int copied = 0;
        while (m.find()) {
            String found = m.group();
            if (!valid.test(found)) continue;
            String replacement = method.apply(found);
            if (replacement == null) return null;
            if (out == null) out = new StringBuilder(text.length() + 16);
            out.append(text, copied, m.start()).append(replacement);
            copied = m.end();
        }
        if (out == null) return text;
        return out.append(text, copied, text.length()).toString();
    }

    @Override
    public String toString() {
        return "Detector[" + name + "]";
    }
}
