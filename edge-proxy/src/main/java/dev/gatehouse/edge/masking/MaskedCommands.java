package dev.gatehouse.edge.masking;

import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.StatementAnalysis;

import java.util.List;
import java.util.regex.Pattern;

/**
 * What every protocol's edge asks of a command before it runs it under a Mask decision. The
 * masker rewrites what the target sends back to this client; a value the command writes to a
 * table, a setting (a MySQL user variable included), server-side code or a function with an effect
 * would leave by another way, so a masked command may only read.
 */
public final class MaskedCommands {
    private MaskedCommands() {
    }

    /**
     * Why the command cannot be masked because it does more than read, or null when it only reads.
     *
     * @param effectFunctions functions of the target's dialect whose effect is outside the result
     *                        (a notification, a sequence, a lock's name, another connection)
     */
    public static String notOnlyReading(List<CommandStatement> statements, Pattern effectFunctions) {
        for (CommandStatement st : statements) {
            StatementAnalysis a = st.analysis();
            String why = !a.tablesWritten().isEmpty() ? "it writes " + String.join(", ", a.tablesWritten())
                    : a.runsCode() ? "it runs server-side code"
                    : !a.settings().isEmpty() ? "it changes settings (" + String.join(", ", a.settings()) + ")"
                    : a.functions().stream().filter(f -> effectFunctions.matcher(f).matches()).findFirst()
                            .map(f -> "it calls " + f + ", whose effect is outside the result").orElse(null);
            if (why != null) {
                return "a masked command may only read, and this one does more: " + why + "; the command was not executed";
            }
        }
        return null;
    }
}
