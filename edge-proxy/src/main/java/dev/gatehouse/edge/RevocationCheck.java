package dev.gatehouse.edge;

import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.revocation.Revocation;

import java.util.Optional;

/**
 * The revocations in force, as an edge consults them when a client logs in (the fleet's
 * revocation log behind it). Must be quick and non-blocking: it is called on the event loop.
 */
@FunctionalInterface
public interface RevocationCheck {
    /** The revocation in force that covers this identity, if any. */
    Optional<Revocation> matching(Identity identity);

    RevocationCheck NONE = identity -> Optional.empty();
}
