package dev.gatehouse.policy.engine;

import com.google.common.collect.ImmutableMap;
import com.google.protobuf.NullValue;
import com.google.protobuf.Timestamp;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;

/**
 * What a rule condition may look at about one command: the CEL variables {@code identity},
 * {@code connection}, {@code command} and {@code session}, as immutable maps with exactly the
 * fields the condition environment declares.
 *
 * <ul>
 *   <li>{@code identity}: subject, issuer, groups, roles, claims (every token claim; integers as
 *       int, dates as epoch seconds), ci (repository, repository_id, commit_sha, ref, workflow,
 *       run_id, job, system; only those the CI system provided, empty when not CI). In a delegated
 *       session (RFC 8693) subject, groups and roles are the current actor's (the agent), never the
 *       originator's: delegated (bool), originator (subject, issuer, groups, roles of the person the
 *       actor acts for; "" and [] when not delegated), earlier_actors (actors before the current one,
 *       nearest first; recorded, not for access decisions, RFC 8693 section 4.1), delegation_via
 *       ("act", the claim configured for the issuer such as "azp", or "" when not delegated), intent
 *       (run_id, step_id, "" when none; verified: signed by the issuer; declared: any intent
 *       given)</li>
 *   <li>{@code connection}: name, protocol, target, labels</li>
 *   <li>{@code command}: text, form (SIMPLE_QUERY, EXTENDED, FUNCTION_CALL, COPY), fingerprint
 *       ("" when unparseable), parseable, kinds ("read", "write", "ddl", ...), tags ("SELECT",
 *       "CREATE DATABASE", ...), object_types, tables_read, tables_written, functions,
 *       missing_where, statement_count, parameters (a SQL NULL parameter is CEL null), protocol,
 *       runs_code and uncertain (any statement), uncertainty, settings, filter_columns (distinct, in
 *       order), statements (each a map: step, sql, statement_name, portal_name, via, continued; ""
 *       for a missing name)</li>
 *   <li>{@code session}: id, started_at (a timestamp; the Unix epoch when unknown), client_address
 *       (the client's IP; "" when unknown)</li>
 *   <li>{@code time}: now (a timestamp), zone, hour, minute, day_of_week ("monday"..."sunday"), date
 *       ("2026-11-24"): the command's recorded time in the {@link Context}'s zone, never the clock
 *       at evaluation, so a redelivered command is decided the same</li>
 *   <li>{@code request}: type ("connect" for a connection attempt, {@link #connect}; "command"
 *       otherwise). For a connect the {@code command} fields are empty.</li>
 * </ul>
 */
public final class Facts {

    static final String IDENTITY = "identity";
    static final String CONNECTION = "connection";
    static final String COMMAND = "command";
    static final String SESSION = "session";
    static final String TIME = "time";
    static final String REQUEST = "request";

    /** What is being decided: a connection attempt or a command ({@code request.type}). */
    public enum RequestType {
        /** A client asks to open a session ({@code on: connect} rules decide). */
        CONNECT,
        /** A command within an open session ({@code on: command} rules decide, the default). */
        COMMAND;

        /** The lowercase name, as {@code request.type} and a rule's {@code on} write it. */
        public String label() {
            return name().toLowerCase(Locale.ROOT);
        }
    }

    private final ImmutableMap<String, Object> variables;
    private final RequestType requestType;

    /**
     * @param variables an {@link ImmutableMap}: CEL evaluates each rule over it as it is, where it
     *                  copies any other map into a new activation for every rule (a tenth of the
     *                  policy loop's time with the example policy)
     */
    private Facts(ImmutableMap<String, Object> variables, RequestType requestType) {
        this.variables = variables;
        this.requestType = requestType;
    }

    /**
     * When and where a command arrived, beyond the command itself.
     *
     * @param now              the command's recorded time (its CommandReceived's timestamp)
     * @param zone             the zone {@code time.hour}, {@code time.date}, ... are read in
     * @param sessionStartedAt when the session began, or null when not recorded
     * @param clientAddress    the client's IP address, or null when not recorded
     */
    public record Context(Instant now, ZoneId zone, Instant sessionStartedAt, String clientAddress) {
        public Context {
            Objects.requireNonNull(now, "now");
            Objects.requireNonNull(zone, "zone");
        }

        /** A context with only a time and zone (session start and client unknown). */
        public static Context at(Instant now, ZoneId zone) {
            return new Context(now, zone, null, null);
        }
    }

