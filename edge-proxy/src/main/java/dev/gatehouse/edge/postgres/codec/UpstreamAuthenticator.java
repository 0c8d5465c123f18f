package dev.gatehouse.edge.postgres.codec;

import com.ongres.scram.client.ScramClient;
import com.ongres.scram.common.StringPreparation;
import com.ongres.scram.common.exception.ScramException;
import dev.gatehouse.edge.postgres.codec.FrontendMessage.PasswordMessage;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Answers the target's Authentication requests for one upstream login, without I/O: trust,
 * cleartext password, MD5 and SCRAM-SHA-256 (without channel binding). Feed every 'R' frame to
 * {@link #onAuthentication(int, byte[])} and send back the message it returns, until
 * {@link #isAuthenticated()}. Not thread-safe; one instance per connection.
 */
public final class UpstreamAuthenticator {

    static final String SCRAM_SHA_256 = "SCRAM-SHA-256";

    private enum State { INITIAL, SCRAM_SENT_FIRST, SCRAM_SENT_FINAL, SCRAM_VERIFIED, AUTHENTICATED }

    private final String user;
    private final String password;
    private State state = State.INITIAL;
    private ScramClient scram;

    /** @param user the target user (as sent in the edge's StartupMessage); password may be null for trust */
    public UpstreamAuthenticator(String user, String password) {
        this.user = Objects.requireNonNull(user, "user");
        this.password = password;
    }

    /** True once the target sent AuthenticationOk (and, for SCRAM, proved it knows the password). */
    public boolean isAuthenticated() {
        return state == State.AUTHENTICATED;
    }

    /** Convenience for a parsed 'R' frame. */
    public Optional<FrontendMessage> onAuthentication(BackendFrames.Authentication request) {
        return onAuthentication(request.code(), request.data());
    }

    /**
     * Handles one Authentication request.
     *
     * @param code the authentication code ({@link PgProtocol#AUTH_OK}, ...)
     * @param data the bytes after the code
     * @return the message to send to the target, or empty when nothing is to be sent
     * @throws UpstreamAuthenticationException on an unsupported method, a malformed or out-of-order
     *                                         request, or a failed SCRAM server verification
     */
    public Optional<FrontendMessage> onAuthentication(int code, byte[] data) {
        return switch (code) {
            case PgProtocol.AUTH_OK -> onOk();
            case PgProtocol.AUTH_CLEARTEXT_PASSWORD -> {
                expectState(State.INITIAL, "AuthenticationCleartextPassword");
                yield Optional.of(PasswordMessage.cleartext(requirePassword("cleartext")));
            }
            case PgProtocol.AUTH_MD5_PASSWORD -> {
                expectState(State.INITIAL, "AuthenticationMD5Password");
                if (data.length != 4) {
                    throw new UpstreamAuthenticationException("target sent an MD5 salt of " + data.length
                            + " bytes, expected 4");
                }
                yield Optional.of(PasswordMessage.cleartext(md5Password(user, requirePassword("md5"), data)));
            }
            case PgProtocol.AUTH_SASL -> onSasl(new BackendFrames.Authentication(code, data).saslMechanisms());
            case PgProtocol.AUTH_SASL_CONTINUE -> onSaslContinue(data);
            case PgProtocol.AUTH_SASL_FINAL -> onSaslFinal(data);
            case PgProtocol.AUTH_KERBEROS_V5 -> throw unsupported("Kerberos V5");
            case PgProtocol.AUTH_GSS, PgProtocol.AUTH_GSS_CONTINUE -> throw unsupported("GSSAPI");
            case PgProtocol.AUTH_SSPI -> throw unsupported("SSPI");
            default -> throw new UpstreamAuthenticationException("target requested unknown authentication method "
                    + code + " for user \"" + user + "\"");
        };
    }

    private Optional<FrontendMessage> onOk() {
        if (state == State.SCRAM_SENT_FIRST || state == State.SCRAM_SENT_FINAL) {
            throw new UpstreamAuthenticationException("target sent AuthenticationOk before completing SCRAM: "
                    + "it did not prove it knows the password of user \"" + user + "\"");
        }
        state = State.AUTHENTICATED;
        return Optional.empty();
    }

    private Optional<FrontendMessage> onSasl(List<String> mechanisms) {
        expectState(State.INITIAL, "AuthenticationSASL");
        if (!mechanisms.contains(SCRAM_SHA_256)) {
            throw new UpstreamAuthenticationException("target offers SASL mechanisms " + mechanisms
                    + " for user \"" + user + "\"; the edge supports " + SCRAM_SHA_256 + " only");
        }
        String pw = requirePassword("SCRAM-SHA-256");
        scram = ScramClient.builder()
                .advertisedMechanisms(List.of(SCRAM_SHA_256))
                .username("*") // PostgreSQL ignores it and uses the startup user
                .password(pw.toCharArray())
                .stringPreparation(StringPreparation.POSTGRESQL_PREPARATION)
                .build();
        byte[] first = scram.clientFirstMessage().toString().getBytes(StandardCharsets.UTF_8);
        state = State.SCRAM_SENT_FIRST;
        return Optional.of(PasswordMessage.saslInitialResponse(SCRAM_SHA_256, first));
    }

    private Optional<FrontendMessage> onSaslContinue(byte[] data) {
        expectState(State.SCRAM_SENT_FIRST, "AuthenticationSASLContinue");
        try {
            scram.serverFirstMessage(new String(data, StandardCharsets.UTF_8));
            byte[] fin = scram.clientFinalMessage().toString().getBytes(StandardCharsets.UTF_8);
            state = State.SCRAM_SENT_FINAL;
            return Optional.of(PasswordMessage.saslResponse(fin));
        } catch (ScramException | IllegalArgumentException e) {
            throw new UpstreamAuthenticationException("invalid SCRAM server-first-message from target for user \""
                    + user + "\": " + e.getMessage(), e);
        }
    }

    private Optional<FrontendMessage> onSaslFinal(byte[] data) {
        expectState(State.SCRAM_SENT_FINAL, "AuthenticationSASLFinal");
        try {
            scram.serverFinalMessage(new String(data, StandardCharsets.UTF_8));
        } catch (ScramException | IllegalArgumentException e) {
            throw new UpstreamAuthenticationException("SCRAM verification of the target failed for user \""
                    + user + "\": " + e.getMessage(), e);
        }
        state = State.SCRAM_VERIFIED;
        return Optional.empty();
    }

    private void expectState(State expected, String request) {
        if (state != expected) {
            throw new UpstreamAuthenticationException("unexpected " + request + " from target in state " + state);
        }
    }

    private String requirePassword(String method) {
        if (password == null) {
            throw new UpstreamAuthenticationException("target requires " + method + " authentication for user \""
                    + user + "\" but no password is configured");
        }
        return password;
    }

    private UpstreamAuthenticationException unsupported(String method) {
        return new UpstreamAuthenticationException("target requested " + method
                + " authentication for user \"" + user + "\", which the edge does not support; "
                + "configure scram-sha-256, md5, password or trust for the edge's connections in pg_hba.conf");
    }

    /** PostgreSQL's MD5 answer: {@code "md5" + hex(md5(hex(md5(password + user)) + salt))}. */
    static String md5Password(String user, String password, byte[] salt) {
        try {
            MessageDigest md5 = MessageDigest.getInstance("MD5");
            md5.update(password.getBytes(StandardCharsets.UTF_8));
            md5.update(user.getBytes(StandardCharsets.UTF_8));
            String inner = HexFormat.of().formatHex(md5.digest());
            md5.update(inner.getBytes(StandardCharsets.US_ASCII));
            md5.update(salt);
            return "md5" + HexFormat.of().formatHex(md5.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("MD5 is not available in this JVM", e);
        }
    }
}
