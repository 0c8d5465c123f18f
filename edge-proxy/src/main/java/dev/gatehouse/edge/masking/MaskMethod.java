package dev.gatehouse.edge.masking;

import java.util.Objects;

/**
 * How a masked value (a whole column value, or the part of a value a detector found) is replaced.
 * {@link #apply} returns the replacement, or null for SQL NULL.
 */
public sealed interface MaskMethod {

    /** The replacement text for {@code value}, or null for SQL NULL. */
    String apply(String value);

    /** The method's name as written in a profile. */
    String label();

    /** A JSON string literal, so a replaced json/jsonb value is still valid JSON. */
    static String jsonString(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20) b.append(String.format("\\u%04x", (int) c));
                    else b.append(c);
                }
            }
        }
        return b.append('"').toString();
    }

    /** Replaces the whole value with {@value #TEXT}. */
    record Redact() implements MaskMethod {
        public static final String TEXT = "[REDACTED]";

        @Override
        public String apply(String value) {
            return TEXT;
        }

        @Override
        public String label() {
            return "redact";
        }
    }

    /**
     * Keeps the last {@code n} letters and digits; every earlier letter or digit becomes {@code *},
     * separators stay: {@code 4111 1111 1111 1234} becomes {@code **** **** **** 1234}.
     */
    record KeepLast(int n) implements MaskMethod {
        public KeepLast {
            if (n < 0) throw new IllegalArgumentException("keep_last needs a count of 0 or more, got " + n);
        }

        @Override
        public String apply(String value) {
            char[] chars = value.toCharArray();
            int kept = 0;
            for (int i = chars.length - 1; i >= 0; i--) {
                if (Character.isLetterOrDigit(chars[i])) {
                    if (kept < n) {
                        kept++;
                    } else {
                        chars[i] = '*';
                    }
                }
            }
            return new String(chars);
        }

        @Override
        public String label() {
            return "keep_last";
        }
    }

    /**
     * Keyed HMAC-SHA256 of the value, as its first {@code hexChars} hex digits: equal inputs give
     * equal outputs, so joins, GROUP BY and counts of distinct values still work on masked data.
     */
    record Hmac(HmacKey key, int hexChars) implements MaskMethod {
        public Hmac {
            Objects.requireNonNull(key, "key");
            if (hexChars < 8 || hexChars > 64) {
                throw new IllegalArgumentException("hmac length must be 8..64 hex digits, got " + hexChars);
            }
        }

        @Override
        public String apply(String value) {
            return key.hexDigest(value, hexChars);
        }

        @Override
        public String label() {
            return "hmac";
        }
    }

    /** Replaces the value with fixed text. */
    record Replace(String text) implements MaskMethod {
        public Replace {
            Objects.requireNonNull(text, "text");
        }

        @Override
        public String apply(String value) {
            return text;
        }

        @Override
        public String label() {
            return "replace";
        }
    }

    /** SQL NULL (for a detector: the whole value becomes NULL). */
    record Null() implements MaskMethod {
        @Override
        public String apply(String value) {
            return null;
        }

        @Override
        public String label() {
            return "null";
        }
    }
}
