package dev.gatehouse.deploy.cli;

import dev.gatehouse.deploy.dev.DevState;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.dev.DevTokenIssuer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Option;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * The small HTTP client of the CLI. How the admin commands reach the admin API: its URL ({@code --admin-url}, env
 * {@code GATEHOUSE_ADMIN_URL}, or the local {@code gatehouse dev}'s) and a bearer token
 * ({@code --token}, env {@code GATEHOUSE_TOKEN}, or, only for the local {@code gatehouse dev}, one
 * minted from its development issuer for the development administrator); the same for the audit
 * indexer's query API ({@link #indexer(IndexerOptions)}).
 */
final class AdminClient {

    /** The picocli options every admin command shares. */
    static final class Options {
        @Option(names = "--admin-url", description = "Admin API base URL, e.g. https://gatehouse-admin:9470 "
                + "(default: env GATEHOUSE_ADMIN_URL, else the local gatehouse dev's).")
        String adminUrl;
        @Option(names = "--token", description = "An administrator's OIDC token (default: env GATEHOUSE_TOKEN; with a local "
                + "gatehouse dev, a development admin token is minted).")
        String token;
        @Option(names = "--data-dir", defaultValue = ".gatehouse", description = "The dev data directory (default: ${DEFAULT-VALUE}).")
        Path dataDir;
    }

    /** An answer other than 2xx: the status and the API's error message. */
    static final class ApiError extends RuntimeException {
        final int status;

        ApiError(int status, String message) {
            super(message, null, false, false);
            this.status = status;
        }
    }

    /** The picocli options of the commands that read the audit indexer's query API. */
    static final class IndexerOptions {
        @Option(names = "--indexer", description = "Audit indexer base URL (default: env GATEHOUSE_INDEXER_URL, else the "
                + "local gatehouse dev's, else " + DEFAULT_INDEXER_URL + ").")
        String indexerUrl;
        @Option(names = "--token", description = "An OIDC token with the indexer's read group (default: env GATEHOUSE_TOKEN; "
                + "with a local gatehouse dev, a development admin token is minted).")
        String token;
        @Option(names = "--data-dir", defaultValue = ".gatehouse", description = "The dev data directory (default: ${DEFAULT-VALUE}).")
        Path dataDir;
    }

    /** Where {@code gatehouse dev} serves the audit indexer's API. */
    static final String DEFAULT_INDEXER_URL = "http://127.0.0.1:18082";
    /** The indexer's default read group, carried by minted development tokens. */
    static final String DEFAULT_INDEXER_READ_GROUP = "gatehouse-auditors";

    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
    private final String baseUrl;
    private final String token;
    private final String prefix;
    private final String service;

    private AdminClient(String baseUrl, String token) {
        this(baseUrl, token, "/admin/v1", "admin API");
    }

    private AdminClient(String baseUrl, String token, String prefix, String service) {
        this.baseUrl = baseUrl.endsWith("/") ? baseUrl.substring(0, baseUrl.length() - 1) : baseUrl;
        this.token = token;
        this.prefix = prefix;
        this.service = service;
    }

    /**
     * A client of the audit indexer's query API ({@code /api/v1}): the URL from {@code --indexer}, env
     * {@code GATEHOUSE_INDEXER_URL}, the local {@code gatehouse dev}'s or the default; the token from
     * {@code --token}, env {@code GATEHOUSE_TOKEN}, or minted for the development administrator (with the
     * admin and the indexer read groups) when the indexer is on this machine and a dev issuer exists.
     *
     * @throws IllegalArgumentException when there is no token to present
     */
    static AdminClient indexer(IndexerOptions options) {
        Path dir = GatehouseCli.home().resolve(options.dataDir);
        Properties dev = DevState.read(dir);
        String url = options.indexerUrl != null ? options.indexerUrl : System.getenv("GATEHOUSE_INDEXER_URL");
        if (url == null) url = dev.getProperty("indexer.url", DEFAULT_INDEXER_URL);
        String token = options.token != null ? options.token : System.getenv("GATEHOUSE_TOKEN");
        if (token == null) {
            if (!isLoopback(url) || !Files.isDirectory(dir.resolve("issuer"))) {
                throw new IllegalArgumentException("no token: pass --token or set GATEHOUSE_TOKEN to a token with the indexer's "
                        + "read group (a development token is minted only for a local gatehouse dev)");
            }
            token = devAdminToken(dir, dev, List.of(dev.getProperty("admin.group", GatehouseConfig.Admin.DEFAULT_GROUP),
                    dev.getProperty("indexer.read-group", DEFAULT_INDEXER_READ_GROUP)));
        }
        return new AdminClient(url, token, "/api/v1", "indexer API");
    }

    /** A client of another Gatehouse API (e.g. the approvals API under {@code /api/v1/approvals}). */
    static AdminClient of(String baseUrl, String token, String prefix, String service) {
        return new AdminClient(baseUrl, token, prefix, service);
    }

    private static String devAdminToken(Path dir, Properties dev, List<String> groups) {
        String issuerUrl = dev.getProperty("issuer.url", DevTokenIssuer.defaultIssuerUrl(18080));
        return DevTokenIssuer.load(dir.resolve("issuer"), issuerUrl)
                .issue(DevState.DEV_ADMIN, groups, Duration.ofMinutes(5), Map.of());
    }

    /**
     * Resolves the URL and the token.
     *
     * @throws IllegalArgumentException when there is no admin API to talk to or no token to present
     */
    static AdminClient from(Options options) {
        String url = options.adminUrl != null ? options.adminUrl : System.getenv("GATEHOUSE_ADMIN_URL");
        String token = options.token != null ? options.token : System.getenv("GATEHOUSE_TOKEN");
        if (url != null && token != null) return new AdminClient(url, token);
        Path dir = GatehouseCli.home().resolve(options.dataDir);
        Properties dev = DevState.read(dir);
        String devUrl = dev.getProperty("admin.url");
        if (url == null) {
            if (devUrl == null) {
                throw new IllegalArgumentException("no admin API to talk to: pass --admin-url (or set GATEHOUSE_ADMIN_URL), "
                        + "or start ./gatehouse dev");
            }
            url = devUrl;
        }
        if (token == null) {
            if (!url.equals(devUrl) || !isLoopback(url)) {
                throw new IllegalArgumentException("no token: pass --token or set GATEHOUSE_TOKEN to an administrator's token"
                        + " (a development admin token is minted only for the local gatehouse dev)");
            }
            token = devAdminToken(dir, dev, List.of(dev.getProperty("admin.group", GatehouseConfig.Admin.DEFAULT_GROUP)));
        }
        return new AdminClient(url, token);
    }

    private static boolean isLoopback(String url) {
        String host = URI.create(url).getHost();
        return host != null && (host.equals("127.0.0.1") || host.equals("localhost") || host.equals("[::1]") || host.equals("::1"));
    }

    JsonObject get(String path, Map<String, String> query) {
        String q = query.entrySet().stream().filter(e -> e.getValue() != null)
                .map(e -> e.getKey() + "=" + URLEncoder.encode(e.getValue(), StandardCharsets.UTF_8))
                .collect(Collectors.joining("&"));
        return send(request(path + (q.isEmpty() ? "" : "?" + q)).GET().build());
    }

    JsonObject post(String path, JsonObject body) {
        return send(request(path).header("Content-Type", "application/json")
                .POST(HttpRequest.BodyPublishers.ofString(body.encode())).build());
    }

    JsonObject delete(String path) {
        return send(request(path).DELETE().build());
    }

    private HttpRequest.Builder request(String path) {
        return HttpRequest.newBuilder(URI.create(baseUrl + prefix + path))
                .timeout(Duration.ofSeconds(30))
                .header("Authorization", "Bearer " + token)
                .header("Accept", "application/json");
    }

    private JsonObject send(HttpRequest request) {
        HttpResponse<String> response;
        try {
            response = http.send(request, HttpResponse.BodyHandlers.ofString());
        } catch (IOException e) {
            throw new IllegalStateException("cannot reach the " + service + " at " + baseUrl + ": " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted", e);
        }
        JsonObject body;
        try {
            body = response.body().isBlank() ? new JsonObject() : new JsonObject(response.body());
        } catch (DecodeException e) {
            body = new JsonObject().put("error", response.body());
        }
        if (response.statusCode() / 100 != 2) {
            throw new ApiError(response.statusCode(), service + " answered " + response.statusCode() + ": "
                    + body.getString("error", "(no message)"));
        }
        return body;
    }
}
