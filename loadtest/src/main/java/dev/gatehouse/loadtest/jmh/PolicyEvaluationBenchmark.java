package dev.gatehouse.loadtest.jmh;

import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.Verdict;
import dev.gatehouse.policy.engine.Evaluation;
import dev.gatehouse.policy.engine.Facts;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * {@link PolicyEvaluator#evaluate} with the example policy that {@code gatehouse dev} ships, on
 * facts the edge would build: an allowed read (every rule is tried, the default decides), an
 * allowed UPDATE with WHERE, and DDL from CI (denied by the last rule). Plus building the facts.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class PolicyEvaluationBenchmark {

    private PolicyEvaluator evaluator;
    private SqlCommand selectCommand;
    private Facts selectByDba;
    private Facts updateByDba;
    private Facts ddlByCi;

    @Setup
    public void setUp() throws Exception {
        evaluator = new PolicyEvaluator(Policy.parse(examplePolicy(), "example-policy.yaml"));
        PgQueryAnalyzer analyzer = new PgQueryAnalyzer();
        selectCommand = Samples.command(Samples.SIMPLE_SELECT, SqlCommand.Form.SIMPLE_QUERY, List.of(),
                analyzer.analyze(Samples.SIMPLE_SELECT));
        selectByDba = Facts.of(Samples.dba(), Samples.demo(), selectCommand);
        String update = "UPDATE pgbench_accounts SET abalance = abalance + $1 WHERE aid = $2";
        updateByDba = Facts.of(Samples.dba(), Samples.demo(), Samples.command(update, SqlCommand.Form.EXTENDED,
                List.of("-3312", "48213"), analyzer.analyze(update)));
        String ddl = "ALTER TABLE orders ADD COLUMN shipped_at timestamptz";
        ddlByCi = Facts.of(Samples.ci(), Samples.demo(), Samples.command(ddl, SqlCommand.Form.SIMPLE_QUERY, List.of(),
                analyzer.analyze(ddl)));
        expect(selectByDba, Verdict.ALLOW, "default");
        expect(updateByDba, Verdict.ALLOW, "default");
        expect(ddlByCi, Verdict.DENY, "ci-no-ddl");
    }

    private void expect(Facts facts, Verdict verdict, String rule) {
        Evaluation e = evaluator.evaluate(facts);
        if (e.verdict() != verdict || !e.ruleId().equals(rule)) {
            throw new IllegalStateException("the example policy decided " + e.verdict() + " by " + e.ruleId()
                    + ", the benchmark expects " + verdict + " by " + rule + ": the benchmark needs updating");
        }
    }

    private static String examplePolicy() throws IOException {
        try (InputStream in = PolicyEvaluationBenchmark.class.getResourceAsStream("/policies/example-policy.yaml")) {
            if (in == null) throw new IllegalStateException("/policies/example-policy.yaml is not on the class path (gatehouse-deploy)");
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Benchmark
    public Evaluation selectByDbaAllowedByDefault() {
        return evaluator.evaluate(selectByDba);
    }

    @Benchmark
    public Evaluation extendedUpdateByDbaAllowedByDefault() {
        return evaluator.evaluate(updateByDba);
    }

    @Benchmark
    public Evaluation ddlByCiDenied() {
        return evaluator.evaluate(ddlByCi);
    }

    /** What the policy service pays per command before evaluating: the CEL maps. */
    @Benchmark
    public Facts buildFactsForSelect() {
        return Facts.of(Samples.dba(), Samples.demo(), selectCommand);
    }
}
