package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.cli.GatehouseCli;
import dev.gatehouse.deploy.roles.GatehouseRuntime;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.indexer.store.TimelineStore;
import dev.gatehouse.platform.identity.DelegationTrust;
import dev.gatehouse.platform.kafka.Topics;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * The audit indexer end to end, in the process {@code gatehouse dev} runs: a psql session through
 * the edge is found through the indexer's HTTP API with each filter, shown as a timeline, sealed
 * when psql quits and verified by {@code gatehouse audit verify} (through the API and from the log),
 * answered in one line by {@code gatehouse audit search}, and published as OCSF; and the store,
 * dropped and rebuilt from the log, gives the same timelines.
 */
class IndexerIT {
    private static final String READ_GROUP = "gatehouse-auditors";

    private final Gateway gw = Gateway.get();
    private final String suffix = UUID.randomUUID().toString().substring(0, 8);
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();

    @Test
    void aPsqlSessionIsSearchableShownSealedVerifiedAndPublishedAsOcsf() throws Exception {
        // Given a psql session: a SELECT with a result, a denied CREATE DATABASE, a SELECT after it
        String subject = "indexer-it-" + suffix;
        String database = "idx_db_" + suffix;
        String script = "SELECT 'row-" + suffix + "' AS marker, 42 AS answer;\n"
                + "CREATE DATABASE " + database + ";\n"
                + "SELECT count(*) AS found FROM pg_database WHERE datname = '" + database + "';\n";
        Gateway.Result psql = gw.psql(subject, "scratch", script, "-v", "ON_ERROR_STOP=0");
        assertThat(psql.stderr()).as(psql.toString()).contains("no-create-drop-database");
        String reader = gw.token("auditor-" + suffix, READ_GROUP);

        // When the session is indexed and ended
        JsonObject session = awaitOne(reader, "subject=" + enc(subject) + "&status=closed", s -> s.getBoolean("sealed"));
        String id = session.getString("sessionId");

        // Then every filter finds it
        assertThat(ids(get(reader, "/sessions?subject=" + enc(subject)).json().getJsonArray("sessions"))).containsExactly(id);
        assertThat(ids(get(reader, "/sessions?object=" + database + "&kind=CREATE_DATABASE").json().getJsonArray("sessions")))
                .containsExactly(id);
        assertThat(ids(get(reader, "/sessions?subject=" + enc(subject) + "&verdict=deny").json().getJsonArray("sessions")))
                .containsExactly(id);
        assertThat(ids(get(reader, "/sessions?subject=" + enc(subject) + "&verdict=mask").json().getJsonArray("sessions")))
                .isEmpty();
        assertThat(ids(get(reader, "/sessions?text=" + enc("row-" + suffix)).json().getJsonArray("sessions")))
                .containsExactly(id);
        // and the summary tells who, where and how it went
        assertThat(session.getJsonObject("identity").getString("subject")).isEqualTo(subject);
        assertThat(session.getJsonObject("identity").getJsonArray("groups").getList()).contains("dba");
        assertThat(session.getJsonObject("connection").getString("name")).isEqualTo("scratch");
        assertThat(session.getLong("commands")).isEqualTo(3);
        assertThat(session.getLong("denied")).isEqualTo(1);
        assertThat(session.getString("endedAt")).isNotNull();

        // and its timeline holds the commands in order with decisions, outcomes and a result sample
        Reply timeline = get(reader, "/sessions/" + id);
        assertThat(timeline.status()).as(timeline.body()).isEqualTo(200);
        List<JsonObject> commands = entries(timeline.json(), "command");
        assertThat(commands).extracting(c -> c.getLong("sequence")).isSorted().hasSize(3);
        assertThat(commands).extracting(c -> c.getString("sql")).containsExactly(
                "SELECT 'row-" + suffix + "' AS marker, 42 AS answer;", "CREATE DATABASE " + database + ";",
                "SELECT count(*) AS found FROM pg_database WHERE datname = '" + database + "';");
        JsonObject select = commands.get(0);
        assertThat(select.getJsonObject("decision").getString("verdict")).isEqualTo("allow");
        assertThat(select.getJsonObject("outcome").getBoolean("forwarded")).isTrue();
        assertThat(select.getJsonObject("outcome").getLong("rows")).isEqualTo(1);
        JsonObject sample = select.getJsonObject("sample");
        assertThat(sample).as(select.encodePrettily()).isNotNull();
        assertThat(sample.getJsonArray("columns").getList()).containsExactly("marker", "answer");
        assertThat(sample.getJsonArray("rows").getJsonArray(0).getList()).containsExactly("row-" + suffix, "42");
        assertThat(sample.getBoolean("truncated")).isFalse();
        JsonObject create = commands.get(1);
        assertThat(create.getJsonObject("decision").getString("verdict")).isEqualTo("deny");
        assertThat(create.getJsonObject("decision").getString("ruleId")).isEqualTo("no-create-drop-database");
        assertThat(create.getJsonObject("outcome").getBoolean("forwarded")).isFalse();
        assertThat(create.getJsonArray("statements").getJsonObject(0).getString("kind")).isEqualTo("CREATE_DATABASE");
        assertThat(create.getJsonObject("sample")).isNull();
        JsonObject after = commands.get(2);
        assertThat(after.getJsonObject("decision").getString("verdict")).isEqualTo("allow");
        assertThat(after.getJsonObject("sample").getJsonArray("rows").getJsonArray(0).getList()).containsExactly("0");
        assertThat(entries(timeline.json(), "event")).extracting(e -> e.getString("event"))
                .contains("SessionOpened", "SessionClosed", "SessionSealed");

        // and the evidence verifies, through the API's export and straight from the log
        Cli verified = cli("audit", "verify", id);
        assertThat(verified.code()).as(verified.toString()).isZero();
        assertThat(verified.out()).startsWith("verified: ").contains("session closed").doesNotContain("NOT verified");
        Cli fromLog = cli("audit", "verify", id, "--from-log");
        assertThat(fromLog.code()).as(fromLog.toString()).isZero();
        assertThat(fromLog.out()).startsWith("verified: ").contains("session closed");

        // and gatehouse audit search answers "who created database X, and when" in one line
        Cli search = cli("audit", "search", "--object", database, "--kind", "CREATE_DATABASE");
        assertThat(search.code()).as(search.toString()).isZero();
        String receivedAt = Instant.parse(create.getString("receivedAt")).truncatedTo(ChronoUnit.SECONDS).toString();
        assertThat(search.out().lines().toList()).singleElement().asString()
                .startsWith(receivedAt).contains("CREATE DATABASE " + database, "by " + subject, "session " + id);

        // and the OCSF topic has a Datastore Activity for the CREATE DATABASE and the logon and logoff
        List<JsonObject> ocsf = awaitOcsf(id, events -> events.stream().anyMatch(e -> e.getInteger("class_uid") == 3002
                && e.getInteger("activity_id") == 2));
        JsonObject datastore = ocsf.stream().filter(e -> e.getInteger("class_uid") == 6005)
                .filter(e -> e.getJsonObject("query_info").getString("query_string").contains("CREATE DATABASE " + database))
                .findFirst().orElseThrow(() -> new AssertionError("no 6005 event for the CREATE DATABASE in " + ocsf));
        assertThat(datastore.getString("disposition")).isEqualTo("Blocked");
        assertThat(datastore.getJsonObject("policy").getString("uid")).isEqualTo("no-create-drop-database");
        assertThat(ocsf).filteredOn(e -> e.getInteger("class_uid") == 3002).extracting(e -> e.getInteger("activity_id"))
                .containsExactly(1, 2);
        assertThat(ocsf).filteredOn(e -> e.getInteger("class_uid") == 6005).hasSize(3);
    }

