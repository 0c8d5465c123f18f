package dev.gatehouse.policy.sql.mysql;

import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** What one statement touches and does, gathered in order without duplicates. Not thread-safe. */
final class MySqlFacts {

    /** How a reason for a call of a function that is not built in starts (as the PostgreSQL analyser words it). */
    static final String CALLS = "calls ";

    final Set<String> tablesRead = new LinkedHashSet<>();
    final Set<String> tablesWritten = new LinkedHashSet<>();
    final Set<String> functions = new LinkedHashSet<>();
    final Set<String> settings = new LinkedHashSet<>();
    final Set<String> uncertainty = new LinkedHashSet<>();
    boolean missingWhere;
    boolean runsCode;

    void uncertain(String reason) {
        uncertainty.add(reason);
    }

    /** A function called: named, and when it is not built in, code the analyser cannot see. */
    void call(String name) {
        functions.add(name);
        if (name.equals("load_file")) {
            uncertain(MySqlStatementAnalyzer.LOAD_FILE);
        }
        if (!MySqlBuiltinFunctions.isBuiltin(name)) {
            runsCode = true;
            uncertain(CALLS + name);
        }
    }

    /** Adds everything another statement does. */
    void add(StatementAnalysis statement) {
        tablesRead.addAll(statement.tablesRead());
        tablesWritten.addAll(statement.tablesWritten());
        functions.addAll(statement.functions());
        settings.addAll(statement.settings());
        uncertainty.addAll(statement.uncertainty());
        missingWhere |= statement.missingWhere();
        runsCode |= statement.runsCode();
    }

    StatementAnalysis analysis(StatementKind kind, String tag, String objectType) {
        return new StatementAnalysis(kind, tag, objectType, List.copyOf(tablesRead), List.copyOf(tablesWritten),
                List.copyOf(functions), missingWhere, runsCode, !uncertainty.isEmpty(), List.copyOf(uncertainty),
                List.copyOf(settings), List.of());
    }
}
