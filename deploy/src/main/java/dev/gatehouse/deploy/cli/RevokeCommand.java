package dev.gatehouse.deploy.cli;

import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code gatehouse revoke}: revoke access fleet-wide, list revocations in force, lift one. */
@Command(name = "revoke", mixinStandardHelpOptions = true,
        description = {"Revoke access for matching identities at every edge: their live sessions end within seconds and "
                + "new ones are refused, until lifted. Needs an administrator's token.",
                "  gatehouse revoke --subject alice --reason 'laptop stolen'",
                "  gatehouse revoke --commit 4f2a9c1 --reason 'compromised build'",
                "  gatehouse revoke --actor planner-agent --reason 'agent misbehaving'   (every session of the agent, for anyone)",
                "  gatehouse revoke --originator alice --reason 'account compromised'   (every agent acting for alice)",
                "  gatehouse revoke --list",
                "  gatehouse revoke --lift rv-0123456789ab   (or --lift subject=alice)"})
final class RevokeCommand implements Callable<Integer> {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    AdminClient.Options admin = new AdminClient.Options();

    @ArgGroup(exclusive = true, multiplicity = "1")
    Action action;

    static final class Action {
        @Option(names = "--subject", description = "Revoke the token subject S (in a delegated session the subject is the acting agent: agents acting for S are --originator S).")
        String subject;
        @Option(names = "--repository", description = "Revoke CI tokens from repository R (org/repo).")
        String repository;
        @Option(names = "--commit", description = "Revoke CI tokens built from commit SHA (7+ hex digits).")
        String commit;
        @Option(names = "--issuer", description = "Revoke every token of issuer I.")
        String issuer;
        @Option(names = "--group", description = "Revoke members of group G.")
        String group;
        @Option(names = "--actor", description = "Revoke delegated sessions with agent A in their chain (current or earlier actor).")
        String actor;
        @Option(names = "--originator", description = "Revoke delegated sessions acting for person P (every agent acting for P).")
        String originator;
        @Option(names = "--list", description = "List the revocations in force.")
        boolean list;
        @Option(names = "--lift", paramLabel = "ID|TYPE=VALUE", description = "Lift a revocation, by id or by selector.")
        String lift;
    }

    @Option(names = "--reason", description = "Why (shown to the ended sessions and recorded in the audit log).")
    String reason;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        AdminClient client = AdminClient.from(admin);
        try {
            if (action.list) return list(client, out);
            if (action.lift != null) return lift(client, out);
            return revoke(client, out);
        } catch (AdminClient.ApiError e) {
            spec.commandLine().getErr().println("gatehouse revoke: " + e.getMessage());
            return 1;
        }
    }

    private int revoke(AdminClient client, PrintWriter out) {
        String selector = action.subject != null ? "subject=" + action.subject
                : action.repository != null ? "repository=" + action.repository
                : action.commit != null ? "commit=" + action.commit
                : action.issuer != null ? "issuer=" + action.issuer
                : action.actor != null ? "actor=" + action.actor
                : action.originator != null ? "originator=" + action.originator
                : "group=" + action.group;
        JsonObject r = client.post("/revocations", new JsonObject().put("selector", selector).put("reason", reason));
        out.println("revoked " + r.getString("id") + ": " + r.getString("selector") + " by " + r.getString("revokedBy")
                + (r.getString("reason") == null ? "" : " (" + r.getString("reason") + ")"));
        out.println("  matching live sessions are ended at every edge; new ones are refused.");
        out.println("  lift with: gatehouse revoke --lift " + r.getString("id"));
        out.flush();
        return 0;
    }

    private int list(AdminClient client, PrintWriter out) {
        List<JsonObject> all = revocations(client);
        if (all.isEmpty()) {
            out.println("no revocations in force");
        } else {
            out.printf("%-16s %-40s %-20s %-27s %s%n", "ID", "SELECTOR", "REVOKED BY", "AT", "REASON");
            for (JsonObject r : all) {
                out.printf("%-16s %-40s %-20s %-27s %s%n", r.getString("id"), r.getString("selector"), r.getString("revokedBy"),
                        r.getString("revokedAt"), r.getString("reason") == null ? "" : r.getString("reason"));
            }
        }
        out.flush();
        return 0;
    }

    private int lift(AdminClient client, PrintWriter out) {
        List<String> ids;
        if (action.lift.contains("=")) {
            String wanted = dev.gatehouse.platform.revocation.Selector.parse(action.lift).toString();
            ids = revocations(client).stream().filter(r -> wanted.equals(r.getString("selector")))
                    .map(r -> r.getString("id")).toList();
            if (ids.isEmpty()) {
                spec.commandLine().getErr().println("gatehouse revoke: no revocation in force has the selector " + wanted
                        + " (see gatehouse revoke --list)");
                return 1;
            }
        } else {
            ids = List.of(action.lift);
        }
        for (String id : ids) {
            JsonObject r = client.delete("/revocations/" + id);
            out.println("lifted " + r.getString("id") + ": " + r.getString("selector") + " by " + r.getString("liftedBy"));
        }
        out.flush();
        return 0;
    }

    private static List<JsonObject> revocations(AdminClient client) {
        return client.get("/revocations", Map.of()).getJsonArray("revocations").stream()
                .map(JsonObject.class::cast).toList();
    }
}
