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
 * @param originator   in a delegated session, the person the agent acts for ({@code subject} is
 *                     then the current actor); null in a session of the subject's own
 * @param earlierActors in a delegated session, the chain's earlier actors, nearest first
 */
public record SessionInfo(String sessionId, String subject, String issuer, List<String> groups, String ciRepository,
                          String ciCommitSha, String connection, String clientAddress, Instant startedAt,
                          String originator, List<String> earlierActors) {
    public SessionInfo {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(subject, "subject");
        Objects.requireNonNull(issuer, "issuer");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(startedAt, "startedAt");
        groups = groups == null ? List.of() : List.copyOf(groups);
        earlierActors = earlierActors == null ? List.of() : List.copyOf(earlierActors);
        if (originator == null && !earlierActors.isEmpty()) {
            throw new IllegalArgumentException("earlier actors without an originator: not a delegated session");
        }
        startedAt = startedAt.truncatedTo(ChronoUnit.MICROS); // as the wire form holds it
    }

    /** A session of the subject's own (no delegation). */
    public SessionInfo(String sessionId, String subject, String issuer, List<String> groups, String ciRepository,
                       String ciCommitSha, String connection, String clientAddress, Instant startedAt) {
        this(sessionId, subject, issuer, groups, ciRepository, ciCommitSha, connection, clientAddress, startedAt, null, List.of());
    }

    /** Whether an agent acts for a person in this session. */
    public boolean delegated() {
        return originator != null;
    }
}
