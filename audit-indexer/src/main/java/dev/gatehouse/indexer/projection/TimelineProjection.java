package dev.gatehouse.indexer.projection;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.Verdict;

import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The pure fold of {@code gatehouse.audit} into session timelines: one event at a time, in log
 * order, against a {@link TimelineWriter}. No I/O, no clock: the same events give the same
 * timelines, which is what makes a rebuild from the log reproduce them.
 *
 * <p>Rules: a session starts with SessionRequested, SessionOpened or its first command; commands
 * collect their decision, approval, outcome and result sample; SessionClosed closes it;
 * SessionRejected rejects it; a SessionSealed marks it sealed (the first one wins) and, with status
 * "aborted", marks a session that never closed as aborted at the seal's time. Events the fold does
 * not know (types added later) become plain event entries. Fleet events keyed by a
 * {@code system:} id are not sessions and are skipped.
 */
public final class TimelineProjection {

    /** The close reason of a session the indexer sealed as aborted; only log data in it. */
    public static String abortReason(String edgeId) {
        return "aborted: edge " + (edgeId == null ? "(unknown)" : edgeId) + " stopped reporting the session";
    }

    private static final Pattern DATABASE_NAME = Pattern.compile(
            "^\\s*(?:CREATE|DROP|ALTER)\\s+DATABASE\\s+(?:IF\\s+(?:NOT\\s+)?EXISTS\\s+)?(\"(?:[^\"]|\"\")+\"|[\\p{L}_][\\p{L}\\p{N}_$]*)",
            Pattern.CASE_INSENSITIVE);

    private TimelineProjection() {
    }

    /** Whether events of this session id are projected (fleet events keyed {@code system:...} are not). */
    public static boolean projects(AuditEvent event) {
        return !event.sessionId().isSystem();
    }

