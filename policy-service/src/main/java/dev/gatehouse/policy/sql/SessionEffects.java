package dev.gatehouse.policy.sql;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.platform.core.SessionEffect;
import dev.gatehouse.platform.core.StatementAnalysis;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What a top-level statement does to its session ({@link SessionEffect}), from its parse tree and
 * its tokens: names as the tree has them (folded as PostgreSQL folds identifiers), texts cut
 * exactly from the source ({@link SqlText}).
 */
final class SessionEffects {

    /** {@code DeclareCursorStmt.options} bits (PostgreSQL's {@code CURSOR_OPT_BINARY}, {@code CURSOR_OPT_HOLD}). */
    private static final int CURSOR_BINARY = 0x1;
    private static final int CURSOR_HOLD = 0x20;

    /** Settings whose list items PostgreSQL shows as quoted identifiers ({@code GUC_LIST_QUOTE}). */
    private static final Set<String> QUOTED_LISTS = Set.of(
            "search_path", "temp_tablespaces", "session_preload_libraries", "shared_preload_libraries",
            "local_preload_libraries");

    private final LibPgQuery libPgQuery;
    private final StatementAnalyzer statements;

    SessionEffects(LibPgQuery libPgQuery, StatementAnalyzer statements) {
        this.libPgQuery = libPgQuery;
        this.statements = statements;
    }

    /**
     * The effect of the statement {@code type}/{@code body} whose tokens are [from, to) of
     * {@code text}, or null when it has none.
     */
    SessionEffect effect(String type, JsonNode body, SqlText text, int from, int to) {
        return switch (type) {
            case PgNodes.PREPARE_STMT -> prepare(body, text, from, to);
            case PgNodes.EXECUTE_STMT -> execute(body, text, from, to, false);
            case PgNodes.CREATE_TABLE_AS -> body.path(PgNodes.QUERY).has(PgNodes.EXECUTE_STMT)
                    ? execute(body.path(PgNodes.QUERY).get(PgNodes.EXECUTE_STMT), text, from, to, true) : null;
            case PgNodes.EXPLAIN -> explained(body.path(PgNodes.QUERY), text, from, to);
            case "DeallocateStmt" -> new SessionEffect.Deallocate(body.path(PgNodes.NAME).asText(null));
            case PgNodes.DECLARE_CURSOR -> declare(body, text, from, to);
            case PgNodes.FETCH -> new SessionEffect.Fetch(body.path(PgNodes.PORTALNAME).asText(), body.path("ismove").asBoolean());
            case "ClosePortalStmt" -> new SessionEffect.ClosePortal(body.path(PgNodes.PORTALNAME).asText(null));
            case "DiscardStmt" -> new SessionEffect.Discard(body.path("target").asText().replaceFirst("^DISCARD_", ""));
            case PgNodes.VARIABLE_SET -> setting(body);
            default -> null;
        };
    }

    private SessionEffect explained(JsonNode query, SqlText text, int from, int to) {
        if (query.has(PgNodes.EXECUTE_STMT)) {
            return execute(query.get(PgNodes.EXECUTE_STMT), text, from, to, false);
        }
        JsonNode createTableAs = query.path(PgNodes.CREATE_TABLE_AS);
        if (createTableAs.path(PgNodes.QUERY).has(PgNodes.EXECUTE_STMT)) {
            return execute(createTableAs.path(PgNodes.QUERY).get(PgNodes.EXECUTE_STMT), text, from, to, true);
        }
        return null;
    }

    /** {@code PREPARE name [(types)] AS statement}: the statement's text starts after the first AS outside parentheses. */
    private SessionEffect prepare(JsonNode body, SqlText text, int from, int to) {
        int as = text.find(from + 2, to, SqlText.AS);
        if (as < 0 || as + 1 >= to) {
            throw new IllegalStateException("PREPARE without AS in its tokens");
        }
        StatementAnalysis statement = statements.analyse(body.path(PgNodes.QUERY), 0);
        return new SessionEffect.Prepare(body.path(PgNodes.NAME).asText(), text.cut(as + 1, to), statement);
    }

    /** {@code DECLARE name [options] CURSOR [WITH | WITHOUT HOLD] FOR query}: the query starts after the first FOR. */
    private SessionEffect declare(JsonNode body, SqlText text, int from, int to) {
        int forToken = text.find(from + 2, to, SqlText.FOR);
        if (forToken < 0 || forToken + 1 >= to) {
            throw new IllegalStateException("DECLARE without FOR in its tokens");
        }
        int options = body.path(PgNodes.OPTIONS).asInt(0);
        StatementAnalysis query = statements.analyse(body.path(PgNodes.QUERY), 0);
        return new SessionEffect.Declare(body.path(PgNodes.PORTALNAME).asText(), (options & CURSOR_HOLD) != 0,
                (options & CURSOR_BINARY) != 0, text.cut(forToken + 1, to), query);
    }

    /**
     * {@code EXECUTE name [(arguments)]}, which ends its statement (after it only
     * {@code WITH [NO] DATA} of a {@code CREATE TABLE AS}): the arguments are cut from the end.
     */
    private SessionEffect execute(JsonNode execute, SqlText text, int from, int to, boolean createTableAs) {
        String name = execute.path(PgNodes.NAME).asText();
        JsonNode params = execute.path(PgNodes.PARAMS);
        StatementAnalysis evaluated = statements.expressions(params);
        List<String> arguments = arguments(text, from, to, params.size(), createTableAs);
        if (arguments == null) {
            // Not expected: the parser accepted the text. Fail closed instead of guessing.
            return new SessionEffect.Execute(name, List.of(),
                    evaluated.withUncertainty("arguments of EXECUTE " + name + " not found in the text"));
        }
        return new SessionEffect.Execute(name, arguments, evaluated);
    }

