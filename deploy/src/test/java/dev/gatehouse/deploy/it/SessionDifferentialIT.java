package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.cli.GatehouseCli;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.edge.postgres.ProtocolSequences;
import dev.gatehouse.edge.postgres.ProtocolSequences.Unit;
import dev.gatehouse.edge.postgres.codec.FrontendEncoder;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.PolicyLog;
import dev.gatehouse.platform.kafka.Topics;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.testsupport.LoggingPostgres;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.ByteBufUtil;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.ShrinkingMode;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import net.jqwik.api.lifecycle.AroundPropertyHook;
import net.jqwik.api.lifecycle.PropertyExecutionResult;
import net.jqwik.api.lifecycle.PropertyExecutor;
import net.jqwik.api.lifecycle.PropertyLifecycleContext;
import net.jqwik.api.statistics.Statistics;
import org.awaitility.core.ConditionFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The session's differential property ({@link ProtocolSequences}) end to end: each generated
 * sequence of protocol messages goes from a real client socket (encoded by the edge's own
 * {@link FrontendEncoder}) through an edge of this test's own to a PostgreSQL of its own that logs
 * every statement, the edge writing to the real Kafka of the shared {@link Gateway} and waiting for
 * its real policy service, which decides with a rule this test applies for its connection (writes to
 * {@code secret}, reads of {@code hidden} and DROP are denied) ahead of the example policy. Checked,
 * from the target's log and the audit log read back from Kafka: every statement the target ran is an
 * allowed, recorded execution of the session, in order; none is one the policy denies, judged on what
 * the target says it ran; after every ReadyForQuery the client's transaction status is the target's.
 *
 * <p>{@value #DEFAULT_TRIES} sequences per run; a long run sets more with
 * {@code -Dgatehouse.differential.e2e.tries=N}. jqwik prints the seed of every run (and the
 * shrunk sequence of a failing one); {@code -Dgatehouse.differential.e2e.seed=S} with the same
 * tries replays it.
 */
class SessionDifferentialIT {
    private static final Logger LOGGER = LoggerFactory.getLogger(SessionDifferentialIT.class);

    static final int DEFAULT_TRIES = 200;
    private static final String CONNECTION = "differential";
    private static final String EDGE_ID = "edge-differential";
    private static final String RULE_ID = "differential-test-denies";
    /**
     * The test's policy: the unit test's, in CEL. The unit test judges each statement and never
     * denies a PREPARE or a DECLARE (their EXECUTE and FETCH are judged as what they run); a CEL
     * rule sees the command's facts, one list of tables for all its statements, so it denies a
     * command that writes secret or reads hidden unless its statements are only PREPARE, DECLARE
     * and statements that touch no table. A batch that declares a cursor on hidden and also reads t
     * is thus denied as a whole, where the unit test lets it run: stricter, never laxer.
     */
    private static final String RULE = """
              - id: %s
                description: SessionDifferentialIT's policy for its own connection
                scope: {connections: [%s]}
                when: >-
                  command.tags.exists(t, t.startsWith("DROP")) ||
                  (command.tags.exists(t, !(t in ["PREPARE", "DECLARE CURSOR", "BEGIN", "COMMIT", "ROLLBACK",
                      "SAVEPOINT", "RELEASE", "SET", "DEALLOCATE", "DEALLOCATE ALL", "CLOSE CURSOR", "CLOSE CURSOR ALL"])) &&
                   (command.tables_written.exists(t, t == "secret" || t.endsWith(".secret")) ||
                    command.tables_read.exists(t, t == "hidden" || t.endsWith(".hidden"))))
                action: deny
                reason: denied by the differential test
            """.formatted(RULE_ID, CONNECTION);

    private static final String DENIED = "sequences with a command the test's rule denied";
    private static final String RAN = "sequences the target ran statements of";
    /**
     * Floors of both, so that a rule that denies nothing or everything fails the run: a run sees
     * about 26 % and 58 %; the floors are far enough below that a run of at least
     * {@value #MIN_TRIES_FOR_COVERAGE} sequences does not miss them by chance (a shorter run, a
     * replay say, is not checked).
     */
    private static final double MIN_DENIED_PERCENT = 10;
    private static final double MIN_RAN_PERCENT = 30;
    private static final int MIN_TRIES_FOR_COVERAGE = 100;

    private static final Gateway gw = Gateway.get();
    private static Path dir;
    private static LoggingPostgres postgres;
    private static Connection observer;
    private static GatehouseRuntime edge;
    private static AuditTail auditTail;
    private static final Sessions sessions = new Sessions();
    private static String examplePolicy;
    private static final AtomicLong tries = new AtomicLong();
    private static final AtomicLong nanos = new AtomicLong();

    @BeforeContainer
    static void start() throws Exception {
        long started = System.nanoTime();
        dir = Files.createTempDirectory("gatehouse-differential-it-");
        postgres = LoggingPostgres.start(dir.resolve("pg"), Map.of());
        try (Connection c = postgres.owner()) {
            ProtocolSequences.createSchema(c);
        }
        observer = postgres.superuser("postgres");
        AuditEventCodec codec = new AuditEventCodec();
        auditTail = new AuditTail(gw.env.kafka().bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(30),
                EventSerde.of(codec::encode, codec::decode));
        Instant since = Instant.now();
        Thread.ofPlatform().daemon().name("differential-audit").start(() -> auditTail.follow(null, since, sessions::accept));
        examplePolicy = applyPolicy(withTestRule(activePolicy()));
        LOGGER.info("Differential end to end: target and policy ready in {} ms", (System.nanoTime() - started) / 1_000_000);
        GatehouseConfig config = EdgeConfigs.edge(EDGE_ID, dir, gw.env.kafka().bootstrapServers(), "5s",
                EdgeConfigs.plaintextListener("10s"), List.of(new GatehouseConfig.Connection(CONNECTION, postgres.host(),
                        postgres.port(), LoggingPostgres.DATABASE, LoggingPostgres.ROLE, "", false, null, "enforce", Map.of())));
        edge = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
        LOGGER.info("Differential end to end: target, policy and edge ready in {} ms",
                (System.nanoTime() - started) / 1_000_000);
    }

    @AfterContainer
    static void stop() throws Exception {
        if (tries.get() > 0) {
            LOGGER.info("Differential end to end: {} sequences in {} s, {} ms per sequence", tries.get(),
                    nanos.get() / 1_000_000_000, nanos.get() / 1_000_000 / tries.get());
        }
        long started = System.nanoTime();
        try {
            if (examplePolicy != null) applyPolicy(examplePolicy);
            LOGGER.info("Differential end to end: policy restored in {} ms", (System.nanoTime() - started) / 1_000_000);
        } finally {
            if (edge != null) edge.close();
            if (auditTail != null) auditTail.close();
            if (observer != null) observer.close();
            if (postgres != null) postgres.close();
        }
    }

    /**
     * The property's tries, {@code -Dgatehouse.differential.e2e.tries} (by default
     * {@value #DEFAULT_TRIES}), and its seed when {@code -Dgatehouse.differential.e2e.seed} replays a run.
     */
    public static final class TriesAndSeed implements AroundPropertyHook {
        static int tries() {
            return Integer.getInteger("gatehouse.differential.e2e.tries", DEFAULT_TRIES);
        }

        @Override
        public PropertyExecutionResult aroundProperty(PropertyLifecycleContext context, PropertyExecutor property) {
            context.attributes().setTries(tries());
            String seed = System.getProperty("gatehouse.differential.e2e.seed");
            if (seed != null && !seed.isBlank()) context.attributes().setSeed(seed);
            return property.execute();
        }
    }

    @Provide
    Arbitrary<List<Unit>> sequences() {
        return ProtocolSequences.sequences();
    }

    @Property(shrinking = ShrinkingMode.BOUNDED)
    @AddLifecycleHook(TriesAndSeed.class)
    void whatTheTargetRanIsExactlyWhatWasAllowedAndRecorded(@ForAll("sequences") List<Unit> units) throws Exception {
        // Given
        long started = System.nanoTime();
        String application = "differential-" + UUID.randomUUID();
        String marker = "end-" + UUID.randomUUID();
        List<String> failures = new ArrayList<>();
        try (RawPgClient client = RawPgClient.login(edge.edgePort(), CONNECTION, "tester", gw.token("tester", "dba"),
                application)) {
            AuditEvent.SessionOpened opened = sessions.awaitOpened(application);
            int pid = opened.targetProcessId();

            // When
            for (Unit unit : units) {
                client.write(encode(unit.messages()));
                if (!unit.awaitsReady()) continue;
                List<RawPgClient.Message> answers = readUntilReady(client);
                char status = (char) answers.getLast().payload()[0];
                // Then (3): the client's transaction status is the target's own
                char target = ProtocolSequences.targetStatus(observer, pid);
                if (status != target) {
                    failures.add("after " + unit + ": client " + status + ", target " + target + " (received " + answers + ")");
                }
            }
            client.write(encode(List.of(new FrontendMessage.Query(ProtocolSequences.markerQuery(marker)))));
            readUntilReady(client);
            client.write(encode(List.of(new FrontendMessage.Terminate())));

            // Then (1) and (2)
            List<AuditEvent> events = sessions.awaitCommand(opened.header().sessionId(), marker);
            List<LoggingPostgres.Entry> entries = ProtocolSequences.awaitLogged(postgres, pid, marker);
            failures.addAll(ProtocolSequences.compare(entries, events));
            // and the property is not vacuous: the test's rule denies, the target runs what is allowed
            Statistics.label(DENIED).collect(events.stream().anyMatch(e -> e instanceof AuditEvent.DecisionMade d
                    && d.decision() instanceof Decision.Deny deny && RULE_ID.equals(deny.ruleId())));
            Statistics.label(RAN).collect(!entries.isEmpty());
        } finally {
            sessions.forget(application);
        }
        tries.incrementAndGet();
        nanos.addAndGet(System.nanoTime() - started);
        assertThat(failures).as("sequence %s", units).isEmpty();
        if (TriesAndSeed.tries() >= MIN_TRIES_FOR_COVERAGE) {
            Statistics.label(DENIED).coverage(c -> c.check(true).percentage(p -> p >= MIN_DENIED_PERCENT));
            Statistics.label(RAN).coverage(c -> c.check(true).percentage(p -> p >= MIN_RAN_PERCENT));
        }
    }

    private static byte[] encode(List<FrontendMessage> messages) {
        ByteBuf out = ByteBufAllocator.DEFAULT.buffer();
        try {
            messages.forEach(m -> FrontendEncoder.encode(m, out));
            return ByteBufUtil.getBytes(out);
        } finally {
            out.release();
        }
    }

    /** The messages up to and including the next ReadyForQuery. */
    private static List<RawPgClient.Message> readUntilReady(RawPgClient client) throws Exception {
        List<RawPgClient.Message> answers = new ArrayList<>();
        while (answers.isEmpty() || answers.getLast().type() != 'Z') answers.add(client.read());
        return answers;
    }

    /**
     * The audit events of this test's sessions as the Kafka consumer reads them: every event of a
     * session from its SessionOpened on (the connect decision before it is not needed), found by the
     * application name each try gives its session.
     */
    private static final class Sessions {
        private final Map<String, AuditEvent.SessionOpened> opened = new ConcurrentHashMap<>();
        private final Map<SessionId, List<AuditEvent>> events = new ConcurrentHashMap<>();

        void accept(AuditEvent event) {
            if (event instanceof AuditEvent.SessionOpened o && o.connection() != null
                    && CONNECTION.equals(o.connection().name()) && o.applicationName() != null) {
                events.put(o.header().sessionId(), Collections.synchronizedList(new ArrayList<>()));
                opened.put(o.applicationName(), o);
            }
            List<AuditEvent> of = events.get(event.header().sessionId());
            if (of != null) of.add(event);
        }

        AuditEvent.SessionOpened awaitOpened(String application) {
            return promptly().until(() -> opened.get(application), o -> o != null);
        }

        /** The session's events up to the decision of the command whose text contains {@code text}. */
        List<AuditEvent> awaitCommand(SessionId session, String text) {
            return promptly().until(() -> {
                List<AuditEvent> of;
                synchronized (events.get(session)) {
                    of = List.copyOf(events.get(session));
                }
                Optional<String> id = of.stream().filter(AuditEvent.CommandReceived.class::isInstance)
                        .map(AuditEvent.CommandReceived.class::cast).filter(c -> c.command().sql().contains(text))
                        .map(c -> c.command().id().value()).findFirst();
                boolean decided = id.isPresent() && of.stream().anyMatch(e -> e instanceof AuditEvent.DecisionMade d
                        && d.commandId().value().equals(id.get()));
                return decided ? of : null;
            }, of -> of != null);
        }

        /** Awaits without Awaitility's default first delay of 100 ms: the consumer is usually there already. */
        private static ConditionFactory promptly() {
            return await().atMost(Duration.ofSeconds(30)).pollDelay(Duration.ZERO).pollInterval(Duration.ofMillis(10));
        }

        void forget(String application) {
            AuditEvent.SessionOpened o = opened.remove(application);
            if (o != null) events.remove(o.header().sessionId());
        }
    }

    // ---------------------------------------------------------------- the policy

    private static String activePolicy() {
        return PolicyLog.read(gw.env.kafka().bootstrapServers(), Duration.ofSeconds(15)).active()
                .map(PolicyLog.Entry::document)
                .orElseThrow(() -> new IllegalStateException("the gateway has no active policy"));
    }

    /**
     * {@code document} with the test's rule first (the example policy denies nothing the sequences
     * send as a dba), without a {@code version:} of its own: its content hash is its version.
     */
    private static String withTestRule(String document) {
        String unversioned = document.replaceFirst("(?m)^version:.*\n", "");
        int rules = unversioned.indexOf("\nrules:\n");
        if (rules < 0) throw new IllegalStateException("the active policy has no 'rules:' list");
        int at = rules + "\nrules:\n".length();
        return unversioned.substring(0, at) + RULE + unversioned.substring(at);
    }

    /**
     * Applies {@code document} with {@code gatehouse policy apply}, waits until the gateway's policy
     * service decides with it, and returns the document it replaced.
     */
    private static String applyPolicy(String document) throws Exception {
        String previous = activePolicy();
        Path file = Files.writeString(Files.createTempFile(dir, "policy-", ".yaml"), document);
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = GatehouseCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        // --wait 0s: the gateway's policy service runs in this JVM, so its active version is awaited below
        int code = cli.execute("policy", "apply", file.toString(), "--wait", "0s", "--data-dir", gw.dataDir.toString());
        assertThat(code).as("gatehouse policy apply: %s %s", out, err).isZero();
        String version = Policy.parse(document, file.toString()).version();
        await().atMost(Duration.ofSeconds(30))
                .until(() -> gw.env.runtime().decider().active().policy().version().equals(version));
        return previous;
    }
}
