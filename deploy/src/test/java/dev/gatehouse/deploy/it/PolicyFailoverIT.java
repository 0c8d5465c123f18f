package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.roles.Closer;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Verdict;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.dev.EmbeddedKafka;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import io.vertx.core.Vertx;
import io.vertx.core.http.HttpServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.admin.MemberDescription;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.GroupIdNotFoundException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Policy instances as a consumer group under load: two policy services in their own JVMs share
 * the audit partitions of an edge's steady stream of commands. One is killed with SIGKILL mid
 * stream; later a third joins and one is stopped gracefully (SIGTERM). No command may be lost or
 * failed closed; the test measures (and only prints) how long the group took to give every
 * partition to the survivor and the longest wait a client saw.
 *
 * <p>Its own embedded Kafka, demo target and token issuer, without the shared {@link Gateway}: that
 * one runs a policy service in this JVM, which would be a third member of the group.
 */
class PolicyFailoverIT {
    private static final Logger LOGGER = LoggerFactory.getLogger(PolicyFailoverIT.class);

    private static final String GROUP = "gatehouse-policy";
    private static final int PARTITIONS = 6;
    private static final int CLIENTS = 6;
    private static final Duration PACE = Duration.ofMillis(20);
    /** The configuration default; what a fleet gets without tuning. */
    private static final String SESSION_TIMEOUT = "6s";
    /** Well above the session timeout plus a rebalance, so the failover shows as a wait, not as a refusal. */
    private static final String DECISION_DEADLINE = "30s";
    private static final Duration AWAIT = Duration.ofSeconds(60);

    private static final Closer closeables = new Closer();
    private static Path dir;
    private static EmbeddedKafka kafka;
    private static DevTokenIssuer issuer;
    private static GatehouseRuntime edge;
    private static Admin admin;
    private static Path policyFile;

