package dev.gatehouse.platform.core;

import java.util.List;

/**
 * What the body of a function, procedure or trigger function does, as far as it can be seen
 * statically: the relations its SQL statements read and write, the functions they call, and the
 * settings they change, and whether one of its UPDATE or DELETE statements has no WHERE
 * ({@code missingWhere}, as for a statement). {@code opaque} when any of it cannot be seen
 * (dynamic SQL with {@code EXECUTE}, a language the analyser does not read, a body that does not
 * parse).
 */
public record RoutineAnalysis(boolean opaque, String reason, List<String> tablesRead, List<String> tablesWritten,
                              List<String> functions, List<String> settings, boolean missingWhere) {
    public RoutineAnalysis {
        tablesRead = List.copyOf(tablesRead);
        tablesWritten = List.copyOf(tablesWritten);
        functions = List.copyOf(functions);
        settings = List.copyOf(settings);
    }

    /** A body with no UPDATE or DELETE lacking its WHERE. */
    public RoutineAnalysis(boolean opaque, String reason, List<String> tablesRead, List<String> tablesWritten,
                           List<String> functions, List<String> settings) {
        this(opaque, reason, tablesRead, tablesWritten, functions, settings, false);
    }

    public static RoutineAnalysis opaque(String reason) {
        return new RoutineAnalysis(true, reason, List.of(), List.of(), List.of(), List.of());
    }
}
