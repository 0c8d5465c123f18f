package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.ParsedSql;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Texts that differ only in their literals: whatever the analyzer hands out for one from the
 * analysis of another must be exactly what a fresh parse of that text gives, and values that change
 * what a statement does must never be shared.
 */
class LiteralShapesTest {

    @Test
    void theLiteralTokenKindsAreLibPgQuerysOwn() {
        // Given
        String sql = "SELECT 1, 1.5, 'a', U&'b', B'101', X'1f', $$d$$, abc, \"Q\", $1";

        // When
        LibPgQuery.ScanResult scanned = LibPgQuery.load().scanHere(sql);
        SqlText text = new SqlText(sql, scanned.tokens());

        // Then
        List<Integer> literals = new java.util.ArrayList<>();
        for (int i = 0; i < text.size(); i++) {
            if (LiteralShapes.isLiteral(text.kind(i))) literals.add(text.kind(i));
        }
        assertThat(literals).containsExactly(SqlText.ICONST, SqlText.FCONST, SqlText.SCONST,
                SqlText.USCONST, SqlText.BCONST, SqlText.XCONST, SqlText.SCONST);
        assertThat(scanned.tokens()).isEqualTo(LibPgQuery.load().scan(sql).tokens());
    }

    @Test
    void longTextsKeepBothCachesWithinTheirSize() {
        // Given: texts of the longest kept length, each new by text and by shape
        PgQueryAnalyzer analyzer = new PgQueryAnalyzer();
        String filler = "x".repeat(PgQueryAnalyzer.CACHED_TEXT_CHARS - 100);

        // When
        for (int i = 0; i < 1_200; i++) {
            analyzer.parse("SELECT 1 AS \"" + i + filler + "\"");
        }

        // Then: each cache holds at most its share, not 1,200 texts of 16 KiB
        long[] held = analyzer.cachedChars();
        assertThat(held[0]).isPositive().isLessThanOrEqualTo(PgQueryAnalyzer.CACHED_CHARS);
        assertThat(held[1]).isPositive().isLessThanOrEqualTo(PgQueryAnalyzer.CACHED_CHARS);
    }

