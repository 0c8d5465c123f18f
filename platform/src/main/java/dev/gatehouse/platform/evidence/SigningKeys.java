package dev.gatehouse.platform.evidence;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.interfaces.EdECPrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.spec.X509EncodedKeySpec;
import java.util.Arrays;
import java.util.Base64;
import java.util.HexFormat;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The indexer's Ed25519 signing key pair, with the JDK's own provider: loaded from a PKCS#8 PEM
 * file ({@code openssl genpkey -algorithm ed25519} writes one), or generated for development into
 * a file readable by its owner only. The public key is derived from the private one. The private
 * key is never logged nor part of {@link #toString()}.
 */
public final class SigningKeys {

    /** The JCA algorithm name. */
    public static final String ALGORITHM = "Ed25519";
    /**
     * Where development setups keep the indexer's key, relative to the data directory
     * ({@code indexer.signing-key-file} unset): generated on first start by {@link #loadOrGenerate}.
     */
    public static final String DEV_KEY_FILE = "indexer/signing-key.pem";

    private static final Logger LOGGER = LoggerFactory.getLogger(SigningKeys.class);
    private static final Pattern PEM = Pattern.compile(
            "-----BEGIN ([A-Z ]+)-----([A-Za-z0-9+/=\\s]+)-----END \\1-----");

    private final PrivateKey privateKey;
    private final PublicKey publicKey;
    private final String keyId;

    private SigningKeys(PrivateKey privateKey, PublicKey publicKey) {
        this.privateKey = privateKey;
        this.publicKey = publicKey;
        this.keyId = keyId(publicKey);
    }

    /** A key pair from its parts, e.g. a freshly generated one. */
    public static SigningKeys of(KeyPair pair) {
        requireEd25519(pair.getPublic());
        requireEd25519(pair.getPrivate());
        return new SigningKeys(pair.getPrivate(), pair.getPublic());
    }

    /** A new random key pair, in memory only. */
    public static SigningKeys generate() {
        try {
            return of(KeyPairGenerator.getInstance(ALGORITHM).generateKeyPair());
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("this JVM cannot generate " + ALGORITHM + " keys", e);
        }
    }

    /**
     * Loads the key pair from a PKCS#8 PEM private key file ({@code -----BEGIN PRIVATE KEY-----}).
     *
     * @throws IllegalArgumentException when the file is missing, unreadable or not an Ed25519 private key
     */
    public static SigningKeys load(Path privateKeyPem) {
        String text = read(privateKeyPem, "signing key");
        byte[] der = pemBlock(text, "PRIVATE KEY", privateKeyPem);
        try {
            PrivateKey key = KeyFactory.getInstance(ALGORITHM).generatePrivate(new PKCS8EncodedKeySpec(der));
            return new SigningKeys(key, derivePublicKey(key));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException("signing key file " + privateKeyPem
                    + " is not an Ed25519 PKCS#8 private key (" + e.getClass().getSimpleName() + ")", e);
        }
    }

    /**
     * Loads the key pair from a file, or generates one into it (mode 0600, with the public key next
     * to it, see {@link #publicKeyFile}) when it does not exist yet: the development default.
     */
    public static SigningKeys loadOrGenerate(Path privateKeyPem) {
        if (Files.exists(privateKeyPem)) {
            return load(privateKeyPem);
        }
        SigningKeys keys = generate();
        try {
            keys.writeTo(privateKeyPem);
        } catch (FileAlreadyExistsException e) {
            return load(privateKeyPem); // another process won the race
        }
        LOGGER.info("Generated an Ed25519 signing key {} at {} (public key in {})", keys.keyId, privateKeyPem,
                publicKeyFile(privateKeyPem));
        return keys;
    }

    /**
     * Writes the private key as PKCS#8 PEM to a new file readable by its owner only (0600 where the
     * file system has POSIX permissions), and the public key as X.509 PEM to {@link #publicKeyFile}.
     *
     * @throws FileAlreadyExistsException when the private key file exists: keys are never overwritten
     */
    public void writeTo(Path privateKeyPem) throws FileAlreadyExistsException {
        try {
            Path parent = privateKeyPem.toAbsolutePath().getParent();
            if (parent != null) {
                Files.createDirectories(parent);
            }
            byte[] pem = pem("PRIVATE KEY", privateKey.getEncoded()).getBytes(StandardCharsets.US_ASCII);
            if (privateKeyPem.getFileSystem().supportedFileAttributeViews().contains("posix")) {
                Files.createFile(privateKeyPem, PosixFilePermissions.asFileAttribute(
                        PosixFilePermissions.fromString("rw-------")));
            } else {
                Files.createFile(privateKeyPem);
            }
            Files.write(privateKeyPem, pem, StandardOpenOption.TRUNCATE_EXISTING);
            Arrays.fill(pem, (byte) 0);
            Files.writeString(publicKeyFile(privateKeyPem), publicKeyPem(), StandardCharsets.US_ASCII);
        } catch (FileAlreadyExistsException e) {
            throw e;
        } catch (IOException e) {
            throw new IllegalStateException("cannot write signing key to " + privateKeyPem + ": " + e.getMessage(), e);
        }
    }

    /** Where {@link #writeTo} puts the public key: the private key's file name plus {@code .pub}. */
    public static Path publicKeyFile(Path privateKeyPem) {
        return privateKeyPem.resolveSibling(privateKeyPem.getFileName() + ".pub");
    }

    /**
     * Reads a public key from a PEM file: an X.509 {@code PUBLIC KEY} block, or a PKCS#8
     * {@code PRIVATE KEY} block from which the public key is derived.
     */
    public static PublicKey readPublicKey(Path pem) {
        String text = read(pem, "public key");
        if (text.contains("-----BEGIN PRIVATE KEY-----")) {
            return load(pem).publicKey();
        }
        byte[] der = pemBlock(text, "PUBLIC KEY", pem);
        return publicKey(der, "public key file " + pem);
    }

    /** A public key from its X.509 (SubjectPublicKeyInfo) DER encoding, base64. */
    public static PublicKey publicKeyFromBase64(String x509Base64) {
        byte[] der;
        try {
            der = Base64.getDecoder().decode(Objects.requireNonNull(x509Base64, "x509Base64").strip());
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("public key is not base64: " + e.getMessage(), e);
        }
        return publicKey(der, "public key");
    }

    /** The key id of a public key: the first 16 hex digits of SHA-256 over its X.509 encoding. */
    public static String keyId(PublicKey publicKey) {
        return HexFormat.of().formatHex(SessionChain.sha256().digest(publicKey.getEncoded())).substring(0, 16);
    }

    /** The public key as X.509 PEM, as {@code openssl pkey -pubout} writes it. */
    public static String publicKeyPem(PublicKey publicKey) {
        return pem("PUBLIC KEY", publicKey.getEncoded());
    }

    /** The public key as X.509 PEM. */
    public String publicKeyPem() {
        return publicKeyPem(publicKey);
    }

    public PublicKey publicKey() {
        return publicKey;
    }

    /** The private key; hand it to a {@link java.security.Signature} only, never to a log. */
    PrivateKey privateKey() {
        return privateKey;
    }

    public String keyId() {
        return keyId;
    }

    @Override
    public String toString() {
        return "SigningKeys[" + ALGORITHM + ", keyId=" + keyId + "]";
    }

    /**
     * Derives the Ed25519 public key: the JDK's generator turns 32 random bytes into the private
     * key and its public key (RFC 8032), so feeding it the private key's bytes re-derives the pair.
     */
    private static PublicKey derivePublicKey(PrivateKey privateKey) throws GeneralSecurityException {
        if (!(privateKey instanceof EdECPrivateKey edec) || edec.getBytes().isEmpty()) {
            throw new GeneralSecurityException("not an EdDSA private key with its bytes");
        }
        byte[] seed = edec.getBytes().get();
        try {
            KeyPairGenerator generator = KeyPairGenerator.getInstance(ALGORITHM);
            generator.initialize(edec.getParams(), new FixedBytes(seed));
            KeyPair pair = generator.generateKeyPair();
            if (!Arrays.equals(pair.getPrivate().getEncoded(), privateKey.getEncoded())) {
                throw new GeneralSecurityException("could not derive the public key of the Ed25519 private key");
            }
            return pair.getPublic();
        } finally {
            Arrays.fill(seed, (byte) 0);
        }
    }

    private static PublicKey publicKey(byte[] der, String what) {
        try {
            return KeyFactory.getInstance(ALGORITHM).generatePublic(new X509EncodedKeySpec(der));
        } catch (GeneralSecurityException | RuntimeException e) {
            throw new IllegalArgumentException(what + " is not an Ed25519 X.509 public key ("
                    + e.getClass().getSimpleName() + ")", e);
        }
    }

    private static void requireEd25519(java.security.Key key) {
        if (!ALGORITHM.equals(key.getAlgorithm()) && !"EdDSA".equals(key.getAlgorithm())) {
            throw new IllegalArgumentException("signing keys must be " + ALGORITHM + ", got " + key.getAlgorithm());
        }
    }

    private static String read(Path file, String what) {
        try {
            return Files.readString(file, StandardCharsets.US_ASCII);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + what + " file " + file + ": " + e, e);
        }
    }

    private static byte[] pemBlock(String text, String type, Path file) {
        Matcher matcher = PEM.matcher(text);
        while (matcher.find()) {
            if (matcher.group(1).equals(type)) {
                try {
                    return Base64.getMimeDecoder().decode(matcher.group(2));
                } catch (IllegalArgumentException e) {
                    throw new IllegalArgumentException(file + ": the " + type + " block is not base64", e);
                }
            }
        }
        throw new IllegalArgumentException(file + " holds no '-----BEGIN " + type + "-----' block");
    }

    private static String pem(String type, byte[] der) {
        String body = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(der);
        return "-----BEGIN " + type + "-----\n" + body + "\n-----END " + type + "-----\n";
    }

    /** A "random" source that returns given bytes, to re-derive a key pair from its private key. */
    private static final class FixedBytes extends SecureRandom {
        private final byte[] bytes;

        FixedBytes(byte[] bytes) {
            this.bytes = bytes;
        }

        @Override
        public void nextBytes(byte[] into) {
            if (into.length != bytes.length) {
                throw new IllegalStateException("expected a request for " + bytes.length + " bytes, got " + into.length);
            }
            System.arraycopy(bytes, 0, into, 0, bytes.length);
        }
    }
}
