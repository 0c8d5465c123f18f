package dev.gatehouse.policy.sql.mysql;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.SessionEffect;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class MySqlAnalyzerTest {

    private static final MySqlAnalyzer MARIADB = new MySqlAnalyzer(110405, true);
    private static final MySqlAnalyzer MYSQL = new MySqlAnalyzer(80036, false);

    // ---- construction -------------------------------------------------------------------------

    @ParameterizedTest
    @CsvSource({
            "5.5.5-11.4.5-MariaDB-log,     110405, true",
            "11.4.5-MariaDB,               110405, true",
            "5.5.5-10.6.21-MariaDB-ubu2004, 100621, true",
            "8.0.36,                       80036,  false",
            "8.0.36-0ubuntu0.22.04.1,      80036,  false",
            "9.2.0-commercial,             90200,  false",
            "5.7.44-log,                   50744,  false"
    })
    void readsTheHandshakeVersion(String version, long number, boolean mariaDb) {
        // Given / When
        MySqlAnalyzer analyzer = MySqlAnalyzer.mariaDb(version);

        // Then
        assertThat(analyzer.serverVersion()).isEqualTo(number);
        assertThat(analyzer.isMariaDb()).isEqualTo(mariaDb);
    }

    @Test
    void refusesAVersionStringWithoutAVersion() {
        assertThatThrownBy(() -> MySqlAnalyzer.mariaDb("MariaDB")).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sqlModeMakesANewAnalyser() {
        // Given
        MySqlAnalyzer ansi = MARIADB.withSqlMode(Set.of(" ansi_quotes ", "STRICT_ALL_TABLES"));

        // When / Then
        assertThat(ansi.sqlModes()).containsExactlyInAnyOrder("ANSI_QUOTES", "STRICT_ALL_TABLES");
        assertThat(MARIADB.sqlModes()).isEmpty();
        assertThat(ansi.serverVersion()).isEqualTo(110405);
    }

    @ParameterizedTest
    @ValueSource(strings = {"ORACLE", "MSSQL"})
    void refusesModesWithAnotherGrammar(String mode) {
        // Given / When
        SqlAnalysis analysis = MARIADB.withSqlMode(Set.of(mode)).analyze("SELECT 1");

        // Then
        assertThat(analysis.parseable()).isFalse();
        assertThat(analysis.parseError()).contains(mode);
    }

    // ---- fingerprint --------------------------------------------------------------------------

    @Test
    void fingerprintIgnoresLiteralsCaseQuotesAndComments() {
        // Given
        String one = MARIADB.analyze("SELECT * FROM t WHERE id = 1").fingerprint();

        // When / Then
        assertThat(one).matches("[0-9a-f]{64}");
        assertThat(MARIADB.analyze("SELECT * FROM t WHERE id = 2").fingerprint()).isEqualTo(one);
        assertThat(MARIADB.analyze("select *\n from `t` /* x */ where ID = 'abc' -- y").fingerprint()).isEqualTo(one);
        assertThat(MARIADB.analyze("SELECT * FROM t WHERE name = 1").fingerprint()).isNotEqualTo(one);
        assertThat(MARIADB.analyze("SELECT * FROM u WHERE id = 1").fingerprint()).isNotEqualTo(one);
        assertThat(MARIADB.analyze("SELECT * FROM t WHERE id = 1; SELECT 1").fingerprint()).isNotEqualTo(one);
    }

    @Test
    void fingerprintFoldsLists() {
        // Given / When / Then
        assertThat(MARIADB.analyze("SELECT a FROM t WHERE id IN (1, 2, 3)").fingerprint())
                .isEqualTo(MARIADB.analyze("SELECT a FROM t WHERE id IN (7)").fingerprint());
        assertThat(MARIADB.analyze("INSERT INTO t VALUES (1, 'a'), (2, 'b'), (3, 'c')").fingerprint())
                .isEqualTo(MARIADB.analyze("INSERT INTO t VALUES (9, 'z')").fingerprint());
    }

    @Test
    void fingerprintIsOfTheCodeThatRuns() {
        // Given / When / Then
        assertThat(MARIADB.analyze("SELECT a /*!40000 , b */ FROM t").fingerprint())
                .isEqualTo(MARIADB.analyze("SELECT a, b FROM t").fingerprint())
                .isNotEqualTo(MARIADB.analyze("SELECT a /*!99999 , b */ FROM t").fingerprint());
        assertThat(MARIADB.analyze("SELECT 'open").fingerprint()).isNull();
    }

    // ---- facts --------------------------------------------------------------------------------

    @Test
    void fileSystemEffectsAreVisible() {
        // Given / When
        StatementAnalysis outfile = single("SELECT a FROM t UNION SELECT b FROM u INTO OUTFILE '/tmp/x'");
        StatementAnalysis hidden = single("SELECT 1 /*!, LOAD_FILE('/etc/passwd') */");
        StatementAnalysis load = single("LOAD DATA LOCAL INFILE '/tmp/x' INTO TABLE payouts (a, @b) SET c = UPPER(@b)");

        // Then
        assertThat(outfile.tag()).isEqualTo("SELECT INTO OUTFILE");
        assertThat(outfile.kind()).isEqualTo(StatementKind.UTILITY);
        assertThat(outfile.tablesRead()).containsExactlyInAnyOrder("t", "u");
        assertThat(outfile.uncertainty()).contains(MySqlStatementAnalyzer.OUTFILE);
        assertThat(hidden.functions()).containsExactly("load_file");
        assertThat(hidden.uncertainty()).containsExactly(MySqlStatementAnalyzer.LOAD_FILE);
        assertThat(load.tablesWritten()).containsExactly("payouts");
        assertThat(load.functions()).contains("upper");
        assertThat(load.uncertainty()).containsExactly("reads a file from the client (LOAD DATA LOCAL INFILE)");
        assertThat(single("SET GLOBAL general_log_file = '/var/www/x.php'").uncertainty())
                .containsExactly("sets where the server writes a log file (global.general_log_file): writes files on the server");
        assertThat(single("SHOW TABLES WHERE LOAD_FILE('/etc/passwd') IS NOT NULL").uncertainty())
                .contains(MySqlStatementAnalyzer.LOAD_FILE);
    }

    @Test
    void tablesInEveryCornerOfAStatementAreFound() {
        // Given / When
        StatementAnalysis select = single("SELECT (SELECT s FROM a), x FROM b JOIN c ON c.id = (SELECT id FROM d) "
                + "WHERE y IN (SELECT y FROM e) GROUP BY x HAVING MAX(x) > (SELECT 1 FROM f) "
                + "ORDER BY (SELECT z FROM g LIMIT 1)");
        StatementAnalysis update = single("UPDATE t SET a = (SELECT MAX(b) FROM u WHERE u.c = t.c) "
                + "WHERE EXISTS (SELECT 1 FROM v)");
        StatementAnalysis insert = single("INSERT INTO t (a) VALUES ((SELECT x FROM secrets LIMIT 1)) "
                + "ON DUPLICATE KEY UPDATE a = (SELECT y FROM more_secrets LIMIT 1)");

        // Then
        assertThat(select.tablesRead()).containsExactlyInAnyOrder("a", "b", "c", "d", "e", "f", "g");
        assertThat(update.tablesWritten()).containsExactly("t");
        assertThat(update.tablesRead()).containsExactlyInAnyOrder("u", "v");
        assertThat(insert.tablesRead()).containsExactlyInAnyOrder("secrets", "more_secrets");
    }

    @Test
    void cteNamesAreNotTablesButQualifiedNamesAre() {
        // Given / When / Then
        assertThat(single("WITH payouts AS (SELECT 1) SELECT * FROM payouts").tablesRead()).isEmpty();
        assertThat(single("WITH x AS (SELECT * FROM payouts) SELECT * FROM x").tablesRead()).containsExactly("payouts");
        assertThat(single("WITH payouts AS (SELECT 1) SELECT * FROM shop.payouts").tablesRead())
                .containsExactly("shop.payouts");
        assertThat(single("SELECT * FROM (WITH p AS (SELECT 1) SELECT * FROM p) x, p").tablesRead())
                .containsExactly("p");
    }

    @Test
    void multiTableWritesFollowAliases() {
        // Given / When
        StatementAnalysis update = single("UPDATE payouts p JOIN ledger l ON l.id = p.lid SET l.amount = 0 WHERE p.id = 1");
        StatementAnalysis delete = single("DELETE l FROM payouts p JOIN ledger l ON l.id = p.lid");

        // Then
        assertThat(update.tablesWritten()).containsExactly("ledger");
        assertThat(update.tablesRead()).containsExactly("payouts");
        assertThat(update.missingWhere()).isFalse();
        assertThat(delete.tablesWritten()).containsExactly("ledger");
        assertThat(delete.tablesRead()).containsExactly("payouts");
        assertThat(delete.missingWhere()).isTrue();
    }

    @Test
    void explainReadsAndExplainAnalyzeRuns() {
        // Given / When
        StatementAnalysis explain = single("EXPLAIN DELETE FROM payouts");
        StatementAnalysis analyze = MYSQL.parse("EXPLAIN ANALYZE DELETE FROM payouts").analysis().statements().getFirst();
        StatementAnalysis mariaAnalyze = single("ANALYZE DELETE FROM payouts");

        // Then
        assertThat(explain.kind()).isEqualTo(StatementKind.UTILITY);
        assertThat(explain.tablesRead()).containsExactly("payouts");
        assertThat(explain.tablesWritten()).isEmpty();
        assertThat(explain.missingWhere()).isFalse();
        for (StatementAnalysis runs : List.of(analyze, mariaAnalyze)) {
            assertThat(runs.kind()).isEqualTo(StatementKind.WRITE);
            assertThat(runs.tablesWritten()).containsExactly("payouts");
            assertThat(runs.missingWhere()).isTrue();
        }
        assertThat(mariaAnalyze.tag()).isEqualTo("ANALYZE");
    }

    @Test
    void statementsInsideStatementsAreAnalysedAsTheStatementThatRuns() {
        // Given / When
        StatementAnalysis immediate = single("EXECUTE IMMEDIATE 'DROP DATABASE x'");
        StatementAnalysis setStatement = single("SET STATEMENT max_statement_time = 1 FOR DROP DATABASE x");
        StatementAnalysis nested = single("SET STATEMENT sql_mode = '' FOR EXPLAIN SELECT * FROM secrets");

        // Then
        assertThat(immediate.tag()).isEqualTo("DROP DATABASE");
        assertThat(immediate.tablesWritten()).containsExactly("x");
        assertThat(setStatement.tag()).isEqualTo("DROP DATABASE");
        assertThat(nested.tag()).isEqualTo("EXPLAIN");
        assertThat(nested.tablesRead()).containsExactly("secrets");
    }

    @Test
    void preparedStatementsAreTrackedAsEffects() {
        // Given: EXECUTE runs code, so it must end its text
        String sql = "PREPARE Stmt1 FROM 'DELETE FROM t WHERE a = \\'x\\''; DEALLOCATE PREPARE stmt1; "
                + "PREPARE s2 FROM @text; EXECUTE stmt1 USING @a, @b";

        // When
        ParsedSql parsed = MARIADB.parse(sql);

        // Then
        assertThat(parsed.analysis().tags()).containsExactly("PREPARE", "DEALLOCATE", "PREPARE", "EXECUTE");
        StatementAnalysis prepare = parsed.analysis().statements().getFirst();
        assertThat(prepare.kind()).isEqualTo(StatementKind.WRITE);
        assertThat(prepare.tablesWritten()).containsExactly("t");
        assertThat(parsed.statements().get(0).effect()).isInstanceOfSatisfying(SessionEffect.Prepare.class, p -> {
            assertThat(p.name()).isEqualTo("stmt1");
            assertThat(p.sql()).isEqualTo("DELETE FROM t WHERE a = 'x'");
            assertThat(p.statement().tag()).isEqualTo("DELETE");
        });
        assertThat(parsed.statements().get(1).effect()).isEqualTo(new SessionEffect.Deallocate("stmt1"));
        StatementAnalysis dynamic = parsed.analysis().statements().get(2);
        assertThat(dynamic.kind()).isEqualTo(StatementKind.UNKNOWN);
        assertThat(dynamic.runsCode()).isTrue();
        assertThat(dynamic.uncertain()).isTrue();
        assertThat(parsed.statements().get(2).effect()).isInstanceOfSatisfying(SessionEffect.Prepare.class,
                p -> assertThat(p.statement().kind()).isEqualTo(StatementKind.UNKNOWN));
        assertThat(parsed.statements().get(3).effect()).isInstanceOfSatisfying(SessionEffect.Execute.class, e -> {
            assertThat(e.name()).isEqualTo("stmt1");
            assertThat(e.arguments()).containsExactly("@a", "@b");
        });
        StatementAnalysis execute = parsed.analysis().statements().get(3);
        assertThat(execute.kind()).isEqualTo(StatementKind.UNKNOWN);
        assertThat(execute.runsCode()).isTrue();
        assertThat(MARIADB.analyze("EXECUTE stmt1; SELECT 1").parseable()).isFalse();
    }

    @Test
    void preparedTextIsLexedWithTheSessionsModes() {
        // Given: under NO_BACKSLASH_ESCAPES a quote is doubled, and a backslash is a backslash
        String sql = "PREPARE s FROM 'SELECT ''a\\'' FROM t'";

        // When
        ParsedSql parsed = MARIADB.withSqlMode(Set.of("NO_BACKSLASH_ESCAPES")).parse(sql);

        // Then
        assertThat(parsed.statements().getFirst().effect()).isInstanceOfSatisfying(SessionEffect.Prepare.class,
                p -> assertThat(p.sql()).isEqualTo("SELECT 'a\\' FROM t"));
        assertThat(parsed.analysis().tablesRead()).containsExactly("t");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "PREPARE s FROM 'SELECT 1; DROP DATABASE x'",
            "PREPARE s FROM 'SELECT FROM WHERE'",
            "EXECUTE IMMEDIATE 'DROP DATABASE x; SELECT 1'"
    })
    void preparedTextThatIsNotOneStatementIsRefused(String sql) {
        assertThat(MARIADB.analyze(sql).parseable()).isFalse();
    }

    @Test
    void settingsAreNamed() {
        // Given / When / Then
        assertThat(single("SET @@global.sql_mode = '', SESSION autocommit = 0, @x = 1").settings())
                .containsExactly("global.sql_mode", "autocommit", "@x");
        assertThat(single("SET sql_mode = (SELECT m FROM modes LIMIT 1)").tablesRead()).containsExactly("modes");
        assertThat(single("SET NAMES gbk").settings()).contains("names", "character_set_client");
        assertThat(single("SET ROLE ALL").kind()).isEqualTo(StatementKind.DCL);
    }

    @Test
    void userVariablesAStatementAssignsAreSettings() {
        // Given / When / Then: a value kept in a user variable outlives the statement (a masked value could ride on it)
        assertThat(single("SELECT @x := ssn FROM customers").settings()).containsExactly("@x");
        assertThat(single("SELECT ssn, name INTO @a, @`B` FROM customers LIMIT 1").settings()).containsExactly("@a", "@b");
        assertThat(single("SELECT name FROM customers WHERE id = 1 INTO @n").settings()).containsExactly("@n");
        assertThat(single("UPDATE t SET a = (@v := a + 1)").settings()).containsExactly("@v");
        // reading one is not assigning it
        assertThat(single("SELECT @x, @@version FROM t WHERE @c = 1").settings()).isEmpty();
        assertThat(single("SELECT ssn INTO OUTFILE '/tmp/x' FROM customers").settings()).isEmpty();
    }

    @Test
    void aSingleLiteralSettingIsAnEffect() {
        // Given / When / Then: the edge re-pins the session's sql_mode and character set from these
        assertThat(MARIADB.parse("SET SESSION sql_mode = 'ANSI_QUOTES,NO_BACKSLASH_ESCAPES'").statements().getFirst().effect())
                .isEqualTo(new SessionEffect.Setting("sql_mode", "ANSI_QUOTES,NO_BACKSLASH_ESCAPES", false, false));
        assertThat(MARIADB.parse("SET @@sql_mode = DEFAULT").statements().getFirst().effect())
                .isEqualTo(new SessionEffect.Setting("sql_mode", null, false, true));
        assertThat(MARIADB.parse("SET NAMES 'gbk'").statements().getFirst().effect())
                .isEqualTo(new SessionEffect.Setting("names", "gbk", false, false));
        assertThat(MARIADB.parse("SET sql_mode = CONCAT(@@sql_mode, ',ANSI')").statements().getFirst().effect()).isNull();
        assertThat(MARIADB.parse("SET GLOBAL sql_mode = ''").statements().getFirst().effect()).isNull();
        assertThat(MARIADB.parse("SET sql_mode = '', autocommit = 1").statements().getFirst().effect()).isNull();
    }

    @Test
    void callsOfFunctionsThatAreNotBuiltInRunCode() {
        // Given / When
        StatementAnalysis builtins = single("SELECT NOW(), CONCAT(a, 'x'), JSON_EXTRACT(d, '$.a'), COUNT(*) FROM t");
        StatementAnalysis udf = single("SELECT audit.log_access(id) FROM t");
        StatementAnalysis handler = single("HANDLER t READ FIRST WHERE evil(a) LIMIT 1");

        // Then
        assertThat(builtins.runsCode()).isFalse();
        assertThat(builtins.uncertain()).isFalse();
        assertThat(udf.runsCode()).isTrue();
        assertThat(udf.uncertainty()).containsExactly("calls audit.log_access");
        assertThat(handler.runsCode()).isTrue();
        assertThat(handler.functions()).containsExactly("evil");
    }

    @Test
    void systemVersioningAndOtherUnreadSyntaxIsRefusedNotGuessed() {
        // Given / When
        SqlAnalysis analysis = MARIADB.analyze("SELECT * FROM payouts FOR SYSTEM_TIME ALL");

        // Then
        assertThat(analysis.parseable()).isFalse();
        assertThat(analysis.statements()).isEmpty();
    }

    // ---- never throws -------------------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
            "hello world", "SELECT", "SELECT FROM", "DROP", ")", "'", "\u0000", "SELECT \u0000 1",
            "SELECT \uD800", "SELECT x\u200Bfrom t", "SELECT 1\u00A0FROM t", "DELIMITER ;", "END", "*/"
    })
    void badTextIsUnparseableWithAReason(String sql) {
        // Given / When
        ParsedSql parsed = MARIADB.parse(sql);

        // Then
        assertThat(parsed.analysis().parseable()).isFalse();
        assertThat(parsed.analysis().parseError()).isNotBlank();
        assertThat(parsed.statements()).isEmpty();
    }

    @Test
    void deepNestingIsRefusedNotThrown() {
        // Given
        String deep = "SELECT " + "(".repeat(50_000) + "1" + ")".repeat(50_000);
        String deepCase = "SELECT " + "CASE WHEN 1 THEN ".repeat(20_000) + "1" + " END".repeat(20_000);

        // When / Then
        assertThat(MARIADB.analyze(deep).parseable()).isFalse();
        assertThat(MARIADB.analyze(deepCase)).isNotNull();
        assertThat(MARIADB.analyze("x".repeat(MySqlAnalyzer.MAX_TEXT_CHARS + 1)).parseable()).isFalse();
    }

    @Test
    void isThreadSafe() {
        // Given
        List<String> texts = MySqlCorpus.entries().stream().map(MySqlCorpus.Entry::sql).toList();
        List<SqlAnalysis> once = texts.stream().map(MARIADB::analyze).toList();

        // When
        List<SqlAnalysis> parallel = IntStream.range(0, texts.size()).parallel()
                .mapToObj(i -> MARIADB.analyze(texts.get(i))).toList();

        // Then
        assertThat(parallel).isEqualTo(once);
    }

    private static StatementAnalysis single(String sql) {
        SqlAnalysis analysis = MARIADB.analyze(sql);
        assertThat(analysis.parseError()).as(sql).isNull();
        assertThat(analysis.statements()).hasSize(1);
        return analysis.statements().getFirst();
    }
}
