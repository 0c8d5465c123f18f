package dev.gatehouse.policy.sql;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What the body of a routine or DO block does, as far as its text shows: the SQL statements it
 * holds, each analysed as a top-level statement would be, gathered into one {@link Facts}. Whatever
 * cannot be seen is a reason for uncertainty (the body is then opaque): dynamic SQL, a body that
 * does not parse (libpg_query's PL/pgSQL parser also refuses some valid bodies, e.g. {@code OPEN}
 * of a bound cursor or {@code %ROWTYPE} fields, since it has no catalog), a language other than
 * SQL and PL/pgSQL, code run by {@link StatementClassifier#hiddenCode}.
 *
 * <ul>
 *   <li>{@code sql}: the definition is parsed; a {@code BEGIN ATOMIC} or {@code RETURN} body is
 *       in its tree, a string body ({@code AS $function$ ... $function$}) is parsed once more.</li>
 *   <li>{@code plpgsql}: {@code pg_query_parse_plpgsql} gives the body's statements with their
 *       embedded SQL as text ({@code PLpgSQL_expr}); the texts are parsed as PostgreSQL parses
 *       them (statements as they are, expressions as {@code SELECT expr}, assignments as
 *       {@code SELECT} of their right-hand side), all in one parse.</li>
 *   <li>A DO block's body is analysed as the body of a PL/pgSQL function without arguments
 *       returning void, which is how PostgreSQL compiles it.</li>
 * </ul>
 * Runs on the binding's parser threads (the caller's task). Thread-safe.
 */
final class RoutineAnalyzer {

    /** PL/pgSQL fields whose text is a whole SQL statement (node type and field). */
    private static final Map<String, Set<String>> STATEMENT_FIELDS = Map.of(
            "PLpgSQL_stmt_execsql", Set.of("sqlstmt"),
            "PLpgSQL_stmt_perform", Set.of("expr"),
            "PLpgSQL_stmt_call", Set.of("expr"),
            "PLpgSQL_stmt_fors", Set.of("query"),
            "PLpgSQL_stmt_forc", Set.of("argquery"),
            "PLpgSQL_stmt_return_query", Set.of("query"),
            "PLpgSQL_stmt_open", Set.of("query", "argquery"),
            "PLpgSQL_var", Set.of("cursor_explicit_expr"));

    /** The PL/pgSQL statements that run SQL built at run time, and how the reason names them. */
    private static final Map<String, String> DYNAMIC = Map.of(
            "PLpgSQL_stmt_dynexecute", "EXECUTE",
            "PLpgSQL_stmt_dynfors", "FOR ... IN EXECUTE",
            "PLpgSQL_stmt_return_query", "RETURN QUERY EXECUTE",
            "PLpgSQL_stmt_open", "OPEN ... FOR EXECUTE");

    private static final String PLPGSQL_EXPR = "PLpgSQL_expr";
    private static final String PLPGSQL_FUNCTION = "PLpgSQL_function";
    private static final String ASSIGN = "PLpgSQL_stmt_assign";
    private static final String PIECE_SEPARATOR = "\n;\n";

    private final LibPgQuery libPgQuery;
    private final ObjectMapper json;
    private final StatementAnalyzer statements;

    RoutineAnalyzer(LibPgQuery libPgQuery, ObjectMapper json, StatementAnalyzer statements) {
        this.libPgQuery = libPgQuery;
        this.json = json;
        this.statements = statements;
    }

    /** A routine's body, from its language and its full definition ({@code pg_get_functiondef}). */
    Facts routine(String language, String definition, int depth) {
        Facts facts = new Facts();
        if ("sql".equals(language)) {
            sql(definition, depth, facts);
        } else if ("plpgsql".equals(language)) {
            plpgsql(definition, depth, facts);
        } else {
            facts.uncertain("language " + language + " is not analysed");
        }
        return facts;
    }

