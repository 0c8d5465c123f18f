package dev.gatehouse.deploy.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import java.util.stream.Stream;

/**
 * A Keycloak server (the {@code keycloak-quarkus-dist} the deploy build unpacks into
 * {@code target/keycloak}) in development mode on loopback and free ports, with the Gatehouse
 * realm imported. Started as a child process with this JVM's Java; {@link #close()} stops it.
 */
final class KeycloakServer implements AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(KeycloakServer.class);
    static final String REALM = "gatehouse";

    private final Process process;
    private final int port;
    private final Path log;
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private KeycloakServer(Process process, int port, Path log) {
        this.process = process;
        this.port = port;
        this.log = log;
    }

    /** The unpacked distribution, or null when the build did not unpack it (-Dkeycloak.skip). */
    static Path distribution() throws IOException {
        Path dir = Path.of("target", "keycloak");
        if (!Files.isDirectory(dir)) return null;
        try (Stream<Path> entries = Files.list(dir)) {
            return entries.filter(p -> Files.isRegularFile(p.resolve("bin/kc.sh"))).findFirst().orElse(null);
        }
    }

    /** Starts Keycloak from {@code home} with {@code realmFile} imported and waits until it serves the realm. */
    static KeycloakServer start(Path home, Path realmFile, Duration timeout) throws Exception {
        // a realm already in the development database is not imported again: start from none
        deleteTree(home.resolve("data/h2"));
        Path importDir = home.resolve("data/import");
        Files.createDirectories(importDir);
        Files.copy(realmFile, importDir.resolve("gatehouse-realm.json"), java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        int port = freePort();
        int managementPort = freePort();
        Path log = Files.createTempFile("keycloak-", ".log");
        ProcessBuilder pb = new ProcessBuilder(home.resolve("bin/kc.sh").toString(), "start-dev",
                "--http-host=127.0.0.1", "--http-port=" + port, "--http-management-port=" + managementPort,
                "--import-realm")
                .redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().put("JAVA_HOME", Path.of(System.getProperty("java.home")).toString());
        pb.environment().put("JAVA_OPTS_APPEND", "-Xms64m -Xmx768m");
        Instant started = Instant.now();
        KeycloakServer server = new KeycloakServer(pb.start(), port, log);
        try {
            server.awaitRealm(timeout);
        } catch (Exception | AssertionError e) {
            server.close();
            throw e;
        }
        LOGGER.info("keycloak ready port={} after={}", port, Duration.between(started, Instant.now()));
        return server;
    }

    /** {@code http://127.0.0.1:<port>/realms/gatehouse}: the {@code iss} of its tokens. */
    String issuer() {
        return "http://127.0.0.1:" + port + "/realms/" + REALM;
    }

    /** An access token from the client-credentials grant of a confidential client. */
    String clientCredentialsToken(String clientId, String secret) throws Exception {
        return token(Map.of("grant_type", "client_credentials", "client_id", clientId, "client_secret", secret));
    }

    /** An access token from the password grant of a public client. */
    String passwordToken(String clientId, String username, String password) throws Exception {
        return token(Map.of("grant_type", "password", "client_id", clientId, "username", username,
                "password", password, "scope", "openid"));
    }

    /**
     * Standard token exchange (V2, RFC 8693, impersonation): the confidential client {@code clientId}
     * trades {@code subjectToken} (whose {@code aud} must name it) for an access token for
     * {@code audience}; {@code sub} stays the subject token's, {@code azp} names {@code clientId}.
     */
    String exchangeToken(String clientId, String secret, String subjectToken, String audience) throws Exception {
        return token(Map.of("grant_type", "urn:ietf:params:oauth:grant-type:token-exchange", "client_id", clientId,
                "client_secret", secret, "subject_token", subjectToken,
                "subject_token_type", "urn:ietf:params:oauth:token-type:access_token",
                "requested_token_type", "urn:ietf:params:oauth:token-type:access_token", "audience", audience));
    }

    private String token(Map<String, String> form) throws Exception {
        String body = form.entrySet().stream()
                .map(e -> URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8) + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        HttpResponse<String> response = http.send(HttpRequest.newBuilder(URI.create(issuer() + "/protocol/openid-connect/token"))
                .timeout(Duration.ofSeconds(30))
                .header("content-type", "application/x-www-form-urlencoded")
                .POST(HttpRequest.BodyPublishers.ofString(body)).build(), HttpResponse.BodyHandlers.ofString());
        if (response.statusCode() != 200) {
            throw new AssertionError("Keycloak refused the " + form.get("grant_type") + " grant: HTTP "
                    + response.statusCode() + " " + response.body());
        }
        JsonNode json = new ObjectMapper().readTree(response.body());
        return json.get("access_token").asText();
    }

    private void awaitRealm(Duration timeout) throws Exception {
        Instant deadline = Instant.now().plus(timeout);
        URI discovery = URI.create(issuer() + "/.well-known/openid-configuration");
        while (Instant.now().isBefore(deadline)) {
            if (!process.isAlive()) {
                throw new AssertionError("Keycloak exited with " + process.exitValue() + ":\n" + tail());
            }
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(discovery).timeout(Duration.ofSeconds(5)).build(),
                        HttpResponse.BodyHandlers.ofString());
                if (r.statusCode() == 200) return;
            } catch (IOException e) {
                // not listening yet
            }
            process.waitFor(500, TimeUnit.MILLISECONDS);
        }
        throw new AssertionError("Keycloak did not serve realm " + REALM + " within " + timeout + ":\n" + tail());
    }

    private String tail() {
        try {
            String text = Files.readString(log);
            return text.length() > 4000 ? text.substring(text.length() - 4000) : text;
        } catch (IOException e) {
            return "(no log: " + e + ")";
        }
    }

    private static void deleteTree(Path dir) throws IOException {
        if (!Files.exists(dir)) return;
        try (Stream<Path> paths = Files.walk(dir)) {
            for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) Files.delete(p);
        }
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        }
    }

    @Override
    public void close() throws InterruptedException {
        process.destroy();
        if (!process.waitFor(30, TimeUnit.SECONDS)) {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
