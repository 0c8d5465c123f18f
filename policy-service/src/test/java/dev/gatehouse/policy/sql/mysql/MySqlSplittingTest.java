package dev.gatehouse.policy.sql.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.ParsedStatement;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Where statements start and end, and what of a text runs: executable comments, quotes, comments,
 * compound statements and the session's sql_mode. The servers' behaviour these follow was checked
 * on MariaDB 11.4.5 (each text sent as one COM_QUERY with multi-statements).
 */
class MySqlSplittingTest {

    private static final MySqlAnalyzer MARIADB_11_4 = new MySqlAnalyzer(110405, true);
    private static final MySqlAnalyzer MARIADB_11_8 = new MySqlAnalyzer(110800, true);
    private static final MySqlAnalyzer MYSQL_8_0 = new MySqlAnalyzer(80036, false);
    private static final MySqlAnalyzer MYSQL_8_4 = new MySqlAnalyzer(80400, false);
    private static final MySqlAnalyzer MYSQL_5_7 = new MySqlAnalyzer(50744, false);

    // ---- executable comments ------------------------------------------------------------------

    @Test
    void executableCommentWithoutVersionRunsEverywhere() {
        // Given
        String sql = "/*!DROP DATABASE x*/";

        // When / Then
        for (MySqlAnalyzer analyzer : List.of(MARIADB_11_4, MYSQL_8_0, MYSQL_5_7)) {
            ParsedSql parsed = analyzer.parse(sql);
            assertThat(tags(parsed)).as(analyzer.toString()).containsExactly("DROP DATABASE");
            assertThat(parsed.analysis().tablesWritten()).containsExactly("x");
            assertThat(cut(parsed, sql)).containsExactly("DROP DATABASE x");
        }
    }

    @Test
    void versionedCommentRunsOnMySqlOfThatVersionOnly() {
        // Given: the semicolon inside the comment ends the first statement where the comment runs;
        // the server lexes the next statement afresh, so its "*/" is code there: a syntax error
        String sql = "SELECT 1 /*!80000 ; DROP DATABASE x */";

        // When
        MySqlLexer.Result onMySql8 = lexer(80036, false, false, false).split(sql);

        // Then
        assertThat(tags(MYSQL_5_7.parse(sql))).containsExactly("SELECT");
        assertThat(onMySql8.statements()).extracting(s -> s.code().strip())
                .containsExactly("SELECT 1", "DROP DATABASE x */");
        ParsedSql parsed = MYSQL_8_0.parse(sql);
        assertThat(!parsed.analysis().parseable() || parsed.analysis().tags().contains("DROP DATABASE"))
                .as("refused, or the DROP DATABASE seen").isTrue();
    }

    @Test
    void versionedCommentHidingALineCommentRunsTwoStatementsOnMySql8() {
        // Given: "-- " hides the closing marker, the second statement is complete
        String sql = "SELECT 1 /*!80000 ; DROP DATABASE x -- */";

        // When
        ParsedSql parsed = MYSQL_8_0.parse(sql);

        // Then
        assertThat(tags(parsed)).containsExactly("SELECT", "DROP DATABASE");
        assertThat(cut(parsed, sql)).containsExactly("SELECT 1", "DROP DATABASE x");
        assertThat(tags(MYSQL_5_7.parse(sql))).containsExactly("SELECT");
    }

    @Test
    void mariaDbIgnoresMySqlVersionsFrom50700To99999() {
        // Given: MariaDB skips /*!NNNNN for MySQL 5.7+ versions (its lexer's rule, checked on 11.4.5)
        String sql = "SELECT 1 /*!80000 ; DROP DATABASE x -- */";

        // When
        ParsedSql parsed = MARIADB_11_4.parse(sql);

        // Then
        assertThat(tags(parsed)).containsExactly("SELECT");
        assertThat(cut(parsed, sql)).containsExactly("SELECT 1");
        assertThat(code(110405, true, "SELECT 1 /*!50699 + 1 */")).isEqualTo("SELECT 1   + 1  ");
        assertThat(code(110405, true, "SELECT 1 /*!50700 + 1 */")).isEqualTo("SELECT 1  ");
    }

