package dev.gatehouse.platform.core;

import java.util.List;

/**
 * What one statement does to the state of its session that later statements depend on: named
 * prepared statements, cursors, settings. The edge tracks these exactly as the target does (see
 * {@code docs/architecture.md}, "Session core"), so that an {@code EXECUTE} or a {@code FETCH} is
 * decided as the statement it really runs. Never written to the log: it is the edge's working
 * knowledge, derived from the statement's parse tree. Names are as the target folds them
 * (unquoted identifiers lower case).
 */
public sealed interface SessionEffect {

    /** {@code PREPARE name [(types)] AS statement}: {@code sql} is the inner statement's text. */
    record Prepare(String name, String sql, StatementAnalysis statement) implements SessionEffect {
    }

    /**
     * {@code EXECUTE name [(arguments)]}, also inside {@code CREATE TABLE AS} or {@code EXPLAIN}:
     * the arguments as their source text, and what evaluating them does (tables they read,
     * functions they call) as a READ statement's analysis.
     */
    record Execute(String name, List<String> arguments, StatementAnalysis argumentsAnalysis) implements SessionEffect {
        public Execute {
            arguments = List.copyOf(arguments);
        }
    }

    /** {@code DEALLOCATE [PREPARE] name}; {@code name} null for {@code DEALLOCATE ALL}. */
    record Deallocate(String name) implements SessionEffect {
    }

    /** {@code DECLARE name ... CURSOR [WITH HOLD] FOR query}: {@code sql} is the query's text. */
    record Declare(String name, boolean hold, boolean binary, String sql, StatementAnalysis query) implements SessionEffect {
    }

    /** {@code FETCH} or ({@code move}) {@code MOVE} from the cursor {@code name}. */
    record Fetch(String name, boolean move) implements SessionEffect {
    }

    /** {@code CLOSE name}; {@code name} null for {@code CLOSE ALL}. */
    record ClosePortal(String name) implements SessionEffect {
    }

    /** {@code DISCARD ALL | PLANS | SEQUENCES | TEMP}: {@code what} upper case. */
    record Discard(String what) implements SessionEffect {
    }

    /**
     * A plain {@code SET [SESSION | LOCAL] name ...} or {@code RESET name} ({@code name} "*" for
     * {@code RESET ALL}); {@code value} is the new value as the target would show it for
     * {@code search_path} (comma-separated, identifiers as written), null for DEFAULT or RESET.
     */
    record Setting(String name, String value, boolean local, boolean reset) implements SessionEffect {
    }
}
