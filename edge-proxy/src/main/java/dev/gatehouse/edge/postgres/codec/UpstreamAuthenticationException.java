package dev.gatehouse.edge.postgres.codec;

/**
 * The edge could not authenticate to the target: an unsupported method (GSS, SSPI, Kerberos, SASL
 * without SCRAM-SHA-256), a malformed or out-of-order exchange, or a server whose SCRAM signature
 * does not verify. The message never contains the password.
 */
public class UpstreamAuthenticationException extends RuntimeException {

    private static final long serialVersionUID = 1L;

    public UpstreamAuthenticationException(String message) {
        super(message);
    }

    public UpstreamAuthenticationException(String message, Throwable cause) {
        super(message, cause);
    }
}
