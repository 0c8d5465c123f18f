package dev.gatehouse.edge.catalog;

import io.vertx.core.net.ClientSSLOptions;
import io.vertx.core.net.PemTrustOptions;

import java.security.cert.CertPathBuilderException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;

/** TLS from the edge to a connection's target, the same for every protocol: verified, for the target's host. */
public final class TargetTls {
    private TargetTls() {
    }

    /** Verifies the target's certificate and that it names the host; trusts the connection's CA bundle if it has one. */
    public static ClientSSLOptions options(TargetConnection target) {
        ClientSSLOptions options = new ClientSSLOptions().setHostnameVerificationAlgorithm("HTTPS");
        if (target.tlsCa() != null) {
            options.setTrustOptions(new PemTrustOptions().addCertPath(target.tlsCa().toString()));
        }
        return options;
    }

    /** The root cause, and for a certificate problem what the connection trusts and what the certificate must name. */
    public static String describe(TargetConnection target, Throwable e) {
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) root = root.getCause();
        String message = root.getMessage() == null ? root.getClass().getSimpleName() : root.getMessage();
        if (root instanceof CertificateException || root instanceof CertPathBuilderException
                || root instanceof CertPathValidatorException) {
            return "the target's certificate was not accepted (" + message + "); it must name " + target.host()
                    + " and be signed by a CA the connection trusts: " + (target.tlsCa() == null
                    ? "only the JDK's default CAs, as the connection has no tls-ca (the PEM bundle of the target's CA)"
                    : "those in its tls-ca " + target.tlsCa());
        }
        return message;
    }
}
