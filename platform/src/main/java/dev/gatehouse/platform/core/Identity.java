package dev.gatehouse.platform.core;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A validated caller: who the token says it is. Never holds the token itself.
 *
 * <p>In a delegated session (RFC 8693) the identity is the current actor, the agent: its subject
 * and groups are the actor's, and the person it acts for is the {@link Delegation#originator()}.
 *
 * @param subject    who acts: the token's subject, or in a delegated session the current actor
 * @param groups     the acting subject's groups (a delegated session: the actor's)
 * @param roles      the acting subject's roles (a delegated session: the actor's)
 * @param claims     every claim of the token, for policy conditions (never the signature)
 * @param ci         CI provenance when the token came from a CI system, else null
 * @param delegation who the actor acts for, when the token is a delegation; else null
 * @param intent     the run or plan step the caller declared, or null
 */
public record Identity(
        String subject,
        String issuer,
        List<String> groups,
        List<String> roles,
        Map<String, Object> claims,
        CiProvenance ci,
        Delegation delegation,
        DeclaredIntent intent) {

    public Identity {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(issuer, "issuer");
        groups = List.copyOf(groups);
        roles = List.copyOf(roles);
        claims = Map.copyOf(claims);
    }

    /** A caller acting for itself, without declared intent. */
    public Identity(String subject, String issuer, List<String> groups, List<String> roles, Map<String, Object> claims,
                    CiProvenance ci) {
        this(subject, issuer, groups, roles, claims, ci, null, null);
    }

    /** Whether the caller acts for someone else. */
    public boolean delegated() {
        return delegation != null;
    }

    /** This identity with a declared intent (replacing any). */
    public Identity withIntent(DeclaredIntent newIntent) {
        return new Identity(subject, issuer, groups, roles, claims, ci, delegation, newIntent);
    }
}
