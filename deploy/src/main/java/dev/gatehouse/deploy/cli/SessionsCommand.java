package dev.gatehouse.deploy.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code gatehouse sessions}: the live sessions of the whole fleet, from the edges' heartbeats. */
@Command(name = "sessions", mixinStandardHelpOptions = true,
        description = "List the live sessions at every edge. Sessions of an edge that stopped heart-beating are marked "
                + "ABORTED? (the edge is presumed dead). Needs an administrator's token.")
final class SessionsCommand implements Callable<Integer> {

    @Spec
    CommandLine.Model.CommandSpec spec;

    @Mixin
    AdminClient.Options admin = new AdminClient.Options();

    @Option(names = "--subject", description = "Only sessions of this subject.")
    String subject;
    @Option(names = "--commit", description = "Only CI sessions from this commit (or prefix).")
    String commit;
    @Option(names = "--repository", description = "Only CI sessions from this repository.")
    String repository;
    @Option(names = "--connection", description = "Only sessions on this connection.")
    String connection;
    @Option(names = "--originator", description = "Only agents' sessions acting for this person (delegated sessions).")
    String originator;
    @Option(names = "--actor", description = "Only delegated sessions in which this agent is the current or an earlier actor.")
    String actor;
    @Option(names = "--json", description = "Print the admin API's JSON answer.")
    boolean json;

    @Override
    public Integer call() {
        PrintWriter out = spec.commandLine().getOut();
        Map<String, String> query = new LinkedHashMap<>();
        query.put("subject", subject);
        query.put("commit", commit);
        query.put("repository", repository);
        query.put("connection", connection);
        query.put("originator", originator);
        query.put("actor", actor);
        JsonObject answer;
        try {
            answer = AdminClient.from(admin).get("/sessions", query);
        } catch (AdminClient.ApiError e) {
            spec.commandLine().getErr().println("gatehouse sessions: " + e.getMessage());
            return 1;
        }
        if (json) {
            out.println(answer.encodePrettily());
            out.flush();
            return 0;
        }
        JsonArray sessions = answer.getJsonArray("sessions");
        if (sessions.isEmpty()) {
            out.println("no live sessions match");
        } else {
            out.printf("%-36s %-8s %-16s %-24s %-16s %-12s %-22s %-28s %s%n", "SESSION", "STATE", "EDGE", "SUBJECT", "FOR",
                    "CONNECTION", "CLIENT", "STARTED", "CI");
            for (Object o : sessions) {
                JsonObject s = (JsonObject) o;
                String ci = s.getString("ciRepository") == null ? ""
                        : s.getString("ciRepository") + "@" + String.valueOf(s.getString("ciCommitSha"));
                String originatorOf = s.getString("originator");
                out.printf("%-36s %-8s %-16s %-24s %-16s %-12s %-22s %-28s %s%n", s.getString("sessionId"),
                        s.getBoolean("edgeAlive") ? "live" : "ABORTED?", s.getString("edgeId"), s.getString("subject"),
                        originatorOf == null ? "-" : originatorOf, s.getString("connection"), s.getString("clientAddress"), s.getString("startedAt"), ci);
            }
        }
        for (Object o : answer.getJsonArray("edges")) {
            JsonObject e = (JsonObject) o;
            if (!e.getBoolean("alive")) {
                out.println("edge " + e.getString("edgeId") + ": no heartbeat since " + e.getString("heartbeatAt")
                        + "; presumed dead, its " + e.getInteger("sessions") + " session(s) shown as ABORTED?");
            }
        }
        out.flush();
        return 0;
    }
}
