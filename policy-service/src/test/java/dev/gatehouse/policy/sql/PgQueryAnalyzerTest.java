package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.api.Test;

class PgQueryAnalyzerTest {

    private final PgQueryAnalyzer analyzer = new PgQueryAnalyzer();

    private StatementAnalysis single(String sql) {
        return Analyses.single(analyzer, sql);
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            SELECT 1                                              | READ        | SELECT            |
            VALUES (1), (2)                                       | READ        | SELECT            |
            SELECT * FROM t FOR UPDATE                            | WRITE       | SELECT            |
            SELECT * INTO t2 FROM t                               | DDL         | SELECT INTO       | TABLE
            INSERT INTO t VALUES (1)                              | WRITE       | INSERT            |
            UPDATE t SET a = 1 WHERE id = 2                       | WRITE       | UPDATE            |
            DELETE FROM t WHERE id = 2                            | WRITE       | DELETE            |
            MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE | WRITE | MERGE          |
            COPY t FROM STDIN                                     | WRITE       | COPY              |
            COPY t TO STDOUT                                      | UTILITY     | COPY              |
            TRUNCATE t                                            | WRITE       | TRUNCATE TABLE    |
            CREATE DATABASE shop                                  | DDL         | CREATE DATABASE   | DATABASE
            DROP DATABASE IF EXISTS shop                          | DDL         | DROP DATABASE     | DATABASE
            ALTER DATABASE shop SET work_mem = '64MB'             | DDL         | ALTER DATABASE    | DATABASE
            CREATE TABLE t (id int)                               | DDL         | CREATE TABLE      | TABLE
            CREATE TABLE t2 AS SELECT * FROM t                    | DDL         | CREATE TABLE AS   | TABLE
            CREATE MATERIALIZED VIEW mv AS SELECT * FROM t        | DDL         | CREATE MATERIALIZED VIEW | MATERIALIZED VIEW
            DROP TABLE IF EXISTS t                                | DDL         | DROP TABLE        | TABLE
            DROP INDEX i                                          | DDL         | DROP INDEX        | INDEX
            DROP MATERIALIZED VIEW mv                             | DDL         | DROP MATERIALIZED VIEW | MATERIALIZED VIEW
            ALTER TABLE t ADD COLUMN b int                        | DDL         | ALTER TABLE       | TABLE
            ALTER TABLE t RENAME TO u                             | DDL         | ALTER TABLE       | TABLE
            ALTER TABLE t RENAME COLUMN a TO b                    | DDL         | ALTER TABLE       | TABLE
            ALTER TABLE t SET SCHEMA s                            | DDL         | ALTER TABLE       | TABLE
            CREATE INDEX i ON t (a)                               | DDL         | CREATE INDEX      | INDEX
            CREATE SCHEMA s                                       | DDL         | CREATE SCHEMA     | SCHEMA
            DROP SCHEMA s CASCADE                                 | DDL         | DROP SCHEMA       | SCHEMA
            CREATE VIEW v AS SELECT * FROM t                      | DDL         | CREATE VIEW       | VIEW
            CREATE EXTENSION pgcrypto                             | DDL         | CREATE EXTENSION  | EXTENSION
            DROP EXTENSION pgcrypto                               | DDL         | DROP EXTENSION    | EXTENSION
            CREATE FUNCTION f() RETURNS int AS 'SELECT 1' LANGUAGE sql | DDL    | CREATE FUNCTION   | FUNCTION
            CREATE PROCEDURE p() LANGUAGE sql AS 'SELECT 1'       | DDL         | CREATE PROCEDURE  | PROCEDURE
            DROP FUNCTION f()                                     | DDL         | DROP FUNCTION     | FUNCTION
            CREATE SEQUENCE s                                     | DDL         | CREATE SEQUENCE   | SEQUENCE
            CREATE TYPE mood AS ENUM ('sad', 'ok')                | DDL         | CREATE TYPE       | TYPE
            CREATE TRIGGER tr AFTER INSERT ON t FOR EACH ROW EXECUTE FUNCTION f() | DDL | CREATE TRIGGER | TRIGGER
            COMMENT ON TABLE t IS 'x'                             | DDL         | COMMENT           | TABLE
            ALTER TABLE t OWNER TO bob                            | DDL         | ALTER TABLE       | TABLE
            GRANT SELECT ON t TO bob                              | DCL         | GRANT             |
            REVOKE ALL ON t FROM bob                              | DCL         | REVOKE            |
            GRANT admin TO bob                                    | DCL         | GRANT ROLE        |
            CREATE ROLE bob LOGIN PASSWORD 'secret'               | DCL         | CREATE ROLE       |
            CREATE USER bob                                       | DCL         | CREATE ROLE       |
            ALTER ROLE bob SUPERUSER                              | DCL         | ALTER ROLE        |
            DROP ROLE bob                                         | DCL         | DROP ROLE         |
            DROP OWNED BY bob                                     | DDL         | DROP OWNED        | OWNED
            REASSIGN OWNED BY bob TO alice                        | DDL         | REASSIGN OWNED    | OWNED
            SET ROLE admin                                        | DCL         | SET               |
            BEGIN                                                 | TRANSACTION | BEGIN             |
            START TRANSACTION ISOLATION LEVEL SERIALIZABLE        | TRANSACTION | START TRANSACTION |
            COMMIT                                                | TRANSACTION | COMMIT            |
            ROLLBACK                                              | TRANSACTION | ROLLBACK          |
            SAVEPOINT sp                                          | TRANSACTION | SAVEPOINT         |
            RELEASE SAVEPOINT sp                                  | TRANSACTION | RELEASE           |
            ROLLBACK TO SAVEPOINT sp                              | TRANSACTION | ROLLBACK          |
            PREPARE TRANSACTION 'gid'                             | TRANSACTION | PREPARE TRANSACTION |
            COMMIT PREPARED 'gid'                                 | TRANSACTION | COMMIT PREPARED   |
            SET search_path = public                              | UTILITY     | SET               |
            RESET ALL                                             | UTILITY     | RESET             |
            SHOW server_version                                   | UTILITY     | SHOW              |
            EXPLAIN SELECT * FROM t                               | UTILITY     | EXPLAIN           |
            VACUUM ANALYZE t                                      | UTILITY     | VACUUM            |
            ANALYZE t                                             | UTILITY     | ANALYZE           |
            LISTEN chan                                           | UTILITY     | LISTEN            |
            DISCARD ALL                                           | UTILITY     | DISCARD ALL       |
            CHECKPOINT                                            | UTILITY     | CHECKPOINT        |
            LOCK TABLE t IN ACCESS EXCLUSIVE MODE                 | UTILITY     | LOCK TABLE        |
            DO $$ BEGIN PERFORM 1; END $$                         | PROCEDURAL  | DO                |
            CALL p(1)                                             | PROCEDURAL  | CALL              |
            EXECUTE stmt(1)                                       | UNKNOWN     | EXECUTE           |
            """)
    void classifiesStatements(String sql, StatementKind kind, String tag, String objectType) {
        // Given / When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.kind()).isEqualTo(kind);
        assertThat(statement.tag()).isEqualTo(tag);
        assertThat(statement.objectType()).isEqualTo(objectType);
    }

    @Test
    void aTextSeenBeforeIsAnalysedOnceAndAnsweredWithoutTheParserThreads() throws Exception {
        // Given
        String sql = "SELECT abalance FROM pgbench_accounts WHERE aid = $1";
        ParsedSql first = analyzer.parse(sql);

        // When
        ParsedSql again = analyzer.parse(sql);
        var async = analyzer.parseAsync(sql).toCompletableFuture();
        ParsedSql other = analyzer.parse(sql + " ");

        // Then
        assertThat(again).isSameAs(first);
        assertThat(async.isDone()).as("answered at once").isTrue();
        assertThat(async.get()).isSameAs(first);
        assertThat(other).isNotSameAs(first).isEqualTo(first); // another text: its own analysis, the same facts
    }

    @Test
    void aLongTextIsNotKept() {
        // Given
        String sql = "SELECT '" + "x".repeat(PgQueryAnalyzer.CACHED_TEXT_CHARS) + "'";

        // When
        ParsedSql first = analyzer.parse(sql);
        ParsedSql again = analyzer.parse(sql);

        // Then
        assertThat(again).isEqualTo(first).isNotSameAs(first);
    }

    @Test
    void readsThroughJoinsSubqueriesAndCtes() {
        // Given
        String sql = """
                WITH recent AS (SELECT * FROM sales.orders WHERE created > now() - interval '1 day')
                SELECT u.name, r.total
                FROM public.users u
                JOIN recent r ON r.user_id = u.id
                LEFT JOIN LATERAL (SELECT count(*) FROM payments p WHERE p.user_id = u.id) pc ON true
                WHERE u.id IN (SELECT user_id FROM vip) AND EXISTS (SELECT 1 FROM audit.flags f)
                UNION ALL SELECT name, 0 FROM archive.users
                """;

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.kind()).isEqualTo(StatementKind.READ);
        assertThat(statement.tablesRead())
                .containsExactlyInAnyOrder("sales.orders", "public.users", "payments", "vip", "audit.flags", "archive.users");
        assertThat(statement.tablesWritten()).isEmpty();
        assertThat(statement.functions()).contains("now", "count");
        assertThat(statement.missingWhere()).isFalse();
    }

    @Test
    void writingCteMakesTheSelectAWrite() {
        // Given
        String sql = "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d";

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.kind()).isEqualTo(StatementKind.WRITE);
        assertThat(statement.tablesWritten()).containsExactly("t");
        assertThat(statement.tablesRead()).isEmpty();
        assertThat(statement.missingWhere()).isTrue();
    }

    @Test
    void cteNamesShadowTablesOnlyWhereVisible() {
        // Given: inside its own (non-recursive) definition, "t" is the real table
        String sql = "WITH t AS (SELECT * FROM t WHERE a > 0), u AS (SELECT * FROM t) SELECT * FROM u, s.t";

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.tablesRead()).containsExactlyInAnyOrder("t", "s.t");
    }

    @Test
    void recursiveCteIsNotATable() {
        // Given
        String sql = "WITH RECURSIVE tree AS (SELECT id FROM nodes WHERE parent IS NULL "
                + "UNION ALL SELECT n.id FROM nodes n JOIN tree ON n.parent = tree.id) SELECT * FROM tree";

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.tablesRead()).containsExactly("nodes");
    }

    @Test
    void insertSelectReadsSourceAndWritesTarget() {
        // Given
        String sql = "INSERT INTO archive.events SELECT * FROM events e WHERE e.at < now() "
                + "ON CONFLICT (id) DO UPDATE SET at = excluded.at";

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.kind()).isEqualTo(StatementKind.WRITE);
        assertThat(statement.tablesWritten()).containsExactly("archive.events");
        assertThat(statement.tablesRead()).containsExactly("events");
        assertThat(statement.missingWhere()).isFalse();
    }

    @Test
    void updateFromAndDeleteUsing() {
        // Given
        String update = "UPDATE accounts a SET balance = 0 FROM closed c WHERE c.id = a.id";
        String delete = "DELETE FROM sessions s USING users u WHERE u.id = s.user_id AND u.banned";

        // When
        StatementAnalysis u = single(update);
        StatementAnalysis d = single(delete);

        // Then
        assertThat(u.tablesWritten()).containsExactly("accounts");
        assertThat(u.tablesRead()).containsExactly("closed");
        assertThat(d.tablesWritten()).containsExactly("sessions");
        assertThat(d.tablesRead()).containsExactly("users");
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', textBlock = """
            UPDATE users SET admin = true                                          | true
            DELETE FROM users                                                      | true
            UPDATE users SET admin = true WHERE id = 1                             | false
            DELETE FROM users WHERE id IN (SELECT id FROM banned)                  | false
            WITH x AS (UPDATE users SET n = 0 RETURNING id) SELECT * FROM x         | true
            WITH x AS (DELETE FROM t WHERE id = 1 RETURNING *) DELETE FROM u WHERE id IN (SELECT id FROM x) | false
            WITH x AS (DELETE FROM t WHERE id = 1 RETURNING *) DELETE FROM u       | true
            INSERT INTO t SELECT * FROM u                                          | false
            SELECT * FROM users                                                    | false
            TRUNCATE users                                                         | false
            EXPLAIN DELETE FROM users                                              | false
            EXPLAIN ANALYZE DELETE FROM users                                      | true
            """)
    void detectsMissingWhere(String sql, boolean missingWhere) {
        // Given / When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.missingWhere()).isEqualTo(missingWhere);
    }

    @Test
    void truncateIsAWriteButNotAForgottenWhere() {
        // Given
        String sql = "TRUNCATE TABLE pgbench_accounts, public.pgbench_history";

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.kind()).isEqualTo(StatementKind.WRITE);
        assertThat(statement.tag()).isEqualTo("TRUNCATE TABLE");
        assertThat(statement.objectType()).isNull();
        assertThat(statement.tablesWritten()).containsExactly("pgbench_accounts", "public.pgbench_history");
        assertThat(statement.missingWhere()).isFalse();
    }

    @Test
    void explainReadsWithoutAnalyzeAndWritesWithIt() {
        // Given
        String plain = "EXPLAIN INSERT INTO t SELECT * FROM u";
        String analyze = "EXPLAIN (ANALYZE, BUFFERS) INSERT INTO t SELECT * FROM u";

        // When
        StatementAnalysis p = single(plain);
        StatementAnalysis a = single(analyze);

        // Then
        assertThat(p.kind()).isEqualTo(StatementKind.UTILITY);
        assertThat(p.tablesWritten()).isEmpty();
        assertThat(p.tablesRead()).containsExactlyInAnyOrder("t", "u");
        assertThat(a.kind()).isEqualTo(StatementKind.WRITE);
        assertThat(a.tag()).isEqualTo("EXPLAIN");
        assertThat(a.tablesWritten()).containsExactly("t");
    }

    @Test
    void functionsAreNamedAsWritten() {
        // Given
        String sql = "SELECT pg_sleep(10), pg_catalog.set_config('search_path', '', false), upper(name) FROM users";

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.kind()).isEqualTo(StatementKind.READ);
        assertThat(statement.functions()).containsExactly("pg_sleep", "pg_catalog.set_config", "upper");
    }

    @Test
    void callAndFunctionsInFromClause() {
        // Given / When
        StatementAnalysis call = single("CALL maintenance.rotate_keys(1)");
        StatementAnalysis from = single("SELECT * FROM generate_series(1, 10) g, dblink('x', 'y') AS d(a int)");

        // Then
        assertThat(call.functions()).containsExactly("maintenance.rotate_keys");
        assertThat(from.functions()).containsExactly("generate_series", "dblink");
        assertThat(from.tablesRead()).isEmpty();
    }

    @Test
    void pgbenchInitialisation() {
        // Given: what pgbench -i sends
        String sql = """
                drop table if exists pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers;
                create table pgbench_history(tid int,bid int,aid int,delta int,mtime timestamp,filler char(22));
                create table pgbench_tellers(tid int not null,bid int,tbalance int,filler char(84)) with (fillfactor=100);
                truncate table pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers;
                insert into pgbench_branches(bid,bbalance) values(1,0);
                copy pgbench_accounts from stdin with (freeze on);
                vacuum analyze pgbench_branches;
                alter table pgbench_branches add primary key (bid);
                alter table pgbench_tellers add constraint pgbench_tellers_bid_fkey foreign key (bid) references pgbench_branches
                """;

        // When
        SqlAnalysis analysis = analyzer.analyze(sql);

        // Then
        assertThat(analysis.parseable()).isTrue();
        assertThat(analysis.tags()).containsExactly("DROP TABLE", "CREATE TABLE", "CREATE TABLE", "TRUNCATE TABLE",
                "INSERT", "COPY", "VACUUM", "ALTER TABLE", "ALTER TABLE");
        assertThat(analysis.statements()).extracting(StatementAnalysis::kind).containsExactly(
                StatementKind.DDL, StatementKind.DDL, StatementKind.DDL, StatementKind.WRITE, StatementKind.WRITE,
                StatementKind.WRITE, StatementKind.UTILITY, StatementKind.DDL, StatementKind.DDL);
        assertThat(analysis.statements().getFirst().tablesWritten())
                .containsExactly("pgbench_accounts", "pgbench_branches", "pgbench_history", "pgbench_tellers");
        assertThat(analysis.statements().get(5).tablesWritten()).containsExactly("pgbench_accounts");
        assertThat(analysis.statements().get(6).tablesRead()).containsExactly("pgbench_branches");
        assertThat(analysis.statements().get(8).tablesWritten()).containsExactly("pgbench_tellers");
        assertThat(analysis.statements().get(8).tablesRead()).containsExactly("pgbench_branches");
    }

    @Test
    void psqlDescribeCatalogQuery() {
        // Given: what psql's \\d users sends (first two queries)
        String sql = """
                SELECT c.oid,
                  n.nspname,
                  c.relname
                FROM pg_catalog.pg_class c
                     LEFT JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relname OPERATOR(pg_catalog.~) '^(users)$' COLLATE pg_catalog.default
                  AND pg_catalog.pg_table_is_visible(c.oid)
                ORDER BY 2, 3;
                SELECT a.attname,
                  pg_catalog.format_type(a.atttypid, a.atttypmod),
                  (SELECT pg_catalog.pg_get_expr(d.adbin, d.adrelid, true)
                   FROM pg_catalog.pg_attrdef d
                   WHERE d.adrelid = a.attrelid AND d.adnum = a.attnum AND a.atthasdef),
                  a.attnotnull,
                  (SELECT c.collname FROM pg_catalog.pg_collation c, pg_catalog.pg_type t
                   WHERE c.oid = a.attcollation AND t.oid = a.atttypid AND a.attcollation <> t.typcollation) AS attcollation
                FROM pg_catalog.pg_attribute a
                WHERE a.attrelid = 'public.users'::regclass AND a.attnum > 0 AND NOT a.attisdropped
                ORDER BY a.attnum;
                """;

        // When
        SqlAnalysis analysis = analyzer.analyze(sql);

        // Then
        assertThat(analysis.parseable()).isTrue();
        assertThat(analysis.kinds()).containsExactly(StatementKind.READ);
        assertThat(analysis.tablesRead()).containsExactlyInAnyOrder("pg_catalog.pg_class", "pg_catalog.pg_namespace",
                "pg_catalog.pg_attrdef", "pg_catalog.pg_collation", "pg_catalog.pg_type", "pg_catalog.pg_attribute");
        assertThat(analysis.functions()).containsExactlyInAnyOrder("pg_catalog.pg_table_is_visible",
                "pg_catalog.format_type", "pg_catalog.pg_get_expr");
        assertThat(analysis.tablesWritten()).isEmpty();
    }

    @Test
    void ddlNamesTheRelationsItChanges() {
        // Given / When
        StatementAnalysis create = single("CREATE TABLE s.t (id int REFERENCES s.parent (id), LIKE template)");
        StatementAnalysis index = single("CREATE INDEX CONCURRENTLY i ON s.t (id)");
        StatementAnalysis ctas = single("CREATE TABLE copy AS SELECT * FROM s.t");
        StatementAnalysis grant = single("GRANT SELECT, UPDATE ON TABLE s.t TO bob");

        // Then
        assertThat(create.tablesWritten()).containsExactly("s.t");
        assertThat(create.tablesRead()).containsExactlyInAnyOrder("s.parent", "template");
        assertThat(index.tablesWritten()).containsExactly("s.t");
        assertThat(ctas.tablesWritten()).containsExactly("copy");
        assertThat(ctas.tablesRead()).containsExactly("s.t");
        assertThat(grant.tablesWritten()).containsExactly("s.t");
    }

    @Test
    void multiStatementTextYieldsOneAnalysisPerStatement() {
        // Given
        String sql = "BEGIN; UPDATE accounts SET balance = balance - 10 WHERE id = 1; COMMIT";

        // When
        SqlAnalysis analysis = analyzer.analyze(sql);

        // Then
        assertThat(analysis.tags()).containsExactly("BEGIN", "UPDATE", "COMMIT");
        assertThat(analysis.kinds()).containsExactly(StatementKind.TRANSACTION, StatementKind.WRITE);
        assertThat(analysis.tablesWritten()).containsExactly("accounts");
        assertThat(analysis.missingWhere()).isFalse();
    }

    @Test
    void fingerprintIsOverTheWholeTextAndIgnoresConstants() {
        // Given / When
        SqlAnalysis one = analyzer.analyze("SELECT * FROM t WHERE id = 1");
        SqlAnalysis two = analyzer.analyze("select * from t where id = 99");
        SqlAnalysis both = analyzer.analyze("SELECT * FROM t WHERE id = 1; SELECT 2");

        // Then
        assertThat(one.fingerprint()).matches("[0-9a-f]{16}").isEqualTo(two.fingerprint());
        assertThat(both.fingerprint()).isNotEqualTo(one.fingerprint());
    }

    @Test
    void emptyTextIsParseableWithoutStatements() {
        // Given / When
        SqlAnalysis empty = analyzer.analyze("");
        SqlAnalysis comment = analyzer.analyze("  -- nothing here\n ; ");

        // Then
        assertThat(empty.parseable()).isTrue();
        assertThat(empty.statements()).isEmpty();
        assertThat(empty.fingerprint()).isNotNull();
        assertThat(comment.parseable()).isTrue();
        assertThat(comment.statements()).isEmpty();
    }

    @Test
    void unparseableStatementCarriesTheParserMessage() {
        // Given
        String sql = "SELECT 1; DELET FROM users";

        // When
        SqlAnalysis analysis = analyzer.analyze(sql);

        // Then
        assertThat(analysis.parseable()).isFalse();
        assertThat(analysis.parseError()).isEqualTo("syntax error at or near \"DELET\" (at character 11)");
        assertThat(analysis.fingerprint()).isNull();
        assertThat(analysis.statements()).isEmpty();
    }

    @Test
    void textNativeCodeMustNotSeeIsUnparseable() {
        // Given / When
        SqlAnalysis nul = analyzer.analyze("SELECT 1\0; DROP TABLE users");
        SqlAnalysis surrogate = analyzer.analyze("SELECT '\uDC00'");
        SqlAnalysis huge = analyzer.analyze("SELECT '" + "x".repeat(LibPgQuery.MAX_INPUT_BYTES) + "'");
        SqlAnalysis deep = analyzer.analyze("SELECT " + "1+".repeat(100_000) + "1");

        // Then
        assertThat(nul.parseable()).isFalse();
        assertThat(nul.parseError()).contains("NUL");
        assertThat(surrogate.parseable()).isFalse();
        assertThat(huge.parseable()).isFalse();
        assertThat(huge.parseError()).contains("exceeds");
        assertThat(deep.parseable()).isFalse();
        assertThat(deep.parseError()).contains("too deep");
    }

    @Test
    void concurrentAnalysesGiveCorrectResults() throws Exception {
        // Given
        List<String> tables = List.of("alpha", "beta", "gamma", "delta", "epsilon", "zeta");
        ExecutorService callers = Executors.newFixedThreadPool(6);
        List<Future<Boolean>> results = new ArrayList<>();

        // When
        try {
            for (int i = 0; i < 600; i++) {
                String table = tables.get(i % tables.size());
                boolean bad = i % 7 == 0;
                String sql = bad ? "UPDAT " + table : "UPDATE " + table + " SET v = " + i + (i % 2 == 0 ? "" : " WHERE id = 1");
                int n = i;
                Callable<Boolean> task = () -> {
                    SqlAnalysis analysis = analyzer.analyze(sql);
                    if (bad) {
                        return !analysis.parseable() && analysis.parseError().contains("UPDAT");
                    }
                    return analysis.parseable()
                            && analysis.tablesWritten().equals(java.util.Set.of(table))
                            && analysis.missingWhere() == (n % 2 == 0);
                };
                results.add(callers.submit(task));
            }
            // Then
            for (Future<Boolean> result : results) {
                assertThat(result.get()).isTrue();
            }
        } finally {
            callers.shutdownNow();
        }
    }
}
