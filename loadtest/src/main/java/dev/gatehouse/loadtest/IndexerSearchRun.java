package dev.gatehouse.loadtest;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.gatehouse.deploy.cli.GatehouseCli;
import dev.gatehouse.deploy.roles.Role;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.EventTypeHeader;
import dev.gatehouse.platform.kafka.Topics;
import dev.gatehouse.policy.sql.PgQueryAnalyzer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;

import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The incident question over a large audit log: "which identity, repository and commit created
 * database X?", asked of the real indexer after it has indexed {@code commands} recorded commands.
 *
 * <p>Starts the load harness's processes ({@link LoadEnvironment}, layout {@code split} by default:
 * the indexer in a process of its own), writes synthetic sessions straight to {@code gatehouse.audit}
 * as the edges write them (SessionOpened, then per command CommandReceived and CommandCompleted with a
 * one-row sample, SessionClosed; 32 sessions open at a time, people and CI jobs; the policy service
 * running in the layout decides every command, as it would), among them {@code creates} CI jobs that each create one database
 * {@code tenant_N}; waits, with progress, until the indexer's lag is 0; then asks the indexer's query
 * API ({@code GET /api/v1/commands?object=tenant_N&kind=CREATE_DATABASE}) for each database in turn,
 * warm, and checks that the answer names the job's subject, repository and commit; and runs the CLI
 * ({@code gatehouse audit search}, a JVM started per run) for the same question end to end.
 *
 * <p>Not a test: it asserts nothing about speed; exit status 1 when an answer was wrong or missing.
 */
public final class IndexerSearchRun {

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int OPEN_SESSIONS = 32;
    private static final String CI_ISSUER = "https://token.actions.githubusercontent.com";

    /** What the run found for one database: who created it, as generated. */
    record Creation(String database, String subject, String repository, String commit) {
    }

    private final IndexerSearchOptions options;
    private final AuditEventCodec codec = new AuditEventCodec();
    private final ConnectionRef connection = new ConnectionRef("demo", "postgres", "127.0.0.1:5432/demo", Map.of("env", "demo"));
    private final List<Creation> creations = new ArrayList<>();
    private Instant clock = Instant.now().minus(Duration.ofDays(1));
    private long written;

    private IndexerSearchRun(IndexerSearchOptions options) {
        this.options = options;
    }

    public static void main(String[] args) throws Exception {
        RunMain.exit("indexer-search", args, IndexerSearchOptions::parse, options -> new IndexerSearchRun(options).run());
    }

    private int run() throws Exception {
        Path dir = Files.createTempDirectory("gatehouse-indexer-search-");
        Instant started = Instant.now();
        progress("data folder " + dir + (options.keep() ? " (kept)" : " (removed at the end)"));
        LoadEnvironment.Settings settings = new LoadEnvironment.Settings(dir, options.keep(), options.layout(),
                options.jvmOptions(), List.of(), null, 1);
        StringBuilder report = new StringBuilder();
        int status = 0;
        try (LoadEnvironment env = LoadEnvironment.start(settings)) {
            GatewayProcess indexer = env.gateway(Role.INDEXER);
            String token = env.issuer().issue("loadtest-auditor", List.of("gatehouse-auditors"), Duration.ofHours(6), Map.of());

            Map<String, Long> ticksBefore = env.cpuTicks();
            long writeStart = System.nanoTime();
            long commands = write(env.broker().bootstrapServers());
            double writeSeconds = (System.nanoTime() - writeStart) / 1e9;
            progress(String.format(Locale.ROOT, "wrote %,d commands (%,d records) in %.1f s; waiting for the indexer", commands,
                    written, writeSeconds));
            double indexSeconds;
            try (IndexerLag lag = new IndexerLag(env.broker().bootstrapServers(), indexer)) {
                indexSeconds = awaitIndexed(env, lag, writeStart);
            }
            Map<String, Long> ticksAfter = env.cpuTicks();

            List<Double> api = new ArrayList<>();
            int wrong = askApi(env.indexerUrl(), token, api);
            List<Double> cli = new ArrayList<>();
            wrong += askCli(dir, env.indexerUrl(), token, cli);
            if (wrong > 0) status = 1;

            report.append(report(started, commands, writeSeconds, indexSeconds, ticksBefore, ticksAfter, api, cli, wrong,
                    indexer.name()));
        } catch (Exception e) {
            e.printStackTrace();
            report.append("\n**The run stopped:** ").append(e).append('\n');
            status = 1;
        }
        System.out.println(report);
        Path out = options.out().toAbsolutePath();
        Files.createDirectories(out.getParent());
        Files.writeString(out, report);
        progress("written to " + out);
        return status;
    }

