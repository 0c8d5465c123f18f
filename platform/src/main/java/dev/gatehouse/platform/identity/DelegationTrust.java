package dev.gatehouse.platform.identity;

import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.Identity;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * What an issuer may say about delegation (RFC 8693), and how its tokens name the acting client.
 *
 * <p>A token with an {@code act} claim is a delegation: its {@code sub} is the originator, the
 * person who asked, and {@code act.sub} the current actor; a nested {@code act} names earlier actors
 * (recorded, never used for decisions). Such a token is refused unless its issuer is trusted to
 * assert delegation ({@code acceptAct}), when the chain is deeper than {@code maxDepth}, and when an
 * actor is the subject itself. {@code may_act} says who may act; it is no evidence that anyone does
 * and is ignored.
 *
 * <p>Some issuers name the acting client in another claim: Keycloak's standard token exchange
 * (impersonation) puts the agent's client id in {@code azp}. With {@code actorClaim} set, a token
 * without {@code act} whose actor claim names a client other than the subject is a delegation by that
 * client, unless the client is one people sign in with ({@code humanClients}) or the token is the
 * client's own (its {@code client_id} claim names it: a service account).
 *
 * <p>Declared intent: the run and plan-step claims, when the token has them, are a verified
 * {@link DeclaredIntent} (the issuer signed them).
 *
 * @param acceptAct    whether this issuer's {@code act} claims are accepted (default false: refused)
 * @param actorClaim   another claim naming the actor (e.g. {@code azp}), or null
 * @param humanClients values of {@code actorClaim} that mean the person acts themself (their login client)
 * @param maxDepth     the longest chain accepted, counting the current actor (default 3)
 * @param runClaim     the claim holding the agent's run id (default {@code agent_run_id})
 * @param stepClaim    the claim holding the plan step id (default {@code agent_step_id})
 */
public record DelegationTrust(boolean acceptAct, String actorClaim, Set<String> humanClients, int maxDepth,
                              String runClaim, String stepClaim) {

    public static final int DEFAULT_MAX_DEPTH = 3;
    public static final String DEFAULT_RUN_CLAIM = "agent_run_id";
    public static final String DEFAULT_STEP_CLAIM = "agent_step_id";
    /** No delegation accepted; intent read from the default claims. */
    public static final DelegationTrust NONE = new DelegationTrust(false, null, Set.of(), DEFAULT_MAX_DEPTH, null, null);

    public DelegationTrust {
        actorClaim = actorClaim == null || actorClaim.isBlank() ? null : actorClaim.strip();
        if (Delegation.ACT.equals(actorClaim)) {
            throw new IllegalArgumentException("delegation: actor-claim `act` is RFC 8693's own claim; set accept-act instead");
        }
        humanClients = humanClients == null ? Set.of() : Set.copyOf(humanClients);
        if (maxDepth < 1 || maxDepth > 10) throw new IllegalArgumentException("delegation: max-depth must be 1..10, got " + maxDepth);
        runClaim = runClaim == null || runClaim.isBlank() ? DEFAULT_RUN_CLAIM : runClaim.strip();
        stepClaim = stepClaim == null || stepClaim.isBlank() ? DEFAULT_STEP_CLAIM : stepClaim.strip();
    }

    /**
     * The identity of a validated token: {@code self} (the token's subject acting for itself) turned
     * into the actor's identity when the token is a delegation, with a declared intent when the token
     * carries one.
     *
     * @param self        the identity its claim mapping gave (subject = the token's subject)
     * @param claims      the token's claims
     * @param groupsClaim the claim naming groups, also read inside {@code act} for the actor's groups; may be null
     * @throws TokenRejectedException when the token's delegation is not accepted
     */
    Identity apply(Identity self, Map<String, Object> claims, String groupsClaim) throws TokenRejectedException {
        DeclaredIntent intent = intent(claims);
        Object act = claims.get(Delegation.ACT);
        if (act != null) return actBy(self, act, groupsClaim).withIntent(intent);
        if (actorClaim != null) {
            Object actor = ClaimMapping.path(claims, actorClaim);
            if (actor instanceof String a && !a.isBlank() && !a.equals(self.subject()) && !humanClients.contains(a)
                    && !a.equals(claims.get("client_id")) && !a.equals(claims.get("clientId"))) {
                return delegated(self, a, List.of(), List.of(), List.of(), actorClaim, intent);
            }
        }
        return intent == null ? self : self.withIntent(intent);
    }

    private Identity actBy(Identity self, Object act, String groupsClaim) throws TokenRejectedException {
        String issuer = self.issuer();
        if (!acceptAct) {
            throw refused("issuer " + issuer + " is not trusted to assert delegation (the token has an `act` claim);"
                    + " trust it with identity.issuers[].delegation.accept-act, or connect without a delegation token");
        }
        List<String> actors = new ArrayList<>();
        List<String> actorGroups = List.of();
        List<String> actorRoles = List.of();
        Object current = act;
        while (current != null) {
            if (!(current instanceof Map<?, ?> m) || !(m.get("sub") instanceof String sub) || sub.isBlank()) {
                throw refused("the token's `act` claim is not an object naming its actor in `sub` (RFC 8693)");
            }
            if (sub.equals(self.subject())) {
                throw refused("the token's delegation chain names its subject " + self.subject()
                        + " as an actor: a subject cannot act for itself");
            }
            if (actors.contains(sub)) throw refused("the token's delegation chain names actor " + sub + " twice");
            actors.add(sub);
            if (actors.size() > maxDepth) {
                throw refused("the token's delegation chain is deeper than the " + maxDepth
                        + " actors issuer " + issuer + " is allowed (identity.issuers[].delegation.max-depth)");
            }
            if (actors.size() == 1) {
                @SuppressWarnings("unchecked")
                Map<String, Object> actor = (Map<String, Object>) m;
                actorGroups = groupsClaim == null ? List.of() : strings(ClaimMapping.path(actor, groupsClaim));
                actorRoles = strings(actor.get("roles"));
            }
            current = m.get(Delegation.ACT);
        }
        return delegated(self, actors.getFirst(), actorGroups, actorRoles, actors.subList(1, actors.size()), Delegation.ACT, null);
    }

    private static Identity delegated(Identity self, String actor, List<String> groups, List<String> roles,
                                      List<String> earlier, String via, DeclaredIntent intent) {
        Delegation d = new Delegation(self.subject(), self.issuer(), self.groups(), self.roles(), earlier, via);
        return new Identity(actor, self.issuer(), groups, roles, self.claims(), self.ci(), d, intent);
    }

    private DeclaredIntent intent(Map<String, Object> claims) {
        String run = text(claims.get(runClaim));
        String step = text(claims.get(stepClaim));
        return run == null && step == null ? null : new DeclaredIntent(run, step, true, DeclaredIntent.TOKEN);
    }

    private static String text(Object value) {
        if (value instanceof String s) return s.isBlank() ? null : s;
        if (value instanceof Number n) return String.valueOf(n);
        return null;
    }

    private static List<String> strings(Object value) {
        if (value instanceof String s) return s.isBlank() ? List.of() : List.of(s);
        if (value instanceof List<?> list) return list.stream().filter(Objects::nonNull).map(String::valueOf).toList();
        return List.of();
    }

    private static TokenRejectedException refused(String message) {
        return new TokenRejectedException(TokenRejectedException.Reason.DELEGATION_REFUSED, message);
    }
}
