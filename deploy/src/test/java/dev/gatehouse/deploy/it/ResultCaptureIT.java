package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.deploy.dev.DemoTarget;
import dev.gatehouse.deploy.dev.DevEnvironment;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.edge.catalog.ResultCapture;
import dev.gatehouse.edge.masking.HmacKey;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.postgres.ResultSampler;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.kafka.AuditTail;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Result capture through a real edge, driven by psql: an environment of its own (so the raw audit
 * topic holds only what this test wrote), its policy masking one table, and an extra edge whose
 * connections capture with the edge-wide default (5 rows), a large limit, or not at all.
 */
class ResultCaptureIT {

    private static final String POLICY = """
            id: result-capture-it
            version: v1
            default: allow
            rules:
              - id: mask-rc-secrets
                when: 'command.tables_read.exists(t, t == "rc_secrets" || t == "public.rc_secrets")'
                action: mask
                mask: {profile: rc-pii}
                reason: secrets are masked
            """;

    private static final String PROFILES = """
            profiles:
              - name: rc-pii
                columns:
                  - column: public.rc_secrets.email
                    method: hmac
                detectors:
                  - {detector: email, method: redact}
            """;

    private static final List<String> SECRETS = List.of("rc.alice.9f3a@example.com", "rc.bob.71c2@example.com");

    private static DevEnvironment env;
    private static GatehouseRuntime edge;

