package dev.gatehouse.edge.session;

import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.EdgeMetrics;
import dev.gatehouse.edge.RevocationCheck;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.DecisionPort;

import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * What a session core needs from its edge: the ports to the outside (token validation, the log and
 * its decisions, revocations in force), its meters, and its settings. One per listener, shared by
 * its sessions.
 *
 * @param edgeId                 this edge's instance id (events name it)
 * @param decisionDeadline       how long a command or connection attempt waits for its decision
 * @param approvalNoticeInterval how often a client waiting for an approval is reminded (read at each hold)
 * @param authenticationTimeout  how long a connection may take to open its session (PostgreSQL's
 *                               authentication_timeout is 60 s)
 */
public record SessionPorts(Authenticator authenticator, DecisionPort decisions, AuditSink audit,
                           Supplier<RevocationCheck> revocations, EdgeMetrics metrics, String edgeId,
                           Duration decisionDeadline, Supplier<Duration> approvalNoticeInterval,
                           Duration authenticationTimeout) {
    public SessionPorts {
        Objects.requireNonNull(authenticator, "authenticator");
        Objects.requireNonNull(decisions, "decisions");
        Objects.requireNonNull(audit, "audit");
        Objects.requireNonNull(revocations, "revocations");
        Objects.requireNonNull(metrics, "metrics");
        Objects.requireNonNull(edgeId, "edgeId");
        Objects.requireNonNull(decisionDeadline, "decisionDeadline");
        Objects.requireNonNull(approvalNoticeInterval, "approvalNoticeInterval");
        Objects.requireNonNull(authenticationTimeout, "authenticationTimeout");
    }
}
