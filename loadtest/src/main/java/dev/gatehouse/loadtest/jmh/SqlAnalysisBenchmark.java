package dev.gatehouse.loadtest.jmh;

import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.util.concurrent.TimeUnit;

/**
 * {@link PgQueryAnalyzer#analyze}: libpg_query parse and fingerprint through FFM, then the walk of
 * the JSON parse tree. The edge does this once per command, before the command is logged. The
 * analyzer keeps analyses by exact text and by shape (the tokens without literal values), so each
 * call here analyses a text of a shape never seen before (the statement behind a CTE with a counter
 * in its name), except {@code *NewLiteral}: a text seen before with a new literal, as pgbench's simple
 * protocol sends it (scan and look-up only), and {@code *SeenBefore}: a text analysed before (a
 * driver's or psql's repeated text).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class SqlAnalysisBenchmark {

    private PgQueryAnalyzer analyzer;
    private long counter;

    /** A new shape: the statement behind a CTE of a new name. */
    private String fresh(String sql) {
        return "WITH w" + counter++ + " AS (SELECT 1) " + sql;
    }

    /** The same shape with a new literal (a comment would do as well: comments are not part of the shape). */
    private String newLiteral(String sql) {
        return sql.replace("48213", Long.toString(counter++));
    }

    @Setup
    public void setUp() {
        analyzer = new PgQueryAnalyzer();
        for (String sql : new String[] {Samples.SIMPLE_SELECT, Samples.PGBENCH_UPDATE, Samples.PSQL_DESCRIBE}) {
            SqlAnalysis a = analyzer.analyze(sql);
            if (!a.parseable()) throw new IllegalStateException("benchmark SQL does not parse: " + a.parseError());
        }
    }

    @Benchmark
    public SqlAnalysis simpleSelect() {
        return analyzer.analyze(fresh(Samples.SIMPLE_SELECT));
    }

    @Benchmark
    public SqlAnalysis simpleSelectNewLiteral() {
        return analyzer.analyze(newLiteral(Samples.SIMPLE_SELECT));
    }

    @Benchmark
    public SqlAnalysis pgbenchUpdateNewLiteral() {
        return analyzer.analyze(newLiteral(Samples.PGBENCH_UPDATE));
    }

    @Benchmark
    public SqlAnalysis simpleSelectSeenBefore() {
        return analyzer.analyze(Samples.SIMPLE_SELECT);
    }

    @Benchmark
    public SqlAnalysis pgbenchUpdate() {
        return analyzer.analyze(fresh(Samples.PGBENCH_UPDATE));
    }

    @Benchmark
    public SqlAnalysis psqlDescribeCatalogQuery() {
        return analyzer.analyze(fresh(Samples.PSQL_DESCRIBE));
    }
}
