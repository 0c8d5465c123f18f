package dev.gatehouse.deploy.roles;

import java.util.Arrays;
import java.util.EnumSet;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;

/** What one Gatehouse process does; one binary serves any set of roles. */
public enum Role {
    /** Protocol listeners in the data path. */
    EDGE,
    /** The policy service: decides commands from the log. */
    POLICY,
    /** The admin API: revocations and the fleet's live sessions, for administrators. */
    ADMIN,
    /** The approval service: approval state, the arbiter, the approvals REST API (and Slack). */
    APPROVAL,
    /** The audit indexer: session timelines from the log, their query API, evidence seals. */
    INDEXER;

    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Every role's label in declaration order ("edge, policy, ..."), for help texts and errors that list them. */
    public static String labels() {
        return Arrays.stream(values()).map(Role::label).collect(Collectors.joining(", "));
    }

    /** Parses "edge,policy" (or "all"). */
    public static Set<Role> parse(String text) {
        Set<Role> roles = EnumSet.noneOf(Role.class);
        for (String part : text.split(",")) {
            String p = part.trim().toLowerCase(Locale.ROOT);
            if (p.isEmpty()) continue;
            if (p.equals("all")) return EnumSet.allOf(Role.class);
            try {
                roles.add(valueOf(p.toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("unknown role '" + part.trim() + "' (roles: " + labels() + ", all)");
            }
        }
        if (roles.isEmpty()) throw new IllegalArgumentException("no role given (roles: " + labels() + ", all)");
        return roles;
    }
}
