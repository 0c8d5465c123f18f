package dev.gatehouse.deploy.fleet.chaos;

import dev.gatehouse.deploy.fleet.Fleet;
import dev.gatehouse.deploy.fleet.FleetProcess;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Consumer;

/**
 * {@code gatehouse fleet chaos}: starts the fleet, drives load through haproxy from real pgjdbc
 * clients, kills its processes one kind at a time and then together (SIGKILL), stops every broker
 * for a while (SIGKILL too), and afterwards proves from the target's own statement log, the audit
 * log and a rebuilt indexer that nothing slipped through. See "Chaos run" in docs/architecture.md.
 */
public final class ChaosRun {

    /** How all brokers are stopped in the last fault. */
    public static final String BROKER_STOP = "SIGKILL (kill -9 of all three at once)";
    /** The abort marker the checks accept for a command whose edge was killed. */
    public static final String ABORT_MARKER = "SessionSealed status=aborted in gatehouse.audit, written by the indexer role"
            + " (AuditProjector, after AbortDetector marked the session aborted in its store)";

    /**
     * @param dataDir         the fleet's data dir; the summary goes to {@code chaos-summary.json} in it
     * @param port            haproxy's PostgreSQL port (0: the fleet's default)
     * @param duration        how long the load runs; the faults are spread over it
     * @param clients         pgjdbc clients
     * @param pause           each client's pause between two statements
     * @param brokersDown     how long all brokers stay stopped
     * @param recoveryTimeout how long to wait for recovery after a fault
     */
    public record Options(Path dataDir, int port, Duration duration, int clients, Duration pause, Duration brokersDown,
                          Duration recoveryTimeout) {
        public Options {
            Objects.requireNonNull(dataDir, "dataDir");
            Objects.requireNonNull(duration, "duration");
            if (duration.compareTo(Duration.ofSeconds(60)) < 0) {
                throw new IllegalArgumentException("--duration must be at least 60s (six faults and their recovery), not " + duration.toSeconds() + "s");
            }
            if (clients < 1 || clients > 64) throw new IllegalArgumentException("--clients must be 1..64, not " + clients);
            Objects.requireNonNull(pause, "pause");
            Objects.requireNonNull(brokersDown, "brokersDown");
            Objects.requireNonNull(recoveryTimeout, "recoveryTimeout");
        }

        public static Options of(Path dataDir, int port, Duration duration) {
            return new Options(dataDir, port, duration, 4, Duration.ofMillis(10), Duration.ofSeconds(20), Duration.ofSeconds(120));
        }
    }

    private static final Duration WARM_UP = Duration.ofSeconds(10);
    private static final int FAULTS = 6;

    private final Options options;
    private final Consumer<String> progress;
    private final Map<String, List<Duration>> startTimes = new LinkedHashMap<>();
    private final ExecutorService parallel = Executors.newCachedThreadPool(Thread.ofPlatform().daemon().name("chaos-fault-", 0).factory());
    private long loadStart;

    private ChaosRun(Options options, Consumer<String> progress) {
        this.options = options;
        this.progress = progress;
    }

    /** Runs the whole chaos run and returns its summary (also written to {@code chaos-summary.json} in the data dir). */
    public static ChaosSummary run(Options options, Consumer<String> progress) {
        ChaosRun run = new ChaosRun(options, progress);
        try {
            return run.run();
        } finally {
            run.parallel.shutdownNow();
        }
    }

