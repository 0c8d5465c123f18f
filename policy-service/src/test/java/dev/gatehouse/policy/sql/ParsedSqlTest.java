package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.ParsedStatement;
import dev.gatehouse.platform.core.SessionEffect;
import dev.gatehouse.platform.core.StatementKind;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Statement spans and session effects of {@link PgQueryAnalyzer#parse}. */
class ParsedSqlTest {

    private final PgQueryAnalyzer analyzer = new PgQueryAnalyzer();

    private List<String> texts(String sql) {
        ParsedSql parsed = analyzer.parse(sql);
        assertThat(parsed.analysis().parseable()).as("parseable: %s", parsed.analysis().parseError()).isTrue();
        return parsed.statements().stream().map(s -> s.text(sql)).toList();
    }

    private SessionEffect effect(String sql) {
        ParsedSql parsed = analyzer.parse(sql);
        assertThat(parsed.analysis().parseable()).as("parseable: %s", parsed.analysis().parseError()).isTrue();
        assertThat(parsed.statements()).hasSize(1);
        return parsed.statements().getFirst().effect();
    }

    @Test
    void spansSkipWhitespaceCommentsSemicolonsAndEmptyStatements() {
        // Given
        String sql = "\n\t SELECT 1; /* c */ SELECT 'é😀' ; ; -- x\n UPDATE t SET a=1 -- trailing\n;;";

        // When
        ParsedSql parsed = analyzer.parse(sql);

        // Then
        assertThat(parsed.statements()).extracting(s -> s.text(sql))
                .containsExactly("SELECT 1", "SELECT 'é😀'", "UPDATE t SET a=1");
        assertThat(parsed.statements()).extracting(ParsedStatement::offset)
                .containsExactly(sql.indexOf("SELECT 1"), sql.indexOf("SELECT 'é"), sql.indexOf("UPDATE"));
        assertThat(parsed.statements()).extracting(ParsedStatement::length).containsExactly(8, 12, 16);
        assertThat(parsed.analysis().tags()).containsExactly("SELECT", "SELECT", "UPDATE");
    }

    @Test
    void spansCountJavaCharsAcrossMultibyteAndNonBmpText() {
        // Given: 2-, 3- and 4-byte UTF-8 characters (the last two chars each in Java) before and inside statements
        String sql = "SELECT 'ü€😀' AS \"naïve😀\"; SELECT '𝄞𝄞𝄞' || ümlaut FROM \"t😀\" WHERE x = '€';SELECT 3";

        // When
        List<String> texts = texts(sql);

        // Then
        assertThat(texts).containsExactly("SELECT 'ü€😀' AS \"naïve😀\"",
                "SELECT '𝄞𝄞𝄞' || ümlaut FROM \"t😀\" WHERE x = '€'", "SELECT 3");
    }

    @Test
    void commentsInsideAStatementAndSemicolonsInsideLiteralsBelongToIt() {
        // Given
        String sql = "SELECT /* ; */ 1 -- x;\n + 2; DO $$ BEGIN PERFORM 1; END $$;"
                + "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO log VALUES (1); DELETE FROM x); SELECT ';'";

        // When
        List<String> texts = texts(sql);

        // Then
        assertThat(texts).containsExactly("SELECT /* ; */ 1 -- x;\n + 2", "DO $$ BEGIN PERFORM 1; END $$",
                "CREATE RULE r AS ON INSERT TO t DO ALSO (INSERT INTO log VALUES (1); DELETE FROM x)", "SELECT ';'");
    }

    @Test
    void textWithoutStatementsHasNoSpans() {
        // Given / When / Then
        assertThat(texts("")).isEmpty();
        assertThat(texts(" ;; -- nothing\n /* at all */ ;")).isEmpty();
    }

    @Test
    void unparseableTextHasNoStatementsButTheParserMessage() {
        // Given / When
        ParsedSql parsed = analyzer.parse("SELECT 1; SELEC 2");

        // Then
        assertThat(parsed.analysis().parseable()).isFalse();
        assertThat(parsed.analysis().parseError()).contains("SELEC");
        assertThat(parsed.statements()).isEmpty();
    }

    @Test
    void analyzeIsTheAnalysisOfParse() {
        // Given
        String sql = "SELECT * FROM a WHERE id = 1; DELETE FROM b";

        // When / Then
        assertThat(analyzer.analyze(sql)).isEqualTo(analyzer.parse(sql).analysis());
        assertThat(analyzer.parseAsync(sql).toCompletableFuture().join()).isEqualTo(analyzer.parse(sql));
    }

    @Test
    void prepareGivesTheInnerStatementExactlyAndItsAnalysis() {
        // Given / When
        SessionEffect typed = effect("PREPARE p (int, timestamp with time zone) AS SELECT * FROM t WHERE id = $1");
        SessionEffect quoted = effect("PREPARE \"MyPlan\" AS /* why */ DELETE FROM accounts ;");
        SessionEffect unicode = effect("prepare q as select 'é😀' as \"as\", x from \"t😀\"");

        // Then
        assertThat(typed).isInstanceOfSatisfying(SessionEffect.Prepare.class, p -> {
            assertThat(p.name()).isEqualTo("p");
            assertThat(p.sql()).isEqualTo("SELECT * FROM t WHERE id = $1");
            assertThat(p.statement().kind()).isEqualTo(StatementKind.READ);
            assertThat(p.statement().tag()).isEqualTo("SELECT");
            assertThat(p.statement().tablesRead()).containsExactly("t");
        });
        assertThat(quoted).isInstanceOfSatisfying(SessionEffect.Prepare.class, p -> {
            assertThat(p.name()).isEqualTo("MyPlan");
            assertThat(p.sql()).isEqualTo("DELETE FROM accounts");
            assertThat(p.statement().kind()).isEqualTo(StatementKind.WRITE);
            assertThat(p.statement().missingWhere()).isTrue();
        });
        assertThat(unicode).isInstanceOfSatisfying(SessionEffect.Prepare.class, p ->
                assertThat(p.sql()).isEqualTo("select 'é😀' as \"as\", x from \"t😀\""));
    }

    @Test
    void executeGivesEachArgumentAsWrittenAndWhatEvaluatingThemReads() {
        // Given
        String sql = "EXECUTE p(1, (SELECT max(id) FROM secrets s WHERE s.ssn = '1'), 'a,b' /* c */ , f(2, 3),"
                + " ARRAY[1,2], '😀')";

        // When
        SessionEffect effect = effect(sql);

        // Then
        assertThat(effect).isInstanceOfSatisfying(SessionEffect.Execute.class, e -> {
            assertThat(e.name()).isEqualTo("p");
            assertThat(e.arguments()).containsExactly("1", "(SELECT max(id) FROM secrets s WHERE s.ssn = '1')", "'a,b'",
                    "f(2, 3)", "ARRAY[1,2]", "'😀'");
            assertThat(e.argumentsAnalysis().kind()).isEqualTo(StatementKind.READ);
            assertThat(e.argumentsAnalysis().tablesRead()).containsExactly("secrets");
            assertThat(e.argumentsAnalysis().functions()).containsExactly("max", "f");
            assertThat(e.argumentsAnalysis().uncertainty()).containsExactly("calls f");
            assertThat(e.argumentsAnalysis().filterColumns()).containsExactly("ssn", "secrets.ssn");
        });
    }

    @Test
    void executeWithoutArgumentsAndInsideCreateTableAsAndExplain() {
        // Given / When
        SessionEffect bare = effect("EXECUTE \"P\"");
        SessionEffect ctas = effect("CREATE TEMP TABLE x AS EXECUTE p ( 'x' , 2 ) WITH NO DATA");
        SessionEffect ctasNamedData = effect("CREATE TABLE data AS EXECUTE data WITH DATA");
        SessionEffect explain = effect("EXPLAIN ANALYZE EXECUTE p(1)");
        SessionEffect explainCtas = effect("EXPLAIN (ANALYZE) CREATE TABLE t AS EXECUTE p('😀', $$a)$$)");

        // Then
        assertThat(bare).isEqualTo(new SessionEffect.Execute("P", List.of(), ((SessionEffect.Execute) bare).argumentsAnalysis()));
        assertThat(ctas).isInstanceOfSatisfying(SessionEffect.Execute.class, e ->
                assertThat(e.arguments()).containsExactly("'x'", "2"));
        assertThat(ctasNamedData).isInstanceOfSatisfying(SessionEffect.Execute.class, e -> {
            assertThat(e.name()).isEqualTo("data");
            assertThat(e.arguments()).isEmpty();
        });
        assertThat(explain).isInstanceOfSatisfying(SessionEffect.Execute.class, e ->
                assertThat(e.arguments()).containsExactly("1"));
        assertThat(explainCtas).isInstanceOfSatisfying(SessionEffect.Execute.class, e ->
                assertThat(e.arguments()).containsExactly("'😀'", "$$a)$$"));
        assertThat(((SessionEffect.Execute) bare).argumentsAnalysis().uncertain()).isFalse();
    }

    @Test
    void declareGivesOptionsAndTheQueryExactly() {
        // Given / When
        SessionEffect all = effect("DECLARE c BINARY INSENSITIVE SCROLL CURSOR WITH HOLD FOR SELECT * FROM t -- rows\n");
        SessionEffect plain = effect("declare \"Cur\" cursor without hold for\n  select ssn from customers");

        // Then
        assertThat(all).isInstanceOfSatisfying(SessionEffect.Declare.class, d -> {
            assertThat(d.name()).isEqualTo("c");
            assertThat(d.hold()).isTrue();
            assertThat(d.binary()).isTrue();
            assertThat(d.sql()).isEqualTo("SELECT * FROM t");
            assertThat(d.query().tablesRead()).containsExactly("t");
        });
        assertThat(plain).isInstanceOfSatisfying(SessionEffect.Declare.class, d -> {
            assertThat(d.name()).isEqualTo("Cur");
            assertThat(d.hold()).isFalse();
            assertThat(d.binary()).isFalse();
            assertThat(d.sql()).isEqualTo("select ssn from customers");
        });
    }

    @Test
    void portalsAndPreparedStatementsAreReleased() {
        // Given / When / Then
        assertThat(effect("DEALLOCATE PREPARE p")).isEqualTo(new SessionEffect.Deallocate("p"));
        assertThat(effect("DEALLOCATE ALL")).isEqualTo(new SessionEffect.Deallocate(null));
        assertThat(effect("FETCH 10 FROM c")).isEqualTo(new SessionEffect.Fetch("c", false));
        assertThat(effect("MOVE LAST IN \"C\"")).isEqualTo(new SessionEffect.Fetch("C", true));
        assertThat(effect("CLOSE c")).isEqualTo(new SessionEffect.ClosePortal("c"));
        assertThat(effect("CLOSE ALL")).isEqualTo(new SessionEffect.ClosePortal(null));
        assertThat(effect("DISCARD ALL")).isEqualTo(new SessionEffect.Discard("ALL"));
        assertThat(effect("DISCARD PLANS")).isEqualTo(new SessionEffect.Discard("PLANS"));
        assertThat(effect("DISCARD SEQUENCES")).isEqualTo(new SessionEffect.Discard("SEQUENCES"));
        assertThat(effect("DISCARD TEMP")).isEqualTo(new SessionEffect.Discard("TEMP"));
        assertThat(effect("SELECT 1")).isNull();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', nullValues = "NULL", textBlock = """
            SET search_path = public, "My Schema", '$user', "select", analytics | search_path           | public, "My Schema", "$user", "select", analytics | false | false
            SET search_path TO ''                                               | search_path           | '""'                             | false | false
            SET LOCAL search_path TO DEFAULT                                    | search_path           | NULL                             | true  | false
            SET SESSION work_mem = 64                                           | work_mem              | 64                               | false | false
            SET statement_timeout TO '5s'                                       | statement_timeout     | 5s                               | false | false
            SET "Work_Mem" = '1MB'                                              | work_mem              | 1MB                              | false | false
            SET NAMES 'LATIN1'                                                  | client_encoding       | LATIN1                           | false | false
            SET client_encoding = 'SJIS'                                        | client_encoding       | SJIS                             | false | false
            SET standard_conforming_strings = off                               | standard_conforming_strings | off                      | false | false
            SET TIME ZONE 'Europe/Zurich'                                       | timezone              | Europe/Zurich                    | false | false
            SET TIME ZONE LOCAL                                                 | timezone              | NULL                             | false | false
            SET ROLE admin                                                      | role                  | admin                            | false | false
            SET LOCAL ROLE NONE                                                 | role                  | none                             | true  | false
            SET SESSION AUTHORIZATION bob                                       | session_authorization | bob                              | false | false
            SET SESSION AUTHORIZATION DEFAULT                                   | session_authorization | NULL                             | false | false
            RESET search_path                                                   | search_path           | NULL                             | false | true
            RESET ROLE                                                          | role                  | NULL                             | false | true
            RESET ALL                                                           | *                     | NULL                             | false | true
            SET myapp.tenant = 42                                               | myapp.tenant          | 42                               | false | false
            """)
    void plainSetAndResetAreSettings(String sql, String name, String value, boolean local, boolean reset) {
        // Given / When
        SessionEffect effect = effect(sql);

        // Then
        assertThat(effect).isEqualTo(new SessionEffect.Setting(name, value, local, reset));
    }

    @Test
    void transactionCharacteristicsAreNotSessionSettings() {
        // Given / When / Then
        assertThat(effect("SET TRANSACTION ISOLATION LEVEL SERIALIZABLE")).isNull();
        assertThat(effect("SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY")).isNull();
        assertThat(effect("SET work_mem FROM CURRENT")).isNull();
    }
}
