package dev.gatehouse.deploy.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class TranscriptTest {
    private final JsonObject timeline = Fixtures.json("/replay/timeline.json");
    private final JsonArray entries = timeline.getJsonArray("entries");

    @Test
    void theHeaderShowsIdentityCiProvenanceConnectionAndTimes() {
        // When
        String header = String.join("\n", new Transcript(false).header(timeline.getJsonObject("session")));

        // Then
        assertThat(header)
                .contains("Session 5d0c2b7e-1f40-4d7a-9a51-3c0f6f1e2a11  closed  sealed")
                .contains("who         repo:acme/infra:ref:refs/heads/main  groups ci  issuer https://token.actions.githubusercontent.com")
                .contains("CI          github-actions  acme/infra  commit 3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39  ref refs/heads/main"
                        + "  workflow deploy  job migrate  actor octocat")
                .contains("CI run      https://github.com/acme/infra/actions/runs/9912")
                .contains("connection  demo (database demo, postgres)  from 10.0.0.7:51234  via edge dev-edge")
                .contains("time        2026-11-24T07:02:10Z to 2026-11-24T07:05:30Z (3m19s)  client terminated");
    }

    @Test
    void theHeaderOfADelegatedSessionShowsTheOriginatorTheChainAndTheIntentMarkedUnverified() {
        // Given the session as executor-agent acting for alice, set going by planner-agent, with a run it declared
        JsonObject session = timeline.getJsonObject("session").copy();
        session.put("identity", new JsonObject().put("subject", "executor-agent").put("issuer", "http://127.0.0.1:18080")
                .put("groups", new JsonArray().add("agents"))
                .put("delegation", new JsonObject().put("originator", "alice").put("earlierActors", new JsonArray().add("planner-agent"))
                        .put("via", "act"))
                .put("intent", new JsonObject().put("runId", "r-17").put("verified", false)));

        // When
        String header = String.join("\n", new Transcript(false).header(session));

        // Then
        assertThat(header)
                .contains("who         executor-agent  groups agents  issuer http://127.0.0.1:18080")
                .contains("for         alice  (chain alice → planner-agent → executor-agent, actor named in act)")
                .contains("intent      run r-17 (unverified: declared by the client)");
    }

    @Test
    void aDenialShowsTheRuleAndReason() {
        // When
        List<String> lines = new Transcript(false).entry(entries.getJsonObject(1), "demo=>");

        // Then
        assertThat(lines).contains("demo=> CREATE DATABASE scratch",
                "  DENIED by rule no-create-drop-database: creating or dropping databases is not allowed through Gatehouse"
                        + " (policy version 3)",
                "  (not forwarded to the target)");
    }

    @Test
    void anExtendedCommandShowsItsParametersAndTag() {
        // When
        List<String> lines = new Transcript(false).entry(entries.getJsonObject(2), "demo=>");

        // Then
        assertThat(lines).containsSequence("demo=> INSERT INTO items(id, name) VALUES ($1, $2)", "  parameters: $1='7'  $2=NULL",
                "  dry run would have decided: deny by rule trial-prod-writes-only-by-dba", "INSERT 0 1  1.5 ms");
    }

    @Test
    void aMaskedSampleIsATableWithTruncationMarked() {
        // When
        List<String> lines = new Transcript(false).entry(entries.getJsonObject(3), "demo=>");

        // Then
        assertThat(lines).containsSequence(
                "  MASKED profile pii by rule mask-pii (policy version 3)",
                " id | email",
                "----+------------------",
                " 1  | a***@example.com",
                " 2  | NULL",
                "(2 rows captured; TRUNCATED: the result had more rows or bytes than the capture limit; masked)",
                "SELECT 3  2.1 ms");
    }

    @Test
    void anApprovalShowsWhoApproved() {
        // When
        List<String> lines = new Transcript(false).entry(entries.getJsonObject(4), "demo=>");

        // Then
        assertThat(lines).contains("  APPROVAL required by rule deletes-need-approval: deletes in demo need a second pair of eyes"
                + " (policy version 3)", "  APPROVAL ap-17 granted, approved by bob", "DELETE 1  900 µs");
    }

    @Test
    void anErrorShowsItsSqlState() {
        // When
        List<String> lines = new Transcript(false).entry(entries.getJsonObject(5), "demo=>");

        // Then
        assertThat(lines).contains("ERROR 42P01: relation \"nope\" does not exist  300 µs");
    }

    /** A statement of a command recorded statement by statement, as the indexer serves it. */
    static JsonObject run(String step, String sql, String statement, String portal, List<String> parameters,
                          long rowLimit, boolean continued, String via) {
        return new JsonObject().put("kind", "UPDATE").put("objects", new JsonArray()).put("step", step).put("sql", sql)
                .put("statementName", statement).put("portalName", portal)
                .put("parameters", new JsonArray(new ArrayList<>(parameters))).put("rowLimit", rowLimit)
                .put("continued", continued).put("via", via);
    }

    @Test
    void anExtendedBatchShowsEachStatementWithItsOwnParameters() {
        // Given
        JsonObject batch = new JsonObject().put("type", "command").put("at", "2026-11-24T07:04:00Z").put("sequence", 9)
                .put("form", "extended").put("sql", "UPDATE orders SET state = $1 WHERE id = $2\n;\nSELECT * FROM orders WHERE id > $1")
                .put("parameters", new JsonArray().add("paid").addNull().add("10"))
                .put("statements", new JsonArray()
                        .add(run("EXECUTE", "UPDATE orders SET state = $1 WHERE id = $2", "", "",
                                java.util.Arrays.asList("paid", null), 0, false, null))
                        .add(run("EXECUTE", "SELECT * FROM orders WHERE id > $1", "S_1", "C_2", List.of("10"), 50, true, null)))
                .put("decision", new JsonObject().put("verdict", "allow").put("ruleId", "default"))
                .put("outcome", new JsonObject().put("forwarded", true).put("tags", new JsonArray().add("UPDATE 1"))
                        .put("sqlState", "22012").put("error", "division by zero").put("statementsRun", 1));

        // When
        List<String> lines = new Transcript(false).entry(batch, "demo=>");

        // Then
        assertThat(lines).containsSequence(
                "demo=> UPDATE orders SET state = $1 WHERE id = $2",
                "  execute, statement \"\", portal \"\"",
                "  parameters: $1='paid'  $2=NULL",
                "demo=> SELECT * FROM orders WHERE id > $1",
                "  execute, statement \"S_1\", portal \"C_2\", continued, row limit 50",
                "  parameters: $1='10'");
        assertThat(lines).contains("  (1 of 2 statements ran)").noneMatch(l -> l.contains("$3"));
    }

    @Test
    void aSimpleQueryShowsItsTextAndWhatItRunsThroughAPreparedStatement() {
        // Given: EXECUTE pay(...) as sent, recorded as the prepared INSERT it runs, refused by the edge
        JsonObject execute = new JsonObject().put("type", "command").put("at", "2026-11-24T07:04:00Z").put("sequence", 10)
                .put("form", "simple").put("sql", "EXECUTE pay('refund', 40)")
                .put("parameters", new JsonArray().add("'refund'").add("40"))
                .put("statements", new JsonArray().add(run("QUERY", "INSERT INTO payouts (note, amount) VALUES ($1, $2)",
                        "pay", null, List.of("'refund'", "40"), 0, false, "EXECUTE pay('refund', 40)")))
                .put("refusal", "a prepared statement the edge cannot tie to analysed SQL")
                .put("outcome", new JsonObject().put("forwarded", false).put("sqlState", "42501")
                        .put("error", "gatehouse: refused"));

        // When
        List<String> lines = new Transcript(false).entry(execute, "demo=>");

        // Then
        assertThat(lines).containsSequence(
                "demo=> EXECUTE pay('refund', 40)",
                "  runs (statement \"pay\", via EXECUTE pay('refund', 40)): INSERT INTO payouts (note, amount) VALUES ($1, $2)",
                "    parameters: $1='''refund'''  $2='40'",
                "  refused by gatehouse: a prepared statement the edge cannot tie to analysed SQL",
                "  (not forwarded to the target)");
        assertThat(lines).noneMatch(l -> l.contains("no outcome recorded"));
    }

    @Test
    void coloursOnlyWhenAsked() {
        // When
        String plain = String.join("\n", new Transcript(false).entry(entries.getJsonObject(1), "demo=>"));
        String coloured = String.join("\n", new Transcript(true).entry(entries.getJsonObject(1), "demo=>"));

        // Then
        assertThat(plain).doesNotContain("\u001b[");
        assertThat(coloured).contains("\u001b[31m  DENIED by rule");
    }

    @Test
    void playingWaitsTheOriginalTimingDividedByTheSpeedAndAnnouncesLongGaps() throws InterruptedException {
        // Given
        StringWriter text = new StringWriter();
        List<Duration> waits = new ArrayList<>();

        // When
        ReplayCommand.play(timeline, new Transcript(false), new PrintWriter(text), waits::add, 2.0);

        // Then
        assertThat(waits).containsExactly(Duration.ofMillis(600), Duration.ofMillis(500), Duration.ofMillis(1000),
                Duration.ofMillis(2500), Duration.ofMillis(2500), Duration.ofMillis(2500));
        assertThat(text.toString()).contains("… 2m elapsed", "… 26s elapsed", "… 49s elapsed").endsWith("(end of session)" + System.lineSeparator());
        assertThat(text.toString().indexOf("CREATE DATABASE")).isLessThan(text.toString().indexOf("INSERT INTO items"));
    }
}
