package dev.gatehouse.platform.core;

/** No decision could be had: the log is unreachable or the deadline passed. Fail closed. */
public final class DecisionUnavailableException extends RuntimeException {
    public DecisionUnavailableException(String message) {
        super(message, null, false, false);
    }

    public DecisionUnavailableException(String message, Throwable cause) {
        super(message, cause);
    }
}
