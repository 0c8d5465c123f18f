package dev.gatehouse.edge;

import java.nio.file.Path;
import java.time.Duration;
import java.util.Objects;

/**
 * Settings of the PostgreSQL listener of an edge.
 *
 * @param host               address to listen on
 * @param port               port to listen on (0 picks a free one)
 * @param tlsCert            PEM certificate for TLS termination, or null for none
 * @param tlsKey             PEM private key for TLS termination, or null for none
 * @param allowPlaintext     whether clients may connect without TLS; must be true when no
 *                           certificate is configured
 * @param decisionDeadline   how long the edge waits for a decision before failing closed
 * @param maxMessageSize     the largest client message accepted, in bytes
 * @param maxParameterBytes  bound parameters longer than this are truncated in events
 * @param edgeId             this edge instance's id
 * @param authenticationTimeout how long a connection may take to open its session before it is
 *                           closed (PostgreSQL's authentication_timeout, default 60 s)
 * @param maxConnections     the most client connections the listener holds at once (authenticated or
 *                           not); more are refused with PostgreSQL's "too many clients" (53300)
 * @param eventLoops         how many event loops serve the listener's sessions: the listener is
 *                           bound once per loop on the same port and new connections go to the loops
 *                           in turn; a session stays on its loop for its whole life (default: one per
 *                           processor the JVM sees)
 */
public record PgEdgeConfig(String host, int port, Path tlsCert, Path tlsKey, boolean allowPlaintext,
                           Duration decisionDeadline, int maxMessageSize, int maxParameterBytes, String edgeId,
                           Duration authenticationTimeout, int maxConnections, int eventLoops) {

    /** PostgreSQL's own default authentication_timeout. */
    public static final Duration DEFAULT_AUTHENTICATION_TIMEOUT = Duration.ofSeconds(60);
    /** Connections one listener holds by default. */
    public static final int DEFAULT_MAX_CONNECTIONS = 1000;
    /** The most event loops a listener may ask for. */
    public static final int MAX_EVENT_LOOPS = 256;

    /** One event loop per processor the JVM sees (its container's CPU limit, where it has one). */
    public static int defaultEventLoops() {
        return Runtime.getRuntime().availableProcessors();
    }

    /** With the default authentication timeout and connection limit. */
    public PgEdgeConfig(String host, int port, Path tlsCert, Path tlsKey, boolean allowPlaintext,
                        Duration decisionDeadline, int maxMessageSize, int maxParameterBytes, String edgeId) {
        this(host, port, tlsCert, tlsKey, allowPlaintext, decisionDeadline, maxMessageSize, maxParameterBytes, edgeId,
                DEFAULT_AUTHENTICATION_TIMEOUT, DEFAULT_MAX_CONNECTIONS, defaultEventLoops());
    }

    public PgEdgeConfig {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(edgeId, "edgeId");
        if (port < 0 || port > 65535) throw new IllegalArgumentException("edge port must be 0..65535, not " + port);
        if ((tlsCert == null) != (tlsKey == null)) {
            throw new IllegalArgumentException("edge TLS needs both a certificate and a key");
        }
        if (tlsCert == null && !allowPlaintext) {
            throw new IllegalArgumentException("edge: no TLS certificate is configured and plaintext is not allowed: "
                    + "configure tls.cert/tls.key or set allow-plaintext: true");
        }
        decisionDeadline = decisionDeadline == null ? Duration.ofSeconds(5) : decisionDeadline;
        if (decisionDeadline.isNegative() || decisionDeadline.isZero()) {
            throw new IllegalArgumentException("edge: decision deadline must be positive");
        }
        if (maxMessageSize < 1024) throw new IllegalArgumentException("edge: max message size must be at least 1024 bytes");
        if (maxParameterBytes < 0) throw new IllegalArgumentException("edge: max parameter bytes must be >= 0");
        authenticationTimeout = authenticationTimeout == null ? DEFAULT_AUTHENTICATION_TIMEOUT : authenticationTimeout;
        if (authenticationTimeout.toMillis() < 1) {
            throw new IllegalArgumentException("edge: authentication timeout must be positive, not " + authenticationTimeout);
        }
        if (maxConnections < 1) throw new IllegalArgumentException("edge: max connections must be at least 1, not " + maxConnections);
        if (eventLoops < 1 || eventLoops > MAX_EVENT_LOOPS) {
            throw new IllegalArgumentException("edge: event loops must be 1.." + MAX_EVENT_LOOPS + ", not " + eventLoops);
        }
    }

    public boolean tlsEnabled() {
        return tlsCert != null;
    }

}
