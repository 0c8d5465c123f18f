package dev.gatehouse.loadtest.jmh;

import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.policy.engine.Evaluation;
import dev.gatehouse.policy.engine.Facts;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The per-command cost of deciding with a realistic 50-rule policy
 * ({@code /policies/realistic-50-rules.yaml}: safety rules, rules scoped to teams and
 * connections, CI provenance rules, claim checks, regular expressions) on a mix of statements a
 * production connection sees: (a) the SQL analysis the edge does, (b) what the policy service
 * does (the CEL facts and the evaluation of the rules), (c) both, as one process running every
 * role pays them.
 *
 * <p>The setup checks which rule decides each (statement, caller) pair against {@link #EXPECTED},
 * so a change of the policy or of the analysis that changes an outcome stops the run instead of
 * measuring something else.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class RealisticPolicyBenchmark {

    /** The deciding rule ("default" when none matched) per statement, for the developer and the CI job. */
    static final Map<String, List<String>> EXPECTED = Map.of(
            "simple-select", List.of("default", "default"),
            "join-subquery", List.of("default", "default"),
            "insert", List.of("default", "default"),
            "update-no-where", List.of("no-update-delete-without-where", "no-update-delete-without-where"),
            "ddl", List.of("prod-ddl-only-migrations", "default"),
            "psql-catalog", List.of("default", "default"));

    /** One statement of the mix, analysed once in the setup for the policy-only benchmark. */
    @State(Scope.Benchmark)
    public static class Statement {
        @Param({"simple-select", "join-subquery", "insert", "update-no-where", "ddl", "psql-catalog"})
        public String statement;

        PgQueryAnalyzer analyzer;
        String sql;
        SqlCommand.Form form;
        List<String> parameters;
        SqlCommand analysed;

        @Setup(Level.Trial)
        public void setUp() {
            analyzer = new PgQueryAnalyzer();
            form = SqlCommand.Form.SIMPLE_QUERY;
            parameters = List.of();
            sql = switch (statement) {
                case "simple-select" -> "SELECT id, status, total FROM orders WHERE id = 48213";
                case "join-subquery" -> Samples.JOIN_WITH_SUBQUERY;
                case "insert" -> {
                    form = SqlCommand.Form.EXTENDED;
                    parameters = List.of("90211", "new", "129.90");
                    yield Samples.INSERT_RETURNING;
                }
                case "update-no-where" -> Samples.UPDATE_WITHOUT_WHERE;
                case "ddl" -> Samples.ALTER_TABLE;
                case "psql-catalog" -> Samples.PSQL_LIST_TABLES;
                default -> throw new IllegalArgumentException("unknown statement " + statement);
            };
            SqlAnalysis analysis = analyzer.analyze(sql);
            if (!analysis.parseable()) throw new IllegalStateException(statement + " does not parse: " + analysis.parseError());
            analysed = Samples.command(sql, form, parameters, analysis);
        }

        private long counter;

        /** A text never analysed before (the analyzer keeps analyses by exact text): a comment with a counter. */
        SqlCommand analyse() {
            return Samples.command(sql, form, parameters, analyzer.analyze(sql + " -- " + counter++));
        }
    }

    /** Who sends it, to the payments team's production connection, and the policy. */
    @State(Scope.Benchmark)
    public static class Caller {
        @Param({"developer", "ci"})
        public String caller;

        Identity identity;
        ConnectionRef connection;
        PolicyEvaluator evaluator;

        @Setup(Level.Trial)
        public void setUp() throws Exception {
            identity = switch (caller) {
                case "developer" -> Samples.developer();
                case "ci" -> Samples.ci();
                default -> throw new IllegalArgumentException("unknown caller " + caller);
            };
            connection = Samples.ordersProd();
            Policy policy = Policy.parse(resource("/policies/realistic-50-rules.yaml"), "realistic-50-rules.yaml");
            if (policy.rules().size() != 50) throw new IllegalStateException("the policy has " + policy.rules().size() + " rules, not 50");
            evaluator = new PolicyEvaluator(policy);
        }
    }

    /** Checks the outcome of this pair and says how many rules it ran; once per trial, not measured. */
    @State(Scope.Benchmark)
    public static class Check {
        @Setup(Level.Trial)
        public void setUp(Statement s, Caller c) {
            Evaluation e = c.evaluator.evaluate(Facts.of(c.identity, c.connection, s.analysed));
            String expected = EXPECTED.get(s.statement).get(c.caller.equals("developer") ? 0 : 1);
            long ran = e.trace().stream().filter(Evaluation.RuleTrace::inScope).count();
            long failed = e.trace().stream().filter(t -> t.error() != null).count();
            System.err.printf("%s by %s: %s by %s after %d rules run (%d skipped out of scope, %d failed)%n", s.statement,
                    c.caller, e.verdict(), e.ruleId(), ran, e.trace().size() - ran, failed);
            if (!e.ruleId().equals(expected)) {
                throw new IllegalStateException(s.statement + " by " + c.caller + " was decided by " + e.ruleId()
                        + ", the benchmark expects " + expected + ": update EXPECTED or the policy");
            }
        }
    }

    private static String resource(String name) throws IOException {
        try (InputStream in = RealisticPolicyBenchmark.class.getResourceAsStream(name)) {
            if (in == null) throw new IllegalStateException(name + " is not on the class path");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    /** (a) The edge's share: libpg_query parse and fingerprint, the tree walk. */
    @Benchmark
    public SqlCommand analyse(Statement s) {
        return s.analyse();
    }

    /** (b) The policy service's share: the CEL facts and the 50 rules, on an analysed command. */
    @Benchmark
    public Evaluation decide(Statement s, Caller c, Check check) {
        return c.evaluator.evaluate(Facts.of(c.identity, c.connection, s.analysed));
    }

    /** (c) Both, as one process running every role pays per command. */
    @Benchmark
    public Evaluation analyseAndDecide(Statement s, Caller c, Check check) {
        return c.evaluator.evaluate(Facts.of(c.identity, c.connection, s.analyse()));
    }
}
