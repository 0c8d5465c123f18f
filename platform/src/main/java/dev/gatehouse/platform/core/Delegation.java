package dev.gatehouse.platform.core;

import java.util.List;
import java.util.Objects;

/**
 * Who a delegated session acts for (RFC 8693 delegation): the token's subject is the originator,
 * the person who asked; the {@link Identity} itself is the current actor (the agent), so every rule
 * on {@code identity.subject} or {@code identity.groups} sees the agent and never passes the
 * originator's rights on silently.
 *
 * @param originator       the originator's subject (the token's {@code sub})
 * @param originatorIssuer the issuer that vouched for the originator (the token's {@code iss})
 * @param originatorGroups the originator's groups, as the token lists them
 * @param originatorRoles  the originator's roles, as the token lists them
 * @param earlierActors    actors before the current one, nearest first (a nested {@code act});
 *                         recorded, never used for decisions (RFC 8693, section 4.1)
 * @param via              where the actor was read: {@code act}, or the claim configured for the
 *                         issuer (e.g. {@code azp} for Keycloak's token exchange)
 */
public record Delegation(String originator, String originatorIssuer, List<String> originatorGroups,
                         List<String> originatorRoles, List<String> earlierActors, String via) {

    /** The claim RFC 8693 names the actor in. */
    public static final String ACT = "act";

    public Delegation {
        Objects.requireNonNull(originator, "originator");
        Objects.requireNonNull(via, "via");
        originatorGroups = originatorGroups == null ? List.of() : List.copyOf(originatorGroups);
        originatorRoles = originatorRoles == null ? List.of() : List.copyOf(originatorRoles);
        earlierActors = earlierActors == null ? List.of() : List.copyOf(earlierActors);
    }

    /** The whole chain as written for people: "alice → planner-agent" (earlier actors in between). */
    public String chain(String actor) {
        StringBuilder b = new StringBuilder(originator);
        for (int i = earlierActors.size() - 1; i >= 0; i--) b.append(" → ").append(earlierActors.get(i));
        return b.append(" → ").append(actor).toString();
    }
}
