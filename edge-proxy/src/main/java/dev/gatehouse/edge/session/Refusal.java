package dev.gatehouse.edge.session;

import java.util.Objects;

/**
 * Why a command or a connection is refused, in protocol-neutral terms. The protocol adapter maps
 * the kind to its own error (a PostgreSQL SQLSTATE, a MySQL error number) unless {@code code}
 * names the protocol's own code already (refusals raised by the adapter itself).
 *
 * @param kind    what happened
 * @param message what the client is told
 * @param detail  more for the client, or null
 * @param code    the protocol's own error code, or null to derive it from {@code kind}
 */
public record Refusal(Kind kind, String message, String detail, String code) {

    /** The classes of refusal. */
    public enum Kind {
        /** A policy rule denied it (PostgreSQL 42501). */
        DENIED,
        /** No decision could be had: log unreachable, deadline passed, no answer to an approval (58000). */
        FAILED_CLOSED,
        /** The client cancelled a command that was waiting (57014). */
        CANCELED,
        /** Gatehouse refuses it whatever the policy: a session invariant the edge enforces itself (the adapter gives the code). */
        EDGE,
        /** The caller may not connect: a revoked identity, a refused connection, an unusable token (28000). */
        AUTHENTICATION,
        /** The credential itself is bad: an invalid or expired token (28P01). */
        BAD_CREDENTIAL,
        /** The session ends: killed, revoked, token expired (57P01; MySQL: ER_CONNECTION_KILLED). */
        SHUTDOWN,
        /**
         * The session ends because its edge is shutting down (a drain): PostgreSQL's 57P01, MySQL's
         * ER_SERVER_SHUTDOWN, what the target itself sends when it shuts down.
         */
        EDGE_SHUTDOWN,
        /** The target cannot be reached or refused the edge's login (08006). */
        TARGET_UNAVAILABLE,
        /** The audit log cannot record the session: nothing opens (57P03). */
        LOG_UNAVAILABLE,
        /** The client did not authenticate in time (57014, as PostgreSQL's authentication_timeout). */
        AUTHENTICATION_TIMEOUT,
        /** The edge has as many connections as it may take (53300). */
        TOO_MANY_CONNECTIONS,
        /** Malformed input (08P01). */
        PROTOCOL,
        /** Gatehouse's own failure (XX000). */
        INTERNAL
    }

    public Refusal {
        Objects.requireNonNull(kind, "kind");
        Objects.requireNonNull(message, "message");
    }

    public static Refusal of(Kind kind, String message) {
        return new Refusal(kind, message, null, null);
    }

    public static Refusal of(Kind kind, String message, String detail) {
        return new Refusal(kind, message, detail, null);
    }
}
