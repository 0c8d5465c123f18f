package dev.gatehouse.policy.sql;

import dev.gatehouse.platform.core.RoutineAnalysis;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What one statement, or a body of statements (a DO block, a routine), touches and does, gathered
 * in order without duplicates. Not thread-safe: one per analysis.
 */
final class Facts {

    /**
     * How a reason for uncertainty about a function call starts: {@code "calls "} and the function's
     * name as written. The edge's catalog resolver replaces these reasons once it knows the function.
     */
    static final String CALLS = "calls ";

    final Set<String> tablesRead = new LinkedHashSet<>();
    final Set<String> tablesWritten = new LinkedHashSet<>();
    final Set<String> functions = new LinkedHashSet<>();
    final Set<String> settings = new LinkedHashSet<>();
    final Set<String> filterColumns = new LinkedHashSet<>();
    final Set<String> uncertainty = new LinkedHashSet<>();
    boolean missingWhere;
    boolean runsCode;

    /** Adds what a statement of the body does. */
    void add(StatementAnalysis statement) {
        tablesRead.addAll(statement.tablesRead());
        tablesWritten.addAll(statement.tablesWritten());
        functions.addAll(statement.functions());
        settings.addAll(statement.settings());
        filterColumns.addAll(statement.filterColumns());
        uncertainty.addAll(statement.uncertainty());
        missingWhere |= statement.missingWhere();
        runsCode |= statement.runsCode();
    }

    /** Adds everything another body gathered. */
    void add(Facts body) {
        tablesRead.addAll(body.tablesRead);
        tablesWritten.addAll(body.tablesWritten);
        functions.addAll(body.functions);
        settings.addAll(body.settings);
        filterColumns.addAll(body.filterColumns);
        uncertainty.addAll(body.uncertainty);
        missingWhere |= body.missingWhere;
        runsCode |= body.runsCode;
    }

    void uncertain(String reason) {
        uncertainty.add(reason);
    }

    /** The first reason the body cannot be seen through (a reason other than a function call), or null. */
    String opaqueReason() {
        return uncertainty.stream().filter(reason -> !reason.startsWith(CALLS)).findFirst().orElse(null);
    }

    StatementAnalysis analysis(StatementKind kind, String tag, String objectType) {
        return new StatementAnalysis(kind, tag, objectType, List.copyOf(tablesRead), List.copyOf(tablesWritten),
                List.copyOf(functions), missingWhere, runsCode, !uncertainty.isEmpty(), List.copyOf(uncertainty),
                List.copyOf(settings), List.copyOf(filterColumns));
    }

    /** As a routine's analysis: opaque when anything but its function calls could not be seen. */
    RoutineAnalysis routine() {
        String reason = opaqueReason();
        return new RoutineAnalysis(reason != null, reason, List.copyOf(tablesRead), List.copyOf(tablesWritten),
                List.copyOf(functions), List.copyOf(settings), missingWhere);
    }
}
