package dev.gatehouse.platform.identity;

import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.Identity;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * Which claims of a validated token give the {@link Identity}: its subject, groups and roles,
 * and, for CI issuers, its {@link CiProvenance}. Claim names may be dotted paths into nested
 * objects ({@code realm_access.roles}) when no claim has that exact name.
 *
 * <p>Roles: a claim holding a list (or a single string) gives roles as they are. The claim
 * {@code resource_access} (Keycloak client roles: {@code {"client": {"roles": [...]}}}) gives
 * "client:role" for each client and role.
 *
 * @param subjectClaim the claim naming the caller, {@code sub} by default; a token without it is refused
 * @param groupsClaim  the claim listing the caller's groups, or null for none
 * @param rolesClaims  the claims listing the caller's roles, in order; duplicates are dropped
 * @param groupPaths   how hierarchical group paths ("/ops/dba") are written into {@link Identity#groups()}
 * @param ci           which CI system's provenance to read, or null when the issuer is no CI system
 */
public record ClaimMapping(String subjectClaim, String groupsClaim, List<String> rolesClaims, GroupPaths groupPaths,
                           IssuerKind ci) {

    /** The Keycloak client-roles claim, turned into "client:role". */
    public static final String KEYCLOAK_CLIENT_ROLES = "resource_access";

    /** How a group path such as "/ops/dba" is written into the identity. */
    public enum GroupPaths {
        /** As the token has it: "/ops/dba". */
        KEEP,
        /** Without the leading "/": "ops/dba" (a top-level group "/dba" becomes "dba"). Unambiguous. */
        RELATIVE,
        /** Only the last segment: "dba". Shorter, but "/ops/dba" and "/dev/dba" become the same group. */
        LEAF;

        /** The value named in configuration ("keep", "relative", "leaf"); null is {@code fallback}. */
        public static GroupPaths parse(String name, GroupPaths fallback) {
            if (name == null || name.isBlank()) {
                return fallback;
            }
            try {
                return valueOf(name.strip().toUpperCase(Locale.ROOT));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown group-paths `" + name + "`; one of: keep, relative, leaf");
            }
        }

        String apply(String group) {
            return switch (this) {
                case KEEP -> group;
                case RELATIVE -> group.startsWith("/") && group.length() > 1 ? group.substring(1) : group;
                case LEAF -> {
                    String trimmed = group.endsWith("/") ? group.substring(0, group.length() - 1) : group;
                    int slash = trimmed.lastIndexOf('/');
                    yield slash >= 0 && slash < trimmed.length() - 1 ? trimmed.substring(slash + 1) : trimmed;
                }
            };
        }
    }

    public ClaimMapping {
        subjectClaim = subjectClaim == null || subjectClaim.isBlank() ? "sub" : subjectClaim.strip();
        groupsClaim = groupsClaim == null || groupsClaim.isBlank() ? null : groupsClaim.strip();
        rolesClaims = rolesClaims == null ? List.of()
                : rolesClaims.stream().filter(Objects::nonNull).map(String::strip).filter(s -> !s.isEmpty()).toList();
        groupPaths = groupPaths == null ? GroupPaths.KEEP : groupPaths;
        if (ci != null && !ci.isCi()) {
            throw new IllegalArgumentException("claim mapping: " + ci.configName() + " is not a CI system");
        }
    }

    /** The default mapping of an issuer kind (see {@link IssuerKind}). */
    public static ClaimMapping defaults(IssuerKind kind) {
        return switch (kind) {
            case GENERIC -> new ClaimMapping("sub", "groups", List.of("roles", "realm_access.roles"), GroupPaths.KEEP, null);
            case KEYCLOAK -> new ClaimMapping("sub", "groups", List.of("realm_access.roles", KEYCLOAK_CLIENT_ROLES),
                    GroupPaths.RELATIVE, null);
            case GITHUB_ACTIONS, GITLAB -> new ClaimMapping("sub", null, List.of(), GroupPaths.KEEP, kind);
        };
    }

    /**
     * The defaults of {@code kind} with the given overrides; each null override keeps the default.
     * A blank {@code groupsClaim} keeps the default too; use {@link #withoutGroups()} for none.
     */
    public static ClaimMapping of(IssuerKind kind, String subjectClaim, String groupsClaim, List<String> rolesClaims,
                                  GroupPaths groupPaths) {
        ClaimMapping d = defaults(kind);
        return new ClaimMapping(subjectClaim != null ? subjectClaim : d.subjectClaim,
                groupsClaim != null && !groupsClaim.isBlank() ? groupsClaim : d.groupsClaim,
                rolesClaims != null ? rolesClaims : d.rolesClaims,
                groupPaths != null ? groupPaths : d.groupPaths, d.ci);
    }

    /** This mapping, reading no groups. */
    public ClaimMapping withoutGroups() {
        return new ClaimMapping(subjectClaim, null, rolesClaims, groupPaths, ci);
    }

    /**
     * The identity of a token's plain claims.
     *
     * @throws TokenRejectedException when the subject claim is absent or not a string
     */
    Identity toIdentity(String issuer, Map<String, Object> claims) throws TokenRejectedException {
        Object subject = path(claims, subjectClaim);
        if (!(subject instanceof String s) || s.isBlank()) {
            throw new TokenRejectedException(TokenRejectedException.Reason.MISSING_CLAIM, "token has no `"
                    + subjectClaim + "` claim (a string), which names the caller for issuer " + issuer);
        }
        List<String> groups = groupsClaim == null ? List.of()
                : strings(path(claims, groupsClaim)).stream().map(groupPaths::apply).distinct().toList();
        LinkedHashSet<String> roles = new LinkedHashSet<>();
        for (String claim : rolesClaims) {
            Object value = path(claims, claim);
            if (claim.equals(KEYCLOAK_CLIENT_ROLES) && value instanceof Map<?, ?> clients) {
                clients.forEach((client, access) -> {
                    if (access instanceof Map<?, ?> a) {
                        strings(a.get("roles")).forEach(role -> roles.add(client + ":" + role));
                    }
                });
            } else {
                roles.addAll(strings(value));
            }
        }
        return new Identity(s, issuer, groups, new ArrayList<>(roles), claims, ci == null ? null : provenance(ci, claims));
    }

    private static CiProvenance provenance(IssuerKind system, Map<String, Object> c) {
        return switch (system) {
            case GITHUB_ACTIONS -> new CiProvenance(system.configName(), text(c, "repository"), text(c, "repository_id"),
                    text(c, "sha"), text(c, "ref"), text(c, "workflow"), text(c, "run_id"), text(c, "check_run_id"),
                    text(c, "workflow_ref"), text(c, "workflow_sha"), text(c, "job_workflow_ref"),
                    text(c, "job_workflow_sha"), text(c, "run_attempt"), text(c, "actor"), text(c, "actor_id"),
                    text(c, "environment"), text(c, "event_name"), text(c, "ref_protected"),
                    text(c, "runner_environment"));
            case GITLAB -> new CiProvenance(system.configName(), text(c, "project_path"), text(c, "project_id"),
                    text(c, "sha"), text(c, "ref_path") != null ? text(c, "ref_path") : text(c, "ref"), null,
                    text(c, "pipeline_id"), text(c, "job_id"), text(c, "ci_config_ref_uri"), text(c, "ci_config_sha"),
                    null, null, null, text(c, "user_login"), text(c, "user_id"), text(c, "environment"),
                    text(c, "pipeline_source"), text(c, "ref_protected"), text(c, "runner_environment"));
            default -> null;
        };
    }

    /** A claim as text: strings as they are, numbers and booleans written out, empty strings as null. */
    private static String text(Map<String, Object> claims, String name) {
        Object value = claims.get(name);
        if (value instanceof String s) {
            return s.isEmpty() ? null : s;
        }
        if (value instanceof Number || value instanceof Boolean) {
            return String.valueOf(value);
        }
        return null;
    }

    /** A claim by name, or by a dotted path into nested objects when no claim has that exact name. */
    static Object path(Map<String, Object> claims, String name) {
        if (claims.containsKey(name) || !name.contains(".")) {
            return claims.get(name);
        }
        Object current = claims;
        for (String part : name.split("\\.")) {
            if (!(current instanceof Map<?, ?> map)) {
                return null;
            }
            current = map.get(part);
        }
        return current;
    }

    private static List<String> strings(Object value) {
        if (value instanceof String s) {
            return s.isBlank() ? List.of() : List.of(s);
        }
        if (value instanceof List<?> list) {
            return list.stream().filter(Objects::nonNull).map(String::valueOf).toList();
        }
        return List.of();
    }
}