    // ---------------------------------------------------------------- writing the log

    /** One open synthetic session. */
    private final class Session {
        final SessionId id = SessionId.random();
        final Identity identity;
        final Instant opened;
        final String mode;
        long sequence;

        Session(Identity identity) {
            this.identity = identity;
            this.opened = clock;
            this.mode = identity.ci() == null ? "enforce" : "observe";
        }
    }

    private long write(String bootstrapServers) {
        Map<String, Object> config = Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, bootstrapServers,
                ProducerConfig.CLIENT_ID_CONFIG, "gatehouse-loadtest-writer", ProducerConfig.ACKS_CONFIG, "all",
                ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true, ProducerConfig.LINGER_MS_CONFIG, 20,
                ProducerConfig.BATCH_SIZE_CONFIG, 512 * 1024, ProducerConfig.BUFFER_MEMORY_CONFIG, 256L * 1024 * 1024);
        SqlAnalysis select = new PgQueryAnalyzer().analyze("SELECT abalance FROM pgbench_accounts WHERE aid = 1");
        PgQueryAnalyzer analyzer = new PgQueryAnalyzer();
        long every = Math.max(1, options.commands() / (options.creates() + 1));
        long commands = 0;
        int sessionsOpened = 0;
        long lastProgress = System.nanoTime();
        try (KafkaProducer<String, byte[]> producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer())) {
            List<Session> open = new ArrayList<>();
            while (commands < options.commands()) {
                while (open.size() < OPEN_SESSIONS) open.add(open(producer, person(sessionsOpened++)));
                for (int i = 0; i < open.size() && commands < options.commands(); i++) {
                    Session s = open.get(i);
                    if (commands > 0 && commands % every == 0 && creations.size() < options.creates()) {
                        commands += create(producer, analyzer, creations.size());
                        continue;
                    }
                    String sql = "SELECT abalance FROM pgbench_accounts WHERE aid = " + (1 + commands % 200_000);
                    command(producer, s, sql, select);
                    commands++;
                    if (s.sequence >= options.commandsPerSession()) {
                        close(producer, s);
                        open.set(i, open(producer, person(sessionsOpened++)));
                    }
                }
                if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(10)) {
                    progress(String.format(Locale.ROOT, "written %,d of %,d commands", commands, options.commands()));
                    lastProgress = System.nanoTime();
                }
            }
            for (Session s : open) close(producer, s);
            producer.flush();
        }
        return commands;
    }

    private Identity person(int n) {
        String subject = "user-" + (n % 500);
        return new Identity(subject, "http://127.0.0.1/dev-issuer", List.of(n % 3 == 0 ? "dba" : "developers"), List.of(),
                Map.of("sub", subject, "email", subject + "@corp.example"), null);
    }

    private static String sha(int n) {
        byte[] b = new byte[20];
        for (int i = 0; i < b.length; i++) b[i] = (byte) (n * 31 + i * 17);
        return HexFormat.of().formatHex(b);
    }

    /** A CI job's short session that creates database {@code tenant_N}; returns the commands it ran. */
    private int create(KafkaProducer<String, byte[]> producer, PgQueryAnalyzer analyzer, int n) {
        String repository = "acme/service-" + (n % 7);
        String commit = sha(n);
        String subject = "repo:" + repository + ":ref:refs/heads/main";
        Identity ci = new Identity(subject, CI_ISSUER, List.of("ci"), List.of(),
                Map.of("sub", subject, "repository", repository, "sha", commit),
                new CiProvenance("github-actions", repository, String.valueOf(1000 + n), commit, "refs/heads/main", "deploy",
                        String.valueOf(900_000 + n), "migrate"));
        String database = "tenant_" + n;
        Session s = open(producer, ci);
        String sql = "CREATE DATABASE " + database;
        command(producer, s, sql, analyzer.analyze(sql));
        close(producer, s);
        creations.add(new Creation(database, subject, repository, commit));
        return 1;
    }

    private Session open(KafkaProducer<String, byte[]> producer, Identity identity) {
        Session s = new Session(identity);
        send(producer, s, new AuditEvent.SessionOpened(header(s), identity, connection, "10.0.0.9:40000", "app", "loadtest",
                s.mode, true, Map.of("user", "app", "database", "demo"), Map.of("server_version", "15"), 40_000));
        return s;
    }

    private void command(KafkaProducer<String, byte[]> producer, Session s, String sql, SqlAnalysis analysis) {
        long sequence = ++s.sequence;
        CommandId id = CommandId.random();
        send(producer, s, new AuditEvent.CommandReceived(header(s), new SqlCommand(id, s.id, sequence, clock,
                SqlCommand.Form.SIMPLE_QUERY, sql, List.of(), analysis), s.identity, connection, "edge-1", 0, s.mode, s.opened,
                "10.0.0.9"));
        EventHeader completed = header(s);
        send(producer, s, new AuditEvent.CommandCompleted(completed, id, sequence,
                new AuditEvent.Outcome(true, List.of("SELECT 1"), 1, null, null, Duration.ofNanos(300_000), 40, "I"),
                new AuditEvent.ResultSampled(completed, id, sequence, 0, true, List.of("abalance"), List.of(List.of("0")), false, 1, 1,
                        false)));
    }

    private void close(KafkaProducer<String, byte[]> producer, Session s) {
        send(producer, s, new AuditEvent.SessionClosed(header(s), "client terminated", s.sequence,
                Duration.between(s.opened, clock)));
    }

    private EventHeader header(Session s) {
        clock = clock.plusNanos(20_000);
        return EventHeader.at(s.id, clock, "edge", "edge-1");
    }

    private void send(KafkaProducer<String, byte[]> producer, Session s, AuditEvent event) {
        producer.send(new ProducerRecord<>(Topics.AUDIT, null, s.id.value(), codec.encode(event), List.of(EventTypeHeader.of(event))),
                (metadata, error) -> {
            if (error != null) throw new IllegalStateException("writing the synthetic log failed: " + error, error);
        });
        written++;
    }

    // ---------------------------------------------------------------- waiting, asking

    /** Waits until the indexer's lag is 0; returns the seconds from the first write until then. */
    private double awaitIndexed(LoadEnvironment env, IndexerLag lag, long writeStart) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(options.lagTimeoutSeconds());
        long lastProgress = 0;
        while (true) {
            env.checkAlive();
            IndexerLag.Reading reading = lag.read();
            if (reading.zero()) return (System.nanoTime() - writeStart) / 1e9;
            if (System.nanoTime() > deadline) {
                throw new IllegalStateException("the indexer's lag did not return to 0 within " + options.lagTimeoutSeconds()
                        + " s (lag " + reading + ")");
            }
            if (System.nanoTime() - lastProgress > TimeUnit.SECONDS.toNanos(15)) {
                progress("indexer lag (gauge / committed): " + reading);
                lastProgress = System.nanoTime();
            }
            Thread.sleep(250);
        }
    }

    private int askApi(String indexerUrl, String token, List<Double> millis) throws IOException, InterruptedException {
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
        int wrong = 0;
        int warm = Math.min(10, creations.size());
        for (int i = 0; i < warm + options.queries(); i++) {
            Creation c = creations.get(i % creations.size());
            URI uri = URI.create(indexerUrl + "/api/v1/commands?kind=CREATE_DATABASE&limit=10&object="
                    + URLEncoder.encode(c.database(), StandardCharsets.UTF_8));
            HttpRequest request = HttpRequest.newBuilder(uri).header("Authorization", "Bearer " + token)
                    .timeout(Duration.ofSeconds(60)).GET().build();
            long start = System.nanoTime();
            HttpResponse<String> response = http.send(request, HttpResponse.BodyHandlers.ofString());
            double ms = (System.nanoTime() - start) / 1e6;
            if (i >= warm) millis.add(ms);
            String problem = check(c, response.statusCode(), response.body());
            if (problem != null) {
                wrong++;
                progress("wrong answer for " + c.database() + ": " + problem);
            }
        }
        return wrong;
    }

    /** Null when the answer names exactly the creating job; what is wrong otherwise. */
    private static String check(Creation c, int status, String body) throws IOException {
        if (status != 200) return "HTTP " + status + ": " + body;
        JsonNode hits = JSON.readTree(body).path("commands");
        if (hits.size() != 1) return hits.size() + " commands instead of 1";
        JsonNode identity = hits.get(0).path("session").path("identity");
        String subject = identity.path("subject").asText();
        String repository = identity.path("ci").path("repository").asText();
        String commit = identity.path("ci").path("commitSha").asText();
        if (!c.subject().equals(subject) || !c.repository().equals(repository) || !c.commit().equals(commit)) {
            return "named " + subject + " " + repository + "@" + commit;
        }
        return null;
    }

    private int askCli(Path dir, String indexerUrl, String token, List<Double> millis) throws Exception {
        int wrong = 0;
        for (int i = 0; i < options.cliRuns(); i++) {
            Creation c = creations.get(i % creations.size());
            Path log = dir.resolve("logs").resolve("cli-" + i + ".log");
            long start = System.nanoTime();
            try (ChildJvm cli = ChildJvm.start("cli", List.of(), GatehouseCli.class.getName(), List.of("audit", "search",
                    "--object", c.database(), "--kind", "CREATE_DATABASE", "--indexer", indexerUrl, "--token", token), log,
                    false, true, Map.of())) {
                String out = new String(cli.process().getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                int exit = cli.process().waitFor();
                millis.add((System.nanoTime() - start) / 1e6);
                if (exit != 0 || !out.contains(c.repository()) || !out.contains(c.commit().substring(0, 7))) {
                    wrong++;
                    progress("the CLI's answer for " + c.database() + " (exit " + exit + ") does not name " + c.repository()
                            + "@" + c.commit() + ":\n" + out + cli.logTail(20));
                }
            }
        }
        return wrong;
    }

    // ---------------------------------------------------------------- report

    private String report(Instant started, long commands, double writeSeconds, double indexSeconds, Map<String, Long> before,
                          Map<String, Long> after, List<Double> api, List<Double> cli, int wrong, String indexerName) {
        StringBuilder r = new StringBuilder();
        r.append("## The incident question over ").append(String.format(Locale.ROOT, "%,d", commands)).append(" recorded commands\n\n");
        r.append(started).append(", ").append(Runtime.getRuntime().availableProcessors()).append(" CPUs, Java ")
                .append(Runtime.version()).append(". Layout `").append(options.layout().label()).append("`; ")
                .append(String.format(Locale.ROOT, "%,d", written)).append(" audit records (")
                .append(creations.size()).append(" CI jobs creating a database each, the rest people's SELECTs, ")
                .append(options.commandsPerSession()).append(" commands a session, 32 sessions open at a time).\n\n");
        r.append("| step | figure |\n|---|---|\n");
        r.append(String.format(Locale.ROOT, "| writing the log (harness, one producer) | %.1f s |%n", writeSeconds));
        r.append(String.format(Locale.ROOT, "| from the first write until the indexer's lag was 0 | %.1f s (%,.0f commands/s) |%n",
                indexSeconds, commands / indexSeconds));
        for (String name : after.keySet()) {
            long ticks = after.get(name) - before.getOrDefault(name, 0L);
            r.append(String.format(Locale.ROOT, "| CPU of %s over that time | %.1f s (%.0f µs per command) |%n", name,
                    ticks / (double) ProcessCpu.TICKS_PER_SECOND, ProcessCpu.micros(ticks) / commands));
        }
        r.append(String.format(Locale.ROOT, "| query API, %d warm questions: p50 / p95 / max | %s |%n", api.size(), percentiles(api)));
        r.append(String.format(Locale.ROOT, "| CLI `gatehouse audit search --object tenant_N --kind CREATE_DATABASE` (new JVM each), %d runs: p50 / p95 / max | %s |%n",
                cli.size(), percentiles(cli)));
        r.append(String.format(Locale.ROOT, "| wrong or missing answers | %d |%n", wrong));
        r.append("\nThe indexer process is `").append(indexerName).append("`; its store is the embedded H2 database.\n");
        return r.toString();
    }

    private static String percentiles(List<Double> millis) {
        if (millis.isEmpty()) return "none";
        List<Double> sorted = new ArrayList<>(millis);
        Collections.sort(sorted);
        return String.format(Locale.ROOT, "%.1f / %.1f / %.1f ms", rank(sorted, 0.50), rank(sorted, 0.95), sorted.getLast());
    }

    private static double rank(List<Double> sorted, double p) {
        return sorted.get(Math.max(0, (int) Math.ceil(p * sorted.size()) - 1));
    }

    private static void progress(String what) {
        System.err.println("indexer-search: " + what);
    }
}
