package dev.gatehouse.deploy.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code gatehouse audit search} and {@code gatehouse replay} against a real HTTP server answering per the contract. */
class InvestigateCommandsTest {
    private static final String SESSION = "5d0c2b7e-1f40-4d7a-9a51-3c0f6f1e2a11";

    private HttpServer indexer;
    private final List<String> requests = new CopyOnWriteArrayList<>();
    private String url;

    @BeforeEach
    void startIndexer() throws IOException {
        indexer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        indexer.createContext("/api/v1/", this::answer);
        indexer.start();
        url = "http://127.0.0.1:" + indexer.getAddress().getPort();
    }

    @AfterEach
    void stopIndexer() {
        indexer.stop(0);
    }

    private void answer(HttpExchange exchange) throws IOException {
        requests.add(exchange.getRequestURI().toString());
        String path = exchange.getRequestURI().getPath();
        int status;
        String body;
        if (!"Bearer t0k".equals(exchange.getRequestHeaders().getFirst("Authorization"))) {
            status = 401;
            body = "{\"error\":\"missing or invalid token\"}";
        } else if (path.equals("/api/v1/commands")) {
            status = 200;
            body = Fixtures.text("/replay/commands.json");
        } else if (path.equals("/api/v1/sessions/" + SESSION)) {
            status = 200;
            body = Fixtures.text("/replay/timeline.json");
        } else {
            status = 404;
            body = "{\"error\":\"no such session\"}";
        }
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Test
    void searchPrintsOneLinePerCommandAndPassesTheFilters() {
        // When
        CliRun run = CliRun.run("audit", "search", "--indexer", url, "--token", "t0k", "--kind", "create database",
                "--object", "scratch", "--from", "2026-11-24T00:00:00Z");

        // Then
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(requests).containsExactly(
                "/api/v1/commands?from=2026-11-24T00%3A00%3A00Z&object=scratch&kind=CREATE_DATABASE&limit=50");
        assertThat(run.out().lines().toList()).hasSize(3);
        assertThat(run.out()).contains("2026-11-24T07:02:11Z  CREATE DATABASE scratch  by ci:github-actions repo=acme/infra commit=3f2a1c9")
                .contains("... more: repeat with --before c2");
    }

    @Test
    void searchPassesTheOriginatorAndActorFilters() {
        // When
        CliRun run = CliRun.run("audit", "search", "--indexer", url, "--token", "t0k", "--originator", "alice",
                "--actor", "planner-agent");

        // Then
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(requests).containsExactly("/api/v1/commands?originator=alice&actor=planner-agent&limit=50");
    }

    @Test
    void searchWithJsonPrintsTheAnswer() {
        // When
        CliRun run = CliRun.run("audit", "search", "--indexer", url, "--token", "t0k", "--json");

        // Then
        assertThat(run.code()).isZero();
        assertThat(run.out()).contains("\"commitSha\" : \"3f2a1c9d8e7b6a5f4e3d2c1b0a9f8e7d6c5b4a39\"");
    }

    @Test
    void aRejectedTokenIsReportedWithTheIndexersMessage() {
        // When
        CliRun run = CliRun.run("audit", "search", "--indexer", url, "--token", "wrong");

        // Then
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("indexer API answered 401: missing or invalid token");
    }

    @Test
    void aBadInstantIsRefusedBeforeAsking() {
        // When
        CliRun run = CliRun.run("audit", "search", "--indexer", url, "--token", "t0k", "--from", "yesterday");

        // Then
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("--from must be an ISO-8601 instant");
        assertThat(requests).isEmpty();
    }

    @Test
    void replayPrintsTheTranscript() {
        // When
        CliRun run = CliRun.run("replay", SESSION, "--indexer", url, "--token", "t0k", "--no-wait", "--color", "never");

        // Then
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("Session " + SESSION, "demo=> CREATE DATABASE scratch", "DENIED by rule no-create-drop-database",
                "APPROVAL ap-17 granted, approved by bob", "ERROR 42P01", "… 2m elapsed", "SessionClosed: client terminated",
                "(end of session)").doesNotContain("\u001b[");
    }

    @Test
    void replayOfAnUnknownSessionSaysSo() {
        // When
        CliRun run = CliRun.run("replay", "nope", "--indexer", url, "--token", "t0k", "--no-wait");

        // Then
        assertThat(run.code()).isEqualTo(1);
        assertThat(run.err()).contains("no session nope in the indexer");
    }

    @Test
    void executeRefusesToRunWithoutATarget() {
        // When
        CliRun run = CliRun.run("replay", SESSION, "--indexer", url, "--token", "t0k", "--execute");

        // Then
        assertThat(run.code()).isEqualTo(2);
        assertThat(run.err()).contains("--execute needs --target");
        assertThat(requests).isEmpty();
    }
}