    /**
     * The facts about {@code command}, sent by {@code identity} over {@code connection}, at the
     * command's {@link SqlCommand#receivedAt()} in UTC, with the session's start and client unknown.
     */
    public static Facts of(Identity identity, ConnectionRef connection, SqlCommand command) {
        Objects.requireNonNull(command, "command");
        Instant receivedAt = Objects.requireNonNull(command.receivedAt(),
                "the command has no receivedAt: give the time in a Facts.Context");
        return of(identity, connection, command, Context.at(receivedAt, ZoneOffset.UTC));
    }

    /** The facts about {@code command}, sent by {@code identity} over {@code connection}, in {@code context}. */
    public static Facts of(Identity identity, ConnectionRef connection, SqlCommand command, Context context) {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(command, "command");
        Objects.requireNonNull(context, "context");
        return new Facts(ImmutableMap.of(IDENTITY, identity(identity), CONNECTION, connection(connection),
                COMMAND, command(command), SESSION, session(command, context), TIME, time(context),
                REQUEST, request(RequestType.COMMAND)), RequestType.COMMAND);
    }

    /**
     * The facts about a connection attempt by {@code identity} to {@code connection} in session
     * {@code sessionId}: the command facts are empty ({@code ""}, {@code []}, false, 0), and
     * {@code request.type} is "connect".
     */
    public static Facts connect(Identity identity, ConnectionRef connection, String sessionId, Context context) {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(sessionId, "sessionId");
        Objects.requireNonNull(context, "context");
        return new Facts(ImmutableMap.of(IDENTITY, identity(identity), CONNECTION, connection(connection),
                COMMAND, EMPTY_COMMAND, SESSION, session(sessionId, context), TIME, time(context),
                REQUEST, request(RequestType.CONNECT)), RequestType.CONNECT);
    }

    /** Whether these facts describe a connection attempt or a command. */
    public RequestType requestType() {
        return requestType;
    }

    /** The CEL activation: variable name to its value. */
    Map<String, Object> variables() {
        return variables;
    }

    /** The value of one variable ("identity", "connection", "command", "session", "time", "request"), for inspection. */
    @SuppressWarnings("unchecked")
    public Map<String, Object> variable(String name) {
        Object value = variables.get(name);
        if (value == null) throw new IllegalArgumentException("no fact variable named '" + name + "'");
        return (Map<String, Object>) value;
    }

