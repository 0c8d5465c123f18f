package dev.gatehouse.edge.masking;

/** A masking profile file that cannot be used: the message names the profile and what is wrong. */
public final class MaskingException extends RuntimeException {
    public MaskingException(String message) {
        super(message);
    }

    public MaskingException(String message, Throwable cause) {
        super(message, cause);
    }
}
