package dev.gatehouse.policy.sql;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link SqlAnalyzer} on PostgreSQL's own parser (libpg_query 15). Thread-safe; never throws on
 * bad SQL: text the parser rejects, or that cannot be analysed safely (over
 * {@link LibPgQuery#MAX_INPUT_BYTES}, nested deeper than {@value #MAX_TREE_DEPTH} tree levels, a
 * NUL character, unpaired surrogates), is reported {@code parseable=false} with the reason, and
 * nothing else is guessed.
 *
 * <p>Classification, beyond the obvious:
 * <ul>
 *   <li>{@code SELECT} is READ unless it writes somewhere (a data-modifying CTE, {@code SELECT
 *       INTO}) or takes row locks ({@code FOR UPDATE/SHARE}): then WRITE. The tag stays as
 *       PostgreSQL reports it ("SELECT", "SELECT INTO"); locked relations stay in tablesRead.</li>
 *   <li>{@code TRUNCATE} is WRITE, tag "TRUNCATE TABLE", its tables written, and
 *       {@code missingWhere=false}: the flag names the accident of an UPDATE or DELETE that forgot
 *       its WHERE; TRUNCATE says what it means (policies match it by its tag).</li>
 *   <li>{@code COPY ... FROM} is WRITE; {@code COPY ... TO} is UTILITY with its table read (WRITE
 *       if its query writes). {@code REFRESH MATERIALIZED VIEW} is WRITE.</li>
 *   <li>{@code EXPLAIN} is UTILITY and its statement's relations are read; {@code EXPLAIN
 *       ANALYZE} executes the statement, so its writes count (then WRITE).</li>
 *   <li>{@code PREPARE} and {@code DECLARE CURSOR} are analysed as the statement they hold;
 *       {@code EXECUTE} is UNKNOWN (the prepared text is not visible here).</li>
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
    }

    /**
     * Analyses SQL text (one or several statements).
     *
     * @throws NullPointerException when {@code sql} is null (a caller bug, not bad SQL)
     */
    @Override
    public SqlAnalysis analyze(String sql) {
        Objects.requireNonNull(sql, "sql");
        try {
            return libPgQuery.onParserThread(() -> analyzeOnParserThread(sql));
        } catch (RuntimeException | StackOverflowError e) {
            return failed(e, sql);
        }
    }

    /** Analyses on the parser threads; the caller's thread (an event loop) is not held. */
    @Override
    public CompletionStage<SqlAnalysis> analyzeAsync(String sql) {
        Objects.requireNonNull(sql, "sql");
        return libPgQuery.submit(() -> analyzeOnParserThread(sql))
                .exceptionally(e -> failed(e instanceof CompletionException && e.getCause() != null ? e.getCause() : e, sql));
    }

    private static SqlAnalysis failed(Throwable e, String sql) {
        if (e instanceof IllegalArgumentException) {
            return SqlAnalysis.unparseable(e.getMessage());
        }
        if (e instanceof StackOverflowError) {
            LOGGER.warn("SQL analysis ran out of stack length={}", sql.length());
            return SqlAnalysis.unparseable("statement too deeply nested to analyse");
        }
        if (e instanceof Error err) {
            throw err;
        }
        // Never the SQL text in the log: it may hold passwords (CREATE ROLE ... PASSWORD).
        LOGGER.warn("SQL analysis failed length={} error={}", sql.length(), e.toString());
        return SqlAnalysis.unparseable("SQL analysis failed: " + e.getClass().getSimpleName());
    }

    private SqlAnalysis analyzeOnParserThread(String sql) {
        LibPgQuery.ParseResult parsed = libPgQuery.parse(sql);
        if (!parsed.ok()) {
            return SqlAnalysis.unparseable(parsed.error().describe());
        }
        LibPgQuery.FingerprintResult fingerprint = libPgQuery.fingerprint(sql);
        if (!fingerprint.ok()) {
            return SqlAnalysis.unparseable(fingerprint.error().describe());
        }
        JsonNode tree;
        try {
            tree = json.readTree(parsed.parseTree());
        } catch (StreamConstraintsException e) {
            return SqlAnalysis.unparseable("statement nested deeper than " + MAX_TREE_DEPTH + " levels, too deep to analyse");
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("libpg_query returned an unreadable parse tree", e);
        }
        List<StatementAnalysis> statements = new ArrayList<>();
        for (JsonNode raw : tree.path(PgNodes.STMTS)) {
            statements.add(statement(raw.path(PgNodes.STMT)));
        }
        return new SqlAnalysis(true, null, fingerprint.hex(), statements);
    }

    private static StatementAnalysis statement(JsonNode stmt) {
        if (!stmt.isObject() || stmt.size() != 1) {
            // An empty statement has no node; libpg_query drops those, so this is not expected.
            return new StatementAnalysis(StatementKind.UNKNOWN, "UNKNOWN", null, List.of(), List.of(), List.of(), false);
        }
        String type = stmt.fieldNames().next();
        JsonNode body = stmt.get(type);
        StatementClassifier.Classification named = StatementClassifier.classify(type, body);
        ReferenceCollector references = new ReferenceCollector();
        references.statement(type, body);
        StatementKind kind = named.kind();
        if ((kind == StatementKind.READ || kind == StatementKind.UTILITY)
                && (!references.tablesWritten().isEmpty() || references.rowLocks())) {
            kind = StatementKind.WRITE;
        }
        return new StatementAnalysis(
                kind,
                named.tag(),
                kind == StatementKind.DDL ? named.objectType() : null,
                references.tablesRead(),
                references.tablesWritten(),
                references.functions(),
                references.missingWhere());
    }
}