    @Test
    void aDelegatedSessionIsFoundByOriginatorAndByAnyActorOfItsChainAndShownWithIt() throws Exception {
        // Given an executor agent acting for a person, set going by a planner agent, with a run its issuer signed,
        // through JDBC with a delegation token of the development issuer
        String person = "idx-person-" + suffix;
        String planner = "idx-planner-" + suffix;
        String executor = "executor-agent"; // an agent the example policy names (the current actor is decided on)
        String token = gw.env.issuer().issue(person, List.of("dba"), Duration.ofMinutes(30), Map.of(
                "act", DevTokenIssuer.actClaim(executor, List.of("agents"), List.of(planner)),
                DelegationTrust.DEFAULT_RUN_CLAIM, "run-" + suffix));
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + gw.edgePort()
                + "/scratch?sslmode=disable&connectTimeout=30&socketTimeout=120", executor, token); Statement st = c.createStatement()) {
            st.execute("SELECT 'delegated-" + suffix + "'");
        }
        String reader = gw.token("auditor-" + suffix, READ_GROUP);

        // When it is indexed and ended
        JsonObject session = awaitOne(reader, "originator=" + enc(person) + "&status=closed", s -> s.getBoolean("sealed"));
        String id = session.getString("sessionId");

        // Then the originator and every actor of the chain find it, the originator as an actor does not
        assertThat(ids(get(reader, "/sessions?actor=" + enc(executor) + "&originator=" + enc(person)).json()
                .getJsonArray("sessions"))).containsExactly(id);
        assertThat(ids(get(reader, "/sessions?actor=" + enc(planner) + "&originator=" + enc(person)).json()
                .getJsonArray("sessions"))).containsExactly(id);
        JsonArray commands = get(reader, "/commands?actor=" + enc(planner)).json().getJsonArray("commands");
        assertThat(commands).isNotEmpty().allSatisfy(m -> assertThat(((JsonObject) m).getJsonObject("session")
                .getString("sessionId")).isEqualTo(id));
        assertThat(get(reader, "/sessions?actor=" + enc(person)).json().getJsonArray("sessions")).isEmpty();
        assertThat(get(reader, "/sessions?subject=" + enc(person)).json().getJsonArray("sessions")).isEmpty();
        // and the summary and the opening's text hold the chain and the signed intent
        JsonObject identity = session.getJsonObject("identity");
        assertThat(identity.getString("subject")).isEqualTo(executor);
        assertThat(identity.getJsonObject("delegation").getString("originator")).isEqualTo(person);
        assertThat(identity.getJsonObject("delegation").getJsonArray("earlierActors").getList()).containsExactly(planner);
        assertThat(identity.getJsonObject("intent").getBoolean("verified")).isTrue();
        assertThat(entries(get(reader, "/sessions/" + id).json(), "event")).filteredOn(e -> "SessionOpened".equals(e.getString("event")))
                .singleElement().satisfies(e -> assertThat(e.getString("detail")).startsWith(executor + " for " + person + " via "
                        + planner + " [run run-" + suffix + " (signed by the issuer)] opened a session on scratch"));
        // and gatehouse audit search shows the chain, originator first
        Cli search = cli("audit", "search", "--sessions", "--originator", person, "--actor", planner);
        assertThat(search.code()).as(search.toString()).isZero();
        assertThat(search.out().lines().toList()).singleElement().asString()
                .contains("session " + id, "by " + person + " → " + planner + " → " + executor + " actor-groups=agents",
                        "intent=\"run run-" + suffix + " (signed by the issuer)\"");
    }

    @Test
    void theApiRefusesCallersWithoutATokenOrTheReadGroup() throws Exception {
        // Given a token of a trusted issuer without the read group
        String outsider = gw.token("outsider-" + suffix, "dba");

        // When
        Reply anonymous = get(null, "/sessions");
        Reply forbidden = get(outsider, "/sessions");
        Reply badToken = get("not-a-token", "/sessions");

        // Then
        assertThat(anonymous.status()).as(anonymous.body()).isEqualTo(401);
        assertThat(anonymous.json().getString("error")).isNotBlank();
        assertThat(badToken.status()).as(badToken.body()).isEqualTo(401);
        assertThat(forbidden.status()).as(forbidden.body()).isEqualTo(403);
        assertThat(forbidden.json().getString("error")).contains(READ_GROUP);
    }

    @Test
    void aStoreDroppedAndRebuiltFromTheLogHasIdenticalTimelines() throws Exception {
        // Given an ended session and an indexer that has caught up with the log
        String subject = "rebuild-" + suffix;
        Gateway.Result psql = gw.psql(subject, "scratch", "SELECT 1;\nSELECT 'x' AS y;\n");
        assertThat(psql.exitCode()).as(psql.toString()).isZero();
        String reader = gw.token("auditor-" + suffix, READ_GROUP);
        awaitOne(reader, "subject=" + enc(subject) + "&status=closed", s -> s.getBoolean("sealed"));
        GatehouseRuntime runtime = gw.env.runtime();
        Map<String, String> before = awaitSettled(runtime);
        Path storeDir = gw.dataDir.resolve("indexer");

        // When the indexer stops, its store is deleted and it starts again
        runtime.stopIndexer();
        List<Path> deleted = deleteStoreFiles(storeDir);
        runtime.startIndexer();

        // Then the store is rebuilt from the log to the same timelines
        assertThat(deleted).as("H2 files under " + storeDir).isNotEmpty();
        AtomicReference<Map<String, String>> after = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(120)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            after.set(runtime.indexerStore().digests());
            assertThat(after.get()).hasSameSizeAs(before);
        });
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500))
                .untilAsserted(() -> assertThat(runtime.indexerStore().digests()).isEqualTo(before));
        assertThat(before).hasSizeGreaterThanOrEqualTo(1);
        // and the API serves the rebuilt store on the same URL
        assertThat(ids(get(reader, "/sessions?subject=" + enc(subject)).json().getJsonArray("sessions"))).hasSize(1);
    }

    /** Awaits the indexer having read the whole log and sealed what ended; the digests then. */
    private static Map<String, String> awaitSettled(GatehouseRuntime runtime) {
        AtomicReference<Map<String, String>> last = new AtomicReference<>(Map.of());
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).until(() -> {
            TimelineStore store = runtime.indexerStore();
            if (runtime.indexerProjector().lag() != 0 || !store.pendingSeals().isEmpty()) return false;
            Map<String, String> now = store.digests();
            return now.equals(last.getAndSet(now));
        });
        return last.get();
    }

    private static List<Path> deleteStoreFiles(Path dir) throws IOException {
        List<Path> deleted = new ArrayList<>();
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(f -> f.getFileName().toString().startsWith("timelines")).toList()) {
                Files.delete(f);
                deleted.add(f);
            }
        }
        return deleted;
    }

    /** Awaits exactly one session matching the query and the condition; returns it. */
    private JsonObject awaitOne(String token, String query, java.util.function.Predicate<JsonObject> condition) {
        AtomicReference<JsonObject> found = new AtomicReference<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            Reply reply = get(token, "/sessions?" + query);
            assertThat(reply.status()).as(reply.body()).isEqualTo(200);
            JsonArray sessions = reply.json().getJsonArray("sessions");
            assertThat(sessions).hasSize(1);
            assertThat(condition.test(sessions.getJsonObject(0))).as(sessions.encodePrettily()).isTrue();
            found.set(sessions.getJsonObject(0));
        });
        return found.get();
    }

    /** Reads the OCSF topic from its beginning until the session's events satisfy the condition. */
    private List<JsonObject> awaitOcsf(String sessionId, java.util.function.Predicate<List<JsonObject>> condition) {
        List<JsonObject> events = new ArrayList<>();
        try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, gw.env.kafka().bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), new StringDeserializer())) {
            List<TopicPartition> partitions = consumer.partitionsFor(Topics.AUDIT_OCSF).stream()
                    .map(p -> new TopicPartition(p.topic(), p.partition())).toList();
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ZERO).until(() -> {
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(300))) {
                    if (sessionId.equals(r.key())) events.add(new JsonObject(r.value()));
                }
                return condition.test(events);
            });
        }
        return events;
    }

    private static List<JsonObject> entries(JsonObject timeline, String type) {
        List<JsonObject> found = new ArrayList<>();
        JsonArray all = timeline.getJsonArray("entries");
        for (int i = 0; i < all.size(); i++) {
            if (type.equals(all.getJsonObject(i).getString("type"))) found.add(all.getJsonObject(i));
        }
        return found;
    }

    private static List<String> ids(JsonArray sessions) {
        List<String> ids = new ArrayList<>();
        for (int i = 0; i < sessions.size(); i++) ids.add(sessions.getJsonObject(i).getString("sessionId"));
        return ids;
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    private Reply get(String token, String path) throws IOException, InterruptedException {
        HttpRequest.Builder request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + gw.env.runtime().indexerPort() + "/api/v1" + path)).timeout(Duration.ofSeconds(30)).GET();
        if (token != null) request.header("Authorization", "Bearer " + token);
        HttpResponse<String> response = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
        return new Reply(response.statusCode(), response.body());
    }

    private record Reply(int status, String body) {
        JsonObject json() {
            return new JsonObject(body);
        }
    }

    /** Runs the gatehouse command line in-process against this gateway's data dir (which mints the token). */
    private Cli cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--data-dir", gw.dataDir.toAbsolutePath().toString()));
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cli = GatehouseCli.commandLine();
        cli.setOut(new PrintWriter(out, true));
        cli.setErr(new PrintWriter(err, true));
        int code = cli.execute(all.toArray(String[]::new));
        return new Cli(code, out.toString(), err.toString());
    }

    private record Cli(int code, String out, String err) {
        @Override
        public String toString() {
            return "exit " + code + "\n--- stdout\n" + out + "\n--- stderr\n" + err;
        }
    }
}
