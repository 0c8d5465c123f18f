package dev.gatehouse.platform.core;

import java.util.List;

/**
 * What one parsed SQL statement does.
 *
 * @param kind           coarse class (read, write, ddl, ...)
 * @param tag            the statement's command, as PostgreSQL would tag it ("SELECT",
 *                       "CREATE DATABASE", "DELETE", "BEGIN", ...)
 * @param objectType     for DDL, the type of object created, altered or dropped ("DATABASE",
 *                       "TABLE", "INDEX", ...); null otherwise
 * @param tablesRead     relations read; at the edge resolved through the target's catalog to
 *                       {@code schema.relation}, else as the SQL writes them
 * @param tablesWritten  relations inserted into, updated, deleted from, created, or whose
 *                       definition changes (resolved like {@code tablesRead}; a write through a
 *                       view, rule or trigger adds the relations it reaches)
 * @param functions      functions called
 * @param missingWhere   an UPDATE or DELETE without a WHERE clause (anywhere in the statement,
 *                       CTEs included)
 * @param runsCode       the statement runs code the analyser cannot see through: a DO block, a
 *                       procedure or a user-defined function, a trigger or rule
 * @param uncertain      the analyser cannot classify the statement with certainty (an unknown
 *                       statement type, dynamic SQL, a relation it cannot resolve, ...)
 * @param uncertainty    why it is uncertain, one short reason each; empty when certain
 * @param settings       session settings the statement changes (lower case, e.g.
 *                       {@code "search_path"}); {@code "*"} when it may change settings the
 *                       analyser cannot name ({@code set_config} with a computed name,
 *                       {@code RESET ALL})
 * @param filterColumns  columns that filter, join, group or sort (WHERE, ON, GROUP BY, HAVING,
 *                       ORDER BY, window clauses), each as written ({@code ssn}) and, where the
 *                       relation is known, qualified ({@code customers.ssn},
 *                       {@code public.customers.ssn}); what a masked column still reveals
 */
public record StatementAnalysis(
        StatementKind kind,
        String tag,
        String objectType,
        List<String> tablesRead,
        List<String> tablesWritten,
        List<String> functions,
        boolean missingWhere,
        boolean runsCode,
        boolean uncertain,
        List<String> uncertainty,
        List<String> settings,
        List<String> filterColumns) {

    public StatementAnalysis {
        tablesRead = List.copyOf(tablesRead);
        tablesWritten = List.copyOf(tablesWritten);
        functions = List.copyOf(functions);
        uncertainty = uncertainty == null ? List.of() : List.copyOf(uncertainty);
        settings = settings == null ? List.of() : List.copyOf(settings);
        filterColumns = filterColumns == null ? List.of() : List.copyOf(filterColumns);
    }

    /** A statement with only the facts of the first event version (certain, no code, no settings). */
    public StatementAnalysis(StatementKind kind, String tag, String objectType, List<String> tablesRead,
                             List<String> tablesWritten, List<String> functions, boolean missingWhere) {
        this(kind, tag, objectType, tablesRead, tablesWritten, functions, missingWhere, false, false, List.of(),
                List.of(), List.of());
    }

    /** A statement nothing is known about, with the reason. */
    public static StatementAnalysis unknown(String tag, String reason) {
        return new StatementAnalysis(StatementKind.UNKNOWN, tag, null, List.of(), List.of(), List.of(), false, false,
                true, List.of(reason), List.of(), List.of());
    }

    /** This analysis with the relations replaced (resolution) and, if given, one more reason for uncertainty. */
    public StatementAnalysis withRelations(List<String> read, List<String> written) {
        return new StatementAnalysis(kind, tag, objectType, read, written, functions, missingWhere, runsCode, uncertain,
                uncertainty, settings, filterColumns);
    }

    /** This analysis, also uncertain for {@code reason}. */
    public StatementAnalysis withUncertainty(String reason) {
        List<String> reasons = new java.util.ArrayList<>(uncertainty);
        if (!reasons.contains(reason)) reasons.add(reason);
        return new StatementAnalysis(kind, tag, objectType, tablesRead, tablesWritten, functions, missingWhere, runsCode,
                true, reasons, settings, filterColumns);
    }

    /** This analysis, also running code the analyser cannot see through. */
    public StatementAnalysis withRunsCode() {
        return runsCode ? this : new StatementAnalysis(kind, tag, objectType, tablesRead, tablesWritten, functions,
                missingWhere, true, uncertain, uncertainty, settings, filterColumns);
    }
}
