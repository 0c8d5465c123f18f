package dev.gatehouse.policy.sql;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.ParsedStatement;
import dev.gatehouse.platform.core.RoutineAnalysis;
import dev.gatehouse.platform.core.SessionEffect;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.core.StatementAnalysis;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link SqlAnalyzer} on PostgreSQL's own parser (libpg_query 15). Thread-safe; never throws on
 * bad SQL: text the parser rejects, or that cannot be analysed safely (over
 * {@link LibPgQuery#MAX_INPUT_BYTES}, nested deeper than {@value #MAX_TREE_DEPTH} tree levels, a
 * NUL character, unpaired surrogates), is reported {@code parseable=false} with the reason, and
 * nothing else is guessed.
 *
 * <p>One parse per text ({@link #parse}; {@link #analyze} is its analysis): libpg_query's parse
 * tree, its scanner's tokens (to cut exact source text: statement spans, PREPARE and DECLARE
 * queries, EXECUTE arguments) and its fingerprint (which libpg_query computes with a parse of its
 * own; it has no call that fingerprints a tree). A statement's span starts at its first token and
 * ends with its last, in Java {@code char}s: leading whitespace and comments, comments before the
 * terminating semicolon, and the semicolon are outside it.
 *
 * <p>Classification, beyond the obvious:
 * <ul>
 *   <li>{@code SELECT} is READ unless it writes somewhere (a data-modifying CTE) or takes row
 *       locks ({@code FOR UPDATE/SHARE}): then WRITE; locked relations stay in tablesRead.
 *       {@code SELECT ... INTO} and {@code CREATE TABLE AS} create a table: DDL, object type
 *       TABLE, tags "SELECT INTO" and "CREATE TABLE AS". A table created {@code TEMP} without a
 *       schema is written as {@code pg_temp.<name>}.</li>
 *   <li>{@code TRUNCATE} is WRITE, tag "TRUNCATE TABLE", its tables written, and
 *       {@code missingWhere=false}: the flag names the accident of an UPDATE or DELETE that forgot
 *       its WHERE; TRUNCATE says what it means (policies match it by its tag).</li>
 *   <li>{@code COPY ... FROM} is WRITE; {@code COPY ... TO} is UTILITY with its table read (WRITE
 *       if its query writes). {@code REFRESH MATERIALIZED VIEW} is WRITE.</li>
 *   <li>{@code EXPLAIN} is UTILITY and its statement's relations are read; {@code EXPLAIN
 *       ANALYZE} executes the statement, so its writes, missing WHERE, code and settings count
 *       (then WRITE). Options are read as PostgreSQL reads them: the last ANALYZE wins.</li>
 *   <li>{@code PREPARE} and {@code DECLARE CURSOR} are analysed as the statement they hold;
 *       {@code EXECUTE} is UNKNOWN and, like {@code FETCH} and {@code MOVE}, uncertain: what it
 *       runs is known to the edge, which tracks prepared statements and cursors.</li>
 *   <li>Code, uncertainty, settings and filter columns: see {@link StatementAnalyzer} and
 *       {@link ReferenceCollector}. {@code DROP OWNED} and {@code REASSIGN OWNED} are DDL
 *       (object type OWNED).</li>
 *   <li>{@code SET ROLE} / {@code SET SESSION AUTHORIZATION} (and their RESET) are DCL, since
 *       they change who the session acts as; other SET/RESET are UTILITY.</li>
 *   <li>DDL names its object type (TABLE, INDEX, DATABASE, ...); relations whose definition
 *       changes (created, altered, dropped, indexed, granted on) are in tablesWritten.</li>
 *   <li>Functions are named as the SQL writes them (schema-qualified only when the SQL qualifies them,
 *       except the {@code pg_catalog.} names PostgreSQL's grammar gives to SQL-syntax functions such
 *       as EXTRACT). Whether a function writes cannot be known from the text.</li>
 * </ul>
 */
public final class PgQueryAnalyzer implements SqlAnalyzer {

    /** Deepest JSON parse tree analysed; PostgreSQL itself stops far earlier ("stack depth limit exceeded"). */
    public static final int MAX_TREE_DEPTH = 20_000;

    private static final Logger LOGGER = LoggerFactory.getLogger(PgQueryAnalyzer.class);

    private final LibPgQuery libPgQuery;
    private final ObjectMapper json;
    private final StatementAnalyzer statements;
    private final SessionEffects effects;
    /**
     * Analyses by their exact text. An analysis is a function of the text alone: the parser's
     * lexing settings are fixed (the edge pins {@code standard_conforming_strings} and refuses
     * sessions that change it), and nothing of the session or the catalog goes into it. So a text
     * seen before (a driver's statement, psql's catalog queries, a prepared statement re-parsed
     * per connection) is analysed once, and its analysis handed out without a trip to the parser
     * threads. Only texts up to {@link #CACHED_TEXT_CHARS} characters are kept.
     */
    private final Cache<String, ParsedSql> parsed;
    /**
     * Analyses by the shape of their text ({@link LiteralShapes#key}: the tokens, literals without
     * their values), for texts whose analysis holds whatever their literals' values are (see
     * {@link LiteralShapes}): pgbench's and any client's simple-protocol statements that differ in a
     * literal each time are parsed once. Statements are kept as token ranges, placed again in each text.
     */
    private final Cache<String, Shape> shapes;
    private final LongAdder shapeHits = new LongAdder();

    /** An analysis that holds for every text of one shape, its statements as token ranges [from, to). */
    private record Shape(SqlAnalysis analysis, List<StatementShape> statements) {
    }

    private record StatementShape(int fromToken, int toToken, StatementAnalysis analysis) {
    }

    /** Longest text whose analysis is cached. */
    public static final int CACHED_TEXT_CHARS = 16 * 1024;
    /**
     * What each cache (by text, by shape) may hold, in characters of its keys plus
     * {@link #ENTRY_CHARS} per entry for the analysis: the least recently used dropped first. About
     * 14,000 short statements, or 500 of the longest kept, in either.
     */
    public static final long CACHED_CHARS = 8L * 1024 * 1024;
    /** What an entry counts for beyond its key, in characters (an analysis of a short statement). */
    static final int ENTRY_CHARS = 512;

    /** An analyzer on the process-wide binding; throws {@link LibPgQueryUnavailableException} if absent. */
    public PgQueryAnalyzer() {
        this(LibPgQuery.load());
    }

    public PgQueryAnalyzer(LibPgQuery libPgQuery) {
        this.libPgQuery = Objects.requireNonNull(libPgQuery, "libPgQuery");
        JsonFactory factory = JsonFactory.builder()
                .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(MAX_TREE_DEPTH).build())
                .build();
        this.json = new ObjectMapper(factory);
        this.statements = new StatementAnalyzer(libPgQuery, json);
        this.effects = new SessionEffects(libPgQuery, statements);
        this.parsed = Caffeine.newBuilder().maximumWeight(CACHED_CHARS)
                .weigher((String text, ParsedSql p) -> text.length() + ENTRY_CHARS).executor(Runnable::run).build();
        this.shapes = Caffeine.newBuilder().maximumWeight(CACHED_CHARS)
                .weigher((String key, Shape shape) -> key.length() + ENTRY_CHARS).executor(Runnable::run).build();
    }

    /** Characters the caches hold now (by text, by shape), as they count them. */
    long[] cachedChars() {
        parsed.cleanUp();
        shapes.cleanUp();
        return new long[] {parsed.policy().eviction().orElseThrow().weightedSize().orElseThrow(),
                shapes.policy().eviction().orElseThrow().weightedSize().orElseThrow()};
    }

    /** Texts analysed from the analysis of another text of the same shape since start. */
    public long shapeHits() {
        return shapeHits.sum();
    }

    /**
     * Analyses SQL text (one or several statements): {@code parse(sql).analysis()}.
     *
     * @throws NullPointerException when {@code sql} is null (a caller bug, not bad SQL)
     */
    @Override
    public SqlAnalysis analyze(String sql) {
        return parse(sql).analysis();
    }

    /** Analyses on the parser threads; the caller's thread (an event loop) is not held. */
    @Override
    public CompletionStage<SqlAnalysis> analyzeAsync(String sql) {
        return parseAsync(sql).thenApply(ParsedSql::analysis);
    }

    /**
     * Parses SQL text into its statements: for each its span in the text, its analysis and its
     * effect on the session. Never throws on bad SQL (then {@code parseable=false}, no statements).
     *
     * @throws NullPointerException when {@code sql} is null (a caller bug, not bad SQL)
     */
    @Override
    public ParsedSql parse(String sql) {
        Objects.requireNonNull(sql, "sql");
        ParsedSql known = cached(sql);
        if (known != null) return known;
        Shaped shaped = shaped(sql);
        if (shaped.parsed() != null) return shaped.parsed();
        try {
            return remember(sql, libPgQuery.onParserThread(() -> parseOnParserThread(sql, shaped)));
        } catch (RuntimeException | StackOverflowError e) {
            return failed(e, sql);
        }
    }

    /** {@link #parse} on the parser threads; the caller's thread (an event loop) is not held. */
    @Override
    public CompletionStage<ParsedSql> parseAsync(String sql) {
        Objects.requireNonNull(sql, "sql");
        ParsedSql known = cached(sql);
        if (known != null) return CompletableFuture.completedFuture(known);
        Shaped shaped = shaped(sql);
        if (shaped.parsed() != null) return CompletableFuture.completedFuture(shaped.parsed());
        return libPgQuery.submit(() -> remember(sql, parseOnParserThread(sql, shaped)))
                .exceptionally(e -> failed(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e, sql));
    }

    /**
     * What a routine's body does, from its language ({@code pg_language.lanname}) and its full
     * definition as {@code pg_get_functiondef} returns it. SQL and PL/pgSQL bodies are read (see
     * {@link RoutineAnalyzer}); any other language, dynamic SQL, or a body that does not parse
     * makes it opaque, with the reason. Never throws.
     */
    @Override
    public RoutineAnalysis analyzeRoutine(String language, String definition) {
        Objects.requireNonNull(definition, "definition");
        try {
            return libPgQuery.onParserThread(() -> statements.routines().routine(language, definition, 0).routine());
        } catch (IllegalArgumentException e) {
            return RoutineAnalysis.opaque("body not analysable: " + e.getMessage());
        } catch (RuntimeException | StackOverflowError e) {
            LOGGER.warn("routine analysis failed length={} error={}", definition.length(), e.toString());
            return RoutineAnalysis.opaque("routine analysis failed: " + e.getClass().getSimpleName());
        }
    }

    /**
     * A text's analysis from its shape (null when none), else its tokens and shape key for the parse
     * that follows (null when the text is not scanned here or the scanner refused it).
     */
    private record Shaped(ParsedSql parsed, SqlText text, String key) {
        static final Shaped NONE = new Shaped(null, null, null);
    }

    /**
     * The analysis of a text of a known shape, placed in this text: scanned on the calling thread
     * (no trip to the parser threads), looked up by its key, statements placed at their tokens.
     */
    private Shaped shaped(String sql) {
        if (sql.length() > CACHED_TEXT_CHARS) return Shaped.NONE;
        LibPgQuery.ScanResult scanned;
        try {
            scanned = libPgQuery.scanHere(sql);
        } catch (IllegalArgumentException e) {
            return Shaped.NONE; // the parse refuses it the same way, with its message
        }
        if (!scanned.ok()) return Shaped.NONE; // the parse reports it, after the parser's own errors
        SqlText text = new SqlText(sql, scanned.tokens());
        String key = LiteralShapes.key(text);
        Shape shape = shapes.getIfPresent(key);
        if (shape == null) return new Shaped(null, text, key);
        List<ParsedStatement> placed = new ArrayList<>(shape.statements().size());
        for (StatementShape st : shape.statements()) {
            placed.add(statement(text, st.fromToken(), st.toToken(), st.analysis(), null));
        }
        shapeHits.increment();
        return new Shaped(new ParsedSql(shape.analysis(), placed), text, key);
    }

    /** A statement of {@code text} made of tokens [from, to). */
    private static ParsedStatement statement(SqlText text, int from, int to, StatementAnalysis analysis, SessionEffect effect) {
        int start = text.start(from);
        return new ParsedStatement(start, text.end(to - 1) - start, analysis, effect);
    }

    private ParsedSql cached(String sql) {
        return sql.length() <= CACHED_TEXT_CHARS ? parsed.getIfPresent(sql) : null;
    }

    private ParsedSql remember(String sql, ParsedSql result) {
        if (sql.length() <= CACHED_TEXT_CHARS) parsed.put(sql, result);
        return result;
    }

    private static ParsedSql failed(Throwable e, String sql) {
        if (e instanceof IllegalArgumentException) {
            return ParsedSql.unparseable(e.getMessage());
        }
        if (e instanceof StackOverflowError) {
            LOGGER.warn("SQL analysis ran out of stack length={}", sql.length());
            return ParsedSql.unparseable("statement too deeply nested to analyse");
        }
        if (e instanceof Error err) {
            throw err;
        }
        // Never the SQL text in the log: it may hold passwords (CREATE ROLE ... PASSWORD).
        LOGGER.warn("SQL analysis failed length={} error={}", sql.length(), e.toString());
        return ParsedSql.unparseable("SQL analysis failed: " + e.getClass().getSimpleName());
    }

    private ParsedSql parseOnParserThread(String sql, Shaped before) {
        LibPgQuery.ParseResult parsed = libPgQuery.parse(sql);
        if (!parsed.ok()) {
            return ParsedSql.unparseable(parsed.error().describe());
        }
        LibPgQuery.FingerprintResult fingerprint = libPgQuery.fingerprint(sql);
        if (!fingerprint.ok()) {
            return ParsedSql.unparseable(fingerprint.error().describe());
        }
        JsonNode tree;
        LiteralShapes.Taint taint = new LiteralShapes.Taint();
        Set<Integer> constants;
        try {
            tree = json.readTree(parsed.parseTree());
            constants = LiteralShapes.guard(tree, taint);
        } catch (StreamConstraintsException e) {
            return ParsedSql.unparseable("statement nested deeper than " + MAX_TREE_DEPTH + " levels, too deep to analyse");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("libpg_query returned an unreadable parse tree", e);
        }
        SqlText text = before.text();
        if (text == null) {
            LibPgQuery.ScanResult scanned = libPgQuery.scan(sql);
            if (!scanned.ok()) {
                // The parser accepted what the scanner refuses: not expected; nothing is guessed.
                return ParsedSql.unparseable(scanned.error().describe());
            }
            text = new SqlText(sql, scanned.tokens());
        }
        List<StatementAnalysis> analyses = new ArrayList<>();
        List<ParsedStatement> statementsParsed = new ArrayList<>();
        List<StatementShape> shaped = new ArrayList<>();
        boolean changesSession = false;
        for (JsonNode raw : tree.path(PgNodes.STMTS)) {
            JsonNode stmt = raw.path(PgNodes.STMT);
            int[] tokens = text.statement(raw.path("stmt_location").asInt(0), raw.path("stmt_len").asInt(0));
            StatementAnalysis analysis = statements.analyse(stmt, 0);
            SessionEffect effect = null;
            if (stmt.isObject() && stmt.size() == 1) {
                String type = stmt.fieldNames().next();
                effect = effects.effect(type, stmt.get(type), text, tokens[0], tokens[1]);
            }
            analyses.add(analysis);
            statementsParsed.add(statement(text, tokens[0], tokens[1], analysis, effect));
            shaped.add(new StatementShape(tokens[0], tokens[1], analysis));
            changesSession |= effect != null;
        }
        SqlAnalysis sqlAnalysis = new SqlAnalysis(true, null, fingerprint.hex(), analyses);
        if (before.key() != null && !changesSession && !taint.touched()
                && LiteralShapes.everyLiteralIsAConstant(text, constants)) {
            shapes.put(before.key(), new Shape(sqlAnalysis, List.copyOf(shaped)));
        }
        return new ParsedSql(sqlAnalysis, statementsParsed);
    }
}