    @BeforeAll
    static void startKafkaTargetAndEdge() throws Exception {
        dir = Files.createTempDirectory("gatehouse-failover-it-");
        closeables.add(() -> deleteRecursively(dir)); // last: after everything writing there has stopped
        kafka = EmbeddedKafka.start(dir.resolve("kafka"), 0);
        closeables.add(kafka);
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, kafka.bootstrapServers()));
        closeables.add(() -> admin.close(Duration.ofSeconds(5)));
        DemoTarget target = DemoTarget.start(dir.resolve("demo-postgres"), 0);
        closeables.add(target);
        Vertx issuerVertx = Vertx.vertx();
        closeables.add(() -> issuerVertx.close().await());
        HttpServer issuerServer = DevTokenIssuer.load(dir.resolve("issuer"), DevTokenIssuer.defaultIssuerUrl(0))
                .serve(issuerVertx, "127.0.0.1", 0).await();
        issuer = DevTokenIssuer.load(dir.resolve("issuer"), DevTokenIssuer.defaultIssuerUrl(issuerServer.actualPort()));
        GatehouseConfig config = new GatehouseConfig("failover-edge", dir.resolve("edge"),
                new GatehouseConfig.Kafka(kafka.bootstrapServers(), PARTITIONS, 1, null, "5s", Map.of()),
                new GatehouseConfig.Edge(EdgeConfigs.plaintextListener(DECISION_DEADLINE)),
                List.of(EdgeConfigs.connection("demo", target, "enforce")),
                new GatehouseConfig.Identity(List.of(new GatehouseConfig.Issuer(issuer.issuerUrl(), issuer.jwksUri(),
                        Set.of(DevTokenIssuer.AUDIENCE), null, null, null))),
                new GatehouseConfig.Policy(null),
                new GatehouseConfig.Observability("127.0.0.1", 0));
        edge = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
        closeables.add(edge);
        policyFile = dir.resolve("policy.yaml");
        try (InputStream in = PolicyFailoverIT.class.getResourceAsStream("/policies/example-policy.yaml")) {
            assertThat(in).as("the example policy on the class path").isNotNull();
            Files.copy(in, policyFile);
        }
    }

    @AfterAll
    static void stopEverything() {
        closeables.close();
    }

    @Test
    void aPolicyInstanceKilledMidStreamLosesNoCommandAndFailsNoneClosed() throws Exception {
        List<PolicyProcess> processes = new ArrayList<>();
        Load load = null;
        try {
            // Given
            // two policy instances sharing the partitions, and clients sending a steady stream
            PolicyProcess a = start("policy-a", processes);
            awaitGroup(List.of(a), v -> v.stableWithMembers(a.clientId()));
            PolicyProcess b = start("policy-b", processes);
            awaitGroup(List.of(a, b), v -> v.stableWithMembers(a.clientId(), b.clientId()));
            load = Load.start(edge.edgePort(), CLIENTS, PACE);
            load.awaitAnswers(200);
            Set<Integer> active = activePartitions(load);
            GroupView before = describe();
            PolicyProcess victim = before.owning(active).equals(a.clientId()) ? a : b;
            PolicyProcess survivor = victim == a ? b : a;
            LOGGER.info("FAILOVER before kill: {}; partitions with traffic {}; killing {}", before, active, victim.instanceId);

            // When
            // one is killed mid-stream (no LeaveGroup, no offset commit)
            long killedAt = System.nanoTime();
            victim.kill();
            GroupView afterKill = awaitGroup(List.of(survivor), v -> v.stableWithMembers(survivor.clientId()));
            long killRebalanced = System.nanoTime();
            load.awaitEveryClientAnswersMore(20);

            // ... and, for comparison, a third instance joins and one is stopped gracefully
            PolicyProcess c = start("policy-c", processes);
            awaitGroup(List.of(survivor, c), v -> v.stableWithMembers(survivor.clientId(), c.clientId()));
            load.awaitEveryClientAnswersMore(20);
            Set<Integer> activeNow = activePartitions(load);
            PolicyProcess leaver = describe().owning(activeNow).equals(c.clientId()) ? c : survivor;
            PolicyProcess stays = leaver == c ? survivor : c;
            long stoppedAt = System.nanoTime();
            leaver.stop();
            awaitGroup(List.of(stays), v -> v.stableWithMembers(stays.clientId()));
            long stopRebalanced = System.nanoTime();
            load.awaitEveryClientAnswersMore(20);
            load.stop();

            // Then
            // every command was answered, none with an error, and none failed closed
            LOGGER.info("FAILOVER group after kill: {}", afterKill);
            assertThat(before.assignment().get(victim.clientId())).as("partitions of the killed instance")
                    .containsAnyElementsOf(active);
            assertThat(load.errors).as("client errors (a fail-closed command shows here)").isEmpty();
            assertThat(load.answered()).as("commands answered").isEqualTo(load.sent());
            assertThat(leaver.awaitExit(Duration.ofSeconds(30))).as("the stopped instance exits").isTrue();

            // ... and every command in the log has a decision from a policy instance
            Map<CommandId, Integer> decisions = awaitEveryCommandDecided(load.sent());
            long duplicates = decisions.values().stream().mapToLong(n -> n - 1).sum();

            report(load, killedAt, killRebalanced, stoppedAt, stopRebalanced, duplicates, victim, leaver);
        } catch (AssertionError | RuntimeException e) {
            for (PolicyProcess p : processes) {
                LOGGER.error("output of {} (alive={}):\n{}", p.instanceId, p.isAlive(), p.logTail(40));
            }
            throw e;
        } finally {
            if (load != null) load.stop();
            for (PolicyProcess p : processes) p.close();
        }
    }

    private static void deleteRecursively(Path root) throws IOException {
        try (var paths = Files.walk(root)) {
            for (Path p : paths.sorted(Comparator.reverseOrder()).toList()) Files.deleteIfExists(p);
        }
    }

    private static PolicyProcess start(String instanceId, List<PolicyProcess> processes) throws IOException {
        PolicyProcess p = PolicyProcess.start(dir, instanceId, kafka.bootstrapServers(), PARTITIONS, policyFile,
                SESSION_TIMEOUT);
        processes.add(p);
        return p;
    }

    /**
     * Reads the whole audit log until every CommandReceived has a DecisionMade; returns the number
     * of decisions per command (more than one when a batch was decided again after the kill).
     */
    private static Map<CommandId, Integer> awaitEveryCommandDecided(long sent) {
        return await().atMost(AWAIT).pollInterval(Duration.ofSeconds(1)).until(() -> {
            List<AuditEvent> events = new ArrayList<>();
            AuditEventCodec codec = new AuditEventCodec();
            try (AuditTail tail = new AuditTail(kafka.bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(30),
                    EventSerde.of(codec::encode, codec::decode))) {
                tail.read(null, false, events::add);
            }
            Map<CommandId, Integer> decided = new HashMap<>();
            long received = 0;
            for (AuditEvent e : events) {
                if (e instanceof AuditEvent.CommandReceived r) {
                    received++;
                    decided.putIfAbsent(r.command().id(), 0);
                } else if (e instanceof AuditEvent.DecisionMade d) {
                    assertThat(d.header().service()).as("who decided %s", d.commandId()).isEqualTo("policy");
                    assertThat(d.decision().verdict()).as("decision on %s", d.commandId()).isEqualTo(Verdict.ALLOW);
                    decided.merge(d.commandId(), 1, Integer::sum);
                }
            }
            assertThat(received).as("CommandReceived in the log").isEqualTo(sent);
            List<CommandId> undecided = decided.entrySet().stream().filter(en -> en.getValue() == 0).map(Map.Entry::getKey).toList();
            return undecided.isEmpty() ? decided : null;
        }, d -> d != null);
    }

    private static void report(Load load, long killedAt, long killRebalanced, long stoppedAt, long stopRebalanced,
                               long duplicates, PolicyProcess victim, PolicyProcess leaver) {
        List<long[]> all = load.commands();
        long baselineP50 = percentile(all.stream().filter(c -> c[1] < killedAt).toList(), 0.50);
        long baselineMax = percentile(all.stream().filter(c -> c[1] < killedAt).toList(), 1.0);
        LOGGER.info("""
                        FAILOVER figures (session-timeout {}, {} clients, {} partitions, pace {} ms)
                          commands sent {} answered {} client errors {} decided twice (re-read after the kill) {}
                          before the kill: latency p50 {} ms, max {} ms
                          kill -9 of {}: survivor owns all partitions after {} ms; longest client wait around it {} ms; \
                        commands waiting > 1 s: {}
                          graceful stop of {}: survivor owns all partitions after {} ms; longest client wait around it {} ms""",
                SESSION_TIMEOUT, CLIENTS, PARTITIONS, PACE.toMillis(),
                load.sent(), load.answered(), load.errors.size(), duplicates,
                ms(baselineP50), ms(baselineMax),
                victim.instanceId, ms(killRebalanced - killedAt), ms(longestWait(all, killedAt, killRebalanced)),
                all.stream().filter(c -> c[1] - c[0] > TimeUnit.SECONDS.toNanos(1)).count(),
                leaver.instanceId, ms(stopRebalanced - stoppedAt), ms(longestWait(all, stoppedAt, stopRebalanced)));
    }

    /** The longest latency of a command still waiting at some moment between {@code from} and {@code to} (+1 s). */
    private static long longestWait(List<long[]> commands, long from, long to) {
        long end = to + TimeUnit.SECONDS.toNanos(1);
        return commands.stream().filter(c -> c[1] >= from && c[0] <= end).mapToLong(c -> c[1] - c[0]).max().orElse(0);
    }

    private static long percentile(List<long[]> commands, double p) {
        if (commands.isEmpty()) return 0;
        long[] latencies = commands.stream().mapToLong(c -> c[1] - c[0]).sorted().toArray();
        return latencies[(int) Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
    }

    private static long ms(long nanos) {
        return TimeUnit.NANOSECONDS.toMillis(nanos);
    }

    /** Audit partitions whose end offset grows while clients get 100 more answers. */
    private static Set<Integer> activePartitions(Load load) throws Exception {
        Map<Integer, Long> first = endOffsets();
        load.awaitAnswers(load.answered() + 100);
        Map<Integer, Long> second = endOffsets();
        return second.entrySet().stream().filter(e -> e.getValue() > first.getOrDefault(e.getKey(), 0L))
                .map(Map.Entry::getKey).collect(Collectors.toCollection(TreeSet::new));
    }

    private static Map<Integer, Long> endOffsets() throws Exception {
        Map<TopicPartition, OffsetSpec> request = IntStream.range(0, PARTITIONS).boxed()
                .collect(Collectors.toMap(p -> new TopicPartition(Topics.AUDIT, p), p -> OffsetSpec.latest()));
        return admin.listOffsets(request).all().get(30, TimeUnit.SECONDS).entrySet().stream()
                .collect(Collectors.toMap(e -> e.getKey().partition(), e -> e.getValue().offset()));
    }

    /** Awaits a group state; fails at once when an instance that should run has died. */
    private static GroupView awaitGroup(List<PolicyProcess> mustRun, java.util.function.Predicate<GroupView> condition) {
        return await().atMost(AWAIT).pollInterval(Duration.ofMillis(50)).until(() -> {
            for (PolicyProcess p : mustRun) {
                if (!p.isAlive()) throw new AssertionError(p.instanceId + " died:\n" + p.logTail(40));
            }
            return describe();
        }, condition);
    }

    private static GroupView describe() throws Exception {
        ConsumerGroupDescription d;
        try {
            d = admin.describeConsumerGroups(List.of(GROUP)).describedGroups().get(GROUP).get(30, TimeUnit.SECONDS);
        } catch (ExecutionException e) {
            if (e.getCause() instanceof GroupIdNotFoundException) return new GroupView(GroupState.DEAD, Map.of());
            throw e;
        }
        Map<String, Set<Integer>> assignment = new LinkedHashMap<>();
        for (MemberDescription m : d.members()) {
            assignment.put(m.clientId(), m.assignment().topicPartitions().stream()
                    .filter(tp -> tp.topic().equals(Topics.AUDIT)).map(TopicPartition::partition)
                    .collect(Collectors.toCollection(TreeSet::new)));
        }
        return new GroupView(d.groupState(), assignment);
    }

    /** The policy group as the coordinator sees it: state and the audit partitions per client id. */
    record GroupView(GroupState state, Map<String, Set<Integer>> assignment) {
        /** Stable, exactly these members, every audit partition assigned, none to two members. */
        boolean stableWithMembers(String... clientIds) {
            if (state != GroupState.STABLE || !assignment.keySet().equals(Set.of(clientIds))) return false;
            List<Integer> all = assignment.values().stream().flatMap(Set::stream).sorted().toList();
            return all.equals(IntStream.range(0, PARTITIONS).boxed().toList())
                    && assignment.values().stream().noneMatch(Set::isEmpty);
        }

        /** The member owning most of {@code partitions}. */
        String owning(Set<Integer> partitions) {
            return assignment.entrySet().stream()
                    .max(Comparator.comparingLong(e -> e.getValue().stream().filter(partitions::contains).count()))
                    .map(Map.Entry::getKey).orElseThrow();
        }

        @Override
        public String toString() {
            return state + " " + assignment;
        }
    }

    /** Client sessions through the edge, each sending {@code SELECT n} back to back at a pace. */
    static final class Load {
        final ConcurrentLinkedQueue<String> errors = new ConcurrentLinkedQueue<>();
        private final List<Client> clients = new ArrayList<>();
        private volatile boolean running = true;

        static Load start(int edgePort, int count, Duration pace) throws IOException {
            Load load = new Load();
            for (int i = 0; i < count; i++) {
                String user = "failover-" + i;
                RawPgClient pg = RawPgClient.login(edgePort, "demo", user, issuer.issue(user, List.of("dba"), Duration.ofMinutes(30), Map.of()), "policy-failover-it-" + i);
                Client c = new Client(load, i, pg, pace);
                load.clients.add(c);
                c.thread.start();
            }
            return load;
        }

        long sent() {
            return clients.stream().mapToLong(c -> c.sent.get()).sum();
        }

        long answered() {
            return clients.stream().mapToLong(c -> c.answered.get()).sum();
        }

        void awaitAnswers(long total) {
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(20))
                    .until(() -> answered() >= total || !errors.isEmpty());
            assertThat(errors).as("client errors").isEmpty();
        }

        /** Waits until every client has had {@code n} more answers than now. */
        void awaitEveryClientAnswersMore(int n) {
            Map<Client, Long> now = clients.stream().collect(Collectors.toMap(Function.identity(), c -> c.answered.get()));
            await().atMost(AWAIT).pollInterval(Duration.ofMillis(20))
                    .until(() -> !errors.isEmpty() || clients.stream().allMatch(c -> c.answered.get() >= now.get(c) + n));
            assertThat(errors).as("client errors").isEmpty();
        }

        /** Every command's (sent, answered) System.nanoTime pair; once stopped. */
        List<long[]> commands() {
            List<long[]> all = new ArrayList<>();
            for (Client c : clients) all.addAll(c.commands);
            return all;
        }

        void stop() throws InterruptedException {
            running = false;
            for (Client c : clients) {
                c.thread.join(Duration.ofSeconds(60));
                try {
                    c.pg.close();
                } catch (IOException e) {
                    LOGGER.debug("closing client {}: {}", c.index, e.toString());
                }
            }
        }

        private static final class Client implements Runnable {
            final Load load;
            final int index;
            final RawPgClient pg;
            final Duration pace;
            final AtomicLong sent = new AtomicLong();
            final AtomicLong answered = new AtomicLong();
            final List<long[]> commands = new ArrayList<>(); // written by the thread, read after join
            final Thread thread;

            Client(Load load, int index, RawPgClient pg, Duration pace) {
                this.load = load;
                this.index = index;
                this.pg = pg;
                this.pace = pace;
                this.thread = Thread.ofPlatform().daemon().name("failover-client-" + index).unstarted(this);
            }

            @Override
            public void run() {
                try {
                    for (long n = 1; load.running; n++) {
                        long t0 = System.nanoTime();
                        sent.incrementAndGet();
                        pg.query("SELECT " + n);
                        RawPgClient.Message m;
                        while ((m = pg.read()).type() != 'Z') {
                            if (m.type() == 'E') load.errors.add("client " + index + " SELECT " + n + ": " + m);
                        }
                        commands.add(new long[] {t0, System.nanoTime()});
                        answered.incrementAndGet();
                        LockSupport.parkNanos(pace.toNanos());
                    }
                } catch (IOException | RuntimeException e) {
                    load.errors.add("client " + index + " failed: " + e);
                }
            }
        }
    }
}
