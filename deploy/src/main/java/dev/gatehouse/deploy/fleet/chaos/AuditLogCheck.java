package dev.gatehouse.deploy.fleet.chaos;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.Decision;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks the audit log against the target's own statement log: a fold of the audit events that keeps
 * only what the checks need (a command's id, session, time and texts; whether it was allowed,
 * completed, forwarded; which sessions the indexer sealed as aborted), then {@link #check}.
 *
 * <p>The checks:
 * <ul>
 *   <li>every statement a client session ran on the target has an earlier {@code CommandReceived}
 *       with the same text (the simple Query's whole text, or one of the command's statements for an
 *       extended-protocol Execute); each {@code CommandReceived} text vouches for one execution;</li>
 *   <li>no command ran without an allowing decision: neither one found in the target's log, nor one
 *       whose {@code CommandCompleted} says it was forwarded;</li>
 *   <li>every allowed command has a {@code CommandCompleted}, or its session was sealed
 *       {@code aborted} by the indexer ({@code SessionSealed} with status "aborted": the indexer role
 *       writes it after marking the session aborted in its store, when the session's edge stopped
 *       reporting it in {@code gatehouse.sessions}); those are counted apart, never hidden.</li>
 * </ul>
 * Not thread-safe.
 */
public final class AuditLogCheck {

    /** How much later than its CommandReceived a statement may be logged and still not be "earlier" (the csvlog's ms). */
    static final Duration LOG_TIME_PRECISION = Duration.ofMillis(1);
    private static final int EXAMPLES = 10;

    private record Received(String commandId, String sessionId, Instant at, boolean refused, List<String> texts) {
    }

    private final Map<String, Received> received = new HashMap<>();
    private final Set<String> allowed = new HashSet<>();
    private final Set<String> decided = new HashSet<>();
    private final Map<String, Boolean> completedForwarded = new HashMap<>();
    private final Set<String> abortedSessions = new HashSet<>();
    private final Set<String> closedSessions = new HashSet<>();
    private long events;

    /**
     * What the checks found.
     *
     * @param clientStatements                 statements of client sessions the target ran
     * @param withoutEarlierCommandReceived    of those, how many no earlier CommandReceived with the same text vouches for (must be 0)
     * @param commandsReceived                 CommandReceived events in the log
     * @param refusedByEdge                    of those, refused by the edge itself (no decision asked)
     * @param allowed                          commands with an allowing decision (allow or mask)
     * @param undecided                        commands (not refused) without any decision
     * @param forwardedWithoutDecision         commands that ran (on the target's log or per their CommandCompleted) without an allowing decision (must be 0)
     * @param allowedWithoutCompletion         allowed commands with neither a CommandCompleted nor an aborted-session marker (must be 0)
     * @param allowedEndedByAbort              allowed commands without a CommandCompleted whose session the indexer sealed aborted
     * @param abortedSessions                  sessions sealed with status aborted
     */
    public record Findings(long events, long clientStatements, long edgeSideStatements, long launcherStatements,
                           long withoutEarlierCommandReceived, List<String> withoutEarlierCommandReceivedExamples,
                           long commandsReceived, long refusedByEdge, long allowed, long undecided,
                           long forwardedWithoutDecision, List<String> forwardedWithoutDecisionExamples,
                           long allowedWithoutCompletion, List<String> allowedWithoutCompletionExamples,
                           long allowedEndedByAbort, long abortedSessions) {
        public Findings {
            withoutEarlierCommandReceivedExamples = List.copyOf(withoutEarlierCommandReceivedExamples);
            forwardedWithoutDecisionExamples = List.copyOf(forwardedWithoutDecisionExamples);
            allowedWithoutCompletionExamples = List.copyOf(allowedWithoutCompletionExamples);
        }

        /** Whether every must-be-0 count is 0. */
        public boolean clean() {
            return withoutEarlierCommandReceived == 0 && forwardedWithoutDecision == 0 && allowedWithoutCompletion == 0;
        }
    }

    /** Folds one audit event (in log order per session; across sessions any order). */
    public void accept(AuditEvent event) {
        events++;
        switch (event) {
            case AuditEvent.CommandReceived c -> {
                LinkedHashSet<String> texts = new LinkedHashSet<>();
                texts.add(c.command().sql());
                for (CommandStatement s : c.command().statements()) texts.add(s.sql());
                String id = c.command().id().value();
                received.put(id, new Received(id, c.sessionId().value(), c.header().timestamp(), c.refusal() != null,
                        List.copyOf(texts)));
            }
            case AuditEvent.DecisionMade d -> {
                decided.add(d.commandId().value());
                if (d.decision() instanceof Decision.Allow || d.decision() instanceof Decision.Mask) {
                    allowed.add(d.commandId().value());
                }
            }
            case AuditEvent.CommandCompleted c -> {
                if (c.commandId() != null) completedForwarded.merge(c.commandId().value(), c.outcome().forwarded(), Boolean::logicalOr);
            }
            case AuditEvent.SessionSealed s -> {
                if ("aborted".equals(s.status())) abortedSessions.add(s.sealedSessionId());
            }
            case AuditEvent.SessionClosed c -> closedSessions.add(c.sessionId().value());
            default -> {
            }
        }
    }

    /** Runs the checks against the target's statements (all origins; only client ones are checked). */
    public Findings check(List<TargetStatementLog.Statement> targetStatements) {
        Map<String, List<Received>> byText = new HashMap<>();
        for (Received r : received.values()) {
            for (String text : r.texts()) byText.computeIfAbsent(text, k -> new ArrayList<>()).add(r);
        }
        for (List<Received> list : byText.values()) list.sort(Comparator.comparing(Received::at));
        Map<String, Integer> consumed = new HashMap<>();

        List<TargetStatementLog.Statement> sorted = new ArrayList<>(targetStatements);
        sorted.sort(Comparator.comparing(TargetStatementLog.Statement::at).thenComparing(TargetStatementLog.Statement::line));
        long client = 0, edgeSide = 0, launcher = 0, unvouched = 0;
        List<String> unvouchedExamples = new ArrayList<>();
        Set<String> ranOnTarget = new HashSet<>();
        for (TargetStatementLog.Statement s : sorted) {
            switch (TargetStatementLog.origin(s)) {
                case LAUNCHER -> launcher++;
                case EDGE_SIDE -> edgeSide++;
                case CLIENT -> {
                    client++;
                    Received match = null;
                    List<Received> candidates = byText.getOrDefault(s.sql(), List.of());
                    int from = consumed.getOrDefault(s.sql(), 0);
                    if (from < candidates.size() && !candidates.get(from).at().isAfter(s.at().plus(LOG_TIME_PRECISION))) {
                        match = candidates.get(from);
                        consumed.put(s.sql(), from + 1);
                    }
                    if (match == null) {
                        unvouched++;
                        if (unvouchedExamples.size() < EXAMPLES) {
                            unvouchedExamples.add(s.at() + " pid " + s.pid() + " app '" + s.applicationName() + "': " + abbreviate(s.sql()));
                        }
                    } else {
                        ranOnTarget.add(match.commandId());
                    }
                }
            }
        }

        long refused = 0, allowedCount = 0, undecided = 0, withoutDecision = 0, withoutCompletion = 0, endedByAbort = 0;
        List<String> withoutDecisionExamples = new ArrayList<>();
        List<String> withoutCompletionExamples = new ArrayList<>();
        for (Received r : received.values()) {
            if (r.refused()) refused++;
            boolean isAllowed = allowed.contains(r.commandId());
            if (isAllowed) allowedCount++;
            if (!r.refused() && !decided.contains(r.commandId())) undecided++;
            boolean ran = ranOnTarget.contains(r.commandId()) || Boolean.TRUE.equals(completedForwarded.get(r.commandId()));
            if (ran && !isAllowed) {
                withoutDecision++;
                if (withoutDecisionExamples.size() < EXAMPLES) withoutDecisionExamples.add(describe(r));
            }
            if (isAllowed && !completedForwarded.containsKey(r.commandId())) {
                if (abortedSessions.contains(r.sessionId())) {
                    endedByAbort++;
                } else {
                    withoutCompletion++;
                    if (withoutCompletionExamples.size() < EXAMPLES) {
                        withoutCompletionExamples.add(describe(r) + (closedSessions.contains(r.sessionId())
                                ? " (session closed)" : " (session neither closed nor sealed aborted)"));
                    }
                }
            }
        }
        return new Findings(events, client, edgeSide, launcher, unvouched, unvouchedExamples, received.size(), refused,
                allowedCount, undecided, withoutDecision, withoutDecisionExamples, withoutCompletion, withoutCompletionExamples,
                endedByAbort, abortedSessions.size());
    }

    private static String describe(Received r) {
        return "command " + r.commandId() + " session " + r.sessionId() + " at " + r.at() + ": " + abbreviate(r.texts().getFirst());
    }

    private static String abbreviate(String sql) {
        String oneLine = sql.replace('\n', ' ');
        return oneLine.length() <= 120 ? oneLine : oneLine.substring(0, 117) + "...";
    }
}
