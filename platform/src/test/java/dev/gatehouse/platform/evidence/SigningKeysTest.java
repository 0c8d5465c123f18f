package dev.gatehouse.platform.evidence;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Set;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SigningKeysTest {

    /** Written by {@code openssl genpkey -algorithm ed25519} (a test key, used nowhere else). */
    static final String OPENSSL_KEY = """
            -----BEGIN PRIVATE KEY-----
            MC4CAQAwBQYDK2VwBCIEILVxSOECLrfXPB99HF32cUZJlxCeYsUuFd7LfOnBUOYj
            -----END PRIVATE KEY-----
            """;
    /** {@code openssl pkey -in key.pem -pubout} of {@link #OPENSSL_KEY}. */
    static final String OPENSSL_PUBLIC = """
            -----BEGIN PUBLIC KEY-----
            MCowBQYDK2VwAyEAEtY8FWk8XADRRecHEeAuthVL5uYjsWfu5CWcx9VfX50=
            -----END PUBLIC KEY-----
            """;

    @TempDir
    Path dir;

    @Test
    void loadsAnOpensslKeyAndDerivesItsPublicKey() throws Exception {
        // Given
        Path file = dir.resolve("key.pem");
        Files.writeString(file, OPENSSL_KEY);
        Path pub = dir.resolve("pub.pem");
        Files.writeString(pub, OPENSSL_PUBLIC);

        // When
        SigningKeys keys = SigningKeys.load(file);

        // Then
        assertThat(keys.publicKey().getEncoded()).isEqualTo(SigningKeys.readPublicKey(pub).getEncoded());
        assertThat(keys.publicKeyPem()).isEqualTo(OPENSSL_PUBLIC);
        assertThat(SigningKeys.readPublicKey(file).getEncoded()).isEqualTo(keys.publicKey().getEncoded());
    }

    @Test
    void theKeyIdIsTheStartOfTheSha256OfTheX509Encoding() throws Exception {
        // Given
        SigningKeys keys = SigningKeys.generate();

        // When
        String keyId = keys.keyId();

        // Then
        byte[] digest = java.security.MessageDigest.getInstance("SHA-256").digest(keys.publicKey().getEncoded());
        assertThat(keyId).hasSize(16).isEqualTo(HexFormat.of().formatHex(digest).substring(0, 16));
        assertThat(SigningKeys.publicKeyFromBase64(Base64.getEncoder().encodeToString(keys.publicKey().getEncoded())))
                .isEqualTo(keys.publicKey());
    }

    @Test
    void generatesADevKeyReadableByItsOwnerOnlyAndLoadsItAgain() throws Exception {
        // Given
        Path file = dir.resolve("indexer/signing-key.pem");

        // When
        SigningKeys generated = SigningKeys.loadOrGenerate(file);
        SigningKeys loaded = SigningKeys.loadOrGenerate(file);

        // Then
        assertThat(Files.getPosixFilePermissions(file))
                .containsExactlyInAnyOrder(PosixFilePermission.OWNER_READ, PosixFilePermission.OWNER_WRITE);
        assertThat(Files.readString(file)).startsWith("-----BEGIN PRIVATE KEY-----\n");
        assertThat(loaded.keyId()).isEqualTo(generated.keyId());
        assertThat(SigningKeys.readPublicKey(SigningKeys.publicKeyFile(file))).isEqualTo(generated.publicKey());
    }

    @Test
    void neverOverwritesAKeyFile() throws Exception {
        // Given
        Path file = dir.resolve("key.pem");
        Files.writeString(file, OPENSSL_KEY);

        // When / Then
        assertThatThrownBy(() -> SigningKeys.generate().writeTo(file)).isInstanceOf(FileAlreadyExistsException.class);
        assertThat(Files.readString(file)).isEqualTo(OPENSSL_KEY);
    }

    @Test
    void neverShowsThePrivateKey() throws Exception {
        // Given
        Path file = dir.resolve("key.pem");
        Files.writeString(file, OPENSSL_KEY);

        // When
        String shown = SigningKeys.load(file).toString();

        // Then
        assertThat(shown).startsWith("SigningKeys[Ed25519, keyId=").doesNotContain("MC4CAQAw", "OnBUOYj");
    }

    @Test
    void refusesFilesThatAreNotEd25519PrivateKeys() throws Exception {
        // Given
        Path publicOnly = dir.resolve("pub.pem");
        Files.writeString(publicOnly, OPENSSL_PUBLIC);
        Path rsa = dir.resolve("rsa.pem");
        Files.writeString(rsa, "-----BEGIN PRIVATE KEY-----\nMIIBVAIBADANBgkqhkiG9w0BAQEFAASCAT4wggE6AgEAAkEA\n-----END PRIVATE KEY-----\n");

        // When / Then
        assertThatThrownBy(() -> SigningKeys.load(publicOnly)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("holds no '-----BEGIN PRIVATE KEY-----' block");
        assertThatThrownBy(() -> SigningKeys.load(rsa)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not an Ed25519 PKCS#8 private key");
        assertThatThrownBy(() -> SigningKeys.load(dir.resolve("missing.pem")))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cannot read signing key file");
    }
}
