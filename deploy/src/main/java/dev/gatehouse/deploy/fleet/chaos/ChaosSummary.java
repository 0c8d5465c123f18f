package dev.gatehouse.deploy.fleet.chaos;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The one summary of a chaos run: the faults with their recovery and longest stall, the target's
 * statements against the audit log, the client errors by kind, the rebuilt indexer's digests and
 * the role start times. {@link #render} is the printed block; {@link #write} the JSON in the data dir.
 */
public record ChaosSummary(Instant startedAt, Duration requested, Duration ran, int clients, long successes,
                           List<FaultResult> faults, AuditLogCheck.Findings findings, Map<String, Long> clientErrors,
                           Map<String, String> clientErrorExamples, DigestComparison digests,
                           Map<String, List<Duration>> startTimes, String brokerStop, String abortMarker) {

    /** The goal for the longest stall after one fault. */
    public static final Duration STALL_GOAL = Duration.ofSeconds(15);

    /**
     * One fault.
     *
     * @param clientsBackAfter from the injection until every client had completed a command after it
     *                       (whether or not the killed processes were back); null when not within the recovery timeout
     * @param recoveredAfter from the injection until the processes were back (ready) and every client had
     *                       completed a command again after that; null when that did not happen in time
     * @param longestStall   the longest interval without any completed command, from the injection
     *                       (for "all brokers stopped": from the moment the brokers are started again,
     *                       not from when they are ready) to the next fault
     */
    public record FaultResult(String name, List<String> processes, Instant injectedAt, Duration down, Duration clientsBackAfter,
                              Duration recoveredAfter,
                              Duration longestStall, String note) {
        public boolean goalMet() {
            return longestStall.compareTo(STALL_GOAL) <= 0;
        }
    }

    /**
     * The live indexer's timelines against those of an indexer rebuilt from the log into an empty store.
     *
     * @param how       what was rebuilt where
     * @param different sessions whose digests differ (first ones)
     */
    public record DigestComparison(String how, int liveSessions, int rebuiltSessions, int differentCount, List<String> different,
                                   List<String> onlyLive, List<String> onlyRebuilt, String error, List<String> differences) {
        public DigestComparison {
            differences = differences == null ? List.of() : List.copyOf(differences);
        }

        /** The same comparison with what differs in the first differing sessions spelled out. */
        public DigestComparison withDifferences(List<String> explained) {
            return new DigestComparison(how, liveSessions, rebuiltSessions, differentCount, different, onlyLive, onlyRebuilt,
                    error, explained);
        }

        public boolean equal() {
            return error == null && differentCount == 0 && onlyLive.isEmpty() && onlyRebuilt.isEmpty() && liveSessions > 0;
        }
    }

    /** Exit 0 only when every must-be-0 count is 0 and the digests match (stalls only miss a goal). */
    public boolean passed() {
        return findings.clean() && digests.equal();
    }

    public String render() {
        StringBuilder b = new StringBuilder();
        b.append("==================== gatehouse fleet chaos: summary ====================\n");
        line(b, "started", startedAt.toString());
        line(b, "load", ran.toSeconds() + " s (requested " + requested.toSeconds() + " s), " + clients + " pgjdbc clients, "
                + successes + " commands completed");
        b.append("faults (kill -9, then started again; all brokers: ").append(brokerStop).append("); down = until the restarted")
                .append(" processes were ready; clients back = every client completed a command after the injection; recovered =")
                .append(" processes ready and every client completed a command after that:\n");
        for (FaultResult f : faults) {
            b.append(String.format(Locale.ROOT, "  %-20s %-34s down %7s  clients back after %8s  recovered after %8s"
                            + "  longest stall %7s  %s%n",
                    f.name(), String.join(",", f.processes()), seconds(f.down()),
                    f.clientsBackAfter() == null ? "NOT" : seconds(f.clientsBackAfter()),
                    f.recoveredAfter() == null ? "NOT" : seconds(f.recoveredAfter()), seconds(f.longestStall()),
                    f.goalMet() ? "goal met (<= 15 s)" : "GOAL MISSED (> 15 s)"));
            if (f.note() != null) b.append("      ").append(f.note()).append('\n');
        }
        AuditLogCheck.Findings x = findings;
        b.append("target statement log vs audit log:\n");
        line(b, "  statements", x.clientStatements() + " of client sessions (apart: " + x.edgeSideStatements()
                + " of the edges' side connections, " + x.launcherStatements() + " of the launcher)");
        must(b, "  without earlier CommandReceived", x.withoutEarlierCommandReceived(), x.withoutEarlierCommandReceivedExamples());
        line(b, "  audit events read", x.events() + "; CommandReceived " + x.commandsReceived() + ", allowed " + x.allowed()
                + ", refused by the edge " + x.refusedByEdge() + ", without any decision " + x.undecided());
        must(b, "  forwarded without decision", x.forwardedWithoutDecision(), x.forwardedWithoutDecisionExamples());
        must(b, "  allowed, no CommandCompleted, no abort marker", x.allowedWithoutCompletion(), x.allowedWithoutCompletionExamples());
        line(b, "  allowed, no CommandCompleted, session sealed aborted", x.allowedEndedByAbort() + " (of " + x.abortedSessions()
                + " aborted sessions; marker: " + abortMarker + ")");
        b.append("client errors by kind:\n");
        if (clientErrors.isEmpty()) b.append("  none\n");
        clientErrors.forEach((k, v) -> b.append(String.format(Locale.ROOT, "  %-22s %6d  e.g. %s%n", k, v,
                abbreviate(clientErrorExamples.getOrDefault(k, "")))));
        b.append("indexer rebuilt from the log:\n");
        line(b, "  how", digests.how());
        if (digests.error() != null) {
            line(b, "  digests", "NOT COMPARED: " + digests.error());
        } else {
            line(b, "  digests", (digests.equal() ? "EQUAL" : "DIFFERENT") + " (" + digests.liveSessions() + " sessions live, "
                    + digests.rebuiltSessions() + " rebuilt, " + digests.differentCount() + " differ, " + digests.onlyLive().size()
                    + " only live, " + digests.onlyRebuilt().size() + " only rebuilt)");
            if (!digests.different().isEmpty()) line(b, "  differing", String.join(", ", digests.different()));
            for (String d : digests.differences()) b.append("    ").append(d.replace("\n", "\n    ")).append('\n');
            if (!digests.onlyLive().isEmpty()) line(b, "  only live", String.join(", ", digests.onlyLive()));
            if (!digests.onlyRebuilt().isEmpty()) line(b, "  only rebuilt", String.join(", ", digests.onlyRebuilt()));
        }
        b.append("role start times (until ready; first = fleet start, then each restart):\n");
        startTimes.forEach((name, times) -> b.append(String.format(Locale.ROOT, "  %-11s %s%n", name,
                String.join(" ", times.stream().map(ChaosSummary::seconds).toList()))));
        b.append("result: ").append(passed() ? "PASSED" : "FAILED")
                .append(passed() ? " (must-be-0 counts are 0, digests equal)" : " (a must-be-0 count is not 0, or the digests differ)");
        long missed = faults.stream().filter(f -> !f.goalMet()).count();
        b.append(missed == 0 ? "; stall goal met for every fault\n" : "; stall goal MISSED for " + missed + " fault(s)\n");
        b.append("=========================================================================\n");
        return b.toString();
    }

    /** Writes the summary as JSON. */
    public void write(Path file) {
        Map<String, Object> json = new LinkedHashMap<>();
        json.put("startedAt", startedAt.toString());
        json.put("requestedSeconds", requested.toSeconds());
        json.put("ranSeconds", ran.toMillis() / 1000.0);
        json.put("clients", clients);
        json.put("commandsCompleted", successes);
        json.put("brokerStop", brokerStop);
        json.put("faults", faults.stream().map(f -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", f.name());
            m.put("processes", f.processes());
            m.put("injectedAt", f.injectedAt().toString());
            m.put("downSeconds", f.down().toMillis() / 1000.0);
            m.put("clientsBackAfterSeconds", f.clientsBackAfter() == null ? null : f.clientsBackAfter().toMillis() / 1000.0);
            m.put("recoveredAfterSeconds", f.recoveredAfter() == null ? null : f.recoveredAfter().toMillis() / 1000.0);
            m.put("longestStallSeconds", f.longestStall().toMillis() / 1000.0);
            m.put("stallGoalMet", f.goalMet());
            m.put("note", f.note());
            return m;
        }).toList());
        json.put("auditCheck", findings);
        json.put("abortMarker", abortMarker);
        json.put("clientErrors", clientErrors);
        json.put("clientErrorExamples", clientErrorExamples);
        Map<String, Object> d = new LinkedHashMap<>();
        d.put("how", digests.how());
        d.put("equal", digests.equal());
        d.put("liveSessions", digests.liveSessions());
        d.put("rebuiltSessions", digests.rebuiltSessions());
        d.put("differentCount", digests.differentCount());
        d.put("different", digests.different());
        d.put("onlyLive", digests.onlyLive());
        d.put("onlyRebuilt", digests.onlyRebuilt());
        d.put("differences", digests.differences());
        d.put("error", digests.error());
        json.put("digests", d);
        Map<String, List<Double>> starts = new LinkedHashMap<>();
        startTimes.forEach((k, v) -> starts.put(k, v.stream().map(t -> t.toMillis() / 1000.0).toList()));
        json.put("roleStartSeconds", starts);
        json.put("passed", passed());
        try {
            Files.createDirectories(file.toAbsolutePath().getParent());
            new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValue(file.toFile(), json);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write the chaos summary to " + file + ": " + e.getMessage(), e);
        }
    }

    private static void line(StringBuilder b, String label, String value) {
        b.append(String.format(Locale.ROOT, "%-52s %s%n", label + ":", value));
    }

    private static void must(StringBuilder b, String label, long count, List<String> examples) {
        line(b, label, count + (count == 0 ? " (must be 0: ok)" : " (must be 0: VIOLATED)"));
        for (String e : examples) b.append("      ").append(e).append('\n');
    }

    static String seconds(Duration d) {
        return String.format(Locale.ROOT, "%.1f s", d.toMillis() / 1000.0);
    }

    private static String abbreviate(String s) {
        String one = s.replace('\n', ' ');
        return one.length() <= 90 ? one : one.substring(0, 87) + "...";
    }
}
