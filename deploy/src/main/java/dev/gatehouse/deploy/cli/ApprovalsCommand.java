package dev.gatehouse.deploy.cli;

import dev.gatehouse.deploy.dev.DevState;
import dev.gatehouse.dev.DevTokenIssuer;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

import java.io.PrintStream;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;

/**
 * {@code gatehouse approvals list | show | approve | deny}: the approval service's REST API from the
 * command line. The token is {@code --token} or env {@code GATEHOUSE_TOKEN}; against a local
 * {@code gatehouse dev} one is minted from its development issuer for {@code --as} (default the
 * development administrator) with {@code --groups}.
 */
@Command(name = "approvals", mixinStandardHelpOptions = true, description = "List, show, approve and deny approval requests.",
        subcommands = {ApprovalsCommand.ListCmd.class, ApprovalsCommand.Show.class, ApprovalsCommand.Approve.class,
                ApprovalsCommand.Deny.class})
final class ApprovalsCommand implements Callable<Integer> {

    /** The approval service of a local {@code gatehouse dev}. */
    static final String DEFAULT_URL = "http://127.0.0.1:18083";

    @Override
    public Integer call() {
        System.err.println("usage: gatehouse approvals list|show|approve|deny (see --help)");
        return 2;
    }

    /** Where and as whom. */
    static final class Options {
        @Option(names = "--url", description = "The approval service (default: env GATEHOUSE_APPROVAL_URL, else a local "
                + "gatehouse dev's, else " + DEFAULT_URL + ").")
        String url;
        @Option(names = "--token", description = "An approver's OIDC token (default: env GATEHOUSE_TOKEN; with a local "
                + "gatehouse dev, one is minted for --as).")
        String token;
        @Option(names = "--as", description = "Local gatehouse dev only: the subject to mint a token for (default: the dev admin).")
        String as;
        @Option(names = "--groups", split = ",", description = "Local gatehouse dev only: the minted token's groups, e.g. dba.")
        List<String> groups = List.of();
        @Option(names = "--data-dir", defaultValue = ".gatehouse", description = "The dev data directory (default: ${DEFAULT-VALUE}).")
        Path dataDir;

        AdminClient client() {
            String base = url != null ? url : System.getenv().getOrDefault("GATEHOUSE_APPROVAL_URL",
                    DevState.read(GatehouseCli.home().resolve(dataDir)).getProperty("approval.url", DEFAULT_URL));
            String bearer = token != null ? token : System.getenv("GATEHOUSE_TOKEN");
            if (bearer != null && as != null) {
                throw new IllegalArgumentException("--as mints a development token; it cannot be combined with a token");
            }
            if (bearer == null) {
                Path dir = GatehouseCli.home().resolve(dataDir);
                if (!isLoopback(base) || !Files.isDirectory(dir.resolve("issuer"))) {
                    throw new IllegalArgumentException("no token: pass --token or set GATEHOUSE_TOKEN to an approver's token"
                            + " (a development token is minted only for a local gatehouse dev)");
                }
                Properties dev = DevState.read(dir);
                String issuerUrl = dev.getProperty("issuer.url", DevTokenIssuer.defaultIssuerUrl(18080));
                bearer = DevTokenIssuer.load(dir.resolve("issuer"), issuerUrl)
                        .issue(as == null ? DevState.DEV_ADMIN : as, groups, Duration.ofMinutes(5), Map.of());
            }
            return AdminClient.of(base, bearer, "/api/v1/approvals", "approval service");
        }

        private static boolean isLoopback(String url) {
            String host = URI.create(url).getHost();
            return host != null && (host.equals("127.0.0.1") || host.equals("localhost") || host.equals("[::1]") || host.equals("::1"));
        }
    }

    @Command(name = "list", mixinStandardHelpOptions = true, description = "Pending approval requests (--all: every one).")
    static final class ListCmd implements Callable<Integer> {
        @Mixin
        Options options;
        @Option(names = "--all", description = "Every approval, decided ones too.")
        boolean all;

        @Override
        public Integer call() {
            JsonArray items;
            try {
                items = options.client().get("", Map.of("state", all ? "all" : "pending")).getJsonArray("approvals");
            } catch (AdminClient.ApiError e) {
                return refused("list", e);
            }
            PrintStream out = System.out;
            if (items.isEmpty()) {
                out.println(all ? "no approvals" : "no pending approvals");
                return 0;
            }
            out.printf("%-16s %-9s %-12s %-14s %-10s %-21s %s%n", "ID", "STATE", "REQUESTER", "CONNECTION", "VOTES",
                    "EXPIRES", "SQL");
            for (Object o : items) {
                JsonObject a = (JsonObject) o;
                JsonObject who = a.getJsonObject("requester", new JsonObject());
                out.printf("%-16s %-9s %-12s %-14s %-10s %-21s %s%n", a.getString("id"), a.getString("state"),
                        who.getString("subject", "?"), a.getString("connection", "?"),
                        a.getJsonArray("approvedBy").size() + "/" + a.getInteger("approvalsRequired"),
                        String.valueOf(a.getString("expiresAt")), oneLine(a.getString("sql", ""), 60));
            }
            return 0;
        }
    }

    @Command(name = "show", mixinStandardHelpOptions = true, description = "One approval request in full.")
    static final class Show implements Callable<Integer> {
        @Mixin
        Options options;
        @Parameters(index = "0", description = "The approval id (ap-...).")
        String id;

        @Override
        public Integer call() {
            try {
                print(options.client().get("/" + id, Map.of()));
                return 0;
            } catch (AdminClient.ApiError e) {
                return refused("show", e);
            }
        }
    }

