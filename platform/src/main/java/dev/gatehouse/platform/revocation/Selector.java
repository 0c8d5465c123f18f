package dev.gatehouse.platform.revocation;

import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.Identity;

import java.util.Arrays;
import java.util.Locale;
import java.util.Objects;
import java.util.stream.Collectors;

/**
 * Which identities a revocation applies to: one attribute of the session's {@link Identity} and
 * the value it must have.
 *
 * <ul>
 *   <li>{@code subject}, {@code issuer}, {@code group}: exact (case-sensitive, as the token says)</li>
 *   <li>{@code repository}: the CI repository, case-insensitive ({@code org/repo})</li>
 *   <li>{@code commit}: the CI commit sha, case-insensitive; a prefix of at least
 *       {@value #MIN_COMMIT_PREFIX} characters matches the full sha</li>
 *   <li>{@code actor}: in a delegated session only, the current actor (the agent, the identity's
 *       subject) or any earlier actor of its chain; exact. Every session of one agent acting
 *       for anyone (its own sessions, without delegation, are {@code subject})</li>
 *   <li>{@code originator}: in a delegated session only, the person the agents act for
 *       ({@link Delegation#originator()}); exact. Every agent acting for that person</li>
 * </ul>
 */
public record Selector(Type type, String value) {

    /** The shortest commit prefix accepted (as {@code git} abbreviates). */
    public static final int MIN_COMMIT_PREFIX = 7;

    /** The attribute a selector matches. */
    public enum Type {
        SUBJECT, ISSUER, GROUP, REPOSITORY, COMMIT, ACTOR, ORIGINATOR;

        /** Every label, for messages: "subject, issuer, group, repository, commit, actor, originator". */
        public static String labels() {
            return Arrays.stream(values()).map(Type::label).collect(Collectors.joining(", "));
        }

        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }

        /** Parses a label ("subject", "commit", ...), case-insensitively. */
        public static Type parse(String label) {
            Objects.requireNonNull(label, "selector type");
            try {
                return valueOf(label.trim().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown selector type '" + label + "' (one of: " + labels() + ")");
            }
        }
    }

    public Selector {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(value, "value");
        value = value.strip();
        if (value.isEmpty()) throw new IllegalArgumentException(type.label() + " selector: the value must not be blank");
        if (type == Type.COMMIT && (value.length() < MIN_COMMIT_PREFIX || !value.matches("[0-9a-fA-F]+"))) {
            throw new IllegalArgumentException("commit selector: '" + value + "' is not a commit sha (at least "
                    + MIN_COMMIT_PREFIX + " hex digits)");
        }
    }

    /** Parses {@code type=value}, e.g. {@code subject=alice} or {@code commit=1a2b3c4d}. */
    public static Selector parse(String text) {
        Objects.requireNonNull(text, "selector");
        int eq = text.indexOf('=');
        if (eq <= 0) throw new IllegalArgumentException("selector '" + text + "' is not of the form type=value (e.g. subject=alice)");
        return new Selector(Type.parse(text.substring(0, eq)), text.substring(eq + 1));
    }

    /** Whether a session of this identity is covered. */
    public boolean matches(Identity identity) {
        if (identity == null) return false;
        CiProvenance ci = identity.ci();
        Delegation delegation = identity.delegation();
        return switch (type) {
            case SUBJECT -> value.equals(identity.subject());
            case ISSUER -> value.equals(identity.issuer());
            case GROUP -> identity.groups().contains(value);
            case REPOSITORY -> ci != null && ci.repository() != null && value.equalsIgnoreCase(ci.repository());
            case COMMIT -> ci != null && ci.commitSha() != null
                    && ci.commitSha().toLowerCase(Locale.ROOT).startsWith(value.toLowerCase(Locale.ROOT));
            case ACTOR -> delegation != null && (value.equals(identity.subject()) || delegation.earlierActors().contains(value));
            case ORIGINATOR -> delegation != null && value.equals(delegation.originator());
        };
    }

    /** {@code subject=alice}: the form {@link #parse} reads. */
    @Override
    public String toString() {
        return type.label() + "=" + value;
    }
}
