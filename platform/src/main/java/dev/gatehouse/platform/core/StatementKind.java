package dev.gatehouse.platform.core;

/** The coarse class of one SQL statement, as policy conditions see it. */
public enum StatementKind {
    READ,
    WRITE,
    DDL,
    DCL,
    TRANSACTION,
    UTILITY,
    PROCEDURAL,
    UNKNOWN;

    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
