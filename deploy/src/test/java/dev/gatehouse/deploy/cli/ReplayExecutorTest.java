package dev.gatehouse.deploy.cli;

import dev.gatehouse.deploy.dev.DemoTarget;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static dev.gatehouse.deploy.cli.ReplayExecutor.Status.DIFFERS;
import static dev.gatehouse.deploy.cli.ReplayExecutor.Status.SAME;
import static dev.gatehouse.deploy.cli.ReplayExecutor.Status.SKIPPED;
import static org.assertj.core.api.Assertions.assertThat;

/** The comparison, pure, and a replay against a real (embedded) PostgreSQL. */
class ReplayExecutorTest {
    @TempDir
    static Path dir;
    private static DemoTarget postgres;

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = DemoTarget.start(dir.resolve("pg"), 0);
        try (Connection c = DriverManager.getConnection(postgres.superuserJdbcUrl("postgres")); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE replay_unit");
        }
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) postgres.close();
    }

    @Test
    void theCountOfTheRecordedTagIsReplacedByTodays() {
        // When
        List<String> tags = ReplayExecutor.tags(List.of("BEGIN", "INSERT 0 3", "COMMIT"), List.of(new ReplayExecutor.Result(false, 0),
                new ReplayExecutor.Result(false, 0), new ReplayExecutor.Result(false, 0), new ReplayExecutor.Result(true, 2)));

        // Then
        assertThat(tags).containsExactly("BEGIN", "INSERT 0 0", "COMMIT", "SELECT 2");
    }

    @Test
    void outcomesCompareByTagsOrBySqlState() {
        // Given
        ReplayExecutor.Outcome inserted3 = new ReplayExecutor.Outcome(List.of("INSERT 0 3"), null, null);
        ReplayExecutor.Outcome inserted0 = new ReplayExecutor.Outcome(List.of("INSERT 0 0"), null, null);
        ReplayExecutor.Outcome missing = new ReplayExecutor.Outcome(List.of(), "42P01", "relation \"t\" does not exist");
        ReplayExecutor.Outcome duplicate = new ReplayExecutor.Outcome(List.of(), "23505", "duplicate key");

        // When / Then
        assertThat(ReplayExecutor.compare(1, "q", inserted3, inserted3).status()).isEqualTo(SAME);
        assertThat(ReplayExecutor.compare(1, "q", inserted3, inserted0).detail()).isEqualTo("recorded \"INSERT 0 3\", now \"INSERT 0 0\"");
        assertThat(ReplayExecutor.compare(1, "q", missing, missing).status()).isEqualTo(SAME);
        assertThat(ReplayExecutor.compare(1, "q", missing, duplicate).detail())
                .isEqualTo("error now 23505 (duplicate key), error recorded 42P01");
        assertThat(ReplayExecutor.compare(1, "q", inserted3, missing).detail())
                .isEqualTo("error now 42P01 (relation \"t\" does not exist), recorded \"INSERT 0 3\"");
        assertThat(ReplayExecutor.compare(1, "q", missing, inserted0).detail())
                .isEqualTo("error recorded 42P01 (relation \"t\" does not exist), now \"INSERT 0 0\"");
    }

    @Test
    void aRecordedSessionIsReRunAndComparedStatementByStatement() throws Exception {
        // Given
        JsonArray entries = new JsonArray()
                .add(new JsonObject().put("type", "event").put("event", "SessionOpened"))
                .add(command(1, "simple", "CREATE TABLE items (id int PRIMARY KEY, name text)", List.of(), "CREATE TABLE"))
                .add(command(2, "extended", "INSERT INTO items(id, name) VALUES ($1, $2)", Arrays.asList("7", null), "INSERT 0 1"))
                .add(command(3, "simple", "BEGIN; INSERT INTO items VALUES (8, 'x'); COMMIT", List.of(), "BEGIN", "INSERT 0 1", "COMMIT"))
                .add(command(4, "simple", "DELETE FROM items WHERE id = 99", List.of(), "DELETE 1"))
                .add(failed(5, "SELECT * FROM nope", "42P01"))
                .add(command(6, "simple", "INSERT INTO items VALUES (7, 'again')", List.of(), "INSERT 0 1"))
                .add(denied(7, "DROP TABLE items"))
                .add(command(8, "extended", "SELECT id FROM items WHERE id = $1 AND name IS NULL", List.of("7"), "SELECT 1"));
        List<ReplayExecutor.Step> reported = new ArrayList<>();

        // When
        List<ReplayExecutor.Step> steps;
        try (Connection c = DriverManager.getConnection(postgres.superuserJdbcUrl("replay_unit"))) {
            steps = ReplayExecutor.run(c, entries, reported::add);
        }

        // Then
        assertThat(reported).isEqualTo(steps);
        assertThat(steps).extracting(ReplayExecutor.Step::status)
                .containsExactly(SAME, SAME, SAME, DIFFERS, SAME, DIFFERS, SKIPPED, SAME);
        assertThat(steps.get(3).detail()).isEqualTo("recorded \"DELETE 1\", now \"DELETE 0\"");
        assertThat(steps.get(5).detail()).startsWith("error now 23505 (").endsWith("recorded \"INSERT 0 1\"");
        assertThat(steps.get(6).detail()).isEqualTo("denied by rule no-drop, never forwarded");
        assertThat(ExecutionReport.summary(steps)).isEqualTo("replayed 7 of 8 commands: 5 same, 2 differ, 1 skipped");
        assertThat(ExecutionReport.line(steps.get(3))).isEqualTo(
                "#4    DIFFERS  DELETE FROM items WHERE id = 99  recorded \"DELETE 1\", now \"DELETE 0\"");
    }

    @Test
    void eachRecordedStatementIsReplayedWithItsOwnParameters() throws Exception {
        // Given: an extended batch whose statements each bind their own $1 and $2 (joined, their
        // parameters would not line up), a PREPARE and an EXECUTE sent as simple queries, and the
        // shapes that are not replayed
        JsonObject batch = command(2, "extended",
                "INSERT INTO things(id, name) VALUES ($1, $2)\n;\nUPDATE things SET name = $1 WHERE id = $2",
                List.of("9", "nine", "NINE", "9"), "INSERT 0 1", "UPDATE 1")
                .put("statements", new JsonArray()
                        // pgjdbc asks for one row of every INSERT or UPDATE: a limit that suspends nothing
                        .add(TranscriptTest.run("EXECUTE", "INSERT INTO things(id, name) VALUES ($1, $2)", "", "",
                                List.of("9", "nine"), 1, false, null))
                        .add(TranscriptTest.run("BIND", "SELECT 1", "", "", List.of(), 0, false, null))
                        .add(TranscriptTest.run("EXECUTE", "UPDATE things SET name = $1 WHERE id = $2", "S_1", "",
                                List.of("NINE", "9"), 0, false, null)));
        JsonObject execute = command(4, "simple", "EXECUTE named(9)", List.of("9"), "SELECT 1")
                .put("statements", new JsonArray().add(TranscriptTest.run("QUERY",
                        "SELECT name FROM things WHERE id = $1 AND name = 'NINE'", "named", null, List.of("9"), 0, false,
                        "EXECUTE named(9)")));
        JsonObject refused = command(5, "simple", "SET standard_conforming_strings = off", List.of())
                .put("refusal", "standard_conforming_strings is pinned to on by Gatehouse");
        refused.remove("decision");
        refused.getJsonObject("outcome").put("forwarded", false).put("sqlState", "42501");
        // suspended by its row limit (no tag), then continued in a later batch
        JsonObject suspended = command(6, "extended", "SELECT * FROM things", List.of())
                .put("statements", new JsonArray().add(TranscriptTest.run("EXECUTE", "SELECT * FROM things", "", "C_1",
                        List.of(), 5, false, null)));
        JsonObject continued = command(7, "extended", "SELECT * FROM things", List.of(), "SELECT 1")
                .put("statements", new JsonArray().add(TranscriptTest.run("EXECUTE", "SELECT * FROM things", "", "C_1",
                        List.of(), 0, true, null)));
        JsonObject boundOnly = command(8, "extended", "SELECT 1", List.of())
                .put("statements", new JsonArray().add(TranscriptTest.run("BIND", "SELECT 1", "", "", List.of(), 0,
                        false, null)));
        JsonObject newer = command(9, "extended", "SELECT 1", List.of(), "SELECT 1")
                .put("statements", new JsonArray().add(TranscriptTest.run("UNKNOWN", "SELECT 1", null, null, List.of(),
                        0, false, null)));
        JsonArray entries = new JsonArray()
                .add(command(1, "simple", "CREATE TABLE things (id int PRIMARY KEY, name text)", List.of(), "CREATE TABLE"))
                .add(batch)
                .add(command(3, "simple", "PREPARE named(int) AS SELECT name FROM things WHERE id = $1 AND name = 'NINE'",
                        List.of(), "PREPARE"))
                .add(execute).add(refused).add(suspended).add(continued).add(boundOnly).add(newer);

        // When
        List<ReplayExecutor.Step> steps;
        try (Connection c = DriverManager.getConnection(postgres.superuserJdbcUrl("replay_unit"))) {
            steps = ReplayExecutor.run(c, entries, step -> { });
        }

        // Then
        assertThat(steps).extracting(ReplayExecutor.Step::status)
                .containsExactly(SAME, SAME, SAME, SAME, SKIPPED, SKIPPED, SKIPPED, SKIPPED, SKIPPED);
        assertThat(steps.get(1).detail()).isEqualTo("INSERT 0 1; UPDATE 1");
        assertThat(steps.get(3).detail()).isEqualTo("SELECT 1");
        assertThat(steps.get(4).detail())
                .isEqualTo("refused by gatehouse: standard_conforming_strings is pinned to on by Gatehouse, never forwarded");
        assertThat(steps.get(5).detail()).startsWith("a portal run in parts");
        assertThat(steps.get(6).detail()).startsWith("a portal run in parts");
        assertThat(steps.get(7).detail()).isEqualTo("only bound, nothing executed");
        assertThat(steps.get(8).detail()).contains("step UNKNOWN");
    }

    private static JsonObject command(int sequence, String form, String sql, List<String> parameters, String... tags) {
        return new JsonObject().put("type", "command").put("sequence", sequence).put("form", form).put("sql", sql)
                .put("parameters", new JsonArray(new ArrayList<>(parameters)))
                .put("decision", new JsonObject().put("verdict", "allow").put("ruleId", "default"))
                .put("outcome", new JsonObject().put("forwarded", true).put("tags", new JsonArray(List.of((Object[]) tags))));
    }

    private static JsonObject failed(int sequence, String sql, String sqlState) {
        JsonObject c = command(sequence, "simple", sql, List.of());
        c.getJsonObject("outcome").put("sqlState", sqlState).put("error", "recorded failure");
        return c;
    }

    private static JsonObject denied(int sequence, String sql) {
        JsonObject c = command(sequence, "simple", sql, List.of());
        c.put("decision", new JsonObject().put("verdict", "deny").put("ruleId", "no-drop"));
        c.getJsonObject("outcome").put("forwarded", false).put("sqlState", "42501");
        return c;
    }
}
