package dev.gatehouse.platform.core;

import java.util.List;

/**
 * What one parsed SQL statement does.
 *
 * @param kind          coarse class (read, write, ddl, ...)
 * @param tag           the statement's command, as PostgreSQL would tag it ("SELECT",
 *                      "CREATE DATABASE", "DELETE", "BEGIN", ...)
 * @param objectType    for DDL, the type of object created, altered or dropped ("DATABASE",
 *                      "TABLE", "INDEX", ...); null otherwise
 * @param tablesRead    relations read, schema-qualified when the SQL qualifies them
 * @param tablesWritten relations inserted into, updated, deleted from, or whose definition
 *                      changes
 * @param functions     functions called
 * @param missingWhere  an UPDATE or DELETE without a WHERE clause (anywhere in the statement,
 *                      CTEs included)
 */
public record StatementAnalysis(
        StatementKind kind,
        String tag,
        String objectType,
        List<String> tablesRead,
        List<String> tablesWritten,
        List<String> functions,
        boolean missingWhere) {

    public StatementAnalysis {
        tablesRead = List.copyOf(tablesRead);
        tablesWritten = List.copyOf(tablesWritten);
        functions = List.copyOf(functions);
    }
}
