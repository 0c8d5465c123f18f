package dev.gatehouse.platform.identity;

import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.BadJWTException;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import dev.gatehouse.platform.identity.TokenRejectedException.Reason;

import java.time.Instant;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * nimbus' {@link DefaultJWTClaimsVerifier} (exact {@code iss}, {@code aud} containing one of the
 * audiences, required {@code sub}/{@code exp}/{@code iat}, {@code exp}/{@code nbf} with clock skew),
 * with its refusals classified into a {@link Reason} and a message a user can act on.
 */
final class ClaimsVerifier extends DefaultJWTClaimsVerifier<SecurityContext> {

    static final Set<String> REQUIRED_CLAIMS = Set.of("iss", "sub", "exp", "iat");

    private final TrustedIssuer trusted;

    ClaimsVerifier(TrustedIssuer trusted) {
        // nimbus probes the sets with contains(null), which immutable sets refuse: pass HashSets.
        super(new HashSet<>(trusted.audiences()), new JWTClaimsSet.Builder().issuer(trusted.issuer()).build(),
                new HashSet<>(REQUIRED_CLAIMS), null);
        setMaxClockSkew(Math.toIntExact(trusted.clockSkew().toSeconds()));
        this.trusted = trusted;
    }

    /** A claims refusal that already knows its reason. */
    static final class Rejected extends BadJWTException {
        final Reason reason;

        Rejected(Reason reason, String message) {
            super(message);
            this.reason = reason;
        }
    }

    @Override
    public void verify(JWTClaimsSet claims, SecurityContext context) throws BadJWTException {
        try {
            super.verify(claims, context);
        } catch (BadJWTException e) {
            throw classify(claims);
        }
    }

    private Rejected classify(JWTClaimsSet claims) {
        for (String name : new TreeSet<>(REQUIRED_CLAIMS)) {
            if (claims.getClaim(name) == null) {
                return new Rejected(Reason.MISSING_CLAIM, "token has no `" + name + "` claim; tokens from "
                        + trusted.issuer() + " must carry iss, sub, exp and iat");
            }
        }
        if (!trusted.issuer().equals(claims.getIssuer())) {
            return new Rejected(Reason.UNTRUSTED_ISSUER, "token issuer " + TokenValidator.printable(claims.getIssuer())
                    + " is not " + trusted.issuer());
        }
        long skew = trusted.clockSkew().toSeconds();
        Instant now = Instant.now();
        Date exp = claims.getExpirationTime();
        if (exp != null && exp.toInstant().plusSeconds(skew).isBefore(now)) {
            return new Rejected(Reason.EXPIRED, "token expired at " + exp.toInstant()
                    + "; get a new one from " + trusted.issuer() + " (in development: `gatehouse token`)");
        }
        Date nbf = claims.getNotBeforeTime();
        if (nbf != null && nbf.toInstant().minusSeconds(skew).isAfter(now)) {
            return new Rejected(Reason.NOT_YET_VALID, "token is not valid before " + nbf.toInstant()
                    + "; check the clocks of this host and of " + trusted.issuer());
        }
        List<String> audience = claims.getAudience();
        if (audience == null || audience.isEmpty()) {
            return new Rejected(Reason.MISSING_CLAIM, "token has no `aud` claim; request a token for audience "
                    + String.join(" or ", new TreeSet<>(trusted.audiences())));
        }
        if (audience.stream().noneMatch(trusted.audiences()::contains)) {
            return new Rejected(Reason.WRONG_AUDIENCE, "token is for audience "
                    + TokenValidator.printable(String.join(",", audience)) + ", not for "
                    + String.join(" or ", new TreeSet<>(trusted.audiences()))
                    + "; request a token for this gateway's audience");
        }
        return new Rejected(Reason.MALFORMED, "token claims were rejected by issuer " + trusted.issuer() + "'s rules");
    }
}
