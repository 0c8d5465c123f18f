package dev.gatehouse.policy.sql.mysql;

import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.ParsedStatement;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@link SqlAnalyzer} for MySQL and MariaDB: a lexer of its own that follows the server's
 * ({@link MySqlLexer}) and Alibaba Druid's MySQL parser. Thread-safe and immutable; never throws
 * on bad SQL: text it cannot read is {@code parseable=false} with the reason, and nothing else is
 * guessed.
 *
 * <h2>What the server runs</h2>
 * The lexer splits a text (one COM_QUERY, possibly several statements) where the server does and
 * gives each statement's code as the server runs it: executable comments ({@code /*!...*}{@code /},
 * {@code /*!NNNNN...*}{@code /}, MariaDB's {@code /*M!...*}{@code /}) expanded by the version and
 * flavour given here, ordinary comments left out, strings and names read under the session's
 * ANSI_QUOTES and NO_BACKSLASH_ESCAPES ({@link #withSqlMode}). Each statement's span
 * ({@link ParsedStatement#offset()}, {@link ParsedStatement#length()}) is in the original text,
 * from its first token to its last (leading comments and the terminating {@code ;} are outside
 * it; a statement that starts or ends inside an executable comment starts or ends there). Note:
 * MariaDB ignores MySQL's {@code /*!NNNNN} for versions 50700..99999, so {@code /*!80000 ...}
 * does not run on MariaDB 11.4 (checked on MariaDB 11.4.5); it runs on MySQL 8.
 *
 * <h2>The parser: Alibaba Druid ({@code com.alibaba:druid} 1.2.27)</h2>
 * Chosen over JSqlParser 5.3 on a corpus of 295 MySQL / MariaDB statements
 * ({@code src/test/resources/dev/gatehouse/policy/sql/mysql/mysql-corpus.sql}, measured by
 * {@code MySqlParserCandidatesTest} on each statement's expanded code): Druid parses 259 of 295
 * (88%), JSqlParser 203 (69%, with its MySQL options: backslash escapes, complex parsing); the
 * parser's statement type alone gives the corpus's kind for 249 of Druid's 259 and 172 of
 * JSqlParser's 203; their own table finders name exactly the corpus's tables for 96 of the 97
 * reads and writes Druid parses and 95 of JSqlParser's 96. Druid reads what JSqlParser does not:
 * LOAD DATA / LOAD XML, {@code SELECT ... INTO OUTFILE}, {@code LOCK IN SHARE MODE}, DELETE ...
 * USING, GRANT / REVOKE, users and roles, procedures, triggers and events with {@code BEGIN ...
 * END} bodies, XA, PREPARE / EXECUTE, EXPLAIN of writes, table maintenance, FLUSH, KILL. It misses
 * MariaDB's RETURNING, {@code CREATE OR REPLACE}, some {@code IF [NOT] EXISTS}, {@code TABLE t},
 * {@code SKIP LOCKED}: parsed in an equivalent spelling ({@link MySqlStatementAnalyzer}). Apache
 * Calcite was not measured: its parsers read queries and DML, none of MySQL's administrative
 * statements. Druid's lexer is not trusted: it gets a canonical spelling of this lexer's tokens
 * ({@link ParserText}); nor its visitors: the tree is walked by reflection ({@link DruidFacts}).
 * See the package documentation for the cost of the jar (two JDBC drivers it declares).
 *
 * <h2>Facts</h2>
 * <ul>
 *   <li>Tags as PostgreSQL's analyser names them where the statements match ("SELECT", "INSERT",
 *       "UPDATE", "DELETE", "CREATE DATABASE" also for CREATE SCHEMA, "TRUNCATE TABLE",
 *       "START TRANSACTION", "BEGIN", ...), MySQL's names otherwise ("REPLACE", "LOAD DATA",
 *       "LOAD XML", "RENAME TABLE", "LOCK TABLES", "XA", "HANDLER", "DO", "DESCRIBE",
 *       "SELECT INTO OUTFILE", "GRANT ROLE", "SET ROLE", ...). Object types for DDL, and USER /
 *       ROLE for CREATE / ALTER / DROP / RENAME USER and ROLE (DCL).</li>
 *   <li>Tables as written ({@code t}, {@code db.t}, quotes removed, case kept); the database of
 *       CREATE / ALTER / DROP DATABASE is written, as in the PostgreSQL analyser; GRANT / REVOKE
 *       write their object as written ({@code shop.*}, {@code *.*}). A multi-table UPDATE writes
 *       the tables its SET columns name (all its tables when a column is unqualified), a
 *       multi-table DELETE its targets (through their aliases); the other tables are read.</li>
 *   <li>SELECT with FOR UPDATE / FOR SHARE / LOCK IN SHARE MODE is WRITE (row locks), as in the
 *       PostgreSQL analyser. missingWhere for an UPDATE or DELETE without WHERE (single and
 *       multi-table; a JOIN's ON is not a WHERE). TRUNCATE is WRITE, missingWhere false.</li>
 *   <li>File system: {@code SELECT ... INTO OUTFILE / DUMPFILE} is UTILITY, tagged
 *       "SELECT INTO OUTFILE" / "SELECT INTO DUMPFILE", uncertain ("writes a file on the server
 *       ..."); {@code LOAD_FILE()} is in functions ("load_file") and uncertain ("reads a file on
 *       the server (LOAD_FILE)"); LOAD DATA / XML [LOCAL] INFILE is WRITE and uncertain ("reads a
 *       file on the server / from the client ..."); SET of {@code general_log_file} or
 *       {@code slow_query_log_file} is uncertain ("... writes files on the server"). A policy denies them with
 *       {@code "load_file" in command.functions}, {@code command.tags} or {@code command.uncertain}.</li>
 *   <li>Code: a call of a function that is not built in ({@link MySqlBuiltinFunctions}) runs code
 *       and is uncertain ("calls f"); so is CALL (its procedure in functions); CREATE PROCEDURE /
 *       FUNCTION / TRIGGER / EVENT and ALTER EVENT ... DO define code that runs later (runsCode;
 *       their bodies are not analysed); CREATE FUNCTION ... SONAME, INSTALL PLUGIN / SONAME and
 *       BINLOG run code and are uncertain. Dynamic SQL is uncertain and runs code: PREPARE from a
 *       variable or expression, EXECUTE IMMEDIATE of an expression, and EXECUTE (UNKNOWN; the
 *       edge resolves it from the PREPARE it tracks). PREPARE from a literal is analysed as the
 *       statement it prepares (tag "PREPARE", kind and facts of that statement); EXECUTE IMMEDIATE
 *       of a literal is analysed as the statement it runs (its tag: {@code EXECUTE IMMEDIATE
 *       'DROP TABLE t'} is a DROP TABLE). {@code SET STATEMENT ... FOR s} is analysed as s.</li>
 *   <li>Settings (lower case): {@code sql_mode}, {@code autocommit}, ...; {@code global.x} and
 *       {@code persist.x} for SET GLOBAL / PERSIST (not the session's); SET NAMES gives
 *       {@code names} and the character set variables it changes, SET CHARACTER SET the
 *       variables; SET TRANSACTION {@code transaction_isolation} / {@code transaction_read_only};
 *       SET ROLE {@code role} (DCL). User variables are not settings.</li>
 *   <li>EXPLAIN reads its statement's tables; EXPLAIN ANALYZE and MariaDB's ANALYZE run it, so
 *       its writes and missing WHERE count (WRITE).</li>
 *   <li>Session effects: PREPARE ({@code sql} "" and an UNKNOWN statement when dynamic), EXECUTE
 *       and DEALLOCATE / DROP PREPARE, names lower case; a SET of one session setting to a literal
 *       ({@code SET sql_mode = '...'}, {@code SET NAMES gbk}, {@code = DEFAULT} as a reset) is a
 *       {@link dev.gatehouse.platform.core.SessionEffect.Setting}, so the edge can re-pin the
 *       sql_mode ({@link #withSqlMode}) and character set it lexes with; any other SET has none
 *       (its settings say what changes).</li>
 * </ul>
 *
 * <h2>Refused (unparseable)</h2>
 * A text in which a statement changes the session's sql_mode or character set (settings
 * {@code sql_mode}, {@code names}, {@code character_set_client}, {@code character_set_connection},
 * {@code *}), or runs code now that might (CALL, EXECUTE, a call of a function that is not built
 * in, ...), and is not the last statement: the server reads the statements after it under the new
 * mode or character set (on MariaDB 11.4.5, {@code SET sql_mode='ANSI_QUOTES'; SELECT 1 AS "a\";
 * DROP DATABASE x; -- "} drops the database). What the lexer refuses (unterminated strings and comments, NUL, invisible characters in names,
 * an empty statement, {@code /*!99997} on MariaDB, see {@link MySqlLexer}); a statement Druid
 * cannot read where its facts depend on it (MariaDB's {@code FOR SYSTEM_TIME}, for one); an
 * unknown statement; compound statements outside stored programs (MariaDB's
 * {@code BEGIN NOT ATOMIC}, {@code IF}, ...: not analysed); sql_mode ORACLE and MSSQL (MariaDB
 * parses differently under them); texts over {@link #MAX_TEXT_CHARS} characters. The edge should
 * also refuse a text of several statements when the session did not negotiate
 * CLIENT_MULTI_STATEMENTS (the server then refuses it whole).
 */
public final class MySqlAnalyzer implements SqlAnalyzer {

    /** Longest text analysed. */
    public static final int MAX_TEXT_CHARS = 4 * 1024 * 1024;

    private static final Logger LOGGER = LoggerFactory.getLogger(MySqlAnalyzer.class);
    private static final Pattern VERSION = Pattern.compile("^(\\d+)\\.(\\d+)\\.(\\d+)");
    /** SQL modes whose combinations include ANSI_QUOTES. */
    private static final Set<String> ANSI_QUOTES_MODES = Set.of("ANSI_QUOTES", "ANSI", "DB2", "MAXDB", "MSSQL",
            "ORACLE", "POSTGRESQL");
    /**
     * Session settings that change how the server reads the statements that follow in the same text:
     * it lexes each statement of a multi-statement text under the sql_mode and character set
     * current when it gets there.
     */
    private static final Set<String> LEXING_SETTINGS = Set.of("sql_mode", "names", "character_set_client",
            "character_set_connection", "*");
    /** SQL modes under which MariaDB's grammar differs beyond what the lexer follows. */
    private static final Set<String> UNSUPPORTED_MODES = Set.of("ORACLE", "MSSQL");

    private final long serverVersion;
    private final boolean mariaDb;
    private final Set<String> sqlModes;
    private final MySqlLexer lexer;
    private final MySqlStatementAnalyzer statements;

    /**
     * @param serverVersion the server's version as MySQL numbers it in executable comments
     *                      ({@code major * 10000 + minor * 100 + patch}: MariaDB 11.4.5 is 110405,
     *                      MySQL 8.0.36 is 80036)
     * @param mariaDb       whether the server is MariaDB
     */
    public MySqlAnalyzer(long serverVersion, boolean mariaDb) {
        this(serverVersion, mariaDb, Set.of());
    }

    private MySqlAnalyzer(long serverVersion, boolean mariaDb, Set<String> sqlModes) {
        if (serverVersion < 0) {
            throw new IllegalArgumentException("negative server version " + serverVersion);
        }
        this.serverVersion = serverVersion;
        this.mariaDb = mariaDb;
        this.sqlModes = sqlModes;
        boolean ansiQuotes = sqlModes.stream().anyMatch(ANSI_QUOTES_MODES::contains);
        this.lexer = new MySqlLexer(new MySqlLexer.Settings(serverVersion, mariaDb, ansiQuotes,
                sqlModes.contains("NO_BACKSLASH_ESCAPES")));
        this.statements = new MySqlStatementAnalyzer(lexer, mariaDb);
    }

    /**
     * An analyser for the server that sent this handshake version string: "5.5.5-11.4.5-MariaDB-log"
     * or "11.4.5-MariaDB" (MariaDB; the "5.5.5-" replication prefix is dropped), "8.0.36" (MySQL).
     *
     * @throws IllegalArgumentException when the string does not start with a version
     */
    public static MySqlAnalyzer mariaDb(String versionString) {
        Objects.requireNonNull(versionString, "versionString");
        String text = versionString.strip();
        boolean maria = text.toLowerCase(Locale.ROOT).contains("mariadb");
        if (maria && text.startsWith("5.5.5-")) {
            text = text.substring("5.5.5-".length());
        }
        Matcher m = VERSION.matcher(text);
        if (!m.find()) {
            throw new IllegalArgumentException("not a server version: " + versionString);
        }
        long version = Long.parseLong(m.group(1)) * 10_000 + Math.min(99, Long.parseLong(m.group(2))) * 100
                + Math.min(99, Long.parseLong(m.group(3)));
        return new MySqlAnalyzer(version, maria);
    }

    /**
     * This analyser for a session whose sql_mode holds these modes (as {@code @@sql_mode} lists
     * them, any case): ANSI_QUOTES (or a mode that includes it: ANSI, DB2, MAXDB, MSSQL, ORACLE,
     * POSTGRESQL) makes double quotes quote names, NO_BACKSLASH_ESCAPES makes the backslash
     * ordinary in strings. Under ORACLE or MSSQL every text is refused.
     */
    public MySqlAnalyzer withSqlMode(Set<String> modes) {
        Set<String> upper = new TreeSet<>();
        for (String mode : modes) {
            String m = mode.strip().toUpperCase(Locale.ROOT);
            if (!m.isEmpty()) {
                upper.add(m);
            }
        }
        return new MySqlAnalyzer(serverVersion, mariaDb, Set.copyOf(upper));
    }

    public long serverVersion() {
        return serverVersion;
    }

    public boolean isMariaDb() {
        return mariaDb;
    }

    /** The sql_mode modes this analyser lexes under, upper case. */
    public Set<String> sqlModes() {
        return sqlModes;
    }

    @Override
    public SqlAnalysis analyze(String sql) {
        return parse(sql).analysis();
    }

    /**
     * Splits and analyses a text: per statement its span in {@code sql}, its analysis and its
     * effect on the session. Never throws on bad SQL.
     *
     * @throws NullPointerException when {@code sql} is null (a caller bug, not bad SQL)
     */
    @Override
    public ParsedSql parse(String sql) {
        Objects.requireNonNull(sql, "sql");
        String unsupported = sqlModes.stream().filter(UNSUPPORTED_MODES::contains).findFirst().orElse(null);
        if (unsupported != null) {
            return ParsedSql.unparseable("sql_mode " + unsupported + " is not supported");
        }
        if (sql.length() > MAX_TEXT_CHARS) {
            return ParsedSql.unparseable("text longer than " + MAX_TEXT_CHARS + " characters");
        }
        try {
            return parseChecked(sql);
        } catch (StackOverflowError e) {
            return ParsedSql.unparseable("statement too deeply nested to analyse");
        } catch (RuntimeException e) {
            // Never the SQL text in the log: it may hold passwords (CREATE USER ... IDENTIFIED BY).
            LOGGER.warn("MySQL analysis failed length={} error={}", sql.length(), e.toString());
            return ParsedSql.unparseable("SQL analysis failed: " + e.getClass().getSimpleName());
        }
    }

    private ParsedSql parseChecked(String sql) {
        MySqlLexer.Result split = lexer.split(sql);
        if (!split.ok()) {
            return ParsedSql.unparseable(split.error());
        }
        List<StatementAnalysis> analyses = new ArrayList<>();
        List<ParsedStatement> parsed = new ArrayList<>();
        int n = 0;
        for (MySqlLexer.Statement statement : split.statements()) {
            n++;
            MySqlStatementAnalyzer.Outcome outcome = statements.analyse(statement.tokens(), 0);
            if (!outcome.ok()) {
                return ParsedSql.unparseable(split.statements().size() == 1 ? outcome.error()
                        : "statement " + n + ": " + outcome.error());
            }
            if (n < split.statements().size() && changesLexing(outcome.analysis())) {
                return ParsedSql.unparseable("statement " + n + " changes (or runs code that may change) the sql_mode or "
                        + "character set the server reads the next statements with: it must be the last of its text");
            }
            analyses.add(outcome.analysis());
            parsed.add(new ParsedStatement(statement.start(), statement.end() - statement.start(), outcome.analysis(),
                    outcome.effect()));
        }
        SqlAnalysis analysis = new SqlAnalysis(true, null, MySqlFingerprint.of(split.statements()), analyses);
        return new ParsedSql(analysis, parsed);
    }

    /** Whether the server may read the statements after this one differently from how this analyser did. */
    private static boolean changesLexing(StatementAnalysis statement) {
        return statement.settings().stream().anyMatch(LEXING_SETTINGS::contains)
                || (statement.runsCode() && statement.kind() != StatementKind.DDL && !statement.tag().equals("PREPARE"));
    }

    @Override
    public String toString() {
        return "MySqlAnalyzer[" + (mariaDb ? "MariaDB " : "MySQL ") + serverVersion + ", sql_mode " + sqlModes + "]";
    }
}