    private static Map<String, Object> identity(Identity identity) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("subject", identity.subject());
        m.put("issuer", identity.issuer());
        m.put("groups", identity.groups());
        m.put("roles", identity.roles());
        Delegation delegation = identity.delegation();
        m.put("claims", delegation == null ? celMap(identity.claims()) : actorClaims(identity, delegation));
        m.put("ci", ci(identity.ci()));
        m.put("delegated", delegation != null);
        m.put("originator", delegation == null ? NO_ORIGINATOR : originator(delegation, identity.claims()));
        m.put("earlier_actors", delegation == null ? List.of() : delegation.earlierActors());
        m.put("delegation_via", delegation == null ? "" : delegation.via());
        m.put("intent", identity.intent() == null ? NO_INTENT : intent(identity.intent()));
        return Collections.unmodifiableMap(m);
    }

    /** {@code identity.originator} of a session that is not delegated: built once, shared. */
    private static final Map<String, Object> NO_ORIGINATOR = ImmutableMap.of("subject", "", "issuer", "", "groups", List.of(),
            "roles", List.of(), "claims", Map.of());

    /** {@code identity.intent} when none was declared: built once, shared. */
    private static final Map<String, Object> NO_INTENT = ImmutableMap.of("run_id", "", "step_id", "", "verified", false,
            "declared", false);

    /**
     * The fields of {@link FactCatalog#ORIGINATOR}; the Delegation's lists are immutable already.
     * The token's top-level claims describe the originator (its {@code sub}).
     */
    private static Map<String, Object> originator(Delegation delegation, Map<String, Object> tokenClaims) {
        return ImmutableMap.of("subject", delegation.originator(),
                "issuer", Objects.requireNonNullElse(delegation.originatorIssuer(), ""),
                "groups", delegation.originatorGroups(),
                "roles", delegation.originatorRoles(),
                "claims", celMap(tokenClaims));
    }

    /**
     * {@code identity.claims} of a delegated session: what the token says of the current actor, not
     * the originator's claims (a rule on {@code identity.claims["break_glass"]} or {@code ["email"]}
     * must not give an agent its originator's rights). From RFC 8693's {@code act}: the members of
     * the {@code act} object; from a configured actor claim (Keycloak's {@code azp}): only
     * {@code sub}, the actor.
     */
    private static Map<String, Object> actorClaims(Identity identity, Delegation delegation) {
        if (Delegation.ACT.equals(delegation.via()) && identity.claims().get(Delegation.ACT) instanceof Map<?, ?> act) {
            return celMap(act);
        }
        return Map.of("sub", identity.subject());
    }

    /** The fields of {@link FactCatalog#INTENT}. */
    private static Map<String, Object> intent(DeclaredIntent intent) {
        return ImmutableMap.of("run_id", Objects.requireNonNullElse(intent.runId(), ""),
                "step_id", Objects.requireNonNullElse(intent.stepId(), ""),
                "verified", intent.verified(),
                "declared", true);
    }

    private static Map<String, String> ci(CiProvenance ci) {
        if (ci == null) return Map.of();
        Map<String, String> m = new LinkedHashMap<>();
        putIfPresent(m, "system", ci.system());
        putIfPresent(m, "repository", ci.repository());
        putIfPresent(m, "repository_id", ci.repositoryId());
        putIfPresent(m, "commit_sha", ci.commitSha());
        putIfPresent(m, "ref", ci.ref());
        putIfPresent(m, "workflow", ci.workflow());
        putIfPresent(m, "run_id", ci.runId());
        putIfPresent(m, "job", ci.job());
        putIfPresent(m, "workflow_ref", ci.workflowRef());
        putIfPresent(m, "workflow_sha", ci.workflowSha());
        putIfPresent(m, "job_workflow_ref", ci.jobWorkflowRef());
        putIfPresent(m, "job_workflow_sha", ci.jobWorkflowSha());
        putIfPresent(m, "run_attempt", ci.runAttempt());
        putIfPresent(m, "actor", ci.actor());
        putIfPresent(m, "actor_id", ci.actorId());
        putIfPresent(m, "environment", ci.environment());
        putIfPresent(m, "event", ci.event());
        putIfPresent(m, "ref_protected", ci.refProtected());
        putIfPresent(m, "runner_environment", ci.runnerEnvironment());
        return Collections.unmodifiableMap(m);
    }

    private static void putIfPresent(Map<String, String> m, String key, String value) {
        if (value != null) m.put(key, value);
    }

    private static Map<String, Object> connection(ConnectionRef connection) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", Objects.requireNonNullElse(connection.name(), ""));
        m.put("protocol", Objects.requireNonNullElse(connection.protocol(), ""));
        m.put("target", Objects.requireNonNullElse(connection.target(), ""));
        m.put("labels", connection.labels());
        return Collections.unmodifiableMap(m);
    }

    private static Map<String, Object> command(SqlCommand command) {
        SqlAnalysis analysis = command.analysis();
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", command.sql());
        m.put("form", command.form().name());
        m.put("fingerprint", Objects.requireNonNullElse(analysis.fingerprint(), ""));
        m.put("parseable", analysis.parseable());
        m.put("kinds", analysis.kinds().stream().map(StatementKind::label).toList());
        m.put("tags", analysis.statements().stream().map(StatementAnalysis::tag).filter(Objects::nonNull).toList());
        m.put("object_types", List.copyOf(distinctNonNull(analysis.statements().stream().map(StatementAnalysis::objectType).toList())));
        m.put("tables_read", withBareNames(analysis.tablesRead()));
        m.put("tables_written", withBareNames(analysis.tablesWritten()));
        m.put("functions", List.copyOf(analysis.functions()));
        m.put("missing_where", analysis.missingWhere());
        m.put("statement_count", (long) analysis.statements().size());
        m.put("parameters", celList(command.parameters()));
        m.put("protocol", command.protocol());
        m.put("runs_code", analysis.statements().stream().anyMatch(StatementAnalysis::runsCode));
        m.put("uncertain", analysis.statements().stream().anyMatch(StatementAnalysis::uncertain));
        m.put("uncertainty", distinct(analysis.statements(), StatementAnalysis::uncertainty));
        m.put("settings", distinct(analysis.statements(), StatementAnalysis::settings));
        m.put("filter_columns", distinct(analysis.statements(), StatementAnalysis::filterColumns));
        m.put("statements", command.statements().stream().map(Facts::statement).toList());
        return Collections.unmodifiableMap(m);
    }

    /** One entry of {@code command.statements}: the fields of {@link FactCatalog#STATEMENT}, "" for null. */
    private static Map<String, Object> statement(CommandStatement s) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("step", s.step().name());
        m.put("sql", s.sql());
        m.put("statement_name", Objects.requireNonNullElse(s.statementName(), ""));
        m.put("portal_name", Objects.requireNonNullElse(s.portalName(), ""));
        m.put("via", Objects.requireNonNullElse(s.via(), ""));
        m.put("continued", s.continued());
        return Collections.unmodifiableMap(m);
    }

    /** The distinct values of every statement's list, in order. */
    private static List<String> distinct(List<StatementAnalysis> statements,
                                         java.util.function.Function<StatementAnalysis, List<String>> values) {
        LinkedHashSet<String> set = new LinkedHashSet<>();
        statements.forEach(s -> set.addAll(values.apply(s)));
        return List.copyOf(set);
    }

    /**
     * Relation names as policies match them: each as the edge resolved it ({@code public.payouts})
     * and also bare ({@code payouts}), so that a rule naming a table without its schema still
     * matches it (and every table of that name, whatever its schema: the safe reading of an
     * unqualified name).
     */
    static List<String> withBareNames(Collection<String> relations) {
        LinkedHashSet<String> names = new LinkedHashSet<>(relations);
        for (String relation : relations) {
            int dot = relation.lastIndexOf('.');
            if (dot >= 0 && dot < relation.length() - 1) names.add(relation.substring(dot + 1));
        }
        return List.copyOf(names);
    }

    /** The command facts of a connection attempt: there is no command. */
    private static final Map<String, Object> EMPTY_COMMAND = emptyCommand();

    private static Map<String, Object> emptyCommand() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("text", "");
        m.put("form", "");
        m.put("fingerprint", "");
        m.put("parseable", false);
        m.put("kinds", List.of());
        m.put("tags", List.of());
        m.put("object_types", List.of());
        m.put("tables_read", List.of());
        m.put("tables_written", List.of());
        m.put("functions", List.of());
        m.put("missing_where", false);
        m.put("statement_count", 0L);
        m.put("parameters", List.of());
        m.put("protocol", "");
        m.put("runs_code", false);
        m.put("uncertain", false);
        m.put("uncertainty", List.of());
        m.put("settings", List.of());
        m.put("filter_columns", List.of());
        m.put("statements", List.of());
        return Collections.unmodifiableMap(m);
    }

    private static Map<String, Object> request(RequestType type) {
        return Map.of("type", type.label());
    }

    private static Map<String, Object> session(SqlCommand command, Context context) {
        return session(command.sessionId().value(), context);
    }

    private static Map<String, Object> session(String sessionId, Context context) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("id", sessionId);
        m.put("started_at", timestamp(Objects.requireNonNullElse(context.sessionStartedAt(), Instant.EPOCH)));
        m.put("client_address", Objects.requireNonNullElse(context.clientAddress(), ""));
        return Collections.unmodifiableMap(m);
    }

    private static Map<String, Object> time(Context context) {
        ZonedDateTime local = context.now().atZone(context.zone());
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("now", timestamp(context.now()));
        m.put("zone", context.zone().getId());
        m.put("hour", (long) local.getHour());
        m.put("minute", (long) local.getMinute());
        m.put("day_of_week", local.getDayOfWeek().name().toLowerCase(Locale.ROOT));
        m.put("date", local.toLocalDate().toString());
        return Collections.unmodifiableMap(m);
    }

    /** A CEL timestamp value. */
    private static Timestamp timestamp(Instant instant) {
        return Timestamp.newBuilder().setSeconds(instant.getEpochSecond()).setNanos(instant.getNano()).build();
    }

    private static LinkedHashSet<String> distinctNonNull(List<String> values) {
        LinkedHashSet<String> set = new LinkedHashSet<>();
        values.stream().filter(Objects::nonNull).forEach(set::add);
        return set;
    }

    /** Converts a JSON-like value (token claims) to the value types the CEL runtime expects. */
    private static Object celValue(Object value) {
        return switch (value) {
            case null -> NullValue.NULL_VALUE;
            case String s -> s;
            case Boolean b -> b;
            case Long l -> l;
            case Integer i -> i.longValue();
            case Short s -> s.longValue();
            case Byte b -> b.longValue();
            case Double d -> d;
            case Float f -> f.doubleValue();
            case Number n -> n.doubleValue();
            case Date d -> d.getTime() / 1000;
            case Instant i -> i.getEpochSecond();
            case Map<?, ?> map -> celMap(map);
            case Collection<?> c -> celList(c);
            default -> value.toString();
        };
    }

    private static Map<String, Object> celMap(Map<?, ?> map) {
        Map<String, Object> m = new LinkedHashMap<>();
        map.forEach((k, v) -> m.put(String.valueOf(k), celValue(v)));
        return Collections.unmodifiableMap(m);
    }

    private static List<Object> celList(Collection<?> values) {
        List<Object> list = new ArrayList<>(values.size());
        values.forEach(v -> list.add(celValue(v)));
        return Collections.unmodifiableList(list);
    }

    @Override
    public String toString() {
        // Facts hold the SQL text, its parameters and token claims: never print them.
        return "Facts[session=" + ((Map<?, ?>) variables.get(SESSION)).get("id") + "]";
    }
}
