package dev.gatehouse.platform.identity;

import java.util.Objects;

/**
 * A token was refused. The {@link #reason()} is for code and metrics, the message is for the
 * user and tells them what to do next. Neither ever contains the token.
 */
public final class TokenRejectedException extends Exception {

    /** Why a token was refused. */
    public enum Reason {
        /** Not a parseable compact JWS, too large, or of an unsupported type. */
        MALFORMED,
        /** {@code exp} is in the past (beyond the allowed clock skew). */
        EXPIRED,
        /** {@code nbf} is in the future (beyond the allowed clock skew). */
        NOT_YET_VALID,
        /** The signature does not verify with the issuer's key. */
        BAD_SIGNATURE,
        /** The issuer's key set has no key for the token's {@code kid}, even after a refresh. */
        UNKNOWN_KEY,
        /** {@code iss} names no trusted issuer. */
        UNTRUSTED_ISSUER,
        /** {@code aud} names none of the accepted audiences. */
        WRONG_AUDIENCE,
        /** {@code none}, HMAC, encrypted tokens, or an algorithm the issuer is not configured for. */
        ALGORITHM_NOT_ALLOWED,
        /** A required claim ({@code sub}, {@code exp}, {@code iat}, {@code iss}, {@code aud}) is absent. */
        MISSING_CLAIM,
        /** A delegation (RFC 8693 {@code act}) the issuer may not assert, too deep, or naming the subject as actor. */
        DELEGATION_REFUSED,
        /** The issuer's JWKS could not be fetched; the token may well be valid, try again later. */
        JWKS_UNAVAILABLE
    }

    private final Reason reason;

    public TokenRejectedException(Reason reason, String message) {
        this(reason, message, null);
    }

    public TokenRejectedException(Reason reason, String message, Throwable cause) {
        super(Objects.requireNonNull(message, "message"), cause);
        this.reason = Objects.requireNonNull(reason, "reason");
    }

    public Reason reason() {
        return reason;
    }
}
