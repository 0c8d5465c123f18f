package dev.gatehouse.deploy.cli;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDate;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.UUID;

/**
 * The edge records a binary-format parameter as {@code \x} hex without its type. To replay it as
 * text, the type the server infers for the parameter is used to turn the bytes back into the
 * type's text form. Text types keep the recorded text; bytea keeps its hex (the text form of bytea).
 */
final class BinaryParameters {
    private static final LocalDate EPOCH = LocalDate.of(2000, 1, 1);

    private BinaryParameters() {
    }

    /** Whether a recorded parameter may be a binary value in hex. */
    static boolean isHex(String recorded) {
        return recorded != null && recorded.startsWith("\\x") && recorded.length() % 2 == 0
                && recorded.substring(2).chars().allMatch(c -> Character.digit(c, 16) >= 0);
    }

    /**
     * The text form of a recorded hex parameter for the PostgreSQL type {@code typeName} (as the driver
     * names it: int4, float8, ...), or the recorded text when the type is textual, bytea or unknown here.
     */
    static String toText(String typeName, String recorded) {
        if (!isHex(recorded) || typeName == null) return recorded;
        byte[] b = HexFormat.of().parseHex(recorded, 2, recorded.length());
        ByteBuffer buf = ByteBuffer.wrap(b);
        return switch (typeName) {
            case "int2" -> b.length == 2 ? String.valueOf(buf.getShort()) : recorded;
            case "int4", "oid" -> b.length == 4 ? String.valueOf(typeName.equals("oid") ? buf.getInt() & 0xffffffffL : buf.getInt())
                    : recorded;
            case "int8" -> b.length == 8 ? String.valueOf(buf.getLong()) : recorded;
            case "float4" -> b.length == 4 ? String.valueOf(buf.getFloat()) : recorded;
            case "float8" -> b.length == 8 ? String.valueOf(buf.getDouble()) : recorded;
            case "bool" -> b.length == 1 ? (b[0] != 0 ? "t" : "f") : recorded;
            case "uuid" -> b.length == 16 ? new UUID(buf.getLong(), buf.getLong()).toString() : recorded;
            case "date" -> b.length == 4 ? date(buf.getInt()) : recorded;
            case "timestamp" -> b.length == 8 ? EPOCH.atStartOfDay().plus(buf.getLong(), ChronoUnit.MICROS).toString() : recorded;
            case "timestamptz" -> b.length == 8 ? Instant.parse("2000-01-01T00:00:00Z").plus(buf.getLong(), ChronoUnit.MICROS).toString()
                    : recorded;
            case "json", "jsonb" -> new String(typeName.equals("jsonb") && b.length > 0 && b[0] == 1
                    ? java.util.Arrays.copyOfRange(b, 1, b.length) : b, StandardCharsets.UTF_8);
            default -> recorded;
        };
    }

    private static String date(int days) {
        if (days == Integer.MAX_VALUE) return "infinity";
        if (days == Integer.MIN_VALUE) return "-infinity";
        return EPOCH.plusDays(days).toString();
    }
}