    /** A DO block's body ({@code DoStmt} node body). */
    Facts doBlock(JsonNode doStmt, int depth) {
        Facts facts = new Facts();
        String language = "plpgsql";
        String code = null;
        for (JsonNode arg : doStmt.path(PgNodes.ARGS)) {
            JsonNode def = arg.path(PgNodes.DEF_ELEM);
            String value = def.path(PgNodes.ARG).path(PgNodes.STRING).path(PgNodes.SVAL).asText("");
            switch (def.path(PgNodes.DEFNAME).asText()) {
                case "language" -> language = value;
                case "as" -> code = value;
                default -> { }
            }
        }
        if (depth > StatementAnalyzer.MAX_NESTING) {
            facts.uncertain("DO blocks nested too deeply to analyse");
        } else if (!"plpgsql".equals(language)) {
            facts.uncertain("DO block in language " + language + " is not analysed");
        } else if (code == null) {
            facts.uncertain("DO block without a body");
        } else {
            plpgsql(asFunction(code), depth, facts);
        }
        return facts;
    }

    /** A DO block's code as the definition of a PL/pgSQL function, dollar-quoted with a tag the code does not contain. */
    static String asFunction(String code) {
        String tag = "gatehouse";
        while (code.contains("$" + tag + "$")) {
            tag += "_";
        }
        return "CREATE FUNCTION pg_temp.gatehouse_do() RETURNS void LANGUAGE plpgsql AS $" + tag + "$" + code + "$" + tag + "$";
    }

    private void sql(String definition, int depth, Facts facts) {
        JsonNode function = singleFunction(definition, facts);
        if (function == null) {
            return;
        }
        String language = "";
        String body = null;
        for (JsonNode option : function.path(PgNodes.OPTIONS)) {
            JsonNode def = option.path(PgNodes.DEF_ELEM);
            switch (def.path(PgNodes.DEFNAME).asText()) {
                case "language" -> language = def.path(PgNodes.ARG).path(PgNodes.STRING).path(PgNodes.SVAL).asText("");
                case "as" -> body = def.path(PgNodes.ARG).path(PgNodes.LIST).path(PgNodes.ITEMS).path(0)
                        .path(PgNodes.STRING).path(PgNodes.SVAL).asText(null);
                default -> { }
            }
        }
        if (!"sql".equals(language)) {
            facts.uncertain("definition is not LANGUAGE sql");
            return;
        }
        JsonNode sqlBody = function.path("sql_body");
        if (sqlBody.has("ReturnStmt")) {
            add(sqlBody, depth, facts);
        } else if (sqlBody.has(PgNodes.LIST)) {
            for (JsonNode statement : sqlBody.path(PgNodes.LIST).path(PgNodes.ITEMS).path(0).path(PgNodes.LIST).path(PgNodes.ITEMS)) {
                if (!statement.isEmpty()) {
                    add(statement, depth, facts);
                }
            }
        } else if (body != null) {
            statements(body, depth, facts);
        } else {
            facts.uncertain("definition without a body");
        }
    }

    /** The one CREATE FUNCTION / PROCEDURE of a definition, or null (and why, in {@code facts}). */
    private JsonNode singleFunction(String definition, Facts facts) {
        JsonNode tree = tree(definition, facts);
        if (tree == null) {
            return null;
        }
        JsonNode stmts = tree.path(PgNodes.STMTS);
        JsonNode function = stmts.path(0).path(PgNodes.STMT).path("CreateFunctionStmt");
        if (stmts.size() != 1 || function.isMissingNode()) {
            facts.uncertain("definition is not one CREATE FUNCTION or PROCEDURE");
            return null;
        }
        return function;
    }

    private void plpgsql(String definition, int depth, Facts facts) {
        LibPgQuery.PlpgsqlResult result;
        try {
            result = libPgQuery.parsePlpgsql(definition);
        } catch (IllegalArgumentException e) {
            facts.uncertain("body not analysable: " + e.getMessage());
            return;
        }
        if (!result.ok()) {
            facts.uncertain("body does not parse: " + result.error().message());
            return;
        }
        JsonNode functions = read(result.functions(), facts);
        if (functions == null) {
            return;
        }
        JsonNode function = functions.path(0).path(PLPGSQL_FUNCTION);
        if (functions.size() != 1 || !function.has("action")) {
            facts.uncertain("definition is not one PL/pgSQL function");
            return;
        }
        List<String> pieces = new ArrayList<>();
        walk(function, PLPGSQL_FUNCTION, null, pieces, facts);
        if (!pieces.isEmpty()) {
            statements(String.join(PIECE_SEPARATOR, pieces), depth, facts);
        }
    }

