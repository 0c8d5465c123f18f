package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.cli.GatehouseCli;
import dev.gatehouse.deploy.dev.DevEnvironment;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

/**
 * Sessions through the gateway, found with {@code gatehouse audit search}, shown with
 * {@code gatehouse replay} and re-run with {@code gatehouse replay --execute} against another
 * database of the same embedded PostgreSQL, where the outcome changed.
 */
class ReplayIT {
    private final Gateway gw = Gateway.get();
    private final String suffix = UUID.randomUUID().toString().substring(0, 8);

    @Test
    void aPsqlSessionIsFoundReplayedAndReExecutedWithTheDifferenceReported() throws Exception {
        // Given a psql session on the scratch connection, ending with a denied statement
        String subject = "replayer-" + suffix;
        String src = "replay_src_" + suffix;
        String dst = "replay_dst_" + suffix;
        String script = "CREATE TABLE " + src + " (id int);\n"
                + "INSERT INTO " + src + " VALUES (1), (2), (3);\n"
                + "CREATE TABLE " + dst + " (id int);\n"
                + "INSERT INTO " + dst + " SELECT id FROM " + src + " WHERE id > 1;\n"
                + "SELECT count(*) FROM " + dst + ";\n"
                + "DROP DATABASE scratch;\n";
        var psql = gw.psql(subject, "scratch", script, "-v", "ON_ERROR_STOP=0");
        assertThat(psql.stderr()).as(psql.toString()).contains("no-create-drop-database");
        String session = awaitIndexed(subject, 6);
        // and a replay target where the source table exists already, refusing ids >= 3
        String target = scratchDatabase("replay_psql_" + suffix, "CREATE TABLE " + src + " (id int CHECK (id < 3))");

        // When
        Cli found = cli("audit", "search", "--subject", subject, "--text", "INSERT INTO " + dst);
        Cli shown = cli("replay", session, "--no-wait", "--color", "never");
        Cli executed = cli("replay", session, "--execute", "--target", target);

        // Then
        assertThat(found.code).as(found.toString()).isZero();
        assertThat(found.out.lines().toList()).hasSize(1);
        assertThat(found.out).contains("INSERT INTO " + dst + " SELECT id FROM " + src + " WHERE id > 1")
                .contains("  by " + subject + " groups=dba").contains("session " + session + "  allow");
        assertThat(shown.code).as(shown.toString()).isZero();
        assertThat(shown.out).contains("Session " + session, "who         " + subject, "scratch=> CREATE TABLE " + src,
                "INSERT 0 2", "DENIED by rule no-create-drop-database", "(end of session)");
        assertThat(executed.code).as(executed.toString()).isEqualTo(6);
        assertThat(executed.err).contains("WARNING", "must be a SCRATCH database").doesNotContain("password");
        List<String> lines = executed.out.lines().toList();
        assertThat(lines).hasSize(7);
        assertThat(lines.get(0)).contains("DIFFERS", "CREATE TABLE " + src, "error now 42P07", "recorded \"CREATE TABLE\"");
        assertThat(lines.get(1)).contains("DIFFERS", "error now 23514", "recorded \"INSERT 0 3\"");
        assertThat(lines.get(2)).contains("same", "CREATE TABLE " + dst);
        assertThat(lines.get(3)).contains("DIFFERS", "recorded \"INSERT 0 2\", now \"INSERT 0 0\"");
        assertThat(lines.get(4)).contains("same", "SELECT 1");
        assertThat(lines.get(5)).contains("skipped", "DROP DATABASE scratch", "denied by rule no-create-drop-database");
        assertThat(lines.get(6)).isEqualTo("replayed 5 of 6 commands: 2 same, 3 differ, 1 skipped");
    }

    @Test
    void aJdbcSessionWithParametersReplaysTheSame() throws Exception {
        // Given a JDBC (extended protocol) session with bound parameters
        String subject = "jdbc-replayer-" + suffix;
        String table = "replay_jdbc_" + suffix;
        try (Connection c = gw.jdbc("scratch", subject, "dba"); Statement s = c.createStatement()) {
            s.execute("CREATE TABLE " + table + " (id int PRIMARY KEY, name text, born date)");
            try (PreparedStatement ps = c.prepareStatement("INSERT INTO " + table + " VALUES (?, ?, ?)")) {
                ps.setInt(1, 1);
                ps.setString(2, "ada");
                ps.setDate(3, java.sql.Date.valueOf("1815-12-10"));
                ps.executeUpdate();
                ps.setInt(1, 2);
                ps.setNull(2, java.sql.Types.VARCHAR);
                ps.setNull(3, java.sql.Types.DATE);
                ps.executeUpdate();
            }
            try (PreparedStatement ps = c.prepareStatement("UPDATE " + table + " SET name = ? WHERE id >= ?")) {
                ps.setString(1, "x");
                ps.setInt(2, 1);
                assertThat(ps.executeUpdate()).isEqualTo(2);
            }
        }
        String session = awaitIndexed(subject, 4);
        String target = scratchDatabase("replay_jdbc_" + suffix, null);

        // When
        Cli executed = cli("replay", session, "--execute", "--target", target);

        // Then
        assertThat(executed.code).as(executed.toString()).isZero();
        // (the driver may add a command of its own on connect: it replays the same too)
        assertThat(executed.out).contains("INSERT 0 1", "UPDATE 2").containsPattern("replayed (\\d+) of \\1 commands: \\1 same, 0 differ, 0 skipped");
    }

    /** Waits until the indexer shows the subject's session with at least that many commands, all completed; returns its id. */
    private String awaitIndexed(String subject, int commands) {
        List<String> found = new ArrayList<>();
        await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(500)).untilAsserted(() -> {
            Cli search = cli("audit", "search", "--sessions", "--subject", subject, "--json");
            assertThat(search.code).as(search.toString()).isZero();
            JsonArray sessions = new JsonObject(search.out).getJsonArray("sessions");
            assertThat(sessions).hasSize(1);
            String id = sessions.getJsonObject(0).getString("sessionId");
            Cli timeline = cli("replay", id, "--no-wait", "--color", "never");
            assertThat(sessions.getJsonObject(0).getLong("commands")).isGreaterThanOrEqualTo(commands);
            assertThat(timeline.out).doesNotContain("no outcome recorded");
            found.clear();
            found.add(id);
        });
        return found.getFirst();
    }

    /** A fresh database on the embedded PostgreSQL, optionally prepared with one statement; its JDBC URL. */
    private String scratchDatabase(String name, String setup) throws Exception {
        try (Connection c = gw.targetDirect("postgres"); Statement s = c.createStatement()) {
            s.execute("CREATE DATABASE " + name);
        }
        if (setup != null) {
            try (Connection c = gw.targetDirect(name); Statement s = c.createStatement()) {
                s.execute(setup);
            }
        }
        return gw.env.target().superuserJdbcUrl(name);
    }

    /** Runs the gatehouse command line in-process, as the local dev's operator (the dev data dir mints the token). */
    private Cli cli(String... args) {
        String url = DevEnvironment.readState(gw.dataDir).getProperty("indexer.url");
        assertThat(url).as("gatehouse dev wrote no indexer.url into " + DevEnvironment.STATE_FILE
                + ": is the INDEXER role wired into gatehouse dev?").isNotNull();
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
