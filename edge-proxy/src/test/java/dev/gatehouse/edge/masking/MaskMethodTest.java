package dev.gatehouse.edge.masking;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MaskMethodTest {

    private static final HmacKey KEY = HmacKey.of("0123456789abcdef-test-key");

    @Test
    void redactReplaceAndNull() {
        // Given / When / Then
        assertThat(new MaskMethod.Redact().apply("secret")).isEqualTo("[REDACTED]");
        assertThat(new MaskMethod.Replace("n/a").apply("secret")).isEqualTo("n/a");
        assertThat(new MaskMethod.Null().apply("secret")).isNull();
    }

    @Test
    void keepLastKeepsSeparatorsAndTheLastCharacters() {
        // Given
        MaskMethod keep4 = new MaskMethod.KeepLast(4);

        // When / Then
        assertThat(keep4.apply("4111 1111 1111 1234")).isEqualTo("**** **** **** 1234");
        assertThat(keep4.apply("123-45-6789")).isEqualTo("***-**-6789");
        assertThat(keep4.apply("abc")).isEqualTo("abc");
        assertThat(new MaskMethod.KeepLast(0).apply("ab-c")).isEqualTo("**-*");
        assertThatThrownBy(() -> new MaskMethod.KeepLast(-1)).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void hmacIsDeterministicKeyedAndTruncated() {
        // Given
        MaskMethod hmac = new MaskMethod.Hmac(KEY, 16);
        MaskMethod otherKey = new MaskMethod.Hmac(HmacKey.of("another-key-of-16-bytes"), 16);

        // When
        String a = hmac.apply("alice@example.com");

        // Then: the same input joins, another input or key does not, and the key is never shown
        assertThat(a).hasSize(16).matches("[0-9a-f]{16}");
        assertThat(hmac.apply("alice@example.com")).isEqualTo(a);
        assertThat(hmac.apply("bob@example.com")).isNotEqualTo(a);
        assertThat(otherKey.apply("alice@example.com")).isNotEqualTo(a);
        assertThat(new MaskMethod.Hmac(KEY, 64).apply("alice@example.com")).isEqualTo(reference("alice@example.com")).startsWith(a);
        assertThat(KEY.toString()).doesNotContain("0123456789abcdef");
        assertThat(hmac.toString()).doesNotContain("0123456789abcdef");
        assertThatThrownBy(() -> HmacKey.of("short")).isInstanceOf(MaskingException.class).hasMessageContaining("at least 16 bytes");
    }

    private static String reference(String value) {
        try {
            javax.crypto.Mac mac = javax.crypto.Mac.getInstance("HmacSHA256");
            mac.init(new javax.crypto.spec.SecretKeySpec("0123456789abcdef-test-key".getBytes(java.nio.charset.StandardCharsets.UTF_8), "HmacSHA256"));
            return java.util.HexFormat.of().formatHex(mac.doFinal(value.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
        } catch (java.security.GeneralSecurityException e) {
            throw new AssertionError(e);
        }
    }
}