    /** Collects the SQL texts of a PL/pgSQL tree as parseable statements, and the reasons it is opaque. */
    private void walk(JsonNode node, String parentType, String field, List<String> pieces, Facts facts) {
        if (node.isArray()) {
            for (JsonNode element : node) {
                walk(element, parentType, field, pieces, facts);
            }
            return;
        }
        if (!node.isObject()) {
            return;
        }
        String type = node.size() == 1 && node.fieldNames().next().startsWith("PLpgSQL_") ? node.fieldNames().next() : null;
        if (type == null) {
            node.properties().forEach(e -> walk(e.getValue(), parentType, e.getKey(), pieces, facts));
            return;
        }
        JsonNode body = node.get(type);
        if (type.equals(PLPGSQL_EXPR)) {
            String piece = piece(parentType, field, body.path(PgNodes.QUERY).asText(""), facts);
            if (piece != null && !piece.isBlank()) {
                pieces.add(piece);
            }
            return;
        }
        String dynamic = DYNAMIC.get(type);
        if (dynamic != null && (!STATEMENT_FIELDS.containsKey(type) || body.has("dynquery"))) {
            facts.uncertain("dynamic SQL (" + dynamic + ") at line " + body.path("lineno").asInt());
        }
        body.properties().forEach(e -> walk(e.getValue(), type, e.getKey(), pieces, facts));
    }

    /** One PL/pgSQL SQL text as a statement PostgreSQL would parse the same way; null when it cannot be. */
    private String piece(String parentType, String field, String text, Facts facts) {
        if (STATEMENT_FIELDS.getOrDefault(parentType, Set.of()).contains(field)) {
            return text;
        }
        if (ASSIGN.equals(parentType)) {
            String value = assignedValue(text);
            if (value == null) {
                facts.uncertain("assignment not analysable");
                return null;
            }
            return "SELECT " + value;
        }
        return "SELECT " + text;
    }

    /** The right-hand side of a PL/pgSQL assignment ({@code target := value} or {@code target = value}). */
    private String assignedValue(String assignment) {
        LibPgQuery.ScanResult scanned = libPgQuery.scan(assignment);
        if (!scanned.ok()) {
            return null;
        }
        SqlText text = new SqlText(assignment, scanned.tokens());
        int colonEquals = text.find(0, text.size(), SqlText.COLON_EQUALS);
        int equals = text.find(0, text.size(), SqlText.EQUALS);
        int operator = colonEquals < 0 ? equals : equals < 0 ? colonEquals : Math.min(colonEquals, equals);
        return operator < 0 ? null : assignment.substring(text.end(operator));
    }

    /** Parses a text of statements and adds each. */
    private void statements(String sql, int depth, Facts facts) {
        JsonNode tree = tree(sql, facts);
        if (tree != null) {
            for (JsonNode raw : tree.path(PgNodes.STMTS)) {
                add(raw.path(PgNodes.STMT), depth, facts);
            }
        }
    }

    private void add(JsonNode statement, int depth, Facts facts) {
        facts.add(statements.analyse(statement, depth));
        if (statement.isObject() && statement.size() == 1) {
            String type = statement.fieldNames().next();
            String hidden = StatementClassifier.hiddenCode(type, statement.get(type));
            if (hidden != null) {
                facts.uncertain(hidden);
            }
        }
    }

    private JsonNode tree(String sql, Facts facts) {
        LibPgQuery.ParseResult parsed;
        try {
            parsed = libPgQuery.parse(sql);
        } catch (IllegalArgumentException e) {
            facts.uncertain("body not analysable: " + e.getMessage());
            return null;
        }
        if (!parsed.ok()) {
            facts.uncertain("body does not parse: " + parsed.error().message());
            return null;
        }
        return read(parsed.parseTree(), facts);
    }

    private JsonNode read(String text, Facts facts) {
        try {
            return json.readTree(text);
        } catch (StreamConstraintsException e) {
            facts.uncertain("body nested too deeply to analyse");
            return null;
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("libpg_query returned unreadable JSON", e);
        }
    }
}
