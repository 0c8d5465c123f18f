package dev.gatehouse.edge.session;

import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.SqlCommand;

import java.util.List;
import java.util.Objects;

/**
 * What a protocol adapter submits to the core: one command, decided as a unit, with every
 * statement as the target will run it. The core gives it an id and a sequence number, records it
 * and decides it.
 *
 * @param form           how the client sent it
 * @param statements     each statement as the target runs it, in order (may be empty only when refused)
 * @param queryText      the text of a simple Query (recorded as the command's text), else null
 * @param parseable      false when any text of the command could not be parsed
 * @param parseError     the parser's message when not parseable, else null
 * @param fingerprint    a fingerprint of the command's SQL (literals removed), or null
 * @param refusal        set when the adapter refuses the command itself (a session invariant): it is
 *                       recorded with this reason and answered with this error, never decided
 * @param payload        the adapter's own state for the command (its messages), opaque to the core
 */
public record CommandDraft(SqlCommand.Form form, List<CommandStatement> statements, String queryText, boolean parseable,
                           String parseError, String fingerprint, Refusal refusal, Object payload) {
    public CommandDraft {
        Objects.requireNonNull(form, "form");
        statements = List.copyOf(statements);
    }

    /** The same draft, refused by the adapter. */
    public CommandDraft refused(Refusal why) {
        return new CommandDraft(form, statements, queryText, parseable, parseError, fingerprint, why, payload);
    }
}
