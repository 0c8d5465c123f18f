package dev.gatehouse.policy.sql;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Walks one statement of libpg_query's JSON parse tree and collects what it touches: relations
 * read and written, functions called, UPDATE/DELETE without WHERE, row locks.
 *
 * <p>Typed nodes appear as {@code {"NodeType": {fields}}}; fields declared with a concrete message
 * type hold the message without that wrapper (a bare RangeVar is recognised by its {@code relname}).
 * A relation is written when it sits in a write position of its owning node
 * ({@link PgNodes#WRITE_FIELDS}), otherwise read. Inside {@code EXPLAIN} without {@code ANALYZE}
 * nothing is executed, so write positions count as reads and UPDATE/DELETE without WHERE are not
 * reported. An unqualified name that matches a CTE visible at that point is not a relation; write
 * targets never resolve to CTEs (PostgreSQL does not allow it). Not thread-safe: one per statement.
 */
final class ReferenceCollector {

    private enum Role { READ, WRITE }

    /** Where the walker is: the role of bare relations below, the visible CTE names, and whether this part runs. */
    private record Context(Role role, Set<String> ctes, boolean executed) {
        Context as(Role newRole) {
            return newRole == role ? this : new Context(newRole, ctes, executed);
        }

        Context withCte(String name) {
            Set<String> names = new HashSet<>(ctes);
            names.add(name);
            return new Context(role, Set.copyOf(names), executed);
        }

        Context withCtes(Set<String> more) {
            if (more.isEmpty()) {
                return this;
            }
            Set<String> names = new HashSet<>(ctes);
            names.addAll(more);
            return new Context(role, Set.copyOf(names), executed);
        }

        Context notExecuted() {
            return new Context(role, ctes, false);
        }
    }

    private final Set<String> tablesRead = new LinkedHashSet<>();
    private final Set<String> tablesWritten = new LinkedHashSet<>();
    private final Set<String> functions = new LinkedHashSet<>();
    private boolean missingWhere;
    private boolean rowLocks;

    /** Walks one top-level statement node. */
    void statement(String type, JsonNode body) {
        visitNode(type, body, new Context(Role.READ, Set.of(), true));
    }

    List<String> tablesRead() {
        return List.copyOf(tablesRead);
    }

    List<String> tablesWritten() {
        return List.copyOf(tablesWritten);
    }

    List<String> functions() {
        return List.copyOf(functions);
    }

    boolean missingWhere() {
        return missingWhere;
    }

    boolean rowLocks() {
        return rowLocks;
    }

    private void visitValue(JsonNode value, Context ctx) {
        if (value.isArray()) {
            for (JsonNode element : value) {
                visitValue(element, ctx);
            }
        } else if (value.isObject()) {
            String type = wrappedType(value);
            if (type != null) {
                visitNode(type, value.get(type), ctx);
            } else if (value.has(PgNodes.RELNAME)) {
                rangeVar(value, ctx);
            } else {
                visitFields(null, value, ctx);
            }
        }
    }

    private void visitNode(String type, JsonNode body, Context ctx) {
        switch (type) {
            case PgNodes.RANGE_VAR -> {
                rangeVar(body, ctx);
                return;
            }
            case PgNodes.FUNC_CALL -> functions.add(joinNames(body.path(PgNodes.FUNCNAME)));
            case PgNodes.UPDATE, PgNodes.DELETE -> missingWhere |= ctx.executed() && !body.has(PgNodes.WHERE_CLAUSE);
            case PgNodes.SELECT -> rowLocks |= ctx.executed() && body.has(PgNodes.LOCKING_CLAUSE);
            case PgNodes.EXPLAIN -> {
                if (!explainAnalyze(body)) {
                    ctx = ctx.notExecuted();
                }
            }
            case PgNodes.DROP -> {
                dropped(body, ctx);
                return;
            }
            default -> { }
        }
        Context inner = body.has(PgNodes.WITH) ? withClause(body.get(PgNodes.WITH), ctx) : ctx;
        visitFields(type, body, inner.as(Role.READ));
    }

    /** Visits the fields of a typed node ({@code type} non-null) or of an unwrapped message (role passes through). */
    private void visitFields(String type, JsonNode body, Context ctx) {
        Set<String> writeFields = type == null ? Set.of() : PgNodes.WRITE_FIELDS.getOrDefault(type, Set.of());
        for (Map.Entry<String, JsonNode> field : body.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (type != null && name.equals(PgNodes.WITH)) {
                continue; // handled by withClause()
            }
            Context fieldCtx = writeFields.contains(name) || isCopyTarget(type, name, body) ? ctx.as(Role.WRITE) : ctx;
            String unwrapped = PgNodes.UNWRAPPED_FIELDS.get(name);
            if (unwrapped != null && value.isObject() && wrappedType(value) == null) {
                visitNode(unwrapped, value, fieldCtx);
            } else {
                visitValue(value, fieldCtx);
            }
        }
    }

    /** CTE scoping: a non-recursive CTE sees the ones before it, a recursive WITH sees all; the statement sees all. */
    private Context withClause(JsonNode with, Context ctx) {
        boolean recursive = with.path(PgNodes.RECURSIVE).asBoolean();
        Set<String> names = new LinkedHashSet<>();
        for (JsonNode cte : with.path(PgNodes.CTES)) {
            names.add(cte.path(PgNodes.COMMON_TABLE_EXPR).path(PgNodes.CTENAME).asText());
        }
        Context cteCtx = recursive ? ctx.withCtes(names) : ctx;
        for (JsonNode cte : with.path(PgNodes.CTES)) {
            JsonNode body = cte.path(PgNodes.COMMON_TABLE_EXPR);
            visitFields(PgNodes.COMMON_TABLE_EXPR, body, cteCtx.as(Role.READ));
            if (!recursive) {
                cteCtx = cteCtx.withCte(body.path(PgNodes.CTENAME).asText());
            }
        }
        return ctx.withCtes(names);
    }

    private void rangeVar(JsonNode rangeVar, Context ctx) {
        String relname = rangeVar.path(PgNodes.RELNAME).asText();
        boolean qualified = rangeVar.hasNonNull(PgNodes.SCHEMANAME);
        String name = qualifiedName(rangeVar);
        if (ctx.role() == Role.WRITE) {
            (ctx.executed() ? tablesWritten : tablesRead).add(name);
        } else if (qualified || !ctx.ctes().contains(relname)) {
            tablesRead.add(name);
        }
    }

    private void dropped(JsonNode body, Context ctx) {
        if (!PgNodes.RELATION_OBJECT_TYPES.contains(body.path(PgNodes.REMOVE_TYPE).asText())) {
            return;
        }
        for (JsonNode object : body.path(PgNodes.OBJECTS)) {
            String name = joinNames(object.path(PgNodes.LIST).path(PgNodes.ITEMS));
            if (!name.isEmpty()) {
                (ctx.executed() ? tablesWritten : tablesRead).add(name);
            }
        }
    }

    private static boolean isCopyTarget(String type, String field, JsonNode body) {
        return PgNodes.COPY.equals(type) && "relation".equals(field) && body.path(PgNodes.IS_FROM).asBoolean();
    }

    private static boolean explainAnalyze(JsonNode explain) {
        for (JsonNode option : explain.path(PgNodes.OPTIONS)) {
            JsonNode def = option.path(PgNodes.DEF_ELEM);
            if (PgNodes.EXPLAIN_ANALYZE.equals(def.path(PgNodes.DEFNAME).asText())) {
                JsonNode arg = def.path(PgNodes.ARG);
                // EXPLAIN (ANALYZE false) is the only way to turn it off explicitly.
                String value = arg.isMissingNode() ? "true" : stringValue(arg);
                return !(value.equalsIgnoreCase("false") || value.equalsIgnoreCase("off") || value.equals("0"));
            }
        }
        return false;
    }

    private static String stringValue(JsonNode node) {
        // {"String":{"sval":"false"}}, {"Boolean":{"boolval":...}}, {"Integer":{"ival":0}}
        String type = wrappedType(node);
        if (type == null) {
            return node.asText();
        }
        JsonNode body = node.get(type);
        return switch (type) {
            case "Boolean" -> Boolean.toString(body.path("boolval").asBoolean(false));
            case "Integer" -> Integer.toString(body.path("ival").asInt(0));
            default -> body.path(PgNodes.SVAL).asText();
        };
    }

    private static String qualifiedName(JsonNode rangeVar) {
        StringBuilder name = new StringBuilder();
        if (rangeVar.hasNonNull(PgNodes.CATALOGNAME)) {
            name.append(rangeVar.get(PgNodes.CATALOGNAME).asText()).append('.');
        }
        if (rangeVar.hasNonNull(PgNodes.SCHEMANAME)) {
            name.append(rangeVar.get(PgNodes.SCHEMANAME).asText()).append('.');
        }
        return name.append(rangeVar.path(PgNodes.RELNAME).asText()).toString();
    }

    /** Joins a list of {@code {"String":{"sval":...}}} nodes with dots. */
    private static String joinNames(JsonNode names) {
        StringBuilder joined = new StringBuilder();
        for (JsonNode part : names) {
            JsonNode string = part.path(PgNodes.STRING);
            if (string.isMissingNode()) {
                continue;
            }
            if (!joined.isEmpty()) {
                joined.append('.');
            }
            joined.append(string.path(PgNodes.SVAL).asText());
        }
        return joined.toString();
    }

    /** The node type of a wrapped node ({@code {"SelectStmt": {...}}}), or null for a bare message. */
    private static String wrappedType(JsonNode object) {
        if (object.size() != 1) {
            return null;
        }
        String name = object.fieldNames().next();
        return !name.isEmpty() && Character.isUpperCase(name.charAt(0)) ? name : null;
    }
}
