package dev.gatehouse.platform.core;

import java.time.Instant;

/** One decoded client command, as it is recorded and decided. */
public sealed interface Command permits SqlCommand {
    CommandId id();

    SessionId sessionId();

    /** Position of this command in its session, from 1. */
    long sequence();

    Instant receivedAt();
}
