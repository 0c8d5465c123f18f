package dev.gatehouse.edge.session;

import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.platform.core.DeclaredIntent;

import java.util.Map;
import java.util.Objects;

/**
 * A client's request to open a session, once the protocol adapter has its credential.
 *
 * @param token             the OIDC token the client presented (never recorded)
 * @param target            the connection it selected
 * @param databaseUser      the user name it asked for (recorded, never trusted)
 * @param applicationName   its application name, or null
 * @param startupParameters every parameter of its startup message, as sent
 * @param tls               whether the client connection is encrypted
 * @param declaredIntent    the run and step the client declared in its connection parameters
 *                          ({@link ClientIntent}, unverified), or null
 */
public record ConnectRequest(String token, TargetConnection target, String databaseUser, String applicationName,
                             Map<String, String> startupParameters, boolean tls, DeclaredIntent declaredIntent) {
    public ConnectRequest {
        Objects.requireNonNull(token, "token");
        Objects.requireNonNull(target, "target");
        startupParameters = startupParameters == null ? Map.of()
                : java.util.Collections.unmodifiableMap(new java.util.LinkedHashMap<>(startupParameters));
    }

    /** A request without declared intent. */
    public ConnectRequest(String token, TargetConnection target, String databaseUser, String applicationName,
                          Map<String, String> startupParameters, boolean tls) {
        this(token, target, databaseUser, applicationName, startupParameters, tls, null);
    }

    @Override
    public String toString() {
        return "ConnectRequest[target=" + target.name() + ", user=" + databaseUser + ", token=<redacted>]";
    }
}
