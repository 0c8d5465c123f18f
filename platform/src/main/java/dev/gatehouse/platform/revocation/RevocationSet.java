package dev.gatehouse.platform.revocation;

import dev.gatehouse.platform.core.Identity;

import java.util.Collection;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The revocations in force, folded from the revocation log (latest record per id wins; lifted
 * ones drop out). Thread-safe: written by one reader thread, read from any.
 */
public final class RevocationSet {

    private final Map<String, Revocation> active = new ConcurrentHashMap<>();

    /**
     * Applies one record of the log.
     *
     * @return true when it put a revocation in force that was not before (sessions must be checked)
     */
    public boolean apply(Revocation revocation) {
        Objects.requireNonNull(revocation, "revocation");
        if (revocation.lifted()) {
            active.remove(revocation.id());
            return false;
        }
        return active.put(revocation.id(), revocation) == null;
    }

    /** A tombstone for {@code id}: the revocation is gone. */
    public void remove(String id) {
        active.remove(id);
    }

    /** The oldest revocation in force that covers this identity. */
    public Optional<Revocation> matching(Identity identity) {
        if (identity == null || active.isEmpty()) return Optional.empty();
        return active.values().stream().filter(r -> r.matches(identity))
                .min(Comparator.comparing(Revocation::revokedAt));
    }

    public Optional<Revocation> find(String id) {
        return Optional.ofNullable(active.get(id));
    }

    /** Every revocation in force, oldest first. */
    public List<Revocation> all() {
        Collection<Revocation> values = active.values();
        return values.stream().sorted(Comparator.comparing(Revocation::revokedAt)).toList();
    }

    public int size() {
        return active.size();
    }
}