    private ChaosSummary run() {
        Instant startedAt = Instant.now();
        say("starting the fleet in " + options.dataDir());
        try (Fleet fleet = Fleet.start(new Fleet.Settings(options.dataDir(), options.port()), line -> say("fleet: " + line))) {
            for (FleetProcess p : fleet.processes()) startTimes.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(p.lastStartTime());
            Instant setupAt = Instant.now().minusMillis(5);
            createTable(fleet);
            say("table " + LoadDriver.TABLE + " created on the target; starting " + options.clients() + " pgjdbc clients through haproxy "
                    + fleet.loadBalancerHost() + ":" + fleet.loadBalancerPostgresPort());
            List<ChaosSummary.FaultResult> results = new ArrayList<>();
            List<Long> stallFrom = new ArrayList<>();
            long loadEnd;
            LoadDriver load = LoadDriver.start(new LoadDriver.Target(fleet.loadBalancerHost(), fleet.loadBalancerPostgresPort(),
                    fleet.database(), n -> fleet.token("chaos-" + n, Set.of("dba")), options.pause()), options.clients());
            try {
                loadStart = System.currentTimeMillis();
                if (!await(Duration.ofSeconds(90), () -> load.allSucceededSince(loadStart))) {
                    throw new IllegalStateException("the clients do not get through the fleet: errors so far " + load.errors()
                            + " " + load.errorExamples());
                }
                say("every client completed a command; load running");
                long slot = (options.duration().toMillis() - WARM_UP.toMillis()) / FAULTS;
                List<Fault> faults = faults(fleet);
                for (int i = 0; i < faults.size(); i++) {
                    sleepUntil(loadStart + WARM_UP.toMillis() + i * slot);
                    Fault f = faults.get(i);
                    FaultOutcome o = inject(fleet, load, f, i + 1, faults.size());
                    results.add(new ChaosSummary.FaultResult(f.name(), o.processes(), Instant.ofEpochMilli(o.injectedAt()),
                            Duration.ofMillis(o.down()), o.clientsBackAfter(), o.recoveredAfter(), Duration.ZERO, o.note()));
                    stallFrom.add(o.stallFrom());
                }
                sleepUntil(loadStart + options.duration().toMillis());
                say("load ran " + seconds(System.currentTimeMillis() - loadStart) + "; stopping the clients");
            } finally {
                load.close();
                loadEnd = System.currentTimeMillis();
            }
            long[] successes = load.successTimes();
            List<ChaosSummary.FaultResult> faults = new ArrayList<>();
            for (int i = 0; i < results.size(); i++) {
                long from = stallFrom.get(i);
                long to = i + 1 < results.size() ? results.get(i + 1).injectedAt().toEpochMilli() : loadEnd;
                ChaosSummary.FaultResult r = results.get(i);
                faults.add(new ChaosSummary.FaultResult(r.name(), r.processes(), r.injectedAt(), r.down(), r.clientsBackAfter(),
                        r.recoveredAfter(), Stalls.longest(successes, from, Math.max(from, to)), r.note()));
            }

            ChaosSummary.DigestComparison digests = IndexerRebuild.run(fleet.bootstrapServers(),
                    new IndexerRebuild.Store(fleet.indexerStoreJdbcUrl(), fleet.indexerStoreUser(), fleet.indexerStorePassword()),
                    Duration.ofSeconds(180), this::say);
            say("reading gatehouse.audit from the beginning");
            AuditLogCheck check = new AuditLogCheck();
            AuditEventCodec codec = new AuditEventCodec();
            try (AuditTail tail = new AuditTail(fleet.bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(30),
                    EventSerde.<AuditEvent>of(codec::encode, codec::decode))) {
                tail.read(null, false, check::accept);
            }
            say("reading the target's statement log " + fleet.targetStatementLog());
            List<TargetStatementLog.Statement> statements = TargetStatementLog.read(fleet.targetStatementLog()).stream()
                    .filter(s -> !s.at().isBefore(setupAt)).toList();
            AuditLogCheck.Findings findings = check.check(statements);

            ChaosSummary summary = new ChaosSummary(startedAt, options.duration(), Duration.ofMillis(loadEnd - loadStart),
                    options.clients(), load.successes(), faults, findings, load.errors(), load.errorExamples(), digests,
                    startTimes, BROKER_STOP, ABORT_MARKER);
            summary.write(options.dataDir().resolve("chaos-summary.json"));
            say("summary written to " + options.dataDir().resolve("chaos-summary.json") + "; stopping the fleet");
            return summary;
        }
    }

    /** One fault: the processes to kill, and whether it is the brokers' outage. */
    private record Fault(String name, List<FleetProcess> processes, boolean allBrokers) {
    }

    private record FaultOutcome(List<String> processes, long injectedAt, long down, Duration clientsBackAfter,
                                Duration recoveredAfter, long stallFrom, String note) {
    }

    /** The faults in order; the leader brokers are looked up when each fault is injected. */
    private List<Fault> faults(Fleet fleet) {
        List<FleetProcess> brokers = fleet.processes().stream().filter(p -> p.kind().equals("broker")).toList();
        return List.of(
                new Fault("edge", List.of(fleet.process("edge-1")), false),
                new Fault("partition leader", List.of(), false),
                new Fault("policy service", List.of(fleet.process("policy-1")), false),
                new Fault("indexer", List.of(fleet.process("indexer-1")), false),
                new Fault("all four together", List.of(fleet.process("edge-2"), fleet.process("policy-2"), fleet.process("indexer-1")), false),
                new Fault("all brokers stopped", brokers, true));
    }

