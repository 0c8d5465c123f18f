package dev.gatehouse.approval;

import dev.gatehouse.platform.core.Identity;

import java.util.List;
import java.util.Objects;

/**
 * Who votes: a token's subject, issuer and groups (or a Slack user mapped to them).
 *
 * @param issuer      the token issuer; null when the channel knows none (then subjects are compared)
 * @param displayName how to show the approver; defaults to the subject
 */
public record Approver(String subject, String issuer, List<String> groups, String displayName) {
    public Approver {
        Objects.requireNonNull(subject, "subject");
        if (subject.isBlank()) throw new IllegalArgumentException("approver subject must not be blank");
        groups = groups == null ? List.of() : List.copyOf(groups);
        displayName = displayName == null || displayName.isBlank() ? subject : displayName;
    }

    /** The approver a validated token names. */
    public static Approver of(Identity identity) {
        return new Approver(identity.subject(), identity.issuer(), identity.groups(), identity.subject());
    }
}
