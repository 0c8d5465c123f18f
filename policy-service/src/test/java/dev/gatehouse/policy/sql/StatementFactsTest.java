package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Statement effects, fail-closed: code that runs, uncertainty, settings, EXPLAIN options, created tables. */
class StatementFactsTest {

    private final PgQueryAnalyzer analyzer = new PgQueryAnalyzer();

    private StatementAnalysis single(String sql) {
        return Analyses.single(analyzer, sql);
    }

    @Test
    void doBlockRunsCodeAndCarriesWhatItsBodyDoes() {
        // Given
        String sql = """
                DO $body$
                DECLARE n int := (SELECT count(*) FROM staff);
                BEGIN
                  DELETE FROM audit_log;
                  INSERT INTO payouts SELECT * FROM pending WHERE pending.approved;
                  PERFORM set_config('search_path', 'evil', false);
                  IF n > 0 THEN SET LOCAL work_mem = '1GB'; END IF;
                END
                $body$""";

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.kind()).isEqualTo(StatementKind.PROCEDURAL);
        assertThat(statement.tag()).isEqualTo("DO");
        assertThat(statement.runsCode()).isTrue();
        assertThat(statement.uncertain()).isFalse();
        assertThat(statement.uncertainty()).isEmpty();
        assertThat(statement.tablesRead()).containsExactly("staff", "pending");
        assertThat(statement.tablesWritten()).containsExactly("audit_log", "payouts");
        assertThat(statement.missingWhere()).isTrue();
        assertThat(statement.functions()).containsExactly("count", "set_config");
        assertThat(statement.settings()).containsExactly("search_path", "work_mem");
        assertThat(statement.filterColumns()).containsExactly("approved", "pending.approved");
    }

    @Test
    void doBlockIsUncertainWhereItsBodyCannotBeSeen() {
        // Given / When
        StatementAnalysis dynamic = single("DO $$ BEGIN EXECUTE 'DROP TABLE ' || quote_ident('payouts'); END $$");
        StatementAnalysis perl = single("DO LANGUAGE plperlu $$ system('rm -rf /') $$");
        StatementAnalysis broken = single("DO $$ BEGIN SELEC 1; END $$");
        StatementAnalysis userCode = single("DO $$ BEGIN PERFORM my_func(); CALL maintenance.rotate(); END $$");

        // Then
        assertThat(dynamic.runsCode()).isTrue();
        assertThat(dynamic.uncertainty()).containsExactly("dynamic SQL (EXECUTE) at line 1");
        assertThat(perl.uncertainty()).containsExactly("DO block in language plperlu is not analysed");
        assertThat(perl.runsCode()).isTrue();
        assertThat(broken.uncertain()).isTrue();
        assertThat(broken.uncertainty().getFirst()).startsWith("body does not parse: ");
        assertThat(userCode.uncertainty()).containsExactly("calls my_func", "calls maintenance.rotate");
    }

    @Test
    void nestedDoBlocksAreAnalysedAndBounded() {
        // Given: a DO block whose body runs a DO block with dynamic SQL
        String sql = "DO $a$ BEGIN DO $b$ BEGIN DELETE FROM t; EXECUTE 'x'; END $b$; END $a$";
        StringBuilder deep = new StringBuilder("SELECT 1");
        for (int i = 0; i < StatementAnalyzer.MAX_NESTING + 2; i++) {
            String tag = "$t" + i + "$";
            deep.insert(0, "DO " + tag + " BEGIN ").append("; END " + tag);
        }

        // When
        StatementAnalysis nested = single(sql);
        StatementAnalysis tooDeep = single(deep.toString());

        // Then
        assertThat(nested.tablesWritten()).containsExactly("t");
        assertThat(nested.uncertainty()).containsExactly("dynamic SQL (EXECUTE) at line 1");
        assertThat(tooDeep.uncertainty()).containsExactly("DO blocks nested too deeply to analyse");
    }

    @Test
    void callsOfFunctionsThatAreNotBuiltInRunCode() {
        // Given
        String sql = "SELECT my_func(x), lower(x), public.lower(x), pg_catalog.lower(x), \"LOWER\"(x), count(*),"
                + " extract(year FROM now()), api.get_user(1) FROM t";

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.runsCode()).isTrue();
        assertThat(statement.uncertain()).isTrue();
        assertThat(statement.uncertainty())
                .containsExactly("calls my_func", "calls public.lower", "calls LOWER", "calls api.get_user");
        assertThat(statement.kind()).isEqualTo(StatementKind.READ);
    }

    @Test
    void builtInCallsAreCertain() {
        // Given / When
        StatementAnalysis statement = single("SELECT lower(name), pg_catalog.upper(name), count(*), now(), "
                + "substring(name FROM 2), coalesce(a, b) FROM users GROUP BY name, a, b");

        // Then
        assertThat(statement.runsCode()).isFalse();
        assertThat(statement.uncertain()).isFalse();
        assertThat(statement.uncertainty()).isEmpty();
    }

    @Test
    void callRunsCode() {
        // Given / When
        StatementAnalysis call = single("CALL maintenance.rotate_keys(1)");

        // Then
        assertThat(call.kind()).isEqualTo(StatementKind.PROCEDURAL);
        assertThat(call.runsCode()).isTrue();
        assertThat(call.uncertainty()).containsExactly("calls maintenance.rotate_keys");
    }

    @Test
    void definitionsNameFunctionsWithoutCallingThem() {
        // Given / When
        StatementAnalysis view = single("CREATE VIEW v AS SELECT my_func(x) FROM t");
        StatementAnalysis function = single("CREATE FUNCTION f(a int DEFAULT my_default()) RETURNS int LANGUAGE sql "
                + "BEGIN ATOMIC DELETE FROM t; SELECT my_func(a); END");
        StatementAnalysis table = single("CREATE TABLE t (id int DEFAULT next_id() CHECK (valid(id)))");
        StatementAnalysis explain = single("EXPLAIN SELECT my_func(1)");

        // Then
        assertThat(view.functions()).containsExactly("my_func");
        assertThat(view.runsCode()).isFalse();
        assertThat(view.uncertain()).isFalse();
        assertThat(function.functions()).containsExactly("my_default", "my_func");
        assertThat(function.uncertain()).isFalse();
        assertThat(function.tablesWritten()).isEmpty();
        assertThat(function.missingWhere()).isFalse();
        assertThat(table.uncertain()).isFalse();
        // The planner evaluates functions of constants: EXPLAIN alone may call them.
        assertThat(explain.uncertainty()).containsExactly("calls my_func");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT set_config('Search_Path', 'x', false)                       | search_path
            SELECT pg_catalog.set_config(name, 'x', false) FROM t                | *
            SELECT set_config('a'::text, 'b', true), set_config('b.c', 'd', true) | a,b.c
            SELECT set_config(setting_name => 'role', new_value => 'x', is_local => false) | role
            SET search_path = public                                             | search_path
            SET LOCAL "Work_Mem" = '1MB'                                         | work_mem
            SET NAMES 'LATIN1'                                                   | client_encoding
            SET TIME ZONE 'UTC'                                                  | timezone
            SET ROLE admin                                                       | role
            SET SESSION AUTHORIZATION bob                                        | session_authorization
            RESET ALL                                                            | *
            RESET standard_conforming_strings                                    | standard_conforming_strings
            DISCARD ALL                                                          | *
            SET TRANSACTION ISOLATION LEVEL SERIALIZABLE, READ ONLY               | transaction_isolation,transaction_read_only
            SET SESSION CHARACTERISTICS AS TRANSACTION READ ONLY                 | default_transaction_read_only
            ALTER ROLE bob SET standard_conforming_strings = off                  | standard_conforming_strings
            ALTER USER bob IN DATABASE shop RESET ALL                            | *
            ALTER DATABASE shop SET client_encoding = 'SJIS'                     | client_encoding
            ALTER SYSTEM SET wal_level = replica                                 | wal_level
            CREATE FUNCTION f() RETURNS int LANGUAGE sql SET search_path = a SET work_mem FROM CURRENT AS 'SELECT 1' | search_path,work_mem
            ALTER FUNCTION f() SET search_path = a RESET work_mem                | search_path,work_mem
            EXPLAIN ANALYZE SELECT set_config('a', 'b', false)                   | a
            UPDATE pg_settings SET setting = 'off' WHERE name = 'standard_conforming_strings' | *
            WITH s AS (UPDATE pg_catalog.pg_settings SET setting = 'x' RETURNING 1) SELECT * FROM s | *
            """)
    void statementsNameTheSettingsTheyChange(String sql, String settings) {
        // Given / When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.settings()).containsExactlyElementsOf(Arrays.asList(settings.split(",")));
    }

    @Test
    void statementsThatChangeNoSettingNameNone() {
        // Given / When / Then
        assertThat(single("SELECT current_setting('search_path')").settings()).isEmpty();
        assertThat(single("EXPLAIN SELECT set_config('a', 'b', false)").settings()).isEmpty();
        assertThat(single("SHOW search_path").settings()).isEmpty();
        assertThat(single("DISCARD PLANS").settings()).isEmpty();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            EXPLAIN DELETE FROM t                                         | false
            EXPLAIN ANALYZE DELETE FROM t                                 | true
            EXPLAIN ANALYSE VERBOSE DELETE FROM t                         | true
            EXPLAIN (ANALYZE) DELETE FROM t                               | true
            EXPLAIN (ANALYZE true, ANALYZE false) DELETE FROM t           | false
            EXPLAIN (ANALYZE false, ANALYZE) DELETE FROM t                | true
            EXPLAIN (ANALYZE off, VERBOSE, ANALYZE on) DELETE FROM t      | true
            EXPLAIN (ANALYZE on, BUFFERS, ANALYZE off) DELETE FROM t      | false
            EXPLAIN (ANALYZE 0) DELETE FROM t                             | false
            EXPLAIN (ANALYZE 1) DELETE FROM t                             | true
            EXPLAIN (ANALYZE 'false') DELETE FROM t                       | false
            EXPLAIN (ANALYZE FALSE) DELETE FROM t                         | false
            EXPLAIN (ANALYZE no) DELETE FROM t                            | false
            EXPLAIN (ANALYZE yes) DELETE FROM t                           | true
            EXPLAIN (VERBOSE, COSTS off) DELETE FROM t                    | false
            """)
    void explainExecutesAsPostgresReadsItsOptions(String sql, boolean executes) {
        // Given / When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.tag()).isEqualTo("EXPLAIN");
        assertThat(statement.kind()).isEqualTo(executes ? StatementKind.WRITE : StatementKind.UTILITY);
        assertThat(statement.tablesWritten()).isEqualTo(executes ? List.of("t") : List.of());
        assertThat(statement.missingWhere()).isEqualTo(executes);
    }

    @Test
    void explainAnalyzeCarriesTheCodeItRuns() {
        // Given / When
        StatementAnalysis analyze = single("EXPLAIN (ANALYZE) UPDATE t SET a = my_func(a) WHERE id = 1");

        // Then
        assertThat(analyze.runsCode()).isTrue();
        assertThat(analyze.uncertainty()).containsExactly("calls my_func");
        assertThat(analyze.tablesWritten()).containsExactly("t");
        assertThat(analyze.missingWhere()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT * INTO archive FROM t                | SELECT INTO     | archive
            SELECT 1 INTO TEMP t2                       | SELECT INTO     | pg_temp.t2
            SELECT 1 INTO TEMPORARY TABLE s.t3          | SELECT INTO     | s.t3
            CREATE TABLE t4 AS SELECT 1                 | CREATE TABLE AS | t4
            CREATE TEMP TABLE t5 AS SELECT 1            | CREATE TABLE AS | pg_temp.t5
            CREATE TEMPORARY TABLE t6 (a int)           | CREATE TABLE    | pg_temp.t6
            CREATE TABLE pg_temp.t7 (a int)             | CREATE TABLE    | pg_temp.t7
            CREATE UNLOGGED TABLE t8 (a int)            | CREATE TABLE    | t8
            """)
    void statementsThatCreateTablesAreDdlWritingTheTable(String sql, String tag, String table) {
        // Given / When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.kind()).isEqualTo(StatementKind.DDL);
        assertThat(statement.tag()).isEqualTo(tag);
        assertThat(statement.objectType()).isEqualTo("TABLE");
        assertThat(statement.tablesWritten()).containsExactly(table);
    }

    @Test
    void ownedObjectsAreDdl() {
        // Given / When
        StatementAnalysis drop = single("DROP OWNED BY bob CASCADE");
        StatementAnalysis reassign = single("REASSIGN OWNED BY bob TO alice");

        // Then
        assertThat(drop.kind()).isEqualTo(StatementKind.DDL);
        assertThat(drop.tag()).isEqualTo("DROP OWNED");
        assertThat(drop.objectType()).isEqualTo("OWNED");
        assertThat(reassign.kind()).isEqualTo(StatementKind.DDL);
        assertThat(reassign.tag()).isEqualTo("REASSIGN OWNED");
        assertThat(reassign.objectType()).isEqualTo("OWNED");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            COPY t FROM PROGRAM 'curl https://example.com/x'  | true
            COPY (SELECT * FROM t) TO PROGRAM 'gzip > /tmp/x'  | true
            LOAD 'auto_explain'                                | true
            CREATE EXTENSION pgcrypto                          | true
            ALTER EXTENSION pgcrypto UPDATE TO '1.3'           | true
            ALTER EXTENSION pgcrypto ADD FUNCTION f()          | false
            COPY t FROM STDIN                                  | false
            COPY t TO '/tmp/file'                              | false
            DROP EXTENSION pgcrypto                            | false
            """)
    void programsLibrariesAndExtensionScriptsRunCode(String sql, boolean runsCode) {
        // Given / When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.runsCode()).isEqualTo(runsCode);
        assertThat(statement.uncertain()).isFalse();
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            EXECUTE p(1)                          | executes prepared statement p: resolved by the edge
            EXECUTE "P"                           | executes prepared statement P: resolved by the edge
            CREATE TABLE x AS EXECUTE p           | executes prepared statement p: resolved by the edge
            EXPLAIN ANALYZE EXECUTE p             | executes prepared statement p: resolved by the edge
            EXPLAIN EXECUTE p                     | plans prepared statement p: resolved by the edge
            FETCH 10 FROM c                       | fetches from cursor c: resolved by the edge
            FETCH ALL IN "Cur"                    | fetches from cursor Cur: resolved by the edge
            MOVE c                                | moves cursor c: resolved by the edge
            """)
    void whatOnlyTheEdgeKnowsIsUncertain(String sql, String reason) {
        // Given / When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.uncertain()).isTrue();
        assertThat(statement.uncertainty()).containsExactly(reason);
    }

    @Test
    void executeArgumentsCountAsRead() {
        // Given / When
        StatementAnalysis statement = single("EXECUTE p((SELECT ssn FROM customers LIMIT 1))");

        // Then
        assertThat(statement.kind()).isEqualTo(StatementKind.UNKNOWN);
        assertThat(statement.tablesRead()).containsExactly("customers");
    }

    @Test
    void unclassifiedStatementIsUncertain() throws Exception {
        // Given: a statement type PostgreSQL 15's grammar does not produce (a newer parser's)
        StatementAnalyzer statements = new StatementAnalyzer(LibPgQuery.load(), new ObjectMapper());

        // When
        StatementAnalysis statement = statements.analyse(new ObjectMapper().readTree("{\"FutureStmt\":{}}"), 0);

        // Then
        assertThat(statement.kind()).isEqualTo(StatementKind.UNKNOWN);
        assertThat(statement.tag()).isEqualTo("FutureStmt");
        assertThat(statement.uncertain()).isTrue();
        assertThat(statement.uncertainty()).containsExactly("unclassified statement FutureStmt");
    }

    @Test
    void ordinaryStatementsAreCertainAndRunNoCode() {
        // Given / When
        SqlAnalysis analysis = analyzer.analyze("SELECT * FROM t WHERE a = 1; INSERT INTO t VALUES (1); "
                + "CREATE TABLE u (a int); GRANT SELECT ON t TO bob; BEGIN; SET work_mem = 1; VACUUM t");

        // Then
        assertThat(analysis.statements()).allSatisfy(s -> {
            assertThat(s.uncertain()).as(s.tag()).isFalse();
            assertThat(s.runsCode()).as(s.tag()).isFalse();
        });
    }
}
