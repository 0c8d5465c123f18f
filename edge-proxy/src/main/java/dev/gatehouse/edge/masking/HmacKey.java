package dev.gatehouse.edge.masking;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.util.HexFormat;

/**
 * The secret of the {@code hmac} masking method. Its bytes never leave this class: not in
 * {@link #toString()}, not in logs, not in events.
 */
public final class HmacKey {
    private static final String ALGORITHM = "HmacSHA256";
    private static final HexFormat HEX = HexFormat.of();

    private final SecretKeySpec key;
    private final ThreadLocal<Mac> macs;

    private HmacKey(byte[] secret) {
        if (secret.length < 16) {
            throw new MaskingException("the masking HMAC key must be at least 16 bytes, got " + secret.length);
        }
        this.key = new SecretKeySpec(secret, ALGORITHM);
        this.macs = ThreadLocal.withInitial(this::newMac);
    }

    /** A key from its text (UTF-8 bytes), e.g. read from an environment variable or a file. */
    public static HmacKey of(String secret) {
        return new HmacKey(secret.strip().getBytes(StandardCharsets.UTF_8));
    }

    /** The first {@code hexChars} hex digits of HMAC-SHA256(key, UTF-8 of value). */
    String hexDigest(String value, int hexChars) {
        Mac mac = macs.get();
        byte[] digest = mac.doFinal(value.getBytes(StandardCharsets.UTF_8));
        return HEX.formatHex(digest).substring(0, hexChars);
    }

    private Mac newMac() {
        try {
            Mac mac = Mac.getInstance(ALGORITHM);
            mac.init(key);
            return mac;
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("HmacSHA256 is not available in this JVM", e);
        }
    }

    @Override
    public String toString() {
        return "HmacKey[hidden]";
    }
}
