package dev.gatehouse.policy.sql;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Walks one statement of libpg_query's JSON parse tree and collects what it touches: relations
 * read and written, functions named and called, settings changed, filter columns, UPDATE/DELETE
 * without WHERE, row locks, and the prepared statements it executes.
 *
 * <p>Typed nodes appear as {@code {"NodeType": {fields}}}; fields declared with a concrete message
 * type hold the message without that wrapper (a bare RangeVar is recognised by its {@code relname}).
 * A relation is written when it sits in a write position of its owning node
 * ({@link PgNodes#WRITE_FIELDS}), otherwise read. Inside {@code EXPLAIN} without {@code ANALYZE}
 * nothing is executed, so write positions count as reads, UPDATE/DELETE without WHERE are not
 * reported and settings do not change; functions still count as called there (the planner
 * evaluates immutable functions of constants). Inside a definition ({@link PgNodes#DEFINITION_FIELDS})
 * nothing runs at all: functions are named but not called. An unqualified name that matches a CTE
 * visible at that point is not a relation; write targets never resolve to CTEs (PostgreSQL does not
 * allow it). A temporary relation created without a schema is named {@code pg_temp.<name>}.
 *
 * <p>Filter columns ({@link PgNodes#FILTER_FIELDS}) are named as written and, when qualified by a
 * table or by an alias of one visible at that point, as {@code table.column} and (when the SQL
 * qualifies the table with its schema) {@code schema.table.column}. Not thread-safe: one per statement.
 */
final class ReferenceCollector {

    private enum Role { READ, WRITE }

    /** What a FROM-clause name stands for: a table (schema null when unqualified) or {@link #NOT_A_TABLE}. */
    private record Relation(String schema, String name) {
    }

    /** A subquery, function, CTE or join alias: columns qualified by it are named only as written. */
    private static final Relation NOT_A_TABLE = new Relation(null, null);

    /** The FROM-clause names of one query level, inside those of the levels around it. */
    private record Scope(Map<String, Relation> names, Scope outer) {
        /** What {@code qualifier} stands for here, or null when no level knows it. */
        static Relation lookup(Scope scope, String qualifier) {
            for (Scope s = scope; s != null; s = s.outer()) {
                Relation relation = s.names().get(qualifier);
                if (relation != null) {
                    return relation;
                }
            }
            return null;
        }
    }

    /**
     * Where the walker is: the role of bare relations below, the visible CTE names, whether this
     * part runs ({@code executed}) and whether its functions may be called ({@code evaluated}),
     * whether it filters, and the FROM-clause names in scope.
     */
    private record Context(Role role, Set<String> ctes, boolean executed, boolean evaluated, boolean filter,
                           Scope scope) {
        Context as(Role newRole) {
            return newRole == role ? this : new Context(newRole, ctes, executed, evaluated, filter, scope);
        }

        Context withCte(String name) {
            Set<String> names = new HashSet<>(ctes);
            names.add(name);
            return new Context(role, Set.copyOf(names), executed, evaluated, filter, scope);
        }

        Context withCtes(Set<String> more) {
            if (more.isEmpty()) {
                return this;
            }
            Set<String> names = new HashSet<>(ctes);
            names.addAll(more);
            return new Context(role, Set.copyOf(names), executed, evaluated, filter, scope);
        }

        Context notExecuted() {
            return executed ? new Context(role, ctes, false, evaluated, filter, scope) : this;
        }

        Context definition() {
            return new Context(role, ctes, false, false, filter, scope);
        }

        Context filtering() {
            return filter ? this : new Context(role, ctes, executed, evaluated, true, scope);
        }

        Context within(Map<String, Relation> names) {
            return new Context(role, ctes, executed, evaluated, filter, new Scope(names, scope));
        }
    }

    private final Set<String> tablesRead = new LinkedHashSet<>();
    private final Set<String> tablesWritten = new LinkedHashSet<>();
    private final Set<String> functions = new LinkedHashSet<>();
    private final Map<String, List<String>> calls = new LinkedHashMap<>();
    private final Set<String> settings = new LinkedHashSet<>();
    private final Set<String> filterColumns = new LinkedHashSet<>();
    private final Set<String> uncertainty = new LinkedHashSet<>();
    private boolean missingWhere;
    private boolean rowLocks;

    /** Walks one top-level statement node. */
    void statement(String type, JsonNode body) {
        visitNode(type, body, new Context(Role.READ, Set.of(), true, true, false, null));
    }

    /** Walks expressions that are evaluated (the arguments of an EXECUTE). */
    void expressions(JsonNode expressions) {
        visitValue(expressions, new Context(Role.READ, Set.of(), true, true, false, null));
    }

    List<String> tablesRead() {
        return List.copyOf(tablesRead);
    }

    List<String> tablesWritten() {
        return List.copyOf(tablesWritten);
    }

    /** Every function named, called or not, as written. */
    List<String> functions() {
        return List.copyOf(functions);
    }

    /** Functions the statement may call, in order, as written, with the parts of their names. */
    Map<String, List<String>> calls() {
        return Collections.unmodifiableMap(calls);
    }

    List<String> settings() {
        return List.copyOf(settings);
    }

    List<String> filterColumns() {
        return List.copyOf(filterColumns);
    }

    /** Why the statement cannot be known from its text alone (the prepared statements it executes). */
    List<String> uncertainty() {
        return List.copyOf(uncertainty);
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
            case PgNodes.FUNC_CALL -> function(body, ctx);
            case PgNodes.COLUMN_REF -> {
                if (ctx.filter()) {
                    filterColumn(body.path(PgNodes.FIELDS), ctx);
                }
                return;
            }
            case PgNodes.A_CONST -> {
                return; // a constant names nothing (and looking into it would make its analysis depend on its value)
            }
            case PgNodes.JOIN_EXPR -> usingColumns(body, ctx);
            case PgNodes.UPDATE, PgNodes.DELETE -> missingWhere |= ctx.executed() && !body.has(PgNodes.WHERE_CLAUSE);
            case PgNodes.SELECT -> rowLocks |= ctx.executed() && body.has(PgNodes.LOCKING_CLAUSE);
            case PgNodes.EXPLAIN -> {
                if (!explainExecutes(body)) {
                    ctx = ctx.notExecuted();
                }
            }
            case PgNodes.DROP -> {
                dropped(body, ctx);
                return;
            }
            case PgNodes.EXECUTE_STMT -> uncertainty.add((ctx.executed() ? "executes" : "plans")
                    + " prepared statement " + body.path(PgNodes.NAME).asText() + ": resolved by the edge");
            case PgNodes.VARIABLE_SET -> settings.addAll(settingNames(body));
            default -> { }
        }
        Context inner = body.has(PgNodes.WITH) ? withClause(body.get(PgNodes.WITH), ctx) : ctx;
        Map<String, Relation> scope = scope(type, body, inner);
        if (scope != null && !scope.isEmpty()) {
            inner = inner.within(scope);
        }
        visitFields(type, body, inner.as(Role.READ));
    }

    /** Visits the fields of a typed node ({@code type} non-null) or of an unwrapped message (role passes through). */
    private void visitFields(String type, JsonNode body, Context ctx) {
        Set<String> writeFields = type == null ? Set.of() : PgNodes.WRITE_FIELDS.getOrDefault(type, Set.of());
        Set<String> definitionFields = type == null ? Set.of() : PgNodes.DEFINITION_FIELDS.getOrDefault(type, Set.of());
        for (Map.Entry<String, JsonNode> field : body.properties()) {
            String name = field.getKey();
            JsonNode value = field.getValue();
            if (type != null && name.equals(PgNodes.WITH)) {
                continue; // handled by withClause()
            }
            Context fieldCtx = writeFields.contains(name) || isCopyTarget(type, name, body) ? ctx.as(Role.WRITE) : ctx;
            if (definitionFields.contains(name)) {
                fieldCtx = fieldCtx.definition();
            }
            if (PgNodes.FILTER_FIELDS.contains(name)) {
                fieldCtx = fieldCtx.filtering();
            }
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

    private void function(JsonNode call, Context ctx) {
        List<String> parts = names(call.path(PgNodes.FUNCNAME));
        String name = String.join(".", parts);
        functions.add(name);
        if (ctx.evaluated()) {
            calls.putIfAbsent(name, parts);
        }
        if (ctx.executed() && isSetConfig(parts)) {
            settings.add(setConfigName(call.path(PgNodes.ARGS)));
        }
    }

    private static boolean isSetConfig(List<String> parts) {
        return parts.equals(List.of("set_config")) || parts.equals(List.of(PgNodes.PG_CATALOG, "set_config"));
    }

    /** The setting {@code set_config} changes: its constant first argument, else "*" (cannot be named). */
    private static String setConfigName(JsonNode args) {
        JsonNode name = null;
        for (int i = 0; i < args.size(); i++) {
            JsonNode named = args.get(i).path(PgNodes.NAMED_ARG_EXPR);
            if (named.isMissingNode()) {
                if (i == 0) {
                    name = args.get(i);
                }
            } else if ("setting_name".equals(named.path(PgNodes.NAME).asText())) {
                name = named.path(PgNodes.ARG);
            }
        }
        String constant = name == null ? null : stringConstant(name);
        return constant == null ? "*" : constant.toLowerCase(Locale.ROOT);
    }

    /** The value of a string constant, through type casts ({@code 'x'::text}); null when not one. */
    static String stringConstant(JsonNode node) {
        JsonNode current = node;
        while (current.has(PgNodes.TYPE_CAST)) {
            current = current.get(PgNodes.TYPE_CAST).path(PgNodes.ARG);
        }
        JsonNode sval = current.path(PgNodes.A_CONST).path(PgNodes.SVAL);
        return sval.isObject() ? sval.path(PgNodes.SVAL).asText("") : null;
    }

    /**
     * The settings a {@code SET} / {@code RESET} changes: its name lower case ("*" for
     * {@code RESET ALL}), or for {@code SET TRANSACTION} / {@code SET SESSION CHARACTERISTICS} the
     * transaction settings it names.
     */
    static List<String> settingNames(JsonNode set) {
        String kind = set.path(PgNodes.KIND).asText();
        if ("VAR_RESET_ALL".equals(kind)) {
            return List.of("*");
        }
        String name = set.path(PgNodes.NAME).asText();
        if ("VAR_SET_MULTI".equals(kind)) {
            String prefix = "SESSION CHARACTERISTICS".equals(name) ? "default_" : "";
            List<String> names = new ArrayList<>();
            for (JsonNode arg : set.path(PgNodes.ARGS)) {
                String defname = arg.path(PgNodes.DEF_ELEM).path(PgNodes.DEFNAME).asText();
                if (!defname.isEmpty()) {
                    names.add(prefix + defname.toLowerCase(Locale.ROOT));
                }
            }
            return names;
        }
        return name.isEmpty() ? List.of() : List.of(name.toLowerCase(Locale.ROOT));
    }

    /** A column reference in a filtering position: as written, and qualified by the relation it names. */
    private void filterColumn(JsonNode fields, Context ctx) {
        List<String> parts = new ArrayList<>();
        for (JsonNode field : fields) {
            if (field.has(PgNodes.A_STAR)) {
                return; // t.* is the whole row, not a column
            }
            parts.add(field.path(PgNodes.STRING).path(PgNodes.SVAL).asText());
        }
        if (parts.isEmpty()) {
            return;
        }
        int n = parts.size();
        String column = parts.get(n - 1);
        filterColumns.add(column);
        if (n >= 3) {
            filterColumns.add(parts.get(n - 2) + "." + column);
            filterColumns.add(parts.get(n - 3) + "." + parts.get(n - 2) + "." + column);
        } else if (n == 2) {
            Relation relation = Scope.lookup(ctx.scope(), parts.getFirst());
            if (relation == null) {
                filterColumns.add(parts.getFirst() + "." + column);
            } else {
                qualified(relation, column);
            }
        } else {
            // unqualified: it may be a column of any relation in scope, this level's or an enclosing one's
            for (Scope s = ctx.scope(); s != null; s = s.outer()) {
                s.names().values().forEach(relation -> qualified(relation, column));
            }
        }
    }

    /** {@code JOIN ... USING (a, b)}: each column as written and qualified by each table joined. */
    private void usingColumns(JsonNode join, Context ctx) {
        JsonNode using = join.path(PgNodes.USING_CLAUSE);
        if (!using.isArray() || using.isEmpty()) {
            return;
        }
        List<Relation> tables = new ArrayList<>();
        joinedTables(join.path(PgNodes.LARG), ctx, tables);
        joinedTables(join.path(PgNodes.RARG), ctx, tables);
        for (String column : names(using)) {
            filterColumns.add(column);
            tables.forEach(table -> qualified(table, column));
        }
    }

    private void qualified(Relation relation, String column) {
        if (relation == NOT_A_TABLE) {
            return;
        }
        filterColumns.add(relation.name() + "." + column);
        if (relation.schema() != null) {
            filterColumns.add(relation.schema() + "." + relation.name() + "." + column);
        }
    }

    private static void joinedTables(JsonNode item, Context ctx, List<Relation> tables) {
        String type = wrappedType(item);
        JsonNode body = type == null ? item : item.get(type);
        if (PgNodes.JOIN_EXPR.equals(type)) {
            joinedTables(body.path(PgNodes.LARG), ctx, tables);
            joinedTables(body.path(PgNodes.RARG), ctx, tables);
        } else if (PgNodes.RANGE_VAR.equals(type) || (type == null && body.has(PgNodes.RELNAME))) {
            Relation relation = relation(body, ctx);
            if (relation != NOT_A_TABLE) {
                tables.add(relation);
            }
        } else if (PgNodes.RANGE_TABLE_SAMPLE.equals(type)) {
            joinedTables(body.path(PgNodes.RELATION), ctx, tables);
        }
    }

    /** The FROM-clause names a query level introduces; null for nodes that are not query levels. */
    private static Map<String, Relation> scope(String type, JsonNode body, Context ctx) {
        List<JsonNode> items = new ArrayList<>();
        switch (type) {
            case PgNodes.SELECT -> body.path(PgNodes.FROM_CLAUSE).forEach(items::add);
            case PgNodes.UPDATE -> {
                items.add(body.path(PgNodes.RELATION));
                body.path(PgNodes.FROM_CLAUSE).forEach(items::add);
            }
            case PgNodes.DELETE -> {
                items.add(body.path(PgNodes.RELATION));
                body.path(PgNodes.USING_CLAUSE).forEach(items::add);
            }
            case PgNodes.MERGE -> {
                items.add(body.path(PgNodes.RELATION));
                items.add(body.path("sourceRelation"));
            }
            case PgNodes.INSERT -> items.add(body.path(PgNodes.RELATION));
            default -> {
                return null;
            }
        }
        Map<String, Relation> names = new HashMap<>();
        items.forEach(item -> fromItem(item, ctx, names));
        return names;
    }

    private static void fromItem(JsonNode item, Context ctx, Map<String, Relation> names) {
        String type = wrappedType(item);
        JsonNode body = type == null ? item : item.get(type);
        if (PgNodes.RANGE_VAR.equals(type) || (type == null && body.has(PgNodes.RELNAME))) {
            String alias = body.path(PgNodes.ALIAS).path(PgNodes.ALIASNAME).asText("");
            names.put(alias.isEmpty() ? body.path(PgNodes.RELNAME).asText() : alias, relation(body, ctx));
            return;
        }
        if (type == null) {
            return;
        }
        switch (type) {
            case PgNodes.JOIN_EXPR -> {
                fromItem(body.path(PgNodes.LARG), ctx, names);
                fromItem(body.path(PgNodes.RARG), ctx, names);
            }
            case PgNodes.RANGE_TABLE_SAMPLE -> fromItem(body.path(PgNodes.RELATION), ctx, names);
            default -> { }
        }
        String alias = body.path(PgNodes.ALIAS).path(PgNodes.ALIASNAME).asText("");
        if (!alias.isEmpty() && !PgNodes.RANGE_TABLE_SAMPLE.equals(type)) {
            names.put(alias, NOT_A_TABLE);
        }
    }

    private static Relation relation(JsonNode rangeVar, Context ctx) {
        String relname = rangeVar.path(PgNodes.RELNAME).asText();
        if (!rangeVar.hasNonNull(PgNodes.SCHEMANAME)) {
            return ctx.ctes().contains(relname) ? NOT_A_TABLE : new Relation(null, relname);
        }
        return new Relation(rangeVar.get(PgNodes.SCHEMANAME).asText(), relname);
    }

    private void dropped(JsonNode body, Context ctx) {
        if (!PgNodes.RELATION_OBJECT_TYPES.contains(body.path(PgNodes.REMOVE_TYPE).asText())) {
            return;
        }
        for (JsonNode object : body.path(PgNodes.OBJECTS)) {
            String name = String.join(".", names(object.path(PgNodes.LIST).path(PgNodes.ITEMS)));
            if (!name.isEmpty()) {
                (ctx.executed() ? tablesWritten : tablesRead).add(name);
            }
        }
    }

    private static boolean isCopyTarget(String type, String field, JsonNode body) {
        return PgNodes.COPY.equals(type) && PgNodes.RELATION.equals(field) && body.path(PgNodes.IS_FROM).asBoolean();
    }

    /**
     * Whether an EXPLAIN executes its statement, read as PostgreSQL reads its options: the last
     * {@code ANALYZE} wins; {@code false}, {@code off}, {@code no} and {@code 0} turn it off, no
     * value or any other value turns it on (a value PostgreSQL rejects runs nothing, but is
     * counted as running: the safe side).
     */
    static boolean explainExecutes(JsonNode explain) {
        boolean analyze = false;
        for (JsonNode option : explain.path(PgNodes.OPTIONS)) {
            JsonNode def = option.path(PgNodes.DEF_ELEM);
            if (PgNodes.EXPLAIN_ANALYZE.equals(def.path(PgNodes.DEFNAME).asText())) {
                JsonNode arg = def.path(PgNodes.ARG);
                String value = arg.isMissingNode() ? "true" : stringValue(arg).toLowerCase(Locale.ROOT);
                analyze = !(value.equals("false") || value.equals("off") || value.equals("no") || value.equals("0"));
            }
        }
        return analyze;
    }

    private static String stringValue(JsonNode node) {
        // {"String":{"sval":"false"}}, {"Boolean":{"boolval":...}}, {"Integer":{"ival":0}}
        String type = wrappedType(node);
        if (type == null) {
            return node.asText();
        }
        JsonNode body = node.get(type);
        return switch (type) {
            case "Boolean" -> Boolean.toString(body.path(PgNodes.BOOLVAL).asBoolean(false));
            case "Integer" -> Integer.toString(body.path(PgNodes.IVAL).asInt(0));
            case "Float" -> body.path(PgNodes.FVAL).asText();
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
        } else if (PgNodes.TEMPORARY.equals(rangeVar.path(PgNodes.RELPERSISTENCE).asText())) {
            name.append(PgNodes.PG_TEMP).append('.');
        }
        return name.append(rangeVar.path(PgNodes.RELNAME).asText()).toString();
    }

    /** The values of a list of {@code {"String":{"sval":...}}} nodes (other nodes skipped). */
    static List<String> names(JsonNode names) {
        List<String> parts = new ArrayList<>();
        for (JsonNode part : names) {
            JsonNode string = part.path(PgNodes.STRING);
            if (!string.isMissingNode()) {
                parts.add(string.path(PgNodes.SVAL).asText());
            }
        }
        return parts;
    }

    /** The node type of a wrapped node ({@code {"SelectStmt": {...}}}), or null for a bare message. */
    static String wrappedType(JsonNode object) {
        if (object.size() != 1) {
            return null;
        }
        String name = object.fieldNames().next();
        return !name.isEmpty() && Character.isUpperCase(name.charAt(0)) ? name : null;
    }
}
