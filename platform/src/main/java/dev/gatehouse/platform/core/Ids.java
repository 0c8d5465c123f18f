package dev.gatehouse.platform.core;

import com.fasterxml.uuid.Generators;
import com.fasterxml.uuid.impl.TimeBasedEpochRandomGenerator;

import java.security.SecureRandom;

/**
 * New ids for sessions, commands and events: UUID version 7 (RFC 9562), milliseconds since the
 * epoch first, then 74 random bits from a {@link SecureRandom}. Ids minted close in time sort close
 * together, so a store's indexes over them (the indexer's timeline entries by session and command,
 * its event ids) grow at their end instead of at a random page each time: in the indexer's store
 * benchmark that made projecting a command about a third cheaper than with random (version 4) ids.
 * The time in an id is no secret: every event carries its time anyway; no id is a credential.
 */
public final class Ids {

    private static final TimeBasedEpochRandomGenerator GENERATOR = Generators.timeBasedEpochRandomGenerator(new SecureRandom());

    private Ids() {
    }

    /** A new id, as its canonical string. */
    public static String next() {
        return GENERATOR.generate().toString();
    }
}