    private FaultOutcome inject(Fleet fleet, LoadDriver load, Fault fault, int n, int of) {
        List<FleetProcess> victims = new ArrayList<>(fault.processes());
        String note = null;
        if (fault.name().equals("partition leader") || fault.name().equals("all four together")) {
            var leaders = KafkaView.leaders(fleet.bootstrapServers(), List.of(Topics.AUDIT, Topics.DECISIONS));
            int node = KafkaView.busiestLeader(leaders);
            FleetProcess broker = fleet.processes().stream().filter(p -> p.kafkaNodeId() == node).findFirst()
                    .orElseThrow(() -> new IllegalStateException("no broker leads a partition of " + Topics.AUDIT + ": " + leaders));
            List<String> led = new ArrayList<>();
            leaders.forEach((topic, byPartition) -> byPartition.forEach((partition, leader) -> {
                if (leader == node) led.add(topic.substring(topic.indexOf('.') + 1) + "-" + partition);
            }));
            note = broker.name() + " (node " + node + ") led " + String.join(" ", led);
            victims.add(broker);
        }
        List<String> names = victims.stream().map(FleetProcess::name).toList();
        long injectedAt = System.currentTimeMillis();
        say(String.format(Locale.ROOT, "[t+%s] fault %d/%d %s: kill -9 %s", seconds(injectedAt - loadStart), n, of, fault.name(),
                String.join(", ", victims.stream().map(p -> p.name() + " (pid " + p.pid() + ")").toList())));
        all(victims, FleetProcess::kill9);
        // meanwhile: when has every client completed a command after the injection?
        long giveUp = injectedAt + options.brokersDown().toMillis() + 2 * options.recoveryTimeout().toMillis();
        CompletableFuture<Long> clientsBack = CompletableFuture.supplyAsync(() -> {
            while (System.currentTimeMillis() < giveUp) {
                if (load.allSucceededSince(injectedAt)) return System.currentTimeMillis();
                sleepUntil(System.currentTimeMillis() + 100);
            }
            return -1L;
        }, parallel);
        if (fault.allBrokers()) {
            say("all brokers down; starting them again in " + options.brokersDown().toSeconds() + " s");
            sleepUntil(System.currentTimeMillis() + options.brokersDown().toMillis());
        }
        long restartAt = System.currentTimeMillis();
        List<String> failures = all(victims, FleetProcess::start);
        long back = System.currentTimeMillis();
        for (FleetProcess p : victims) startTimes.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(p.lastStartTime());
        if (!failures.isEmpty()) note = (note == null ? "" : note + "; ") + "start failed: " + String.join("; ", failures);
        say(String.format(Locale.ROOT, "%s started again (%s)", String.join(", ", names),
                String.join(", ", victims.stream().map(p -> p.name() + " ready in " + seconds(p.lastStartTime() == null ? 0
                        : p.lastStartTime().toMillis())).toList())));
        boolean recovered = await(options.recoveryTimeout(), () -> load.allSucceededSince(back));
        long at = System.currentTimeMillis();
        Duration recoveredAfter = recovered ? Duration.ofMillis(at - injectedAt) : null;
        long backAt = clientsBack.join();
        Duration clientsBackAfter = backAt < 0 ? null : Duration.ofMillis(backAt - injectedAt);
        say(recovered ? String.format(Locale.ROOT, "recovered after %s (every client completed a command again; all clients"
                + " were back after %s)", seconds(at - injectedAt), clientsBack.isDone() && clientsBack.join() >= 0
                ? seconds(clientsBack.join() - injectedAt) : "-")
                : "NOT recovered within " + options.recoveryTimeout().toSeconds() + " s of the restart; errors so far " + load.errors());
        return new FaultOutcome(names, injectedAt, back - injectedAt, clientsBackAfter, recoveredAfter,
                fault.allBrokers() ? restartAt : injectedAt, note);
    }

    /** Runs {@code action} on every process in parallel; returns the failures. */
    private List<String> all(List<FleetProcess> processes, Consumer<FleetProcess> action) {
        List<CompletableFuture<String>> futures = processes.stream().map(p -> CompletableFuture.supplyAsync(() -> {
            try {
                action.accept(p);
                return (String) null;
            } catch (RuntimeException e) {
                return p.name() + ": " + e.getMessage();
            }
        }, parallel)).toList();
        return futures.stream().map(CompletableFuture::join).filter(Objects::nonNull).toList();
    }

    private static void createTable(Fleet fleet) {
        Properties p = new Properties();
        p.setProperty("user", fleet.targetUser());
        if (fleet.targetPassword() != null) p.setProperty("password", fleet.targetPassword());
        p.setProperty("ApplicationName", TargetStatementLog.LAUNCHER_APPLICATION);
        p.setProperty("assumeMinServerVersion", "12");
        try (Connection c = DriverManager.getConnection(fleet.targetJdbcUrl(), p); Statement s = c.createStatement()) {
            s.execute(LoadDriver.CREATE_TABLE);
            // the edges log in to the target as the connection's own role, not as the launcher's
            s.execute("GRANT SELECT, INSERT ON " + LoadDriver.TABLE + " TO PUBLIC");
        } catch (SQLException e) {
            throw new IllegalStateException("cannot create the load's table on the target: " + e.getMessage(), e);
        }
    }

    private void say(String line) {
        progress.accept(line);
    }

    private static String seconds(long millis) {
        return String.format(Locale.ROOT, "%.1f s", millis / 1000.0);
    }

    private static boolean await(Duration timeout, java.util.function.BooleanSupplier condition) {
        long deadline = System.currentTimeMillis() + timeout.toMillis();
        while (System.currentTimeMillis() < deadline) {
            if (condition.getAsBoolean()) return true;
            sleepUntil(System.currentTimeMillis() + 100);
        }
        return condition.getAsBoolean();
    }

    private static void sleepUntil(long epochMillis) {
        long wait = epochMillis - System.currentTimeMillis();
        if (wait <= 0) return;
        try {
            Thread.sleep(wait);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("the chaos run was interrupted", e);
        }
    }
}
