package dev.gatehouse.indexer.ocsf;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import dev.gatehouse.platform.core.StatementKind;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * Maps Gatehouse audit events to OCSF {@value #OCSF_VERSION} events (Jackson trees); the field-by-field
 * mapping is documented in {@code docs/siem.md}.
 *
 * <ul>
 *   <li>Datastore Activity (6005): one per command, emitted once its outcome is known: on its
 *       {@code CommandCompleted}, or at once on an enforced {@code deny} decision (a later completion of
 *       that command is then ignored). A command the edge refused itself ({@code refusal}; no decision
 *       follows) is Denied and Blocked, "refused by gatehouse: ...", emitted on its completion. A command whose outcome never arrives is emitted with status
 *       Unknown when it is evicted ({@link Settings#maxPendingCommands}) or older than
 *       {@link Settings#maxPendingAge} (measured in event time).</li>
 *   <li>Authentication (3002): SessionOpened (Logon, Success), SessionRejected (Logon, Failure),
 *       SessionClosed (Logoff).</li>
 *   <li>Everything else (policy activations, revocations, protocol violations, cancel requests, connect
 *       requests, approval events on their own) is not emitted; approvals are folded into their
 *       command's 6005 event.</li>
 * </ul>
 *
 * <p>Holds per-session and per-command state: use one instance per source partition (a session's
 * events are all in one partition). Not thread-safe.
 */
public final class OcsfMapper {

    private static final Logger LOGGER = LoggerFactory.getLogger(OcsfMapper.class);

    /** The OCSF schema version every event conforms to ({@code metadata.version}). */
    public static final String OCSF_VERSION = "1.8.0";
    /** Datastore Activity. */
    public static final int DATASTORE_ACTIVITY = 6005;
    /** Authentication. */
    public static final int AUTHENTICATION = 3002;
    /** The OCSF profile whose attributes (disposition, action, policy) the events use. */
    public static final String SECURITY_CONTROL = "security_control";

    private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

    /**
     * How the mapper is bounded and how it names the product.
     *
     * @param vendorName         {@code metadata.product.vendor_name}
     * @param productVersion     {@code metadata.product.version}, or null
     * @param maxPendingCommands commands awaiting their outcome kept at most; the oldest is emitted
     *                           with status Unknown when more arrive
     * @param maxPendingAge      a command still without outcome this long (event time) after it was
     *                           received is emitted with status Unknown
     * @param maxSessions        sessions whose identity is remembered for their Logoff event
     */
    public record Settings(String vendorName, String productVersion, int maxPendingCommands, Duration maxPendingAge,
                           int maxSessions) {
        public Settings {
            Objects.requireNonNull(vendorName, "vendorName");
            Objects.requireNonNull(maxPendingAge, "maxPendingAge");
            if (maxPendingCommands < 1) throw new IllegalArgumentException("maxPendingCommands must be >= 1, was " + maxPendingCommands);
            if (maxSessions < 1) throw new IllegalArgumentException("maxSessions must be >= 1, was " + maxSessions);
            if (maxPendingAge.isNegative() || maxPendingAge.isZero()) {
                throw new IllegalArgumentException("maxPendingAge must be positive, was " + maxPendingAge);
            }
        }

        /** Vendor "Gatehouse", 10,000 pending commands, 15 minutes, 100,000 sessions. */
        public static Settings defaults() {
            return new Settings("Gatehouse", null, 10_000, Duration.ofMinutes(15), 100_000);
        }
    }

    /** A command between its CommandReceived and its outcome. */
    private static final class Pending {
        final AuditEvent.CommandReceived received;
        final long sourceOffset;
        AuditEvent.DecisionMade decision;
        String approvalId;
        String approvalState;
        List<String> approvers = List.of();
        String approvalDeniedBy;
        String approvalReason;

        Pending(AuditEvent.CommandReceived received, long sourceOffset) {
            this.received = received;
            this.sourceOffset = sourceOffset;
        }
    }

    private final Settings settings;
    /** By command id, in arrival order (so the first is the oldest). */
    private final LinkedHashMap<String, Pending> pending = new LinkedHashMap<>();
    private final Map<String, String> commandByApproval = new HashMap<>();
    /** Identity and client address of open sessions, least recently used first. */
    private final LinkedHashMap<String, AuditEvent.SessionOpened> sessions = new LinkedHashMap<>(16, 0.75f, true);
    /**
     * The parts of a session's command events that come from what every command of the session
     * carries alike (identity, target, client), built once per session and shared by its events;
     * least recently used first, at most {@link Settings#maxSessions()}.
     */
    private final LinkedHashMap<String, SessionParts> commandParts = new LinkedHashMap<>(16, 0.75f, true);

    /** What {@link #commandParts} holds for one session, with the values they were built from. */
    private record SessionParts(Identity identity, ConnectionRef connection, String clientAddress, Instant startedAt,
                                ObjectNode actor, ObjectNode source, ObjectNode destination, ObjectNode database) {
        boolean builtFrom(AuditEvent.CommandReceived r) {
            return Objects.equals(identity, r.identity()) && Objects.equals(connection, r.connection())
                    && Objects.equals(clientAddress, r.clientAddress()) && Objects.equals(startedAt, r.sessionStartedAt());
        }
    }

    public OcsfMapper(Settings settings) {
        this.settings = Objects.requireNonNull(settings, "settings");
    }

    /**
     * Folds one event in and returns the OCSF events it completes (none, one, or several when
     * pending commands age out).
     *
     * <p>The events of one session share their actor, endpoints and database nodes: serialize the
     * events, do not change them.
     *
     * @param sourceOffset the event's offset in its partition, kept with pending commands (see
     *                     {@link #oldestPendingOffset()})
     */
    public List<ObjectNode> map(AuditEvent event, long sourceOffset) {
        Objects.requireNonNull(event, "event");
        List<ObjectNode> out = new ArrayList<>();
        expire(event.header().timestamp(), out);
        switch (event) {
            case AuditEvent.SessionOpened e -> {
                sessions.put(e.sessionId().value(), e);
                while (sessions.size() > settings.maxSessions()) removeEldest(sessions);
                out.add(logon(e));
            }
            case AuditEvent.SessionRejected e -> out.add(rejected(e));
            case AuditEvent.SessionClosed e -> {
                out.add(logoff(e, sessions.remove(e.sessionId().value())));
                commandParts.remove(e.sessionId().value());
            }
            case AuditEvent.CommandReceived e -> {
                pending.put(e.command().id().value(), new Pending(e, sourceOffset));
                while (pending.size() > settings.maxPendingCommands()) {
                    Pending eldest = removeEldest(pending);
                    LOGGER.warn("OCSF mapper evicts a command without outcome session={} command={} pending={}",
                            eldest.received.sessionId(), eldest.received.command().id(), settings.maxPendingCommands());
                    out.add(datastore(eldest, null, event.header().timestamp(),
                            "no outcome seen before " + settings.maxPendingCommands() + " newer commands"));
                }
            }
            case AuditEvent.DecisionMade e -> {
                Pending p = pending.get(e.commandId().value());
                if (p != null) {
                    p.decision = e;
                    if (e.decision() instanceof Decision.Deny && !AuditEvent.observeMode(e.mode())) {
                        pending.remove(e.commandId().value());
                        out.add(datastore(p, null, e.header().timestamp(), null));
                    }
                }
            }
            case AuditEvent.ApprovalRequested e -> {
                Pending p = pending.get(e.commandId().value());
                if (p != null) {
                    p.approvalId = e.approvalId();
                    p.approvalState = "requested";
                    commandByApproval.put(e.approvalId(), e.commandId().value());
                }
            }
            case AuditEvent.ApprovalGranted e -> approval(e.approvalId(), p -> {
                p.approvalState = "granted";
                p.approvers = e.approvers();
            });
            case AuditEvent.ApprovalDenied e -> approval(e.approvalId(), p -> {
                p.approvalState = "denied";
                p.approvalDeniedBy = e.deniedBy();
                p.approvalReason = e.reason();
            });
            case AuditEvent.ApprovalExpired e -> approval(e.approvalId(), p -> p.approvalState = "expired");
            case AuditEvent.CommandCompleted e -> {
                Pending p = pending.remove(e.commandId().value());
                if (p == null) {
                    LOGGER.debug("OCSF mapper ignores a completion of an unknown or already emitted command session={} command={}",
                            e.sessionId(), e.commandId());
                } else {
                    out.add(datastore(p, e, e.header().timestamp(), null));
                }
            }
            default -> {
                // not exported: see the class comment and docs/siem.md
            }
        }
        return out;
    }

    /** The source offset of the oldest command still awaiting its outcome, if any: commit no further. */
    public OptionalLong oldestPendingOffset() {
        return pending.values().stream().mapToLong(p -> p.sourceOffset).min();
    }

    /** Commands awaiting their outcome. */
    public int pendingCommands() {
        return pending.size();
    }

    private void approval(String approvalId, java.util.function.Consumer<Pending> update) {
        String command = commandByApproval.get(approvalId);
        Pending p = command == null ? null : pending.get(command);
        if (p != null) update.accept(p);
    }

    private void expire(Instant now, List<ObjectNode> out) {
        Instant limit = now.minus(settings.maxPendingAge());
        for (Iterator<Pending> it = pending.values().iterator(); it.hasNext(); ) {
            Pending p = it.next();
            if (!p.received.header().timestamp().isBefore(limit)) continue;
            it.remove();
            if (p.approvalId != null) commandByApproval.remove(p.approvalId);
            LOGGER.info("OCSF mapper emits a command without outcome session={} command={} maxPendingAge={}",
                    p.received.sessionId(), p.received.command().id(), settings.maxPendingAge());
            out.add(datastore(p, null, now, "no outcome recorded within " + settings.maxPendingAge()));
        }
    }

    private static <V> V removeEldest(LinkedHashMap<String, V> map) {
        Iterator<Map.Entry<String, V>> it = map.entrySet().iterator();
        V value = it.next().getValue();
        it.remove();
        return value;
    }

    // ---- Datastore Activity (6005) ----

    private ObjectNode datastore(Pending p, AuditEvent.CommandCompleted completed, Instant emittedAt, String unknownWhy) {
        if (p.approvalId != null) commandByApproval.remove(p.approvalId);
        AuditEvent.CommandReceived r = p.received;
        SqlCommand command = r.command();
        Activity activity = activity(command);
        Instant received = command.receivedAt() != null ? command.receivedAt() : r.header().timestamp();
        ObjectNode e = base(6, "Application Activity", DATASTORE_ACTIVITY, "Datastore Activity",
                activity.id, activity.name, received, command.id().value(), r);

        Decision decision = p.decision == null ? null : p.decision.decision();
        String mode = p.decision != null ? p.decision.mode() : r.mode();
        Outcome outcome = r.refusal() != null ? refused(r.refusal(), completed, unknownWhy)
                : outcome(p, decision, mode, completed, unknownWhy);
        e.put("severity_id", outcome.severity).put("severity", SEVERITIES[outcome.severity]);
        e.put("status_id", outcome.status).put("status", STATUSES[outcome.status]);
        if (outcome.statusCode != null) e.put("status_code", outcome.statusCode);
        if (outcome.statusDetail != null) e.put("status_detail", outcome.statusDetail);
        e.put("action_id", outcome.action).put("action", ACTIONS.get(outcome.action));
        e.put("disposition_id", outcome.disposition).put("disposition", DISPOSITIONS.get(outcome.disposition));
        e.put("is_alert", outcome.alert);
        e.put("message", outcome.message + ": " + abbreviate(command.sql(), 200));

        e.put("start_time", received.toEpochMilli());
        if (completed != null) {
            e.put("end_time", completed.header().timestamp().toEpochMilli());
            if (completed.outcome().duration() != null) e.put("duration", completed.outcome().duration().toMillis());
        }

        SessionParts parts = sessionParts(r);
        e.set("actor", parts.actor());
        if (r.identity() != null) {
            ci(e, r.identity());
            delegation(e, r.identity());
        }
        e.set("src_endpoint", parts.source());
        e.set("dst_endpoint", parts.destination());
        e.put("type_id", 1).put("type", "Database");
        e.set("database", parts.database());
        String table = firstTable(command);
        if (table != null) e.set("table", JSON.objectNode().put("name", table));

        ObjectNode query = e.putObject("query_info");
        query.put("uid", command.id().value()).put("query_string", command.sql()).put("query_time", received.toEpochMilli());
        if (!command.analysis().tags().isEmpty()) query.put("name", String.join(", ", command.analysis().tags()));

        if (decision != null) {
            ObjectNode policy = e.putObject("policy");
            policy.put("uid", decision.ruleId()).put("name", decision.ruleId());
            if (decision.policyVersion() != null) policy.put("version", decision.policyVersion());
            if (decision.reason() != null) policy.put("desc", decision.reason());
            policy.put("is_applied", !AuditEvent.observeMode(mode));
        }

        ObjectNode g = gatehouse(e, r.sessionId().value());
        g.put("command_sequence", command.sequence()).put("form", command.form().name().toLowerCase(Locale.ROOT))
                .put("protocol", command.protocol()).put("parameters", command.parameters().size());
        if (r.refusal() != null) g.put("refusal", r.refusal());
        if (r.edgeId() != null) g.put("edge_id", r.edgeId());
        if (mode != null) g.put("mode", mode);
        if (decision != null) {
            g.put("verdict", decision.verdict().label());
            if (decision instanceof Decision.Mask m && m.profile() != null) g.put("mask_profile", m.profile());
            if (!p.decision.dryRun().isEmpty()) {
                ArrayNode dry = g.putArray("dry_run");
                p.decision.dryRun().forEach(d -> dry.addObject().put("rule", d.ruleId()).put("verdict", d.verdict().label())
                        .put("staged", d.staged()));
            }
        }
        ArrayNode statements = g.putArray("statements");
        if (command.statements().isEmpty()) {
            command.analysis().statements().forEach(s -> analysis(statements.addObject(), s));
        } else {
            for (CommandStatement s : command.statements()) {
                ObjectNode st = analysis(statements.addObject(), s.analysis());
                st.put("step", s.step().name().toLowerCase(Locale.ROOT)).put("sql", s.sql());
                if (s.statementName() != null) st.put("statement_name", s.statementName());
                if (s.portalName() != null) st.put("portal_name", s.portalName());
                st.put("parameters", s.parameters().size());
                if (s.parametersDigest() != null) st.put("parameters_digest", s.parametersDigest());
                if (s.rowLimit() != 0) st.put("row_limit", s.rowLimit());
                if (s.continued()) st.put("continued", true);
                if (s.via() != null) st.put("via", s.via());
            }
        }
        if (p.approvalId != null) {
            ObjectNode a = g.putObject("approval").put("id", p.approvalId).put("state", p.approvalState);
            if (!p.approvers.isEmpty()) a.set("approvers", strings(p.approvers));
            if (p.approvalDeniedBy != null) a.put("denied_by", p.approvalDeniedBy);
            if (p.approvalReason != null) a.put("reason", p.approvalReason);
        }
        if (completed != null) {
            AuditEvent.Outcome o = completed.outcome();
            g.put("forwarded", o.forwarded()).put("rows", o.rows());
            if (o.statementsRun() >= 0) g.put("statements_run", o.statementsRun());
            if (!o.commandTags().isEmpty()) g.set("command_tags", strings(o.commandTags()));
            if (o.masking() != null) {
                g.putObject("masking").put("profile", o.masking().profile()).put("values", o.masking().values());
            }
        }
        return e;
    }

    /** The session's shared parts for {@code r}, built again when what they come from changed. */
    private SessionParts sessionParts(AuditEvent.CommandReceived r) {
        String sessionId = r.sessionId().value();
        SessionParts parts = commandParts.get(sessionId);
        if (parts != null && parts.builtFrom(r)) return parts;
        ObjectNode actor = r.identity() != null ? actor(r.identity(), sessionId, r.sessionStartedAt())
                : JSON.objectNode().set("session", JSON.objectNode().put("uid", sessionId));
        parts = new SessionParts(r.identity(), r.connection(), r.clientAddress(), r.sessionStartedAt(), actor,
                source(r.clientAddress()), destination(r.connection()), database(r.connection()));
        commandParts.put(sessionId, parts);
        while (commandParts.size() > settings.maxSessions()) removeEldest(commandParts);
        return parts;
    }

    /** One statement's analysis into {@code st}: tag, kind, objects, and what makes it opaque. */
    private static ObjectNode analysis(ObjectNode st, StatementAnalysis s) {
        st.put("tag", s.tag()).put("kind", s.kind().name());
        if (s.objectType() != null) st.put("object_type", s.objectType());
        if (!s.tablesRead().isEmpty()) st.set("tables_read", strings(s.tablesRead()));
        if (!s.tablesWritten().isEmpty()) st.set("tables_written", strings(s.tablesWritten()));
        if (s.runsCode()) st.put("runs_code", true);
        if (s.uncertain()) st.put("uncertain", true);
        if (!s.uncertainty().isEmpty()) st.set("uncertainty", strings(s.uncertainty()));
        if (!s.settings().isEmpty()) st.set("settings", strings(s.settings()));
        return st;
    }

    private record Activity(int id, String name) {
    }

    /** The activity of the command's first statement that is not transaction control. */
    static Activity activity(SqlCommand command) {
        for (StatementAnalysis s : command.analysis().statements()) {
            if (s.kind() == StatementKind.TRANSACTION) continue;
            String tag = s.tag() == null ? "" : s.tag().toUpperCase(Locale.ROOT);
            if (tag.startsWith("CREATE")) return new Activity(6, "Create");
            if (tag.startsWith("DROP") || tag.equals("DELETE") || tag.equals("TRUNCATE TABLE") || tag.equals("TRUNCATE")) {
                return new Activity(7, "Delete");
            }
            if (tag.startsWith("ALTER") || tag.equals("UPDATE") || tag.equals("MERGE")) return new Activity(2, "Update");
            if (tag.equals("INSERT") || tag.equals("COPY")) return new Activity(5, "Write");
            if (tag.equals("SELECT") || s.kind() == StatementKind.READ) return new Activity(4, "Query");
            if (s.kind() == StatementKind.WRITE) return new Activity(5, "Write");
            if (s.kind() == StatementKind.DDL) return new Activity(2, "Update");
            return new Activity(99, tag.isEmpty() ? "Other" : tag);
        }
        return new Activity(99, command.analysis().statements().isEmpty() ? "Other" : "Transaction");
    }

    private record Outcome(int action, int disposition, int status, String statusCode, String statusDetail,
                           int severity, boolean alert, String message) {
    }

    /**
     * A command the edge refused itself: blocked by Gatehouse, not by a policy rule (no decision is
     * made about it); emitted with its completion, which carries the error the client saw.
     */
    private static Outcome refused(String refusal, AuditEvent.CommandCompleted completed, String unknownWhy) {
        String message = "Command refused by gatehouse";
        String detail = "refused by gatehouse: " + refusal;
        if (unknownWhy != null) return new Outcome(2, 2, 0, null, unknownWhy, 3, true, message);
        String sqlState = completed == null ? null : completed.outcome().sqlState();
        return new Outcome(2, 2, 2, sqlState, detail, 3, true, message);
    }

    private static Outcome outcome(Pending p, Decision decision, String mode, AuditEvent.CommandCompleted completed,
                                   String unknownWhy) {
        boolean observe = AuditEvent.observeMode(mode);
        int action;
        int disposition;
        String message;
        if (decision == null) {
            action = 0;
            disposition = 0;
            message = "Command without a recorded decision";
        } else {
            switch (decision) {
                case Decision.Allow a -> {
                    action = 1;
                    disposition = 1;
                    message = "Command allowed";
                }
                case Decision.Mask m -> {
                    action = 4;
                    disposition = 1;
                    message = "Command allowed with masked results";
                }
                case Decision.Deny d when observe -> {
                    action = 3;
                    disposition = 17;
                    message = "Command would have been denied (observe mode)";
                }
                case Decision.Deny d -> {
                    action = 2;
                    disposition = 2;
                    message = "Command denied";
                }
                case Decision.RequireApproval r -> {
                    if ("granted".equals(p.approvalState)) {
                        action = 1;
                        disposition = 8;
                        message = "Command approved";
                    } else if ("denied".equals(p.approvalState) || "expired".equals(p.approvalState)) {
                        action = 2;
                        disposition = 2;
                        message = "Command approval " + p.approvalState;
                    } else if (completed != null && completed.outcome().forwarded()) {
                        action = 1;
                        disposition = 8;
                        message = "Command approved";
                    } else {
                        action = 0;
                        disposition = 14;
                        message = "Command awaiting approval";
                    }
                }
            }
        }
        boolean blocked = action == 2;
        int severity = blocked ? 3 : action == 3 ? 2 : 1;
        if (unknownWhy != null) return new Outcome(action, disposition, 0, null, unknownWhy, severity, false, message);
        if (completed == null) {
            String detail = decision == null || decision.reason() == null ? message : decision.reason();
            return new Outcome(action, disposition, 2, null, detail, severity, blocked, message);
        }
        AuditEvent.Outcome o = completed.outcome();
        if (o.forwarded() && o.sqlState() == null && o.errorMessage() == null) {
            return new Outcome(action, disposition, 1, null, null, severity, false, message);
        }
        String detail = o.errorMessage() != null ? o.errorMessage()
                : !o.forwarded() ? "not forwarded to the target" : null;
        if ("denied".equals(p.approvalState) && p.approvalReason != null) detail = "approval denied: " + p.approvalReason;
        return new Outcome(action, disposition, 2, o.sqlState(), detail, severity, blocked, message);
    }

    /** The first relation written, else read; DDL on other objects (CREATE DATABASE x) names no table. */
    private static String firstTable(SqlCommand command) {
        List<StatementAnalysis> relational = command.analysis().statements().stream()
                .filter(s -> s.objectType() == null || s.objectType().contains("TABLE") || s.objectType().contains("VIEW"))
                .toList();
        for (StatementAnalysis s : relational) {
            if (!s.tablesWritten().isEmpty()) return s.tablesWritten().getFirst();
        }
        for (StatementAnalysis s : relational) {
            if (!s.tablesRead().isEmpty()) return s.tablesRead().getFirst();
        }
        return null;
    }

    // ---- Authentication (3002) ----

    private ObjectNode logon(AuditEvent.SessionOpened s) {
        ObjectNode e = authentication(1, "Logon", s, s.identity(), s.connection(), s.clientAddress());
        e.put("status_id", 1).put("status", "Success");
        e.put("severity_id", 1).put("severity", "Informational");
        e.put("action_id", 1).put("action", "Allowed").put("disposition_id", 1).put("disposition", "Allowed");
        e.put("is_cleartext", !s.tls());
        e.put("message", "Session opened by " + s.identity().subject() + " to " + connectionName(s.connection()));
        ObjectNode g = gatehouse(e, s.sessionId().value());
        if (s.databaseUser() != null) g.put("database_user", s.databaseUser());
        if (s.applicationName() != null) g.put("application_name", s.applicationName());
        if (s.mode() != null) g.put("mode", s.mode());
        return e;
    }

    private ObjectNode rejected(AuditEvent.SessionRejected s) {
        ObjectNode e = base(3, "Identity & Access Management", AUTHENTICATION, "Authentication", 1, "Logon",
                s.header().timestamp(), s.header().eventId(), s);
        e.put("status_id", 2).put("status", "Failure");
        if (s.sqlState() != null) e.put("status_code", s.sqlState());
        e.put("status_detail", s.reason() == null ? "rejected" : s.reason());
        e.put("severity_id", 3).put("severity", "Medium");
        e.put("action_id", 2).put("action", "Denied").put("disposition_id", 2).put("disposition", "Blocked");
        e.put("is_alert", true);
        ObjectNode user = JSON.objectNode();
        if (s.subject() != null) user.put("uid", s.subject());
        user.put("name", s.subject() != null ? s.subject() : s.databaseUser() != null ? s.databaseUser() : "unknown");
        e.set("user", user);
        e.set("src_endpoint", source(s.clientAddress()));
        e.set("service", JSON.objectNode().put("name", s.connection() == null ? "unknown" : s.connection()));
        e.put("auth_protocol_id", 4).put("auth_protocol", "OpenID");
        e.put("logon_type_id", 3).put("logon_type", "Network");
        e.put("is_remote", true);
        e.put("message", "Session rejected: " + (s.reason() == null ? "" : s.reason()));
        ObjectNode g = gatehouse(e, s.sessionId().value());
        if (s.databaseUser() != null) g.put("database_user", s.databaseUser());
        return e;
    }

    private ObjectNode logoff(AuditEvent.SessionClosed s, AuditEvent.SessionOpened opened) {
        ObjectNode e;
        if (opened != null) {
            e = authentication(2, "Logoff", s, opened.identity(), opened.connection(), opened.clientAddress());
        } else {
            e = base(3, "Identity & Access Management", AUTHENTICATION, "Authentication", 2, "Logoff",
                    s.header().timestamp(), s.header().eventId(), s);
            e.set("user", JSON.objectNode().put("name", "unknown"));
            e.set("service", JSON.objectNode().put("name", "unknown"));
            e.set("session", JSON.objectNode().put("uid", s.sessionId().value()));
        }
        e.put("status_id", 1).put("status", "Success");
        e.put("severity_id", 1).put("severity", "Informational");
        if (s.reason() != null) e.put("status_detail", s.reason());
        if (s.duration() != null) e.put("duration", s.duration().toMillis());
        e.put("message", "Session closed: " + (s.reason() == null ? "" : s.reason()));
        gatehouse(e, s.sessionId().value()).put("commands", s.commands());
        return e;
    }

    private ObjectNode authentication(int activity, String activityName, AuditEvent source, Identity identity,
                                      ConnectionRef connection, String clientAddress) {
        ObjectNode e = base(3, "Identity & Access Management", AUTHENTICATION, "Authentication", activity, activityName,
                source.header().timestamp(), source.header().eventId(), source);
        e.set("user", user(identity));
        ObjectNode actor = e.putObject("actor");
        actor.set("user", user(identity));
        actor.set("idp", idp(identity));
        e.set("src_endpoint", source(clientAddress));
        e.set("dst_endpoint", destination(connection));
        e.set("service", JSON.objectNode().put("name", connectionName(connection)));
        ObjectNode session = e.putObject("session").put("uid", source.sessionId().value())
                .put("issuer", identity.issuer()).put("is_remote", true);
        if (activity == 1) session.put("created_time", source.header().timestamp().toEpochMilli());
        e.put("auth_protocol_id", 4).put("auth_protocol", "OpenID");
        e.put("logon_type_id", 3).put("logon_type", "Network");
        e.put("is_remote", true);
        ci(e, identity);
        delegation(e, identity);
        return e;
    }

    // ---- shared parts ----

    private ObjectNode base(int categoryUid, String categoryName, int classUid, String className, int activityId,
                            String activityName, Instant time, String uid, AuditEvent source) {
        ObjectNode e = JSON.objectNode();
        e.put("category_uid", categoryUid).put("category_name", categoryName);
        e.put("class_uid", classUid).put("class_name", className);
        e.put("activity_id", activityId).put("activity_name", activityName);
        e.put("type_uid", (long) classUid * 100 + activityId).put("type_name", className + ": " + activityName);
        e.put("time", time.toEpochMilli());
        ObjectNode metadata = e.putObject("metadata");
        metadata.put("version", OCSF_VERSION);
        ObjectNode product = metadata.putObject("product").put("name", "Gatehouse").put("vendor_name", settings.vendorName());
        if (settings.productVersion() != null) product.put("version", settings.productVersion());
        metadata.put("uid", uid);
        metadata.put("correlation_uid", source.sessionId().value());
        metadata.put("original_time", source.header().timestamp().toString());
        metadata.put("log_name", "gatehouse.audit");
        metadata.put("log_provider", source.header().service() + "/" + source.header().instance());
        metadata.putArray("profiles").add(SECURITY_CONTROL);
        return e;
    }

    private ObjectNode actor(Identity identity, String sessionId, Instant sessionStartedAt) {
        ObjectNode actor = JSON.objectNode();
        actor.set("user", user(identity));
        actor.set("idp", idp(identity));
        ObjectNode session = actor.putObject("session").put("uid", sessionId).put("issuer", identity.issuer())
                .put("is_remote", true);
        if (sessionStartedAt != null) session.put("created_time", sessionStartedAt.toEpochMilli());
        return actor;
    }

    private static ObjectNode user(Identity identity) {
        ObjectNode user = JSON.objectNode();
        user.put("uid", identity.subject());
        Object name = identity.claims().get("preferred_username");
        user.put("name", name instanceof String s && !s.isBlank() ? s : identity.subject());
        Object email = identity.claims().get("email");
        if (email instanceof String s && !s.isBlank()) user.put("email_addr", s);
        if (identity.ci() != null) user.put("type_id", 4).put("type", "Service");
        else user.put("type_id", 1).put("type", "User");
        if (!identity.groups().isEmpty()) {
            ArrayNode groups = user.putArray("groups");
            identity.groups().forEach(g -> groups.addObject().put("name", g));
        }
        user.set("org", JSON.objectNode().put("uid", identity.issuer()).put("name", issuerName(identity.issuer())));
        return user;
    }

    private static ObjectNode idp(Identity identity) {
        return JSON.objectNode().put("uid", identity.issuer()).put("name", issuerName(identity.issuer()))
                .put("issuer", identity.issuer()).put("protocol_name", "OpenID Connect");
    }

    /** The host of an issuer URL, or the issuer as it is. */
    static String issuerName(String issuer) {
        try {
            String host = java.net.URI.create(issuer).getHost();
            return host == null ? issuer : host;
        } catch (IllegalArgumentException e) {
            return issuer;
        }
    }

    private static ObjectNode source(String clientAddress) {
        ObjectNode src = JSON.objectNode();
        if (clientAddress != null && !clientAddress.isBlank()) src.put("ip", clientAddress);
        else src.put("name", "unknown");
        return src;
    }

    private static ObjectNode destination(ConnectionRef connection) {
        ObjectNode dst = JSON.objectNode();
        dst.put("name", connectionName(connection));
        if (connection == null) return dst;
        if (connection.protocol() != null) dst.put("svc_name", connection.protocol());
        Target t = Target.parse(connection.target());
        if (t.host() != null) {
            if (t.host().matches("[0-9.]+|.*:.*")) dst.put("ip", t.host());
            else dst.put("hostname", t.host());
        }
        if (t.port() > 0) dst.put("port", t.port());
        return dst;
    }

    private static ObjectNode database(ConnectionRef connection) {
        ObjectNode db = JSON.objectNode();
        String name = connection == null ? null : Target.parse(connection.target()).database();
        db.put("name", name != null ? name : connectionName(connection));
        if (connection != null) db.put("uid", connection.name());
        db.put("type_id", 1).put("type", "Relational");
        return db;
    }

    private static String connectionName(ConnectionRef connection) {
        return connection == null || connection.name() == null ? "unknown" : connection.name();
    }

    /** host:port/database, each part optional. */
    record Target(String host, int port, String database) {
        static Target parse(String target) {
            if (target == null || target.isBlank()) return new Target(null, 0, null);
            String rest = target;
            int scheme = rest.indexOf("://");
            if (scheme >= 0) rest = rest.substring(scheme + 3);
            String database = null;
            int slash = rest.indexOf('/');
            if (slash >= 0) {
                database = rest.substring(slash + 1);
                int query = database.indexOf('?');
                if (query >= 0) database = database.substring(0, query);
                if (database.isBlank()) database = null;
                rest = rest.substring(0, slash);
            }
            String host = rest;
            String port = null;
            if (rest.startsWith("[")) {
                int close = rest.indexOf(']');
                host = close < 0 ? rest.substring(1) : rest.substring(1, close);
                if (close >= 0 && rest.startsWith(":", close + 1)) port = rest.substring(close + 2);
            } else if (rest.indexOf(':') >= 0 && rest.indexOf(':') == rest.lastIndexOf(':')) {
                host = rest.substring(0, rest.indexOf(':'));
                port = rest.substring(rest.indexOf(':') + 1);
            }
            int portNumber = 0;
            if (port != null) {
                try {
                    portNumber = Integer.parseInt(port);
                } catch (NumberFormatException e) {
                    portNumber = 0;
                }
            }
            return new Target(host.isBlank() ? null : host, portNumber, database);
        }
    }

    private static ObjectNode gatehouse(ObjectNode event, String sessionId) {
        ObjectNode unmapped = event.has("unmapped") ? (ObjectNode) event.get("unmapped") : event.putObject("unmapped");
        ObjectNode g = unmapped.has("gatehouse") ? (ObjectNode) unmapped.get("gatehouse") : unmapped.putObject("gatehouse");
        g.put("session_id", sessionId);
        return g;
    }

    /** CI provenance: in unmapped.gatehouse.ci, and the searchable parts as metadata labels. */
    private static void ci(ObjectNode event, Identity identity) {
        CiProvenance ci = identity == null ? null : identity.ci();
        if (ci == null) return;
        ObjectNode node = gatehouse(event, event.path("metadata").path("correlation_uid").asText()).putObject("ci");
        putIf(node, "system", ci.system());
        putIf(node, "repository", ci.repository());
        putIf(node, "repository_id", ci.repositoryId());
        putIf(node, "commit_sha", ci.commitSha());
        putIf(node, "ref", ci.ref());
        putIf(node, "workflow", ci.workflow());
        putIf(node, "run_id", ci.runId());
        putIf(node, "run_attempt", ci.runAttempt());
        putIf(node, "job", ci.job());
        putIf(node, "workflow_ref", ci.workflowRef());
        putIf(node, "actor", ci.actor());
        putIf(node, "environment", ci.environment());
        putIf(node, "event", ci.event());
        ArrayNode labels = ((ObjectNode) event.get("metadata")).putArray("labels");
        if (ci.repository() != null) labels.add("ci.repository=" + ci.repository());
        if (ci.commitSha() != null) labels.add("ci.commit_sha=" + ci.commitSha());
        if (ci.ref() != null) labels.add("ci.ref=" + ci.ref());
        if (ci.workflow() != null) labels.add("ci.workflow=" + ci.workflow());
        if (ci.runId() != null) labels.add("ci.run_id=" + ci.runId());
    }

    /**
     * A delegated session (actor.user is then the current actor, the agent): the originator and the
     * earlier actors in unmapped.gatehouse.delegation; a declared run or step in
     * unmapped.gatehouse.intent, with {@code verified} false unless the issuer signed it.
     */
    private static void delegation(ObjectNode event, Identity identity) {
        if (identity.delegation() == null && identity.intent() == null) return;
        ObjectNode g = gatehouse(event, event.path("metadata").path("correlation_uid").asText());
        Delegation d = identity.delegation();
        if (d != null) {
            ObjectNode node = g.putObject("delegation");
            node.put("originator", d.originator());
            putIf(node, "originator_issuer", d.originatorIssuer());
            if (!d.originatorGroups().isEmpty()) node.set("originator_groups", strings(d.originatorGroups()));
            node.put("actor", identity.subject());
            node.set("earlier_actors", strings(d.earlierActors()));
            node.put("via", d.via());
            node.put("chain", d.chain(identity.subject()));
        }
        DeclaredIntent i = identity.intent();
        if (i != null) {
            ObjectNode node = g.putObject("intent");
            putIf(node, "run_id", i.runId());
            putIf(node, "step_id", i.stepId());
            node.put("verified", i.verified());
            node.put("source", i.source());
            node.put("description", i.describe());
        }
    }

    private static void putIf(ObjectNode node, String field, String value) {
        if (value != null) node.put(field, value);
    }

    private static ArrayNode strings(List<String> values) {
        ArrayNode array = JSON.arrayNode();
        values.forEach(array::add);
        return array;
    }

    /**
     * {@code text} on one line (each run of whitespace one space, trimmed as {@link String#trim}
     * does), cut to {@code max} characters with an ellipsis; reads no more of a long text than it keeps.
     */
    static String abbreviate(String text, int max) {
        int from = 0;
        int to = text.length();
        while (from < to && text.charAt(from) <= ' ') from++;
        while (to > from && text.charAt(to - 1) <= ' ') to--;
        StringBuilder line = new StringBuilder(Math.min(to - from, max + 1));
        boolean inSpace = false;
        for (int i = from; i < to && line.length() <= max; i++) {
            char c = text.charAt(i);
            if (c == ' ' || c == '\t' || c == '\n' || c == '\u000B' || c == '\f' || c == '\r') {
                inSpace = true;
                continue;
            }
            if (inSpace) {
                line.append(' ');
                inSpace = false;
                if (line.length() > max) break;
            }
            line.append(c);
        }
        return line.length() <= max ? line.toString() : line.substring(0, max - 1) + "…";
    }

    private static final String[] SEVERITIES = {"Unknown", "Informational", "Low", "Medium", "High", "Critical", "Fatal"};
    private static final String[] STATUSES = {"Unknown", "Success", "Failure"};
    private static final Map<Integer, String> ACTIONS = Map.of(0, "Unknown", 1, "Allowed", 2, "Denied", 3, "Observed",
            4, "Modified");
    private static final Map<Integer, String> DISPOSITIONS = Map.of(0, "Unknown", 1, "Allowed", 2, "Blocked",
            8, "Approved", 14, "Delayed", 17, "Logged");
}
