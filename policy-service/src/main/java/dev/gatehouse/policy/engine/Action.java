package dev.gatehouse.policy.engine;

import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a rule does when its condition holds, as written in a policy document.
 *
 * <p>{@link #REQUIRE_APPROVAL} and {@link #MASK} are accepted by the parser, but the approval
 * service and result masking are not deployed yet: a rule with one of these actions evaluates to
 * a DENY decision (fail closed), never to an allow.
 */
public enum Action {
    ALLOW,
    DENY,
    REQUIRE_APPROVAL,
    MASK;

    /** The action as it is spelled in a policy document ("allow", "require_approval"). */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The action spelled {@code text} in a policy document, if there is one. */
    public static Optional<Action> fromLabel(String text) {
        return Arrays.stream(values()).filter(a -> a.label().equals(text)).findFirst();
    }

    static String labels() {
        return Arrays.stream(values()).map(Action::label).collect(Collectors.joining(", "));
    }
}
