package dev.gatehouse.platform.revocation;

import dev.gatehouse.platform.core.Identity;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.Objects;
import java.security.SecureRandom;

/**
 * An administrator's revocation: sessions whose identity the {@link Selector} matches are ended
 * at every edge and refused from then on, until the revocation is lifted. Kept, one record per
 * id, in the compacted {@code gatehouse.revocations} topic.
 *
 * @param id        short random id ({@code rv-} and 12 hex digits); the Kafka key
 * @param selector  who is revoked
 * @param revokedBy the administrator's subject
 * @param reason    why (may be null)
 * @param revokedAt when it was made
 * @param liftedBy  the administrator who lifted it, or null while in force
 * @param liftedAt  when it was lifted, or null while in force
 */
public record Revocation(String id, Selector selector, String revokedBy, String reason, Instant revokedAt,
                         String liftedBy, Instant liftedAt) {

    private static final SecureRandom RANDOM = new SecureRandom();

    public Revocation {
        Objects.requireNonNull(id, "id");
        Objects.requireNonNull(selector, "selector");
        Objects.requireNonNull(revokedBy, "revokedBy");
        Objects.requireNonNull(revokedAt, "revokedAt");
        if (id.isBlank()) throw new IllegalArgumentException("revocation id must not be blank");
        if ((liftedBy == null) != (liftedAt == null)) {
            throw new IllegalArgumentException("revocation " + id + ": liftedBy and liftedAt go together");
        }
        reason = reason == null || reason.isBlank() ? null : reason.strip();
        // the wire form holds microseconds: truncate so that what is read back equals what was written
        revokedAt = revokedAt.truncatedTo(ChronoUnit.MICROS);
        liftedAt = liftedAt == null ? null : liftedAt.truncatedTo(ChronoUnit.MICROS);
    }

    /** A new revocation in force from now. */
    public static Revocation create(Selector selector, String revokedBy, String reason) {
        byte[] bytes = new byte[6];
        RANDOM.nextBytes(bytes);
        return new Revocation("rv-" + HexFormat.of().formatHex(bytes), selector, revokedBy, reason, Instant.now(), null, null);
    }

    /** This revocation, lifted by {@code by} now. */
    public Revocation lift(String by) {
        Objects.requireNonNull(by, "by");
        return new Revocation(id, selector, revokedBy, reason, revokedAt, by, Instant.now());
    }

    public boolean lifted() {
        return liftedAt != null;
    }

    /** Whether it is in force and covers this identity. */
    public boolean matches(Identity identity) {
        return !lifted() && selector.matches(identity);
    }

    /**
     * What a client whose session it ends or refuses is told:
     * {@code access revoked for subject alice by admin: leaked token}.
     */
    public String message() {
        return "access revoked for " + selector.type().label() + " " + selector.value() + " by " + revokedBy
                + (reason == null ? "" : ": " + reason);
    }
}
