package dev.gatehouse.platform.revocation;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;

/**
 * One live session as an edge reports it to the fleet's session directory (never a token).
 *
 * @param ciRepository CI provenance repository, or null
 * @param ciCommitSha  CI provenance commit, or null
 */
public record SessionInfo(String sessionId, String subject, String issuer, List<String> groups, String ciRepository,
                          String ciCommitSha, String connection, String clientAddress, Instant startedAt) {
    public SessionInfo {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(startedAt, "startedAt");
        groups = groups == null ? List.of() : List.copyOf(groups);
        startedAt = startedAt.truncatedTo(ChronoUnit.MICROS); // as the wire form holds it
    }
}
