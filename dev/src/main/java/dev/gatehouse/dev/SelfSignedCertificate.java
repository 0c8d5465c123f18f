package dev.gatehouse.dev;

import io.vertx.core.net.PemKeyCertOptions;
import io.vertx.core.net.PemTrustOptions;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509CertificateHolder;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;
import org.bouncycastle.util.io.pem.PemObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.Reader;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.math.BigInteger;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.cert.CertificateException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.security.interfaces.RSAPrivateCrtKey;
import java.security.interfaces.RSAPublicKey;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * A self-signed TLS certificate for development ({@code CN=gatehouse-dev}), kept as PEM files in
 * a directory and reused across restarts while it covers the requested names and is not within
 * {@link #RENEW_BEFORE} of expiry. RSA 2048 / SHA-256, for the widest client support.
 */
public final class SelfSignedCertificate {

    private static final Logger LOGGER = LoggerFactory.getLogger(SelfSignedCertificate.class);

    public static final String CERT_FILE = "gatehouse-dev.crt.pem";
    public static final String KEY_FILE = "gatehouse-dev.key.pem";
    public static final String COMMON_NAME = "gatehouse-dev";
    /** localhost, 127.0.0.1 and ::1. */
    public static final List<String> DEFAULT_NAMES = List.of("localhost", "127.0.0.1", "::1");
    /** A certificate expiring sooner than this is replaced. */
    public static final Duration RENEW_BEFORE = Duration.ofDays(7);
    public static final Duration DEFAULT_VALIDITY = Duration.ofDays(365);

    private static final Pattern IPV4 = Pattern.compile("\\d{1,3}(\\.\\d{1,3}){3}");

    private SelfSignedCertificate() {
    }

    /**
     * The PEM files of a certificate and its PKCS#8 private key.
     *
     * @param certificate the certificate (also the trust anchor for clients)
     * @param privateKey  the private key, mode 600
     */
    public record PemFiles(Path certificate, Path privateKey) {

        public PemFiles {
            Objects.requireNonNull(certificate, "certificate");
            Objects.requireNonNull(privateKey, "privateKey");
        }

        /** For a Vert.x server's {@code setKeyCertOptions}. */
        public PemKeyCertOptions keyCertOptions() {
            return new PemKeyCertOptions().setCertPath(certificate.toString()).setKeyPath(privateKey.toString());
        }

        /** For a client that trusts exactly this certificate. */
        public PemTrustOptions trustOptions() {
            return new PemTrustOptions().addCertPath(certificate.toString());
        }
    }

    /** {@link #ensure(Path, Collection)} for {@link #DEFAULT_NAMES}. */
    public static PemFiles ensure(Path dir) {
        return ensure(dir, DEFAULT_NAMES);
    }

    /**
     * Returns the certificate in {@code dir}, generating a new one when it is absent, unreadable,
     * expiring within {@link #RENEW_BEFORE}, or missing one of {@code names}.
     *
     * @param names DNS names and IP literals for the subject alternative names
     */
    public static PemFiles ensure(Path dir, Collection<String> names) {
        return ensure(dir, names, DEFAULT_VALIDITY);
    }

    static PemFiles ensure(Path dir, Collection<String> names, Duration validity) {
        Objects.requireNonNull(dir, "dir");
        if (names.isEmpty()) {
            throw new IllegalArgumentException("at least one host name or IP address is required");
        }
        Set<String> wanted = new LinkedHashSet<>();
        for (String name : names) {
            wanted.add(normalize(name));
        }
        PemFiles files = new PemFiles(dir.resolve(CERT_FILE), dir.resolve(KEY_FILE));
        String reason = reusable(files, wanted);
        if (reason == null) {
            LOGGER.debug("reusing development certificate {}", files.certificate());
            return files;
        }
        LOGGER.info("generating development certificate names={} dir={} because={}", wanted, dir, reason);
        generate(files, wanted, validity);
        return files;
    }

    /** Null when the files can be reused, else why not. */
    private static String reusable(PemFiles files, Set<String> wanted) {
        if (!Files.isRegularFile(files.certificate()) || !Files.isRegularFile(files.privateKey())) {
            return "no certificate yet";
        }
        try {
            X509Certificate cert = readCertificate(files.certificate());
            if (cert.getNotAfter().toInstant().isBefore(Instant.now().plus(RENEW_BEFORE))) {
                return "it expires at " + cert.getNotAfter().toInstant();
            }
            Set<String> present = new HashSet<>();
            Collection<List<?>> sans = cert.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    present.add(normalize(String.valueOf(san.get(1))));
                }
            }
            if (!present.containsAll(wanted)) {
                return "it covers " + present + ", not all of " + wanted;
            }
            PrivateKey key = readPrivateKey(files.privateKey());
            if (!(key instanceof RSAPrivateCrtKey rsa && cert.getPublicKey() instanceof RSAPublicKey pub
                    && rsa.getModulus().equals(pub.getModulus()))) {
                return "the private key does not match the certificate";
            }
            return null;
        } catch (IOException | GeneralSecurityException | RuntimeException e) {
            return "the existing files are unreadable (" + e.getMessage() + ")";
        }
    }

    private static void generate(PemFiles files, Set<String> names, Duration validity) {
        try {
            Path dir = files.certificate().toAbsolutePath().getParent();
            Files.createDirectories(dir);
            KeyPairGenerator generator = KeyPairGenerator.getInstance("RSA");
            generator.initialize(2048, new SecureRandom());
            KeyPair keyPair = generator.generateKeyPair();

            Instant now = Instant.now();
            X500Name subject = new X500Name("CN=" + COMMON_NAME);
            List<GeneralName> altNames = new ArrayList<>();
            for (String name : names) {
                altNames.add(isIpLiteral(name)
                        ? new GeneralName(GeneralName.iPAddress, name)
                        : new GeneralName(GeneralName.dNSName, name));
            }
            JcaX509ExtensionUtils extensions = new JcaX509ExtensionUtils();
            X509v3CertificateBuilder builder = new JcaX509v3CertificateBuilder(
                    subject,
                    new BigInteger(127, new SecureRandom()).add(BigInteger.ONE),
                    Date.from(now.minus(Duration.ofMinutes(5))),
                    Date.from(now.plus(validity)),
                    subject,
                    keyPair.getPublic())
                    .addExtension(Extension.basicConstraints, true, new BasicConstraints(false))
                    .addExtension(Extension.keyUsage, true,
                            new KeyUsage(KeyUsage.digitalSignature | KeyUsage.keyEncipherment))
                    .addExtension(Extension.extendedKeyUsage, false,
                            new ExtendedKeyUsage(new KeyPurposeId[]{KeyPurposeId.id_kp_serverAuth}))
                    .addExtension(Extension.subjectAlternativeName, false,
                            new GeneralNames(altNames.toArray(GeneralName[]::new)))
                    .addExtension(Extension.subjectKeyIdentifier, false,
                            extensions.createSubjectKeyIdentifier(keyPair.getPublic()));
            X509CertificateHolder holder = builder.build(
                    new JcaContentSignerBuilder("SHA256withRSA").build(keyPair.getPrivate()));
            X509Certificate cert = new JcaX509CertificateConverter().getCertificate(holder);

            // The key first: a certificate without its key is never left behind.
            writeAtomically(files.privateKey(), pem(new PemObject("PRIVATE KEY", keyPair.getPrivate().getEncoded())), true);
            writeAtomically(files.certificate(), pem(cert), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the development certificate to " + files.certificate().getParent(), e);
        } catch (GeneralSecurityException | OperatorCreationException e) {
            throw new IllegalStateException("generating the development certificate failed: " + e.getMessage(), e);
        }
    }

    private static String pem(Object object) throws IOException {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter writer = new JcaPEMWriter(out)) {
            writer.writeObject(object);
        }
        return out.toString();
    }

    private static void writeAtomically(Path target, String content, boolean secret) throws IOException {
        Path tmp = Files.createTempFile(target.toAbsolutePath().getParent(), "." + target.getFileName(), ".tmp");
        try {
            if (Files.getFileStore(tmp).supportsFileAttributeView("posix")) {
                Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString(secret ? "rw-------" : "rw-r--r--"));
            }
            Files.writeString(tmp, content, StandardCharsets.US_ASCII);
            try {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Reads a PEM certificate. */
    public static X509Certificate readCertificate(Path file) throws IOException, CertificateException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(reader)) {
            Object object = parser.readObject();
            if (!(object instanceof X509CertificateHolder holder)) {
                throw new CertificateParsingException(file + " holds no PEM certificate");
            }
            return new JcaX509CertificateConverter().getCertificate(holder);
        }
    }

    private static PrivateKey readPrivateKey(Path file) throws IOException {
        try (Reader reader = Files.newBufferedReader(file, StandardCharsets.US_ASCII); PEMParser parser = new PEMParser(reader)) {
            Object object = parser.readObject();
            if (!(object instanceof PrivateKeyInfo info)) {
                throw new IOException(file + " holds no PKCS#8 private key");
            }
            return new JcaPEMKeyConverter().getPrivateKey(info);
        }
    }

    private static boolean isIpLiteral(String name) {
        return IPV4.matcher(name).matches() || name.contains(":");
    }

    /** IP literals in canonical form (so "::1" and "0:0:0:0:0:0:0:1" compare equal), names lower-case. */
    private static String normalize(String name) {
        String trimmed = Objects.requireNonNull(name, "name").strip();
        if (trimmed.isEmpty()) {
            throw new IllegalArgumentException("host names must not be blank");
        }
        if (isIpLiteral(trimmed)) {
            try {
                return InetAddress.getByName(trimmed).getHostAddress();
            } catch (UnknownHostException e) {
                throw new IllegalArgumentException("not an IP address: " + trimmed, e);
            }
        }
        return trimmed.toLowerCase(java.util.Locale.ROOT);
    }
}