    @Test
    void mariaDbRunsSixDigitVersionsAndMariaDbComments() {
        // Given
        String sixDigits = "SELECT 1 /*!100000 ; DROP DATABASE x -- */";
        String later = "SELECT 1 /*!110500 ; DROP DATABASE x -- */";
        String mariaOnly = "/*M!100000 DROP TABLE t */";

        // When / Then
        assertThat(tags(MARIADB_11_4.parse(sixDigits))).containsExactly("SELECT", "DROP DATABASE");
        assertThat(tags(MARIADB_11_4.parse(later))).containsExactly("SELECT");
        assertThat(tags(MARIADB_11_8.parse(later))).containsExactly("SELECT", "DROP DATABASE");
        assertThat(tags(MARIADB_11_4.parse(mariaOnly))).containsExactly("DROP TABLE");
        assertThat(MARIADB_11_4.parse(mariaOnly).analysis().tablesWritten()).containsExactly("t");
        assertThat(code(110405, true, "SELECT 1 /*M!50700 + 1 */")).isEqualTo("SELECT 1   + 1  ");
    }

    @Test
    void mySqlReadsMariaDbCommentsAsComments() {
        // Given
        String sql = "/*M!100000 DROP TABLE t */";

        // When
        ParsedSql parsed = MYSQL_8_0.parse(sql);

        // Then: nothing runs (the server answers an empty query)
        assertThat(parsed.analysis().parseable()).isTrue();
        assertThat(parsed.statements()).isEmpty();
        assertThat(tags(MYSQL_8_0.parse("SELECT 1 /*M! , 2 */"))).containsExactly("SELECT");
    }

    @Test
    void versionsCompareAtTheBoundary() {
        // Given / When / Then
        assertThat(code(110405, true, "SELECT 1 /*!110405 , 2 */")).contains(", 2");
        assertThat(code(110405, true, "SELECT 1 /*!110406 , 2 */")).doesNotContain("2");
        assertThat(code(80036, false, "SELECT 1 /*!80036 , 2 */")).contains(", 2");
        assertThat(code(80036, false, "SELECT 1 /*!80037 , 2 */")).doesNotContain("2");
    }

    @Test
    void mySqlReadsSixDigitVersionsFrom81WhenAWhitespaceFollows() {
        // Given: before 8.1 the sixth digit is code
        String sql = "SELECT 1 /*!800001 , 2 */";

        // When / Then
        assertThat(code(80036, false, sql)).isEqualTo("SELECT 1  1 , 2  ");
        assertThat(code(80400, false, sql)).isEqualTo("SELECT 1  ");
        assertThat(code(80400, false, "SELECT 1 /*!800001, 2 */")).isEqualTo("SELECT 1  1, 2  ");
        assertThat(tags(MYSQL_8_4.parse("SELECT 1 /*!080000 , 2 */"))).containsExactly("SELECT");
    }

    @Test
    void fewerThanFiveDigitsAreCodeNotAVersion() {
        // Given / When / Then: the server runs "SELECT 1 12 + 1" (a syntax error)
        assertThat(code(110405, true, "SELECT 1 /*!12 + 1 */")).isEqualTo("SELECT 1  12 + 1  ");
        assertThat(MARIADB_11_4.parse("SELECT 1 /*!12 + 1 */").analysis().parseable()).isFalse();
    }

    @Test
    void skippedVersionedCommentMayHoldOneOrdinaryComment() {
        // Given
        String sql = "SELECT 1 /*!99999 /* inner */ + 1 */ + 10";

        // When
        ParsedSql parsed = MARIADB_11_4.parse(sql);

        // Then: the server answers 11
        assertThat(tags(parsed)).containsExactly("SELECT");
        assertThat(code(110405, true, sql)).isEqualTo("SELECT 1   + 10");
    }

