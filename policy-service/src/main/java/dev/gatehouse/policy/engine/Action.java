package dev.gatehouse.policy.engine;

import dev.gatehouse.platform.core.Verdict;
import java.util.Arrays;
import java.util.Locale;
import java.util.Optional;
import java.util.stream.Collectors;

/**
 * What a rule does when its condition holds, as written in a policy document.
 *
 * <p>{@link #REQUIRE_APPROVAL} needs an {@code approval} (approver group, count) and {@link #MASK} a
 * {@code mask} profile; the engine decides them as such. An edge that cannot carry one out (no
 * approval service, no masking) refuses the command: it fails closed, never open.
 */
public enum Action {
    ALLOW,
    DENY,
    REQUIRE_APPROVAL,
    MASK;

    /** The verdict a rule with this action decides. */
    public Verdict verdict() {
        return switch (this) {
            case ALLOW -> Verdict.ALLOW;
            case DENY -> Verdict.DENY;
            case REQUIRE_APPROVAL -> Verdict.REQUIRE_APPROVAL;
            case MASK -> Verdict.MASK;
        };
    }

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
