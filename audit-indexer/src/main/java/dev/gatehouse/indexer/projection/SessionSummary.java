package dev.gatehouse.indexer.projection;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

import java.util.List;
import java.util.Objects;

/**
 * One session as the indexer's API shows it (the contract's {@code SessionSummary}). Instants are
 * ISO-8601 strings, as they appear in the JSON.
 *
 * @param status open, closed, aborted or rejected
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record SessionSummary(String sessionId, String status, String startedAt, String endedAt, String closeReason,
                             String edgeId, String clientAddress, IdentityInfo identity, ConnectionInfo connection,
                             long commands, long denied, long approvals, long masked, boolean sealed) {

    public static final String OPEN = "open";
    public static final String CLOSED = "closed";
    public static final String ABORTED = "aborted";
    public static final String REJECTED = "rejected";

    public SessionSummary {
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(status, "status");
    }

    /** A session known only by its id, open. */
    public static SessionSummary empty(String sessionId, String startedAt) {
        return new SessionSummary(sessionId, OPEN, startedAt, null, null, null, null, null, null, 0, 0, 0, 0, false);
    }

    public SessionSummary withStatus(String newStatus, String newEndedAt, String newCloseReason) {
        return new SessionSummary(sessionId, newStatus, startedAt, newEndedAt, newCloseReason, edgeId, clientAddress,
                identity, connection, commands, denied, approvals, masked, sealed);
    }

    public SessionSummary withOrigin(String newStartedAt, String newEdgeId, String newClientAddress, IdentityInfo newIdentity,
                                     ConnectionInfo newConnection) {
        return new SessionSummary(sessionId, status, newStartedAt, endedAt, closeReason, newEdgeId, newClientAddress,
                newIdentity, newConnection, commands, denied, approvals, masked, sealed);
    }

    public SessionSummary withCounts(long newCommands, long newDenied, long newApprovals, long newMasked) {
        return new SessionSummary(sessionId, status, startedAt, endedAt, closeReason, edgeId, clientAddress, identity,
                connection, newCommands, newDenied, newApprovals, newMasked, sealed);
    }

    public SessionSummary withSealed(boolean newSealed) {
        return new SessionSummary(sessionId, status, startedAt, endedAt, closeReason, edgeId, clientAddress, identity,
                connection, commands, denied, approvals, masked, newSealed);
    }

    /**
     * Who opened the session; {@code ci} is null unless the token came from a CI system. In a
     * delegated session {@code subject} and {@code groups} are the current actor's (the agent's) and
     * {@code delegation} names the originator; {@code intent} is the run or step the caller declared.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record IdentityInfo(String subject, String issuer, List<String> groups, CiInfo ci, DelegationInfo delegation,
                               IntentInfo intent) {
        public IdentityInfo {
            groups = groups == null ? List.of() : List.copyOf(groups);
        }

        /** A caller acting for itself, without declared intent. */
        public IdentityInfo(String subject, String issuer, List<String> groups, CiInfo ci) {
            this(subject, issuer, groups, ci, null, null);
        }

        /** Who acts in a delegated session, or null when it is not delegated (the subject acts for itself). */
        public String actor() {
            return delegation == null ? null : subject;
        }

        /** "alice → planner-agent" in a delegated session, else the subject. */
        public String chain() {
            if (delegation == null) return subject;
            StringBuilder b = new StringBuilder(delegation.originator());
            for (int i = delegation.earlierActors().size() - 1; i >= 0; i--) b.append(" → ").append(delegation.earlierActors().get(i));
            return b.append(" → ").append(subject).toString();
        }
    }

    /**
     * Who a delegated session acts for: the originator (the person), and the actors before the
     * current one (nearest first; the current actor is the identity's subject).
     *
     * @param via where the actor was read: {@code act}, or the claim configured for its issuer
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record DelegationInfo(String originator, String originatorIssuer, List<String> originatorGroups,
                                 List<String> earlierActors, String via) {
        public DelegationInfo {
            originatorGroups = originatorGroups == null ? List.of() : List.copyOf(originatorGroups);
            earlierActors = earlierActors == null ? List.of() : List.copyOf(earlierActors);
        }
    }

    /**
     * The run and plan step the caller declared; only a {@code verified} one was signed by its issuer.
     *
     * @param description for people, an unsigned one marked "(unverified: declared by the client)"
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record IntentInfo(String runId, String stepId, boolean verified, String source, String description) {
    }

    /** CI provenance: the repository, commit and run that asked. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record CiInfo(String provider, String repository, String commitSha, String ref, String workflow,
                         String runId, String runUrl, String job, String actor) {
    }

    /** The catalog connection and the database behind it. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record ConnectionInfo(String name, String database, String protocol) {
    }
}