    @Command(name = "approve", mixinStandardHelpOptions = true, description = "Approve a request.")
    static final class Approve implements Callable<Integer> {
        @Mixin
        Options options;
        @Parameters(index = "0", description = "The approval id (ap-...).")
        String id;
        @Option(names = "--reason", description = "Why (recorded in the audit log).")
        String reason;

        @Override
        public Integer call() {
            return vote(options, id, true, reason);
        }
    }

    @Command(name = "deny", mixinStandardHelpOptions = true, description = "Deny a request.")
    static final class Deny implements Callable<Integer> {
        @Mixin
        Options options;
        @Parameters(index = "0", description = "The approval id (ap-...).")
        String id;
        @Option(names = "--reason", required = true, description = "Why (shown to the requester).")
        String reason;

        @Override
        public Integer call() {
            return vote(options, id, false, reason);
        }
    }

    /** Approves or denies through the approval service and prints the approval's new state. */
    private static int vote(Options options, String id, boolean approve, String reason) {
        String verb = approve ? "approve" : "deny";
        try {
            JsonObject a = options.client().post("/" + id + "/" + verb, new JsonObject().put("reason", reason));
            System.out.println((approve ? "approved " : "denied ") + id + ": " + summary(a));
            return 0;
        } catch (AdminClient.ApiError e) {
            return refused(verb, e);
        }
    }

    /** A refusal of the approval service (unknown id, not an approver, already decided, ...): one line, exit 1. */
    private static int refused(String command, AdminClient.ApiError e) {
        System.err.println("gatehouse approvals " + command + ": " + e.getMessage());
        return 1;
    }

    static String summary(JsonObject a) {
        String tally = a.getString("tally", a.getString("state"));
        return switch (tally) {
            case "granted" -> "granted by " + String.join(", ", a.getJsonArray("approvedBy").stream().map(String::valueOf).toList());
            case "denied" -> "denied";
            case "pending" -> a.getJsonArray("approvedBy").size() + " of " + a.getInteger("approvalsRequired")
                    + " approvals, still pending";
            default -> tally;
        };
    }

    static void print(JsonObject a) {
        PrintStream out = System.out;
        JsonObject who = a.getJsonObject("requester", new JsonObject());
        out.println("approval   " + a.getString("id") + " (" + a.getString("state") + ", " + a.getString("mode") + ")");
        out.println("requester  " + who.getString("subject", "?") + " (" + who.getString("issuer", "?") + ")"
                + (who.getString("chain") == null ? "" : ", acting for " + who.getString("originator") + ": " + who.getString("chain")));
        out.println("connection " + a.getString("connection", "?"));
        out.println("rule       " + a.getString("ruleId") + ": " + a.getString("reason"));
        if ("originator".equals(a.getString("approverFrom"))) {
            out.println("approvers  only the originator " + who.getString("originator", "(none: the session is not delegated)")
                    + ", " + a.getJsonArray("approvedBy").size() + " of 1 confirmation");
        } else {
            out.println("approvers  group " + a.getString("approverGroup") + ", " + a.getJsonArray("approvedBy").size() + " of "
                    + a.getInteger("approvalsRequired") + " approvals");
        }
        out.println("requested  " + a.getString("requestedAt") + ", expires " + a.getString("expiresAt"));
        if (a.getString("validUntil") != null) out.println("valid      until " + a.getString("validUntil"));
        out.println("sql        " + a.getString("sql", ""));
        JsonArray statements = a.getJsonArray("statements", new JsonArray());
        JsonArray params = a.getJsonArray("parameters", new JsonArray());
        if (statements.isEmpty() && !params.isEmpty()) out.println("parameters " + params.encode());
        // what the approval binds to: each statement with its own parameters
        for (int i = 0; i < statements.size(); i++) {
            JsonObject s = statements.getJsonObject(i);
            out.println("statement  " + (i + 1) + ": " + s.getString("step", "?").toLowerCase(java.util.Locale.ROOT)
                    + (s.getString("statementName") == null ? "" : " statement \"" + s.getString("statementName") + "\"")
                    + (s.getString("portalName") == null ? "" : " portal \"" + s.getString("portalName") + "\"")
                    + (s.getString("via") == null ? "" : " via " + s.getString("via")) + ": " + s.getString("sql", ""));
            JsonArray own = s.getJsonArray("parameters", new JsonArray());
            if (!own.isEmpty()) out.println("           parameters " + own.encode());
        }
        for (Object o : a.getJsonArray("votes", new JsonArray())) {
            JsonObject v = (JsonObject) o;
            out.println("vote       " + v.getString("at") + " " + v.getString("approver") + " "
                    + (v.getBoolean("approve") ? "approve" : "deny") + " via " + v.getString("channel")
                    + (v.getString("reason") == null ? "" : ": " + v.getString("reason"))
                    + (v.getBoolean("counted") ? "" : " (not counted: " + v.getString("refusal") + ")"));
        }
        JsonObject outcome = a.getJsonObject("outcome");
        if (outcome != null) {
            out.println("outcome    " + outcome.getString("state") + " at " + outcome.getString("at")
                    + (outcome.getJsonArray("by").isEmpty() ? "" : " by " + String.join(", ",
                    outcome.getJsonArray("by").stream().map(String::valueOf).toList()))
                    + (outcome.getString("reason") == null ? "" : ": " + outcome.getString("reason")));
        }
        if (a.getString("executedBy") != null) out.println("executed   command " + a.getString("executedBy"));
    }

    private static String oneLine(String sql, int max) {
        String s = sql.replaceAll("\\s+", " ").strip();
        return s.length() <= max ? s : s.substring(0, max - 1) + "…";
    }
}
