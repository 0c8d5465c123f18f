package dev.gatehouse.loadtest.jmh;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.events.AuditEventCodec;
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

import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The CPU work of one command in enforce mode, every role's share, without the I/O between them:
 * the edge analyses the text (one never seen before: pgbench's simple protocol sends a new literal
 * each time), builds and encodes {@code CommandReceived}; the policy service decodes it, builds the
 * facts, evaluates the example policy and encodes {@code DecisionMade}; the edge decodes the
 * decision and encodes {@code CommandCompleted}; the indexer and the OCSF exporter each decode the
 * three records. What the gateway must spend per command at the least; the loadtest's CPU per
 * command shows what it spends on top (requests, hand-offs, storage).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class CommandPathBenchmark {

    private static final SessionId SESSION = new SessionId("8d2f6a1c-4e3b-4f7a-a2d9-1c5e7b3f9a20");

    private PgQueryAnalyzer analyzer;
    private AuditEventCodec codec;
    private PolicyEvaluator evaluator;
    private Identity identity;
    private long counter;

    @Setup
    public void setUp() throws Exception {
        analyzer = new PgQueryAnalyzer();
        codec = new AuditEventCodec();
        try (InputStream in = CommandPathBenchmark.class.getResourceAsStream("/policies/example-policy.yaml")) {
            if (in == null) throw new IllegalStateException("/policies/example-policy.yaml is not on the class path");
            evaluator = new PolicyEvaluator(Policy.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8),
                    "example-policy.yaml"));
        }
        identity = Samples.dba(); // one session: the same identity on every command
        int[] sizes = recordSizes();
        System.err.printf("CommandPathBenchmark: CommandReceived %d bytes, DecisionMade %d, CommandCompleted %d%n",
                sizes[0], sizes[1], sizes[2]);
    }

    private static EventHeader header(String source) {
        return EventHeader.now(SESSION, source, "dev-edge");
    }

    private int[] recordSizes() {
        byte[][] records = records("SELECT abalance FROM pgbench_accounts WHERE aid = 48213");
        return new int[] {records[0].length, records[1].length, records[2].length};
    }

    /** The three records of one command, with every role's work in between. */
    private byte[][] records(String sql) {
        // edge: analysis, the write-ahead record
        SqlCommand command = Samples.command(sql, SqlCommand.Form.SIMPLE_QUERY, List.of(), analyzer.analyze(sql));
        byte[] received = codec.encode(new AuditEvent.CommandReceived(header("edge"), command, identity, Samples.demo(),
                "dev-edge", 0, "enforce"));
        // policy: read it, decide, write the decision
        AuditEvent.CommandReceived read = (AuditEvent.CommandReceived) codec.decode(received);
        Evaluation e = evaluator.evaluate(Facts.of(read.identity(), read.connection(), read.command()));
        CommandId id = read.command().id();
        Decision decision = new Decision.Allow(id, e.ruleId(), e.reason(), e.policyVersion());
        byte[] decided = codec.encode(new AuditEvent.DecisionMade(header("policy"), id, read.command().sequence(),
                decision, "dev-edge", 0, "enforce", Duration.ofNanos(20_000)));
        // edge: the decision, then the outcome
        AuditEvent.DecisionMade made = (AuditEvent.DecisionMade) codec.decode(decided);
        byte[] completed = codec.encode(new AuditEvent.CommandCompleted(header("edge"), made.commandId(), 1,
                new AuditEvent.Outcome(true, List.of("SELECT 1"), 1, null, null, Duration.ofNanos(300_000), 120,
                        "I", null, 1)));
        return new byte[][] {received, decided, completed};
    }

    @Benchmark
    public int enforceCommandEveryRole() {
        byte[][] records = records("SELECT abalance FROM pgbench_accounts WHERE aid = " + (counter++ % 200_000));
        int n = 0;
        for (int consumer = 0; consumer < 2; consumer++) { // the indexer and the OCSF exporter read all three
            for (byte[] r : records) n += codec.decode(r) == null ? 0 : 1;
        }
        return n;
    }
}
