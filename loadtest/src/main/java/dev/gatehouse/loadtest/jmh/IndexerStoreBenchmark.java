package dev.gatehouse.loadtest.jmh;

import dev.gatehouse.indexer.store.JdbcTimelineStore;
import dev.gatehouse.indexer.store.TimelineStore;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The indexer's store ({@link JdbcTimelineStore} on embedded H2, as the indexer runs by default)
 * projecting what a pgbench select-only run writes: 32 sessions, each command a
 * {@code CommandReceived}, a {@code DecisionMade} and a {@code CommandCompleted} with its one-chunk
 * sample, interleaved across the sessions as the edges write them, in polled batches of
 * {@value #COMMANDS} commands. Time per command; the database keeps growing over the run, as it does
 * in a real one. Encoding the records is not measured (the edge and the policy service do that).
 * The score is the projecting thread's time; the database also writes pages on threads of its own,
 * so each iteration also prints the CPU time per command of every other thread of the process (those,
 * the JIT compiler and the garbage collector) on stderr ("other threads").
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MICROSECONDS)
public class IndexerStoreBenchmark {

    static final int COMMANDS = 500;
    static final int SESSIONS = 32;
    static final String TOPIC = "gatehouse.audit";

    private final AuditEventCodec codec = new AuditEventCodec();
    private Path directory;
    private JdbcTimelineStore store;
    private SqlAnalysis analysis;
    private final List<SessionId> sessions = new ArrayList<>();
    private final long[] sequences = new long[SESSIONS];
    private long offset;
    private Instant now = Instant.parse("2026-03-01T12:00:00Z");
    private List<TimelineStore.IndexedRecord> batch;

    @Setup(Level.Trial)
    public void open() throws IOException {
        directory = Files.createTempDirectory("indexer-bench");
        store = JdbcTimelineStore.embedded(directory);
        analysis = new PgQueryAnalyzer().analyze(Samples.SIMPLE_SELECT);
        List<TimelineStore.IndexedRecord> opened = new ArrayList<>();
        for (int i = 0; i < SESSIONS; i++) {
            SessionId id = SessionId.random();
            sessions.add(id);
            opened.add(record(new AuditEvent.SessionOpened(header(id), Samples.dba(), Samples.demo(), "127.0.0.1:40000",
                    "alice", "pgbench", "enforce", false, Map.of("user", "alice", "database", "demo"),
                    Map.of("server_version", "15.8"), 4000 + i)));
        }
        store.project(TOPIC, opened);
    }

    @TearDown(Level.Trial)
    public void close() throws IOException {
        store.close();
        try (Stream<Path> files = Files.walk(directory)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }

    private long cpuAtStart;
    private long threadCpuAtStart;
    private long commandsAtStart;
    private long commandsProjected;

    @Setup(Level.Iteration)
    public void startCounting() {
        cpuAtStart = processCpuNanos();
        threadCpuAtStart = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime();
        commandsAtStart = commandsProjected;
    }

    @TearDown(Level.Iteration)
    public void reportProcessCpu() {
        long commands = commandsProjected - commandsAtStart;
        long thread = java.lang.management.ManagementFactory.getThreadMXBean().getCurrentThreadCpuTime() - threadCpuAtStart;
        if (commands > 0) {
            System.err.printf("other threads %.1f us per command over %d commands%n",
                    (processCpuNanos() - cpuAtStart - thread) / 1000.0 / commands, commands);
        }
    }

    private static long processCpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory.getOperatingSystemMXBean())
                .getProcessCpuTime();
    }

    @Setup(Level.Invocation)
    public void nextBatch() {
        List<TimelineStore.IndexedRecord> records = new ArrayList<>(COMMANDS * 3);
        // each session has one command in flight at a time: its three events spread over the batch
        for (int round = 0; round < COMMANDS / SESSIONS + 1; round++) {
            for (int s = 0; s < SESSIONS && records.size() < COMMANDS * 3; s++) {
                SessionId session = sessions.get(s);
                long sequence = ++sequences[s];
                CommandId command = CommandId.random();
                SqlCommand sql = new SqlCommand(command, session, sequence, now, SqlCommand.Form.SIMPLE_QUERY,
                        Samples.SIMPLE_SELECT, List.of(), analysis);
                records.add(record(new AuditEvent.CommandReceived(header(session), sql, Samples.dba(), Samples.demo(),
                        "edge-1", 0, "enforce", now.minusSeconds(60), "127.0.0.1")));
                records.add(record(new AuditEvent.DecisionMade(header(session), command, sequence,
                        new Decision.Allow(command, "dba-read", "reads are fine", "v1"), "edge-1", 0, "enforce",
                        Duration.ofNanos(40_000))));
                EventHeader completed = header(session);
                records.add(record(new AuditEvent.CommandCompleted(completed, command, sequence,
                        new AuditEvent.Outcome(true, List.of("SELECT 1"), 1, null, null, Duration.ofNanos(300_000), 40, "I"),
                        new AuditEvent.ResultSampled(completed, command, sequence, 0, true, List.of("abalance"),
                                List.of(List.of("0")), false, 1, 1, false))));
            }
        }
        batch = records;
    }

    private EventHeader header(SessionId session) {
        now = now.plusNanos(50_000);
        return EventHeader.at(session, now, "edge", "edge-1");
    }

    private TimelineStore.IndexedRecord record(AuditEvent event) {
        return new TimelineStore.IndexedRecord(0, offset++, codec.encode(event), event);
    }

    @Benchmark
    @OperationsPerInvocation(COMMANDS)
    public TimelineStore.ProjectionResult project() {
        commandsProjected += COMMANDS;
        return store.project(TOPIC, batch);
    }
}