    /**
     * Folds one event.
     *
     * @param offset the event's offset in its partition (entries are ordered by it)
     */
    public static void apply(AuditEvent event, long offset, TimelineWriter timelines) {
        if (!projects(event)) return;
        String sessionId = event.sessionId().value();
        String at = iso(event.header().timestamp());
        switch (event) {
            case AuditEvent.SessionRequested r -> {
                SessionSummary s = origin(timelines, sessionId, at, r.edgeId(), r.clientAddress(), r.identity(), r.connection());
                timelines.putSession(s);
                timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, "SessionRequested",
                        who(r.identity()) + " asked to connect to " + connectionName(r.connection())
                                + (r.clientAddress() == null ? "" : " from " + r.clientAddress())));
            }
            case AuditEvent.SessionOpened o -> {
                SessionSummary s = origin(timelines, sessionId, at, o.header().instance(), o.clientAddress(), o.identity(),
                        o.connection());
                // the session's start is its opening, even when a request came first
                timelines.putSession(s.withOrigin(at, s.edgeId(), s.clientAddress(), s.identity(), s.connection()));
                timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, "SessionOpened",
                        who(o.identity()) + " opened a session on " + connectionName(o.connection())
                                + (o.clientAddress() == null ? "" : " from " + o.clientAddress())
                                + (o.databaseUser() == null ? "" : " as database user " + o.databaseUser())
                                + (o.tls() ? " (TLS)" : "")));
            }
            case AuditEvent.SessionRejected r -> {
                SessionSummary s = timelines.session(sessionId).orElse(SessionSummary.empty(sessionId, at));
                if (s.clientAddress() == null && r.clientAddress() != null) {
                    s = s.withOrigin(s.startedAt(), s.edgeId() == null ? r.header().instance() : s.edgeId(),
                            r.clientAddress(), s.identity(), s.connection() == null && r.connection() != null
                                    ? new SessionSummary.ConnectionInfo(r.connection(), null, null) : s.connection());
                }
                if (!s.sealed()) s = s.withStatus(SessionSummary.REJECTED, at, r.reason());
                timelines.putSession(s);
                timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, "SessionRejected",
                        "connection refused" + (r.subject() == null ? "" : " for " + r.subject())
                                + (r.sqlState() == null ? "" : " (" + r.sqlState() + ")") + ": " + r.reason()));
            }
            case AuditEvent.CommandReceived c -> command(timelines, c, at, offset);
            case AuditEvent.DecisionMade d -> decision(timelines, d, sessionId, at, offset);
            case AuditEvent.ApprovalRequested a -> {
                Optional<Entry.CommandEntry> cmd = timelines.command(sessionId, a.commandId().value());
                if (cmd.isPresent()) {
                    timelines.putCommand(sessionId, cmd.get().withApproval(new Entry.ApprovalInfo(a.approvalId(),
                            "requested", List.of(), null, a.reason(), iso(a.expiresAt()))));
                } else {
                    timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, "ApprovalRequested",
                            "approval " + a.approvalId() + " requested from " + (a.fromOriginator() ? a.channel() : a.approverGroup())));
                }
                ensureSession(timelines, sessionId, at);
            }
            case AuditEvent.ApprovalGranted g -> approval(timelines, sessionId, g.approvalId(), at, offset, "ApprovalGranted",
                    a -> new Entry.ApprovalInfo(a.approvalId(), "granted", g.approvers(), null, a.reason(), a.expiresAt()),
                    "approval " + g.approvalId() + " granted by " + String.join(", ", g.approvers()));
            case AuditEvent.ApprovalDenied d -> approval(timelines, sessionId, d.approvalId(), at, offset, "ApprovalDenied",
                    a -> new Entry.ApprovalInfo(a.approvalId(), "denied", a.approvers(), d.deniedBy(),
                            d.reason() == null ? a.reason() : d.reason(), a.expiresAt()),
                    "approval " + d.approvalId() + " denied by " + d.deniedBy() + (d.reason() == null ? "" : ": " + d.reason()));
            case AuditEvent.ApprovalExpired x -> approval(timelines, sessionId, x.approvalId(), at, offset, "ApprovalExpired",
                    a -> new Entry.ApprovalInfo(a.approvalId(), "expired", a.approvers(), null, a.reason(), a.expiresAt()),
                    "approval " + x.approvalId() + " expired");
            case AuditEvent.CommandCompleted c -> completed(timelines, c, sessionId, at, offset);
            case AuditEvent.ResultSampled r -> sampled(timelines, r, sessionId, at, offset);
            case AuditEvent.SessionClosed c -> {
                SessionSummary s = ensureSession(timelines, sessionId, at);
                if (!s.sealed() || SessionSummary.OPEN.equals(s.status())) {
                    timelines.putSession(s.withStatus(SessionSummary.CLOSED, at, c.reason()));
                }
                timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, "SessionClosed",
                        "session closed: " + c.reason() + " after " + c.commands() + " commands"
                                + (c.duration() == null ? "" : " in " + c.duration().toMillis() + " ms")));
            }
            case AuditEvent.SessionSealed s -> sealed(timelines, s, at, offset);
            default -> {
                ensureSession(timelines, sessionId, at);
                timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, event.getClass().getSimpleName(),
                        detail(event)));
            }
        }
    }

    private static void command(TimelineWriter timelines, AuditEvent.CommandReceived c, String at, long offset) {
        String sessionId = c.sessionId().value();
        SessionSummary s = timelines.session(sessionId).orElse(null);
        if (s == null || s.identity() == null) {
            s = origin(timelines, sessionId, iso(c.sessionStartedAt() == null ? c.header().timestamp() : c.sessionStartedAt()),
                    c.edgeId(), c.clientAddress(), c.identity(), c.connection());
        }
        SqlCommand cmd = c.command();
        if (timelines.commandStored(sessionId, cmd.id().value())) {
            timelines.putSession(s);
            return; // the same command written again (a producer retry): the first record stands
        }
        timelines.putSession(s.withCounts(s.commands() + 1, s.denied(), s.approvals(), s.masked()));
        List<Entry.StatementInfo> statements = new ArrayList<>();
        if (cmd.statements().isEmpty()) {
            // the text is the statement's own only when the command holds one statement
            String text = cmd.analysis().statements().size() == 1 ? cmd.sql() : null;
            for (StatementAnalysis st : cmd.analysis().statements()) statements.add(statement(st, text));
        } else {
            for (CommandStatement st : cmd.statements()) {
                Entry.StatementInfo analysed = statement(st.analysis(), st.sql());
                statements.add(new Entry.StatementInfo(analysed.kind(), analysed.objects(), st.step().name(), st.sql(),
                        st.statementName(), st.portalName(), st.parameters(), st.rowLimit(), st.continued(), st.via()));
            }
        }
        timelines.putCommand(sessionId, new Entry.CommandEntry(at, offset, cmd.sequence(), cmd.id().value(),
                iso(cmd.receivedAt()), cmd.sql(), cmd.parameters(), form(cmd.form()), cmd.protocol(), statements,
                c.refusal(), null, null, null, null));
    }

    /** What a statement does; {@code text} is its own SQL text, or null when not known. */
    private static Entry.StatementInfo statement(StatementAnalysis st, String text) {
        Set<String> objects = new LinkedHashSet<>(st.tablesWritten());
        objects.addAll(st.tablesRead());
        if (objects.isEmpty() && "DATABASE".equals(st.objectType()) && text != null) {
            // the analysis names no object for database DDL: take the name from the text
            Matcher m = DATABASE_NAME.matcher(text);
            if (m.find()) objects.add(unquote(m.group(1)));
        }
        String kind = st.tag() != null && !st.tag().isBlank()
                ? st.tag().trim().toUpperCase(Locale.ROOT).replace(' ', '_')
                : st.kind().name();
        return new Entry.StatementInfo(kind, List.copyOf(objects));
    }

    private static String unquote(String name) {
        if (name.startsWith("\"")) return name.substring(1, name.length() - 1).replace("\"\"", "\"");
        return name.toLowerCase(Locale.ROOT);
    }

    private static String form(SqlCommand.Form form) {
        return switch (form) {
            case SIMPLE_QUERY -> "simple";
            case EXTENDED -> "extended";
            case FUNCTION_CALL -> "function-call";
            case COPY -> "copy";
        };
    }

    private static void decision(TimelineWriter timelines, AuditEvent.DecisionMade d, String sessionId, String at, long offset) {
        Decision decision = d.decision();
        Optional<Entry.CommandEntry> found = timelines.command(sessionId, d.commandId().value());
        if (found.isEmpty()) {
            ensureSession(timelines, sessionId, at);
            timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, "DecisionMade",
                    "connection " + decision.verdict().label() + " by rule " + decision.ruleId()
                            + (decision.reason() == null ? "" : ": " + decision.reason())));
            return;
        }
        Entry.CommandEntry cmd = found.get();
        List<Entry.DryRunInfo> dryRun = d.dryRun().stream().map(v -> new Entry.DryRunInfo(v.ruleId(), v.verdict().label(),
                v.reason(), v.policyVersion(), v.staged())).toList();
        String maskProfile = decision instanceof Decision.Mask m ? m.profile() : null;
        Entry.DecisionInfo info = new Entry.DecisionInfo(decision.verdict().label(), decision.ruleId(), decision.reason(),
                decision.policyVersion(), at, dryRun, maskProfile);
        SessionSummary s = ensureSession(timelines, sessionId, at);
        // a decision may be written twice (at-least-once policy service): count each command once, by its latest verdict
        Verdict before = cmd.decision() == null ? null : Verdict.parse(cmd.decision().verdict());
        timelines.putSession(s.withCounts(s.commands(),
                s.denied() + delta(before, decision.verdict(), Verdict.DENY),
                s.approvals() + delta(before, decision.verdict(), Verdict.REQUIRE_APPROVAL),
                s.masked() + delta(before, decision.verdict(), Verdict.MASK)));
        timelines.putCommand(sessionId, cmd.withDecision(info));
    }

    private static long delta(Verdict before, Verdict after, Verdict counted) {
        return (after == counted ? 1 : 0) - (before == counted ? 1 : 0);
    }

    private static void approval(TimelineWriter timelines, String sessionId, String approvalId, String at, long offset,
                                 String type, java.util.function.UnaryOperator<Entry.ApprovalInfo> change, String detail) {
        ensureSession(timelines, sessionId, at);
        Optional<Entry.CommandEntry> cmd = timelines.commandByApproval(sessionId, approvalId);
        if (cmd.isPresent()) {
            timelines.putCommand(sessionId, cmd.get().withApproval(change.apply(cmd.get().approval())));
        } else {
            timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, type, detail));
        }
    }

    private static void completed(TimelineWriter timelines, AuditEvent.CommandCompleted c, String sessionId, String at, long offset) {
        // a one-chunk sample travels inside the CommandCompleted: the same as its ResultSampled just before
        if (c.sample() != null) sampled(timelines, c.sample(), sessionId, at, offset);
        Optional<Entry.CommandEntry> cmd = timelines.command(sessionId, c.commandId().value());
        AuditEvent.Outcome o = c.outcome();
        if (cmd.isEmpty()) {
            ensureSession(timelines, sessionId, at);
            timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, "CommandCompleted",
                    "command " + c.commandId() + " completed without a recorded command: " + outcomeText(o)));
            return;
        }
        Entry.MaskingInfo masking = o.masking() == null ? null
                : new Entry.MaskingInfo(o.masking().profile(), o.masking().values(), o.masking().columns(), o.masking().detectors());
        timelines.putCommand(sessionId, cmd.get().withOutcome(new Entry.OutcomeInfo(o.forwarded(), o.commandTags(), o.rows(),
                o.sqlState(), o.errorMessage(), o.duration() == null ? 0 : o.duration().toNanos() / 1000, at, masking,
                o.statementsRun() < 0 ? null : o.statementsRun())));
    }

    /** Chunks of a result sample, in order: columns from the first, rows appended, totals from the latest. */
    private static void sampled(TimelineWriter timelines, AuditEvent.ResultSampled r, String sessionId, String at, long offset) {
        Optional<Entry.CommandEntry> cmd = timelines.command(sessionId, r.commandId().value());
        if (cmd.isEmpty()) {
            ensureSession(timelines, sessionId, at);
            timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, "ResultSampled",
                    "result sample chunk " + r.chunk() + " of command " + r.commandId() + " without a recorded command"));
            return;
        }
        Entry.SampleInfo before = r.chunk() == 0 ? null : cmd.get().sample();
        List<List<String>> rows = new ArrayList<>(before == null ? List.of() : before.rows());
        rows.addAll(r.rows());
        List<String> columns = before == null || before.columns().isEmpty() ? r.columns() : before.columns();
        timelines.putCommand(sessionId, cmd.get().withSample(new Entry.SampleInfo(columns, rows, r.truncated(),
                r.rowsCaptured(), r.bytesCaptured(), r.masked())));
    }

    private static String outcomeText(AuditEvent.Outcome o) {
        return (o.forwarded() ? "forwarded" : "not forwarded") + ", " + o.rows() + " rows"
                + (o.sqlState() == null ? "" : ", error " + o.sqlState() + " " + o.errorMessage());
    }

    private static void sealed(TimelineWriter timelines, AuditEvent.SessionSealed seal, String at, long offset) {
        String sessionId = seal.sessionId().value();
        SessionSummary s = ensureSession(timelines, sessionId, at);
        boolean first = !s.sealed();
        if (first) {
            SessionSummary next = s.withSealed(true);
            if (SessionSummary.ABORTED.equals(seal.status()) && !SessionSummary.CLOSED.equals(s.status())
                    && !SessionSummary.REJECTED.equals(s.status())) {
                next = next.withStatus(SessionSummary.ABORTED, at, abortReason(s.edgeId()));
            }
            timelines.putSession(next);
        }
        timelines.addEvent(sessionId, new Entry.EventEntry(at, offset, "SessionSealed",
                (first ? "sealed " : "sealed again (ignored) ") + seal.status() + ": " + seal.events() + " events, chain head "
                        + seal.chainHead() + ", key " + seal.keyId()));
    }

    private static SessionSummary ensureSession(TimelineWriter timelines, String sessionId, String at) {
        Optional<SessionSummary> s = timelines.session(sessionId);
        if (s.isPresent()) return s.get();
        SessionSummary created = SessionSummary.empty(sessionId, at);
        timelines.putSession(created);
        return created;
    }

    private static SessionSummary origin(TimelineWriter timelines, String sessionId, String at, String edgeId,
                                         String clientAddress, Identity identity, ConnectionRef connection) {
        SessionSummary s = timelines.session(sessionId).orElse(SessionSummary.empty(sessionId, at));
        return s.withOrigin(s.startedAt() == null ? at : s.startedAt(), edgeId == null ? s.edgeId() : edgeId,
                clientAddress == null ? s.clientAddress() : clientAddress,
                identity == null ? s.identity() : identity(identity),
                connection == null ? s.connection() : connection(connection));
    }

    static SessionSummary.IdentityInfo identity(Identity identity) {
        CiProvenance ci = identity.ci();
        SessionSummary.CiInfo info = ci == null ? null : new SessionSummary.CiInfo(ci.system(), ci.repository(),
                ci.commitSha(), ci.ref(), ci.workflow(), ci.runId(), runUrl(ci), ci.job(), ci.actor());
        Delegation d = identity.delegation();
        SessionSummary.DelegationInfo delegation = d == null ? null : new SessionSummary.DelegationInfo(d.originator(),
                d.originatorIssuer(), d.originatorGroups(), d.earlierActors(), d.via());
        DeclaredIntent i = identity.intent();
        SessionSummary.IntentInfo intent = i == null ? null
                : new SessionSummary.IntentInfo(i.runId(), i.stepId(), i.verified(), i.source(), i.describe());
        return new SessionSummary.IdentityInfo(identity.subject(), identity.issuer(), identity.groups(), info, delegation,
                intent);
    }

    private static String runUrl(CiProvenance ci) {
        if ("github-actions".equals(ci.system()) && ci.repository() != null && ci.runId() != null) {
            return "https://github.com/" + ci.repository() + "/actions/runs/" + ci.runId();
        }
        return null;
    }

    static SessionSummary.ConnectionInfo connection(ConnectionRef ref) {
        String database = null;
        if (ref.target() != null) {
            int slash = ref.target().indexOf('/');
            if (slash >= 0 && slash < ref.target().length() - 1) database = ref.target().substring(slash + 1);
        }
        return new SessionSummary.ConnectionInfo(ref.name(), database, ref.protocol());
    }

    /**
     * Who acted, for an event's text: the subject, in a delegated session "planner-agent for alice"
     * (earlier actors named "via"), with CI provenance and a declared intent (marked unverified
     * when the client declared it).
     */
    private static String who(Identity identity) {
        if (identity == null) return "a client";
        String ci = identity.ci() == null || identity.ci().repository() == null ? ""
                : " (" + identity.ci().repository() + (identity.ci().commitSha() == null ? "" : "@" + identity.ci().commitSha()) + ")";
        Delegation d = identity.delegation();
        String chain = d == null ? "" : " for " + d.originator()
                + (d.earlierActors().isEmpty() ? "" : " via " + String.join(", ", d.earlierActors()));
        String intent = identity.intent() == null ? "" : " [" + identity.intent().describe() + "]";
        return identity.subject() + chain + ci + intent;
    }

    private static String connectionName(ConnectionRef ref) {
        return ref == null ? "an unknown connection" : ref.name();
    }

    private static String detail(AuditEvent event) {
        return switch (event) {
            case AuditEvent.ProtocolViolation v -> v.protocol() + " protocol violation"
                    + (v.clientAddress() == null ? "" : " from " + v.clientAddress()) + ": " + v.detail();
            case AuditEvent.CancelRequested c -> "cancel requested" + (c.clientAddress() == null ? "" : " from " + c.clientAddress())
                    + (c.matched() ? "" : " (no matching command)");
            case AuditEvent.AccessRevoked r -> (r.lifted() ? "revocation lifted for " : "access revoked for ") + r.selectorType()
                    + " " + r.selectorValue() + " by " + r.revokedBy() + (r.reason() == null ? "" : ": " + r.reason());
            case AuditEvent.PolicyActivated p -> "policy " + p.policyId() + " version " + p.version() + " activated by " + p.appliedBy();
            default -> event.getClass().getSimpleName() + " from " + event.header().service() + " " + event.header().instance();
        };
    }

    static String iso(Instant instant) {
        return instant == null ? null : instant.toString();
    }
}
