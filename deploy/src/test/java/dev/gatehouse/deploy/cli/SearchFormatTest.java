package dev.gatehouse.deploy.cli;

import dev.gatehouse.indexer.projection.InMemoryTimelines;
import dev.gatehouse.indexer.projection.TimelineJson;
import dev.gatehouse.indexer.projection.TimelineProjection;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.identity.IssuerKind;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class SearchFormatTest {

    @Test
    void aCiCommandAnswersWhoCreatedTheDatabaseInOneLine() {
        // Given
        JsonObject match = Fixtures.json("/replay/commands.json").getJsonArray("commands").getJsonObject(0);

        // When
        String line = SearchFormat.commandLine(match);

        // Then
        assertThat(line).isEqualTo("2026-11-24T07:02:11Z  CREATE DATABASE scratch  by ci:github-actions repo=acme/infra commit=3f2a1c9 "
                + "run=https://github.com/acme/infra/actions/runs/9912 (subject repo:acme/infra:ref:refs/heads/main)  on demo  "
                + "session 5d0c2b7e-1f40-4d7a-9a51-3c0f6f1e2a11  allow");
    }

    @Test
    void aGitHubActionsJobIsNamedAsTheIndexerRecordsItsIssuerKind() {
        // Given
        // a session opened with a GitHub Actions token (ClaimMapping names the system by the issuer
        // kind), projected by the indexer and served as JSON
        String session = "5d0c2b7e-1f40-4d7a-9a51-3c0f6f1e2a11";
        CiProvenance ci = new CiProvenance(IssuerKind.GITHUB_ACTIONS.configName(), "acme/infra", "42",
                "3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39", "refs/heads/main", "deploy", "9912", "77");
        Identity identity = new Identity("repo:acme/infra:ref:refs/heads/main", "https://token.actions.githubusercontent.com",
                List.of(), List.of(), Map.of(), ci);
        InMemoryTimelines timelines = new InMemoryTimelines();
        TimelineProjection.apply(new AuditEvent.SessionOpened(new EventHeader("e1", new SessionId(session),
                        Instant.parse("2026-11-24T07:02:10Z"), "edge", "dev-edge"), identity,
                new ConnectionRef("demo", "postgres", "127.0.0.1:15433/demo", Map.of()), "10.0.0.7", "alice", "psql",
                "enforce", false), 0, timelines);
        JsonObject summary = new JsonObject(TimelineJson.write(timelines.session(session).orElseThrow()));

        // When
        String who = SearchFormat.identity(summary.getJsonObject("identity"));

        // Then
        assertThat(who).isEqualTo("ci:github-actions repo=acme/infra commit=3f2a1c9 "
                + "run=https://github.com/acme/infra/actions/runs/9912 (subject repo:acme/infra:ref:refs/heads/main)");
    }

    @Test
    void aDelegatedSessionShowsItsChainOriginatorFirstAndItsUnverifiedIntent() {
        // Given executor-agent acting for alice, set going by planner-agent, with a run it declared itself,
        // projected by the indexer and served as JSON
        String session = "d-1";
        Identity identity = new Identity("executor-agent", "http://127.0.0.1:18080", List.of("agents"), List.of(), Map.of(),
                null, new Delegation("alice", "http://127.0.0.1:18080", List.of("dba"), List.of(), List.of("planner-agent"),
                "act"), new DeclaredIntent("r-17", "4", false, DeclaredIntent.CONNECTION_PARAMETER));
        InMemoryTimelines timelines = new InMemoryTimelines();
        TimelineProjection.apply(new AuditEvent.SessionOpened(new EventHeader("e1", new SessionId(session),
                        Instant.parse("2026-11-24T07:02:10Z"), "edge", "dev-edge"), identity,
                new ConnectionRef("demo", "postgres", "127.0.0.1:15433/demo", Map.of()), "10.0.0.7", "executor", "psql",
                "enforce", false), 0, timelines);
        JsonObject summary = new JsonObject(TimelineJson.write(timelines.session(session).orElseThrow()));

        // When
        String line = SearchFormat.sessionLine(summary);
        JsonObject undescribed = summary.getJsonObject("identity").copy();
        undescribed.getJsonObject("intent").remove("description");

        // Then
        assertThat(line).isEqualTo("2026-11-24T07:02:10Z  session d-1  open  by alice → planner-agent → executor-agent "
                + "actor-groups=agents issuer=http://127.0.0.1:18080 intent=\"run r-17 step 4 (unverified: declared by the client)\""
                + "  on demo  0 commands");
        assertThat(SearchFormat.identity(undescribed)).endsWith("intent=\"run r-17 step 4 (unverified: declared by the client)\"");
    }

    @Test
    void aPersonIsShownWithGroupsAndIssuerAndADenialWithItsRule() {
        // Given
        JsonObject match = Fixtures.json("/replay/commands.json").getJsonArray("commands").getJsonObject(1);

        // When
        String line = SearchFormat.commandLine(match);

        // Then
        assertThat(line).startsWith("2026-11-23T10:00:05Z  DROP DATABASE scratch  by alice groups=dba,ops issuer=http://127.0.0.1:18080")
                .endsWith("session 77aa  deny (rule no-create-drop-database) -> error 42501")
                .doesNotContain("\n");
    }

    @Test
    void aCommandTheEdgeRefusedShowsTheRefusalWhereTheDecisionWouldBe() {
        // Given
        JsonObject match = Fixtures.json("/replay/commands.json").getJsonArray("commands").getJsonObject(1).copy();
        JsonObject command = match.getJsonObject("command");
        command.remove("decision");
        command.put("refusal", "client_encoding is pinned to UTF8");

        // When
        String line = SearchFormat.commandLine(match);

        // Then
        assertThat(line).endsWith("session 77aa  refused by gatehouse: client_encoding is pinned to UTF8 -> error 42501");
    }

    @Test
    void aSessionLineCountsItsMarks() {
        // Given
        JsonObject session = Fixtures.json("/replay/timeline.json").getJsonObject("session");

        // When
        String line = SearchFormat.sessionLine(session);

        // Then
        assertThat(line).isEqualTo("2026-11-24T07:02:10Z  session 5d0c2b7e-1f40-4d7a-9a51-3c0f6f1e2a11  closed  by ci:github-actions "
                + "repo=acme/infra commit=3f2a1c9 run=https://github.com/acme/infra/actions/runs/9912 "
                + "(subject repo:acme/infra:ref:refs/heads/main)  on demo  6 commands (1 denied, 1 approval(s), 1 masked)  "
                + "ended 2026-11-24T07:05:30Z  sealed");
    }

    @Test
    void longSqlIsCutToOneLine() {
        // Given
        String sql = "SELECT " + "x, ".repeat(60) + "\n y FROM t";

        // When
        String line = SearchFormat.oneLine(sql, SearchFormat.SQL_WIDTH);

        // Then
        assertThat(line).hasSize(SearchFormat.SQL_WIDTH).endsWith("…").doesNotContain("\n");
    }
}
