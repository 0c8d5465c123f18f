package dev.gatehouse.policy.engine;

import com.google.protobuf.NullValue;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Date;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
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
 *       run_id, job, system; only those the CI system provided, empty when not CI)</li>
 *   <li>{@code connection}: name, protocol, target, labels</li>
 *   <li>{@code command}: text, form (SIMPLE_QUERY, EXTENDED, FUNCTION_CALL, COPY), fingerprint
 *       ("" when unparseable), parseable, kinds ("read", "write", "ddl", ...), tags ("SELECT",
 *       "CREATE DATABASE", ...), object_types, tables_read, tables_written, functions,
 *       missing_where, statement_count, parameters (a SQL NULL parameter is CEL null)</li>
 *   <li>{@code session}: id</li>
 * </ul>
 */
public final class Facts {

    static final String IDENTITY = "identity";
    static final String CONNECTION = "connection";
    static final String COMMAND = "command";
    static final String SESSION = "session";

    private final Map<String, Object> variables;

    private Facts(Map<String, Object> variables) {
        this.variables = variables;
    }

    /** The facts about {@code command}, sent by {@code identity} over {@code connection}. */
    public static Facts of(Identity identity, ConnectionRef connection, SqlCommand command) {
        Objects.requireNonNull(identity, "identity");
        Objects.requireNonNull(connection, "connection");
        Objects.requireNonNull(command, "command");
        Map<String, Object> vars = new LinkedHashMap<>();
        vars.put(IDENTITY, identity(identity));
        vars.put(CONNECTION, connection(connection));
        vars.put(COMMAND, command(command));
        vars.put(SESSION, Map.of("id", command.sessionId().value()));
        return new Facts(Collections.unmodifiableMap(vars));
    }

    /** The CEL activation: variable name to its value. */
    Map<String, Object> variables() {
        return variables;
    }

    /** The value of one variable ("identity", "connection", "command", "session"), for inspection. */
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
        m.put("claims", celMap(identity.claims()));
        m.put("ci", ci(identity.ci()));
        return Collections.unmodifiableMap(m);
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
        m.put("tables_read", List.copyOf(analysis.tablesRead()));
        m.put("tables_written", List.copyOf(analysis.tablesWritten()));
        m.put("functions", List.copyOf(analysis.functions()));
        m.put("missing_where", analysis.missingWhere());
        m.put("statement_count", (long) analysis.statements().size());
        m.put("parameters", celList(command.parameters()));
        return Collections.unmodifiableMap(m);
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
