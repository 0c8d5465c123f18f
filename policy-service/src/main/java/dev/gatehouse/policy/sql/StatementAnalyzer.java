package dev.gatehouse.policy.sql;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * What one statement of a parse tree does: its name ({@link StatementClassifier}), what it
 * touches ({@link ReferenceCollector}) and, fail-closed, whether it runs code and what about it is
 * uncertain:
 * <ul>
 *   <li>{@code DO} and {@code CALL} run code; a DO block's PL/pgSQL body is analysed
 *       ({@link RoutineAnalyzer}) and adds what it touches; it is uncertain only where the body
 *       cannot be seen.</li>
 *   <li>A call of a function that is not a PostgreSQL 15 built-in ({@link BuiltinFunctions}) runs
 *       code: uncertain for the reason {@code "calls <name as written>"}.</li>
 *   <li>{@code COPY ... PROGRAM}, {@code LOAD}, {@code CREATE EXTENSION} and
 *       {@code ALTER EXTENSION ... UPDATE} run code.</li>
 *   <li>A statement type the classifier does not know is uncertain ("unclassified statement
 *       X"), and so are {@code EXECUTE}, {@code FETCH} and {@code MOVE}, whose effect only the
 *       edge knows (it tracks prepared statements and cursors).</li>
 *   <li>Settings: {@code SET}/{@code RESET} and the {@code SET} clauses of {@code ALTER ROLE},
 *       {@code ALTER DATABASE}, {@code ALTER SYSTEM} and {@code CREATE/ALTER FUNCTION} name theirs,
 *       {@code set_config} its constant first argument; "*" when they cannot be named
 *       ({@code RESET ALL}, {@code DISCARD ALL}, {@code set_config} of a computed name, an
 *       {@code UPDATE} of {@code pg_settings}).</li>
 * </ul>
 * Thread-safe (no state of its own beyond the binding).
 */
final class StatementAnalyzer {

    /** Deepest nesting of DO blocks analysed (a DO block whose body holds a DO block ...). */
    static final int MAX_NESTING = 8;

    /** The view whose rows are the session's settings: writing it changes them. */
    private static final Set<String> PG_SETTINGS = Set.of("pg_settings", "pg_catalog.pg_settings");

    private final BuiltinFunctions builtins = BuiltinFunctions.shared();
    private final RoutineAnalyzer routines;

    StatementAnalyzer(LibPgQuery libPgQuery, ObjectMapper json) {
        this.routines = new RoutineAnalyzer(libPgQuery, json, this);
    }

    RoutineAnalyzer routines() {
        return routines;
    }

    /**
     * Analyses one statement node ({@code {"SelectStmt": {...}}}).
     *
     * @param depth how many DO blocks or routine bodies enclose it
     */
    StatementAnalysis analyse(JsonNode stmt, int depth) {
        if (!stmt.isObject() || stmt.size() != 1) {
            return StatementAnalysis.unknown("UNKNOWN", "statement without a parse tree");
        }
        String type = stmt.fieldNames().next();
        JsonNode body = stmt.get(type);
        StatementClassifier.Classification named = StatementClassifier.classify(type, body);
        ReferenceCollector references = new ReferenceCollector();
        references.statement(type, body);
        StatementKind kind = named.kind();
        if ((kind == StatementKind.READ || kind == StatementKind.UTILITY)
                && (!references.tablesWritten().isEmpty() || references.rowLocks())) {
            kind = StatementKind.WRITE;
        }
        Facts facts = facts(references);
        if (!named.known()) {
            facts.uncertain("unclassified statement " + type);
        }
        switch (type) {
            case PgNodes.DO -> {
                facts.runsCode = true;
                facts.add(routines.doBlock(body, depth + 1));
            }
            case PgNodes.CALL -> facts.runsCode = true;
            case PgNodes.FETCH -> facts.uncertain((body.path("ismove").asBoolean() ? "moves cursor " : "fetches from cursor ")
                    + body.path(PgNodes.PORTALNAME).asText() + ": resolved by the edge");
            case "DiscardStmt" -> {
                if ("DISCARD_ALL".equals(body.path("target").asText())) {
                    facts.settings.add("*");
                }
            }
            default -> { }
        }
        if (StatementClassifier.hiddenCode(type, body) != null) {
            facts.runsCode = true;
        }
        return facts.analysis(kind, named.tag(), kind == StatementKind.DDL ? named.objectType() : null);
    }

    /** What evaluating expressions does (the arguments of an EXECUTE), as a READ statement's analysis. */
    StatementAnalysis expressions(JsonNode expressions) {
        ReferenceCollector references = new ReferenceCollector();
        references.expressions(expressions);
        return facts(references).analysis(StatementKind.READ, "SELECT", null);
    }

    private Facts facts(ReferenceCollector references) {
        Facts facts = new Facts();
        facts.tablesRead.addAll(references.tablesRead());
        facts.tablesWritten.addAll(references.tablesWritten());
        facts.functions.addAll(references.functions());
        facts.settings.addAll(references.settings());
        facts.filterColumns.addAll(references.filterColumns());
        facts.missingWhere = references.missingWhere();
        if (references.tablesWritten().stream().anyMatch(PG_SETTINGS::contains)) {
            facts.settings.add("*"); // pg_settings' update rule calls set_config for the rows it updates
        }
        references.uncertainty().forEach(facts::uncertain);
        for (Map.Entry<String, List<String>> call : references.calls().entrySet()) {
            if (!builtins.isBuiltin(call.getValue())) {
                facts.runsCode = true;
                facts.uncertain(Facts.CALLS + call.getKey());
            }
        }
        return facts;
    }
}
