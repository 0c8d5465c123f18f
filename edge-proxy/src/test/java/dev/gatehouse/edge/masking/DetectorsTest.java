package dev.gatehouse.edge.masking;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class DetectorsTest {

    private static final MaskMethod REDACT = new MaskMethod.Redact();

    private static String mask(String detector, String text) {
        return Detectors.builtIn(detector).orElseThrow().replace(text, REDACT);
    }

    @ParameterizedTest(name = "{0} finds \"{1}\"")
    @CsvSource(delimiter = '|', value = {
            "email|alice@example.com",
            "email|bob.o+tag@mail.example.co.uk",
            "phone|+1 415 555 2671",
            "phone|(415) 555-2671",
            "phone|+44 20 7946 0958",
            "phone|+33.1.23.45.67.89",
            "payment_card|4111 1111 1111 1111",
            "payment_card|5555555555554444",
            "payment_card|3782-822463-10005",
            "iban|GB82 WEST 1234 5698 7654 32",
            "iban|DE89370400440532013000",
            "us_ssn|123-45-6789",
            "ipv4|192.168.1.10",
            "ipv4|8.8.8.8",
            "ipv6|2001:db8::1",
            "ipv6|fe80::1ff:fe23:4567:890a",
            "ipv6|::ffff:192.0.2.1",
            "aws_access_key|AKIAIOSFODNN7EXAMPLE",
            "aws_access_key|ASIAY34FZKBOKMUTVV7A",
            "gcp_api_key|AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    })
    void finds(String detector, String value) {
        // Given a value embedded in text
        String text = "see " + value + " here";

        // When the detector runs
        String masked = mask(detector, text);

        // Then exactly the value is replaced
        assertThat(masked).isEqualTo("see " + MaskMethod.Redact.TEXT + " here");
    }

    @ParameterizedTest(name = "{0} ignores \"{1}\"")
    @CsvSource(delimiter = '|', value = {
            "email|alice@localhost",
            "email|@example.com",
            "email|mailto:nobody",
            "phone|2024-01-15",
            "phone|12345",
            "phone|192.168.1.10",
            "phone|4111111111111111",
            "phone|order 1234567890",
            "payment_card|4111 1111 1111 1112",
            "payment_card|5555555555554445",
            "payment_card|123456789012",
            "iban|GB82 WEST 1234 5698 7654 33",
            "iban|DE89370400440532013001",
            "iban|GB82",
            "us_ssn|000-12-3456",
            "us_ssn|666-12-3456",
            "us_ssn|900-12-3456",
            "us_ssn|123-00-4567",
            "us_ssn|123-45-0000",
            "us_ssn|123456789",
            "ipv4|256.1.1.1",
            "ipv4|1.2.3",
            "ipv4|1.2.3.4.5",
            "ipv6|12:30:45",
            "ipv6|00:1A:2B:3C:4D:5E",
            "ipv6|a::b::c",
            "aws_access_key|AKIAIOSFODNN7EXAMPL",
            "aws_access_key|XAKIAIOSFODNN7EXAMPLE",
            "aws_access_key|AKIDIOSFODNN7EXAMPLE",
            "gcp_api_key|AIzaShort",
    })
    void ignoresNearMisses(String detector, String value) {
        // Given a value that looks like, but is not, a sensitive value
        String text = "see " + value + " here";

        // When the detector runs
        String masked = mask(detector, text);

        // Then nothing is replaced, and the very same string comes back
        assertThat(masked).isSameAs(text);
    }

    @Test
    void findsJwtWithAlgHeaderOnly() {
        // Given a signed token and a look-alike whose header names no algorithm
        String jwt = b64("{\"alg\":\"HS256\",\"typ\":\"JWT\"}") + "." + b64("{\"sub\":\"alice\"}") + ".c2lnbmF0dXJlX2J5dGVz";
        String fake = b64("{\"typ\":\"JWT\",\"x\":1}") + "." + b64("{\"sub\":\"alice\"}") + ".c2ln";

        // When / Then
        assertThat(mask("jwt", "Bearer " + jwt)).isEqualTo("Bearer " + MaskMethod.Redact.TEXT);
        assertThat(mask("jwt", "Bearer " + fake)).isEqualTo("Bearer " + fake);
    }

    @Test
    void findsAzureStorageKey() {
        // Given a connection string with an account key (86 base64 characters and ==)
        String key = "A".repeat(40) + "b+/".repeat(15) + "z";
        String text = "DefaultEndpointsProtocol=https;AccountName=x;AccountKey=" + key + "==;EndpointSuffix=core.windows.net";

        // When
        String masked = mask("azure_storage_key", text);

        // Then the key is gone, the rest is kept; a shorter key is not a key
        assertThat(masked).isEqualTo("DefaultEndpointsProtocol=https;AccountName=x;" + MaskMethod.Redact.TEXT + ";EndpointSuffix=core.windows.net");
        assertThat(mask("azure_storage_key", "AccountKey=short==")).isEqualTo("AccountKey=short==");
    }

    @Test
    void findsPemPrivateKeysButNotPublicOnes() {
        // Given PEM blocks
        String rsa = "-----BEGIN RSA PRIVATE KEY-----\nMIIEowIBAAKCAQEA\nq83x==\n-----END RSA PRIVATE KEY-----";
        String pkcs8 = "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBg\n-----END PRIVATE KEY-----";
        String pub = "-----BEGIN PUBLIC KEY-----\nMIIBIjANBgkq\n-----END PUBLIC KEY-----";

        // When / Then
        assertThat(mask("pem_private_key", "key: " + rsa + " end")).isEqualTo("key: " + MaskMethod.Redact.TEXT + " end");
        assertThat(mask("pem_private_key", pkcs8)).isEqualTo(MaskMethod.Redact.TEXT);
        assertThat(mask("pem_private_key", pub)).isSameAs(pub);
        assertThat(mask("pem_private_key", "-----BEGIN EC PRIVATE KEY-----\ntruncated"))
                .isEqualTo(MaskMethod.Redact.TEXT);
    }

    @Test
    void checksums() {
        // Given / When / Then
        assertThat(Detectors.luhn("79927398713")).isTrue();
        assertThat(Detectors.luhn("79927398710")).isFalse();
        assertThat(Detectors.isIban("NL91ABNA0417164300")).isTrue();
        assertThat(Detectors.isIban("NL91ABNA0417164301")).isFalse();
    }

    @Test
    void customRegex() {
        // Given
        Detector d = Detectors.regex("employee_id", "EMP-[0-9]{6}");

        // When / Then
        assertThat(d.name()).isEqualTo("employee_id");
        assertThat(d.replace("by EMP-123456 and EMP-12", new MaskMethod.Replace("EMP-XXXXXX"))).isEqualTo("by EMP-XXXXXX and EMP-12");
        assertThatThrownBy(() -> Detectors.regex("bad", "EMP-[0-9")).isInstanceOf(MaskingException.class)
                .hasMessageContaining("invalid regex \"EMP-[0-9\"");
        assertThatThrownBy(() -> Detectors.regex("empty", "x*")).isInstanceOf(MaskingException.class)
                .hasMessageContaining("matches the empty string");
    }

    @Test
    void aNullMethodNullsTheWholeValue() {
        // Given / When / Then
        assertThat(Detectors.builtIn("email").orElseThrow().replace("mail a@example.org now", new MaskMethod.Null())).isNull();
    }

    private static String b64(String json) {
        return Base64.getUrlEncoder().withoutPadding().encodeToString(json.getBytes(StandardCharsets.UTF_8));
    }
}
