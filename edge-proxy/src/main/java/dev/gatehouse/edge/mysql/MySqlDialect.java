package dev.gatehouse.edge.mysql;

import dev.gatehouse.platform.core.SqlAnalyzer;

import java.util.Set;

/**
 * Where the MySQL edge gets its SQL analysis: an analyser that reads SQL exactly as a target of
 * the given version does under the given {@code sql_mode} flags (the edge calls it for the modes
 * that change how a text splits into statements: {@code ANSI_QUOTES}, {@code NO_BACKSLASH_ESCAPES}).
 * The policy service's MySQL analyser implements it; the edge knows only this port.
 */
@FunctionalInterface
public interface MySqlDialect {

    /** The sql_mode flags that change lexing. */
    Set<String> LEXING_MODES = Set.of("ANSI_QUOTES", "NO_BACKSLASH_ESCAPES");

    /**
     * @param serverVersion the target's version string from its greeting ("11.4.5-MariaDB-log")
     * @param sqlModes      the lexing flags in force (a subset of {@link #LEXING_MODES})
     */
    SqlAnalyzer analyzer(String serverVersion, Set<String> sqlModes);
}
