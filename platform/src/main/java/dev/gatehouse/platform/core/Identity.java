package dev.gatehouse.platform.core;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A validated caller: who the token says it is. Never holds the token itself.
 *
 * @param claims every claim of the token, for policy conditions (never the signature)
 * @param ci     CI provenance when the token came from a CI system, else null
 */
public record Identity(
        String subject,
        String issuer,
        List<String> groups,
        List<String> roles,
        Map<String, Object> claims,
        CiProvenance ci) {

    public Identity {
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(issuer, "issuer");
        groups = List.copyOf(groups);
        roles = List.copyOf(roles);
        claims = Map.copyOf(claims);
    }
}
