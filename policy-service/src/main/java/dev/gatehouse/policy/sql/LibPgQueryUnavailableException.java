package dev.gatehouse.policy.sql;

/** Thrown when the native libpg_query library cannot be found or bound. */
public final class LibPgQueryUnavailableException extends RuntimeException {

    LibPgQueryUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