    @BeforeAll
    static void start() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-result-capture-it-");
        Path policy = Files.writeString(dir.resolve("policy.yaml"), POLICY);
        env = new DevEnvironment(new DevEnvironment.Settings(dir.resolve("dev"), 0, 0, 0, 0, 0, policy)).start();
        try (Connection direct = DriverManager.getConnection(env.target().superuserJdbcUrl(DemoTarget.DATABASE));
             Statement s = direct.createStatement()) {
            s.execute("""
                    CREATE TABLE public.rc_secrets(id int PRIMARY KEY, email text, note text);
                    INSERT INTO public.rc_secrets VALUES (1, '%s', 'first'), (2, '%s', 'mail %s');
                    GRANT SELECT ON public.rc_secrets TO PUBLIC;
                    """.formatted(SECRETS.get(0), SECRETS.get(1), SECRETS.get(0)));
        }
        DemoTarget target = env.target();
        DevTokenIssuer issuer = env.issuer();
        GatehouseConfig config = new GatehouseConfig("edge-result-capture", dir.resolve("edge"),
                new GatehouseConfig.Kafka(env.kafka().bootstrapServers(), 3, 1, null, "5s", Map.of()),
                new GatehouseConfig.Edge(new GatehouseConfig.Postgres("127.0.0.1", 0, null, true, "10s", null, null,
                        new GatehouseConfig.ResultCapture(5, null))),
                List.of(connection(target, "capture-default", null),
                        connection(target, "capture-large", new GatehouseConfig.ResultCapture(10_000, 1 << 20)),
                        connection(target, "capture-off", new GatehouseConfig.ResultCapture(0, null))),
                new GatehouseConfig.Identity(List.of(new GatehouseConfig.Issuer(issuer.issuerUrl(), issuer.jwksUri(),
                        Set.of(DevTokenIssuer.AUDIENCE), null, null, null))),
                new GatehouseConfig.Policy(null),
                new GatehouseConfig.Observability("127.0.0.1", 0));
        edge = new GatehouseRuntime(config, EnumSet.of(Role.EDGE)).start();
        edge.edge().useMasking(MaskingProfiles.parse(PROFILES, () -> HmacKey.of("result-capture-it-hmac-key")));
    }

    @AfterAll
    static void stop() throws Exception {
        if (edge != null) edge.close();
        if (env != null) env.close();
    }

    @Test
    void psqlSelectIsSampledWithTheFirstRowsBeforeItsCompletion() throws Exception {
        // Given a connection on the edge-wide default of 5 rows
        String app = "rc-first-" + UUID.randomUUID();

        // When psql runs a 30-row SELECT and a one-row SELECT
        psql("capture-default", app, "-c",
                "SELECT g AS n, 'row ' || g AS label, NULL::text AS nothing FROM generate_series(1, 30) g",
                "-c", "SELECT 42 AS answer");

        // Then
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> events = sessionEvents(app);
            CommandId big = commandOf(events, "generate_series(1, 30)");
            List<AuditEvent.ResultSampled> sample = samplesOf(events, big);
            assertThat(sample).singleElement().satisfies(s -> {
                assertThat(s.columns()).containsExactly("n", "label", "nothing");
                assertThat(s.rows()).hasSize(5);
                assertThat(s.rows().getFirst()).containsExactly("1", "row 1", null);
                assertThat(s.rows().getLast()).containsExactly("5", "row 5", null);
                assertThat(s.truncated()).isTrue();
                assertThat(s.rowsCaptured()).isEqualTo(5);
                assertThat(s.bytesCaptured()).isEqualTo(5 * (1 + 5)); // "1".."5" and "row 1".."row 5"
                assertThat(s.masked()).isFalse();
                assertThat(s.last()).isTrue();
            });
            // one chunk: inside the command's CommandCompleted, no ResultSampled of its own
            assertThat(events).as("one-chunk samples travel inside CommandCompleted")
                    .noneMatch(e -> e instanceof AuditEvent.ResultSampled s && s.commandId().equals(big));
            assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(AuditEvent.CommandCompleted.class,
                    c -> assertThat(c.sample()).isNotNull().isEqualTo(sample.getFirst())));

            List<AuditEvent.ResultSampled> small = samplesOf(events, commandOf(events, "SELECT 42"));
            assertThat(small).singleElement().satisfies(s -> {
                assertThat(s.rows()).containsExactly(List.of("42"));
                assertThat(s.truncated()).isFalse();
            });
        });
    }

    @Test
    void aResultLargerThanOneChunkIsWrittenInChunksThatReassemble() throws Exception {
        // Given a connection capturing up to 1 MiB
        String app = "rc-large-" + UUID.randomUUID();

        // When psql reads 800 rows of about 1 KB
        psql("capture-large", app, "-c", "SELECT g AS n, repeat(md5(g::text), 30) AS blob FROM generate_series(1, 800) g");

        // Then
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> events = sessionEvents(app);
            List<AuditEvent.ResultSampled> chunks = samplesOf(events, commandOf(events, "generate_series(1, 800)"));
            assertThat(chunks).hasSizeGreaterThanOrEqualTo(3);
            assertThat(chunks).extracting(AuditEvent.ResultSampled::chunk)
                    .containsExactlyElementsOf(java.util.stream.IntStream.range(0, chunks.size()).boxed().toList());
            assertThat(chunks).extracting(AuditEvent.ResultSampled::last).containsOnlyOnce(true);
            assertThat(chunks.getLast().last()).isTrue();
            assertThat(chunks.getFirst().columns()).containsExactly("n", "blob");
            AuditEventCodec codec = new AuditEventCodec();
            assertThat(chunks).allSatisfy(c -> {
                assertThat(codec.encode(c).length).isLessThanOrEqualTo(ResultSampler.CHUNK_LIMIT);
                assertThat(c.truncated()).isFalse();
                assertThat(c.rowsCaptured()).isEqualTo(800);
            });
            List<List<String>> rows = chunks.stream().flatMap(c -> c.rows().stream()).toList();
            assertThat(rows).hasSize(800);
            for (int i = 0; i < rows.size(); i++) {
                assertThat(rows.get(i).getFirst()).isEqualTo(String.valueOf(i + 1));
                assertThat(rows.get(i).get(1)).hasSize(960);
            }
        });
    }

    @Test
    void aMaskedColumnIsCapturedMaskedAndTheOriginalIsNowhereInTheLog() throws Exception {
        // Given a table the policy masks
        String app = "rc-masked-" + UUID.randomUUID();

        // When
        psql("capture-default", app, "-c", "SELECT id, email, note FROM rc_secrets ORDER BY id");

        // Then the sample holds the masked values
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> events = sessionEvents(app);
            List<AuditEvent.ResultSampled> sample = samplesOf(events, commandOf(events, "FROM rc_secrets"));
            assertThat(sample).singleElement().satisfies(s -> {
                assertThat(s.masked()).isTrue();
                assertThat(s.rows()).hasSize(2);
                assertThat(s.rows().get(0).get(1)).matches("[0-9a-f]{16,}");
                assertThat(s.rows().get(1).get(2)).isEqualTo("mail [REDACTED]");
            });
        });
        // and the raw bytes of the whole topic hold none of the originals
        RawAuditLog raw = RawAuditLog.read(env.kafka().bootstrapServers());
        for (String secret : SECRETS) {
            assertThat(raw.contains(secret)).as("audit log holds %s", secret).isFalse();
        }
    }

    @Test
    void rowsZeroDisablesCapture() throws Exception {
        // Given a connection with result-capture {rows: 0}
        String app = "rc-off-" + UUID.randomUUID();

        // When
        psql("capture-off", app, "-c", "SELECT g FROM generate_series(1, 3) g");

        // Then the command completes in the log without a sample
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> {
            List<AuditEvent> events = sessionEvents(app);
            CommandId id = commandOf(events, "generate_series(1, 3)");
            assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(AuditEvent.CommandCompleted.class,
                    c -> assertThat(c.commandId()).isEqualTo(id)));
            assertThat(samplesOf(events, id)).isEmpty();
        });
    }

    @Test
    void aByteLimitAbove4MiBIsRefusedWithAClearMessage() {
        // Given / When / Then
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> new GatehouseConfig.ResultCapture(20, 5 << 20))
                .hasMessageContaining("bytes must be at most " + ResultCapture.MAX_BYTES);
    }

    // ------------------------------------------------------------------ helpers

    private static GatehouseConfig.Connection connection(DemoTarget target, String name, GatehouseConfig.ResultCapture capture) {
        return new GatehouseConfig.Connection(name, target.host(), target.port(), DemoTarget.DATABASE, target.role(),
                target.password(), false, null, "enforce", Map.of(), capture);
    }

    private static void psql(String connection, String app, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("psql", "-X", "-v", "ON_ERROR_STOP=1", "-At",
                "-h", "127.0.0.1", "-p", String.valueOf(edge.edgePort()), "-U", "rc-it",
                "-d", "dbname=" + connection + " application_name=" + app));
        command.addAll(Arrays.asList(args));
        ProcessBuilder pb = new ProcessBuilder(command);
        pb.environment().put("PGPASSWORD", env.issuer().issue("rc-it", List.of("analysts"), Duration.ofMinutes(30), Map.of()));
        pb.environment().put("PGSSLMODE", "disable");
        pb.environment().put("PGCONNECT_TIMEOUT", "30");
        Path out = Files.createTempFile("rc-it-out", ".txt");
        Path err = Files.createTempFile("rc-it-err", ".txt");
        Process p = pb.redirectOutput(out.toFile()).redirectError(err.toFile()).start();
        p.getOutputStream().close();
        assertThat(p.waitFor(120, TimeUnit.SECONDS)).as("psql finished").isTrue();
        assertThat(p.exitValue()).as("psql failed: %s", Files.readString(err)).isZero();
        Files.deleteIfExists(out);
        Files.deleteIfExists(err);
    }

    /** The events of the session psql opened with this application name, in log order. */
    private static List<AuditEvent> sessionEvents(String app) {
        AuditEventCodec codec = new AuditEventCodec();
        List<AuditEvent> all = new ArrayList<>();
        try (AuditTail tail = new AuditTail(env.kafka().bootstrapServers(), Topics.AUDIT, Duration.ofSeconds(30),
                EventSerde.of(codec::encode, codec::decode))) {
            tail.read(null, false, all::add);
        }
        SessionId session = all.stream().filter(e -> e instanceof AuditEvent.SessionOpened o && app.equals(o.applicationName()))
                .map(AuditEvent::sessionId).findFirst().orElseThrow(() -> new AssertionError("no session opened by " + app));
        return all.stream().filter(e -> e.sessionId().equals(session)).toList();
    }

    private static CommandId commandOf(List<AuditEvent> events, String sqlPart) {
        return events.stream().filter(e -> e instanceof AuditEvent.CommandReceived r && r.command().sql().contains(sqlPart))
                .map(e -> ((AuditEvent.CommandReceived) e).command().id()).findFirst()
                .orElseThrow(() -> new AssertionError("no command " + sqlPart));
    }

    /** The command's sample chunks: ResultSampled events, or the one chunk inside its CommandCompleted. */
    private static List<AuditEvent.ResultSampled> samplesOf(List<AuditEvent> events, CommandId id) {
        List<AuditEvent.ResultSampled> chunks = new java.util.ArrayList<>();
        for (AuditEvent e : events) {
            if (e instanceof AuditEvent.ResultSampled s && s.commandId().equals(id)) chunks.add(s);
            if (e instanceof AuditEvent.CommandCompleted c && c.commandId().equals(id) && c.sample() != null) chunks.add(c.sample());
        }
        return chunks;
    }

    private static int indexOf(List<AuditEvent> events, java.util.function.Predicate<AuditEvent> p) {
        for (int i = 0; i < events.size(); i++) {
            if (p.test(events.get(i))) return i;
        }
        return -1;
    }
}
