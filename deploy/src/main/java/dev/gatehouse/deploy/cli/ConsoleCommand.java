package dev.gatehouse.deploy.cli;

import dev.gatehouse.deploy.dev.DevState;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.dev.DevTokenIssuer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * {@code gatehouse console}: prints (and with {@code --open} opens) the web console's address. With
 * a local {@code gatehouse dev} the address carries a fresh development token in its fragment
 * ({@code #token=...}), which the page moves into the tab's sessionStorage and removes from the
 * address bar; browsers never send a fragment to the server. Otherwise it says how to sign in.
 */
@Command(name = "console", mixinStandardHelpOptions = true,
        description = "Print (or open) the audit web console's address; with a local gatehouse dev, signed in.")
final class ConsoleCommand implements Callable<Integer> {

    private static final Logger LOGGER = LoggerFactory.getLogger(ConsoleCommand.class);

    @Spec
    CommandSpec spec;
    @Option(names = "--indexer", description = "Audit indexer base URL (default: env GATEHOUSE_INDEXER_URL, else the "
            + "local gatehouse dev's, else " + AdminClient.DEFAULT_INDEXER_URL + ").")
    String indexerUrl;
    @Option(names = "--open", description = "Open the address in the desktop's browser.")
    boolean open;
    @Option(names = "--groups", split = ",", description = "Extra groups for the development token, e.g. dba to vote on "
            + "approvals (dev only).")
    List<String> groups = new ArrayList<>();
    @Option(names = "--valid-for", defaultValue = "PT1H", description = "Lifetime of the development token, ISO-8601 "
            + "(default: ${DEFAULT-VALUE}).")
    Duration validFor;
    @Option(names = "--data-dir", defaultValue = ".gatehouse", description = "The dev data directory (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Override
    public Integer call() {
        var out = spec.commandLine().getOut();
        var err = spec.commandLine().getErr();
        Path dir = GatehouseCli.home().resolve(dataDir);
        Properties dev = DevState.read(dir);
        String url = indexerUrl != null ? indexerUrl : System.getenv("GATEHOUSE_INDEXER_URL");
        if (url == null) url = dev.getProperty("indexer.url", AdminClient.DEFAULT_INDEXER_URL);
        String console = consoleUrl(url);
        String token = null;
        if (isLoopback(url) && Files.isDirectory(dir.resolve("issuer"))) {
            List<String> all = new ArrayList<>(List.of(dev.getProperty("admin.group", GatehouseConfig.Admin.DEFAULT_GROUP),
                    dev.getProperty("indexer.read-group", AdminClient.DEFAULT_INDEXER_READ_GROUP)));
            groups.stream().map(String::strip).filter(g -> !g.isEmpty() && !all.contains(g)).forEach(all::add);
            String issuerUrl = dev.getProperty("issuer.url", DevTokenIssuer.defaultIssuerUrl(18080));
            token = DevTokenIssuer.load(dir.resolve("issuer"), issuerUrl).issue(DevState.DEV_ADMIN, all, validFor, Map.of());
        }
        String address = token == null ? console : console + "#token=" + token;
        out.println(address);
        if (token != null) {
            err.println("Signed in as " + DevState.DEV_ADMIN + " (development token, valid " + validFor.toMinutes()
                    + " min). The link holds the token: do not share it.");
        } else {
            err.println("Sign in on the page with an OIDC token that carries the indexer's read group "
                    + "(gatehouse-auditors unless indexer.read-group says otherwise), e.g. from your identity provider.");
        }
        if (open) return browse(address, err);
        return 0;
    }

    /** The console's address under an indexer base URL. */
    static String consoleUrl(String indexerUrl) {
        String base = indexerUrl.endsWith("/") ? indexerUrl.substring(0, indexerUrl.length() - 1) : indexerUrl;
        URI uri = URI.create(base);
        if (uri.getScheme() == null || uri.getHost() == null) {
            throw new IllegalArgumentException("the indexer URL must look like http://host:port, was " + indexerUrl);
        }
        return base + "/console/";
    }

    private static boolean isLoopback(String url) {
        String host = URI.create(url).getHost();
        return host != null && (host.equals("127.0.0.1") || host.equals("localhost") || host.equals("[::1]") || host.equals("::1"));
    }

    private static int browse(String address, java.io.PrintWriter err) {
        String os = System.getProperty("os.name", "").toLowerCase(Locale.ROOT);
        List<String> command = os.contains("mac") ? List.of("open", address)
                : os.contains("win") ? List.of("rundll32", "url.dll,FileProtocolHandler", address)
                : List.of("xdg-open", address);
        try {
            new ProcessBuilder(command).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
            return 0;
        } catch (IOException e) {
            LOGGER.debug("cannot start {}", command.getFirst(), e);
            err.println("Could not open a browser (" + command.getFirst() + ": " + e.getMessage() + "); open the address above.");
            return 1;
        }
    }
}
