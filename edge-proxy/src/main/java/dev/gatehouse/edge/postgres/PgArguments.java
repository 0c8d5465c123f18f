package dev.gatehouse.edge.postgres;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Arguments of a statement as the record shows them (bounded text) and as an approval binds to
 * them (a digest over the complete values).
 */
final class PgArguments {
    private PgArguments() {
    }

    /** Parameters as text for the record: text format as is, binary as \x hex, each bounded. */
    static List<String> render(short[] formats, List<byte[]> values, int maxBytes) {
        List<String> out = new ArrayList<>(values.size());
        for (int i = 0; i < values.size(); i++) {
            byte[] v = values.get(i);
            if (v == null) {
                out.add(null);
                continue;
            }
            boolean truncated = v.length > maxBytes;
            int len = Math.min(v.length, maxBytes);
            String text = format(formats, i) == 0
                    ? new String(v, 0, len, StandardCharsets.UTF_8)
                    : "\\x" + HexFormat.of().formatHex(v, 0, len);
            out.add(truncated ? text + "...(truncated, " + v.length + " bytes)" : text);
        }
        return out;
    }

    /** The format code of parameter {@code i}: none given is text, one given applies to all. */
    static short format(short[] formats, int i) {
        return formats.length == 0 ? 0 : formats.length == 1 ? formats[0] : formats[i];
    }

    /**
     * {@code sha256:} hex over each value's format code and length-prefixed bytes (a SQL NULL is
     * length -1, distinct from an empty value); null when there are no values.
     */
    static String digest(short[] formats, List<byte[]> values) {
        if (values.isEmpty()) return null;
        MessageDigest sha = sha256();
        byte[] header = new byte[6];
        for (int i = 0; i < values.size(); i++) {
            byte[] v = values.get(i);
            short f = format(formats, i);
            int len = v == null ? -1 : v.length;
            header[0] = (byte) (f >>> 8);
            header[1] = (byte) f;
            header[2] = (byte) (len >>> 24);
            header[3] = (byte) (len >>> 16);
            header[4] = (byte) (len >>> 8);
            header[5] = (byte) len;
            sha.update(header);
            if (v != null) sha.update(v);
        }
        return "sha256:" + HexFormat.of().formatHex(sha.digest());
    }

    /** The digest of SQL-level arguments (an EXECUTE's argument expressions), as text values. */
    static String digestOfTexts(List<String> texts) {
        if (texts.isEmpty()) return null;
        List<byte[]> values = new ArrayList<>(texts.size());
        for (String t : texts) values.add(t == null ? null : t.getBytes(StandardCharsets.UTF_8));
        return digest(new short[0], values);
    }

    private static MessageDigest sha256() {
        try {
            return MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is not available", e);
        }
    }
}