    private static List<String> arguments(SqlText text, int from, int to, int count, boolean createTableAs) {
        int end = to;
        if (createTableAs && end - from > 3 && text.kind(end - 1) == SqlText.DATA) {
            if (text.kind(end - 2) == SqlText.WITH) {
                end -= 2;
            } else if (text.kind(end - 2) == SqlText.NO && text.kind(end - 3) == SqlText.WITH) {
                end -= 3;
            }
        }
        if (count == 0) {
            return end - from >= 2 && text.kind(end - 2) == SqlText.EXECUTE ? List.of() : null;
        }
        if (text.kind(end - 1) != SqlText.CLOSE_PAREN) {
            return null;
        }
        int open = text.opening(end - 1, from);
        if (open < from + 2 || text.kind(open - 2) != SqlText.EXECUTE) {
            return null;
        }
        List<int[]> parts = text.split(open + 1, end - 1);
        if (parts.size() != count) {
            return null;
        }
        List<String> arguments = new ArrayList<>(count);
        for (int[] part : parts) {
            if (part[0] >= part[1]) {
                return null;
            }
            arguments.add(text.cut(part[0], part[1]));
        }
        return arguments;
    }

    /**
     * A plain {@code SET} or {@code RESET}; null for {@code SET TRANSACTION},
     * {@code SET SESSION CHARACTERISTICS} and {@code SET ... FROM CURRENT} (no session setting
     * takes a new value the text names).
     */
    private SessionEffect setting(JsonNode set) {
        String name = set.path(PgNodes.NAME).asText().toLowerCase(Locale.ROOT);
        boolean local = set.path("is_local").asBoolean();
        return switch (set.path(PgNodes.KIND).asText()) {
            case "VAR_SET_VALUE" -> new SessionEffect.Setting(name, value(name, set.path(PgNodes.ARGS)), local, false);
            case "VAR_SET_DEFAULT" -> new SessionEffect.Setting(name, null, local, false);
            case "VAR_RESET" -> new SessionEffect.Setting(name, null, local, true);
            case "VAR_RESET_ALL" -> new SessionEffect.Setting("*", null, local, true);
            default -> null;
        };
    }

    /**
     * The value PostgreSQL stores for {@code SET name = args} and {@code SHOW} shows (its
     * {@code flatten_set_variable_args}): the items joined by ", ", strings as given, numbers as
     * written, and for list settings such as {@code search_path} each string item quoted as an
     * identifier when it needs to be. An interval time zone is given as its literal
     * ({@code INTERVAL '+02:00'}); PostgreSQL shows it converted.
     */
    private String value(String name, JsonNode args) {
        boolean quote = QUOTED_LISTS.contains(name);
        List<String> items = new ArrayList<>();
        for (JsonNode arg : args) {
            JsonNode constant = arg.path(PgNodes.A_CONST);
            if (arg.has(PgNodes.TYPE_CAST)) {
                String literal = ReferenceCollector.stringConstant(arg);
                items.add("INTERVAL '" + (literal == null ? "" : literal) + "'");
            } else if (constant.has(PgNodes.SVAL)) {
                String value = constant.path(PgNodes.SVAL).path(PgNodes.SVAL).asText("");
                items.add(quote ? quoteIdentifier(value) : value);
            } else if (constant.has(PgNodes.IVAL)) {
                items.add(Integer.toString(constant.path(PgNodes.IVAL).path(PgNodes.IVAL).asInt(0)));
            } else if (constant.has(PgNodes.FVAL)) {
                items.add(constant.path(PgNodes.FVAL).path(PgNodes.FVAL).asText());
            } else if (constant.has(PgNodes.BOOLVAL)) {
                items.add(Boolean.toString(constant.path(PgNodes.BOOLVAL).path(PgNodes.BOOLVAL).asBoolean(false)));
            }
        }
        return String.join(", ", items);
    }

    /**
     * PostgreSQL's {@code quote_identifier}: unquoted when it is lower-case letters, digits and
     * underscores not starting with a digit, and not a keyword other than an unreserved one.
     */
    String quoteIdentifier(String identifier) {
        boolean safe = !identifier.isEmpty()
                && (identifier.charAt(0) == '_' || (identifier.charAt(0) >= 'a' && identifier.charAt(0) <= 'z'));
        for (int i = 0; safe && i < identifier.length(); i++) {
            char c = identifier.charAt(i);
            safe = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
        }
        if (safe && keywordKind(identifier) >= SqlText.COL_NAME_KEYWORD) {
            safe = false;
        }
        return safe ? identifier : "\"" + identifier.replace("\"", "\"\"") + "\"";
    }

    /** The keyword kind of a word, by PostgreSQL's own scanner (0 when it is not a keyword). */
    private int keywordKind(String word) {
        LibPgQuery.ScanResult scanned = libPgQuery.scan(word);
        if (!scanned.ok() || scanned.tokens().size() != 1) {
            return 0;
        }
        return scanned.tokens().getFirst().keywordKind();
    }
}