    @Test
    void ordinaryCommentInsideARunningExecutableCommentEndsFirst() {
        // Given: the server answers 12
        String sql = "SELECT 1 /*! /* inner */ + 1 */ + 10";

        // When / Then
        assertThat(code(110405, true, sql)).isEqualTo("SELECT 1     + 1   + 10");
    }

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT 1 /*! + 1 /*! + 2 */ + 3 */", // a running comment in a running comment: the server's syntax error
            "SELECT 1 /*! -- */ + 1 */",         // the line comment hides the end: unterminated
            "SELECT 1 /*!80000 + 1",
            "SELECT 1 /* open",
            "/*!99997 SELECT 1 */",               // MariaDB runs it on Galera nodes only
            "SELECT 'open",
            "SELECT `open",
            "SELECT \"open"
    })
    void unterminatedOrAmbiguousCommentsAndQuotesAreRefused(String sql) {
        // Given / When
        ParsedSql parsed = MARIADB_11_4.parse(sql);

        // Then
        assertThat(parsed.analysis().parseable()).isFalse();
        assertThat(parsed.statements()).isEmpty();
    }

    @Test
    void commentsDoNotNest() {
        // Given: the first "*/" ends the comment (checked on MariaDB 11.4.5)
        String sql = "SELECT 1 /* a /* b */ ; SELECT 2";

        // When / Then
        assertThat(cut(MARIADB_11_4.parse(sql), sql)).containsExactly("SELECT 1", "SELECT 2");
    }

    // ---- statement boundaries -----------------------------------------------------------------

    @ParameterizedTest
    @ValueSource(strings = {
            "SELECT 'a;b' FROM t",
            "SELECT \"a;b\" FROM t",
            "SELECT `a;b` FROM t",
            "SELECT 'it''s; still' FROM t",
            "SELECT 'it\\'s; still' FROM t",
            "SELECT 1 /* ; */ FROM t",
            "SELECT 1 # ;\nFROM t",
            "SELECT 1 -- ;\nFROM t",
            "SELECT 1 /*!99999 ; */ FROM t",
            "SELECT 1 /*M!999999 ; */ FROM t"
    })
    void semicolonsInStringsNamesAndCommentsDoNotSplit(String sql) {
        // Given / When
        ParsedSql parsed = MARIADB_11_4.parse(sql);

        // Then
        assertThat(parsed.statements()).hasSize(1);
        assertThat(cut(parsed, sql)).containsExactly(sql.substring(0, sql.lastIndexOf('t') + 1));
    }

    @Test
    void spansCutTheOriginalTextExactly() {
        // Given
        String sql = "  /* first */ SELECT 1 /* c */ ;\r\n  select\n  2 ;SELECT '; x' ; /*!DROP DATABASE x*/ ;  SELECT 4  ; -- done\n";

        // When
        ParsedSql parsed = MARIADB_11_4.parse(sql);

        // Then
        assertThat(cut(parsed, sql)).containsExactly("SELECT 1", "select\n  2", "SELECT '; x'", "DROP DATABASE x", "SELECT 4");
        for (ParsedStatement s : parsed.statements()) {
            assertThat(sql.substring(s.offset(), s.offset() + s.length())).isEqualTo(s.text(sql));
        }
        assertThat(parsed.statements()).extracting(ParsedStatement::offset).isSorted();
    }

    @Test
    void doubleDashWithoutSpaceIsNotAComment() {
        // Given: the server answers 2 for both
        String sql = "SELECT 1--1";

        // When
        ParsedSql parsed = MARIADB_11_4.parse(sql);

        // Then
        assertThat(cut(parsed, sql)).containsExactly("SELECT 1--1");
        assertThat(cut(MARIADB_11_4.parse("SELECT 1 --\n"), "SELECT 1 --\n")).containsExactly("SELECT 1");
    }

    @ParameterizedTest
    @ValueSource(strings = {"SELECT 1;;SELECT 2", "/* c */ ; SELECT 1", "; SELECT 1"})
    void anEmptyStatementBeforeASemicolonIsRefused(String sql) {
        // Given / When / Then: the server's syntax error (checked on MariaDB 11.4.5)
        assertThat(MARIADB_11_4.parse(sql).analysis().parseable()).isFalse();
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "   ", "-- only a comment", "/* c */", "SELECT 1; -- end"})
    void textsWithoutStatementsOrWithATrailingCommentAreFine(String sql) {
        // Given / When
        ParsedSql parsed = MARIADB_11_4.parse(sql);

        // Then
        assertThat(parsed.analysis().parseable()).isTrue();
        assertThat(parsed.statements()).hasSizeLessThanOrEqualTo(1);
    }

    @Test
    void aProcedureBodyKeepsItsSemicolons() {
        // Given
        String sql = "CREATE PROCEDURE p() BEGIN IF (1 > 0) THEN SELECT IF(1, 2, 3); END IF; "
                + "WHILE 0 DO SELECT 1; END WHILE; CASE WHEN 1 THEN SELECT 2; END CASE; END; DROP DATABASE x";

        // When
        ParsedSql parsed = MARIADB_11_4.parse(sql);

        // Then
        assertThat(tags(parsed)).containsExactly("CREATE PROCEDURE", "DROP DATABASE");
        assertThat(cut(parsed, sql).getFirst()).endsWith("END CASE; END");
    }

    @Test
    void aSimpleProcedureBodyEndsAtItsSemicolon() {
        // Given
        String sql = "CREATE PROCEDURE p() SELECT 1; DROP DATABASE x";

        // When / Then
        assertThat(tags(MARIADB_11_4.parse(sql))).containsExactly("CREATE PROCEDURE", "DROP DATABASE");
    }

    @Test
    void triggerAndEventBodies() {
        // Given
        String trigger = "CREATE TRIGGER t1 BEFORE INSERT ON users FOR EACH ROW BEGIN "
                + "IF NEW.name IS NULL THEN SET NEW.name = 'x'; END IF; END; SELECT 1";
        String event = "CREATE EVENT e ON SCHEDULE EVERY 1 DAY DO BEGIN DELETE FROM s; REPEAT SELECT 1; UNTIL 1 END REPEAT; END; SELECT 2";

        // When / Then
        assertThat(tags(MARIADB_11_4.parse(trigger))).containsExactly("CREATE TRIGGER", "SELECT");
        assertThat(tags(MARIADB_11_4.parse(event))).containsExactly("CREATE EVENT", "SELECT");
    }

    @Test
    void beginIsATransactionOutsideCompoundStatements() {
        // Given
        String sql = "BEGIN; UPDATE t SET a = 1 WHERE id = 2; COMMIT";

        // When / Then
        assertThat(tags(MARIADB_11_4.parse(sql))).containsExactly("BEGIN", "UPDATE", "COMMIT");
    }

    @Test
    void aNameThatLooksLikeABlockNeverHidesAStatement() {
        // Given: "begin" as an alias; the server ends the procedure at the first ";" and runs DROP DATABASE
        String sql = "CREATE PROCEDURE p() SELECT 1 FROM t begin; DROP DATABASE x; END";

        // When
        ParsedSql parsed = MARIADB_11_4.parse(sql);

        // Then: refused, or the DROP DATABASE is seen
        assertThat(!parsed.analysis().parseable() || tags(parsed).contains("DROP DATABASE")).isTrue();
    }

    @Test
    void compoundStatementsOutsideProceduresAreRefused() {
        // Given / When / Then
        assertThat(MARIADB_11_4.parse("BEGIN NOT ATOMIC DROP DATABASE x; END").analysis().parseable()).isFalse();
        assertThat(MARIADB_11_4.parse("IF 1 THEN DROP DATABASE x; END IF").analysis().parseable()).isFalse();
        assertThat(MARIADB_11_4.parse("lbl: LOOP LEAVE lbl; END LOOP lbl").analysis().parseable()).isFalse();
    }

    @Test
    void delimiterIsAClientCommandTheServerRejects() {
        // Given
        String sql = "DELIMITER //\nCREATE PROCEDURE p() BEGIN SELECT 1; END //\nDELIMITER ;";

        // When / Then
        assertThat(MARIADB_11_4.parse(sql).analysis().parseable()).isFalse();
    }

    // ---- sql_mode -----------------------------------------------------------------------------

    @Test
    void noBackslashEscapesEndsTheStringAtTheBackslashQuote() {
        // Given
        String sql = "SELECT 'a\\'; DROP DATABASE x; -- '";

        // When
        ParsedSql byDefault = MARIADB_11_4.parse(sql);
        ParsedSql noEscapes = MARIADB_11_4.withSqlMode(Set.of("STRICT_TRANS_TABLES", "no_backslash_escapes")).parse(sql);

        // Then: checked on MariaDB 11.4.5
        assertThat(tags(byDefault)).containsExactly("SELECT");
        assertThat(tags(noEscapes)).containsExactly("SELECT", "DROP DATABASE");
        assertThat(cut(noEscapes, sql)).containsExactly("SELECT 'a\\'", "DROP DATABASE x");
    }

    @Test
    void ansiQuotesMakeDoubleQuotesNames() {
        // Given
        String split = "SELECT \"a\\\"; DROP DATABASE x; -- \"";
        String table = "SELECT \"payouts\" FROM orders";

        // When
        MySqlAnalyzer ansi = MARIADB_11_4.withSqlMode(Set.of("ANSI_QUOTES"));

        // Then
        assertThat(tags(MARIADB_11_4.parse(split))).containsExactly("SELECT");
        assertThat(tags(ansi.parse(split))).containsExactly("SELECT", "DROP DATABASE");
        assertThat(ansi.parse("SELECT * FROM \"orders\"").analysis().tablesRead()).containsExactly("orders");
        assertThat(MARIADB_11_4.withSqlMode(Set.of("ANSI")).parse("SELECT * FROM \"o\"\"q\"").analysis().tablesRead())
                .containsExactly("o\"q");
        assertThat(MARIADB_11_4.parse(table).analysis().tablesRead()).containsExactly("orders");
    }

    @Test
    void aChangeOfSqlModeOrCharsetMustEndItsText() {
        // Given: the server reads the next statements under the new mode (checked on MariaDB 11.4.5:
        // this text drops the database, where the mode it started with reads one SELECT)
        String ansi = "SET SESSION sql_mode = 'ANSI_QUOTES'; SELECT 1 AS \"a\\\"; DROP DATABASE x; -- \"";
        String names = "SET NAMES gbk; SELECT 1";
        String call = "CALL p(); SELECT 1";

        // When / Then
        assertThat(MARIADB_11_4.parse(ansi).analysis().parseable()).isFalse();
        assertThat(MARIADB_11_4.parse(names).analysis().parseable()).isFalse();
        assertThat(MARIADB_11_4.parse(call).analysis().parseable()).isFalse();
        assertThat(tags(MARIADB_11_4.parse("SELECT 1; SET sql_mode = 'ANSI_QUOTES'"))).containsExactly("SELECT", "SET");
        assertThat(tags(MARIADB_11_4.parse("SET GLOBAL sql_mode = ''; SET @x = 1; SELECT 1")))
                .containsExactly("SET", "SET", "SELECT");
        assertThat(tags(MARIADB_11_4.parse("CREATE PROCEDURE p() SELECT 1; CALL p()")))
                .containsExactly("CREATE PROCEDURE", "CALL");
    }

    @Test
    void backslashIsOrdinaryUnderNoBackslashEscapes() {
        // Given
        String sql = "SELECT 'C:\\dir\\' FROM t";

        // When / Then
        assertThat(MARIADB_11_4.parse(sql).analysis().parseable()).as("unterminated by default").isFalse();
        assertThat(MARIADB_11_4.withSqlMode(Set.of("NO_BACKSLASH_ESCAPES")).parse(sql).analysis().tablesRead())
                .containsExactly("t");
    }

    @Test
    void mySql9ReadsDollarQuotedStrings() {
        // Given
        String sql = "CREATE FUNCTION f() RETURNS INT LANGUAGE JAVASCRIPT AS $js$ return 1; $js$; SELECT 2";

        // When
        MySqlLexer.Result mysql9 = lexer(90200, false, false, false).split(sql);
        MySqlLexer.Result maria = lexer(110405, true, false, false).split(sql);

        // Then
        assertThat(mysql9.statements()).hasSize(2);
        assertThat(maria.statements()).hasSize(3);
    }

    // ---- helpers ------------------------------------------------------------------------------

    private static List<String> tags(ParsedSql parsed) {
        assertThat(parsed.analysis().parseError()).as("parse error").isNull();
        return parsed.analysis().tags();
    }

    private static List<String> cut(ParsedSql parsed, String sql) {
        assertThat(parsed.analysis().parseError()).as("parse error").isNull();
        return parsed.statements().stream().map(s -> s.text(sql)).toList();
    }

    private static MySqlLexer lexer(long version, boolean mariaDb, boolean ansiQuotes, boolean noBackslashEscapes) {
        return new MySqlLexer(new MySqlLexer.Settings(version, mariaDb, ansiQuotes, noBackslashEscapes));
    }

    /** The code of the one statement of {@code sql}. */
    private static String code(long version, boolean mariaDb, String sql) {
        MySqlLexer.Result result = lexer(version, mariaDb, false, false).split(sql);
        assertThat(result.error()).isNull();
        assertThat(result.statements()).hasSize(1);
        return result.statements().getFirst().code();
    }
}