    /** Each case: texts of one shape; whether the first one's analysis may serve the others. */
    static Stream<Arguments> shapes() {
        return Stream.of(
                shared("SELECT abalance FROM pgbench_accounts WHERE aid = 1;",
                        "SELECT abalance FROM pgbench_accounts WHERE aid = 0;",
                        "SELECT abalance FROM pgbench_accounts WHERE aid = 2147483647;"),
                shared("UPDATE pgbench_accounts SET abalance = abalance + 17 WHERE aid = 4",
                        "UPDATE pgbench_accounts SET abalance = abalance + 0 WHERE aid = 99"),
                shared("SELECT * FROM t WHERE name = 'x' AND x > 1.5 LIMIT 5",
                        "SELECT * FROM t WHERE name = '' AND x > 0.0 LIMIT 0",
                        "SELECT * FROM t WHERE name = 'it''s' AND x > 1e9 LIMIT 100"),
                shared("INSERT INTO t (a, b) VALUES (1, 'a'), (2, 'b')",
                        "INSERT INTO t (a, b) VALUES (300, 'a long value'), (0, '')"),
                shared("SELECT 1; SELECT 'x'; SELECT 2",
                        "SELECT 1000; SELECT 'a much longer literal than before'; SELECT 2"),
                shared("SELECT /* c */ 'x' /* d */ , 1 FROM t",
                        "SELECT /* other */ 'yyyyyy' , 22 FROM t"),
                either("SELECT 'pg_authid'::regclass", "SELECT 't'::regclass"),
                notShared("SELECT set_config('application_name', 'a', false)",
                        "SELECT set_config('search_path', 'evil', false)",
                        "SELECT set_config('role', 'admin', false)"),
                notShared("SET search_path = 'a'", "SET search_path = 'evil, public'"),
                notShared("SET application_name = 'a'", "SET role = 'admin'"),
                notShared("DO $$BEGIN PERFORM 1; END$$", "DO $$BEGIN DROP TABLE victims; END$$"),
                notShared("COPY t FROM '/tmp/a'", "COPY t FROM '/etc/passwd'"),
                notShared("FETCH 5 FROM c", "FETCH 500 FROM c"),
                notShared("SELECT CAST(1 AS float(10))", "SELECT CAST(1 AS float(50))"),
                shared("SELECT -1", "SELECT -2", "SELECT - 3"),
                shared("SELECT -1.5", "SELECT - 3.25"),
                shared("UPDATE pgbench_accounts SET abalance = abalance + -3312 WHERE aid = 48213;",
                        "UPDATE pgbench_accounts SET abalance = abalance + -1 WHERE aid = 7;"),
                either("SELECT -(5)", "SELECT -(6)"),
                either("SELECT - 5::int", "SELECT - 6::int"),
                either("SELECT 1 - 5", "SELECT 1 - 6"),
                notShared("CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
                        "CREATE FUNCTION f() RETURNS int LANGUAGE sql AS 'DELETE FROM t RETURNING 1'"),
                notShared("ALTER ROLE x PASSWORD 'a'", "ALTER ROLE x PASSWORD 'b'"),
                notShared("SELECT U&'!0061' UESCAPE '!'", "SELECT U&'\\0061' UESCAPE '\\'"),
                // whichever way these go, what is handed out must be a fresh parse's analysis
                either("SELECT nextval('seq_a')", "SELECT nextval('seq_b')"),
                either("SELECT pg_read_file('/a')", "SELECT pg_read_file('/etc/shadow')"),
                either("SELECT * FROM dblink('host=a', 'SELECT 1') AS t(a int)",
                        "SELECT * FROM dblink('host=b', 'DELETE FROM t') AS t(a int)"),
                either("SELECT query_to_xml('SELECT 1', true, true, '')", "SELECT query_to_xml('DELETE FROM t', true, true, '')"),
                either("SELECT DATE '2020-01-01', INTERVAL '1 day'", "SELECT DATE '1999-12-31', INTERVAL '5 years'"),
                either("SELECT E'a\\n', B'1', X'ff'", "SELECT E'', B'0101', X'00'"),
                either("CREATE TABLE t (a varchar(10))", "CREATE TABLE t (a varchar(20000))"),
                either("SELECT * FROM t WHERE a LIKE 'x%'", "SELECT * FROM t WHERE a LIKE '%'"),
                either("PREPARE p AS SELECT 1", "PREPARE p AS SELECT 2"),
                either("EXECUTE p(1, 'a')", "EXECUTE p(2, 'bb')"),
                either("SELECT lo_export(1, '/tmp/a')", "SELECT lo_export(2, '/etc/cron.d/x')"),
                either("LISTEN x; NOTIFY x, 'a'", "LISTEN x; NOTIFY x, 'bbb'"),
                either("SELECT '{\"a\": 1}'::jsonb -> 'a'", "SELECT '[]'::jsonb -> 'b'"));
    }

    private static Arguments shared(String... texts) {
        return Arguments.of(Boolean.TRUE, List.of(texts));
    }

    private static Arguments notShared(String... texts) {
        return Arguments.of(Boolean.FALSE, List.of(texts));
    }

    private static Arguments either(String... texts) {
        return Arguments.of(null, List.of(texts));
    }

    @ParameterizedTest(name = "{1}")
    @MethodSource("shapes")
    void aTextIsAnalysedAsAFreshParseWouldWhateverItsShapeWasSeenWith(Boolean mayBeShared, List<String> texts) throws Exception {
        for (String first : texts) {
            // Given: an analyzer that has analysed one text of the shape
            PgQueryAnalyzer analyzer = new PgQueryAnalyzer();
            analyzer.parse(first);
            long hitsBefore = analyzer.shapeHits();

            for (String other : texts) {
                if (other.equals(first)) continue;
                // When: another text of the shape comes, by either entry point
                ParsedSql viaShape = analyzer.parseAsync(other).toCompletableFuture().get();
                ParsedSql fresh = new PgQueryAnalyzer().parse(other);

                // Then
                assertThat(viaShape).as("%s after %s", other, first).isEqualTo(fresh);
                assertThat(new PgQueryAnalyzer().parse(other)).isEqualTo(fresh);
            }
            long hits = analyzer.shapeHits() - hitsBefore;
            if (Boolean.TRUE.equals(mayBeShared)) {
                assertThat(hits).as("served from the shape of %s", first).isEqualTo(texts.size() - 1);
            } else if (Boolean.FALSE.equals(mayBeShared)) {
                assertThat(hits).as("never served from the shape of %s", first).isZero();
            }
        }
    }
}
