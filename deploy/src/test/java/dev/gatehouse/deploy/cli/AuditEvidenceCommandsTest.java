package dev.gatehouse.deploy.cli;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.evidence.SessionChain;
import dev.gatehouse.platform.evidence.SessionExport;
import dev.gatehouse.platform.evidence.SessionRecord;
import dev.gatehouse.platform.evidence.SessionSealer;
import dev.gatehouse.platform.evidence.SigningKeys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code gatehouse audit export} and {@code gatehouse audit verify} against a real HTTP server serving a real export. */
class AuditEvidenceCommandsTest {
    private static final String SESSION = "7b1e0c52-90aa-4c1e-8f0e-1d2c3b4a5f60";

    @TempDir
    Path dir;

    private final SigningKeys keys = SigningKeys.generate();
    private HttpServer indexer;
    private String url;
    private String export;

    @BeforeEach
    void startIndexer() throws IOException {
        AuditEventCodec codec = new AuditEventCodec();
        List<SessionRecord> records = new ArrayList<>();
        for (int i = 0; i < 3; i++) {
            EventHeader header = new EventHeader("e" + i, new SessionId(SESSION), Instant.parse("2025-03-01T10:00:00Z")
                    .plusSeconds(i), "edge", "edge-1");
            AuditEvent event = i < 2 ? new AuditEvent.CancelRequested(header, "10.0.0.1", i == 0)
                    : new AuditEvent.SessionClosed(header, "client terminated", 0, Duration.ofSeconds(2));
            records.add(new SessionRecord(0, 40 + i, "e" + i, codec.encode(event)));
        }
        AuditEvent.SessionSealed seal = new SessionSealer(keys, "indexer-1").seal(new SessionId(SESSION),
                SessionChain.head(SESSION, records.stream().map(SessionRecord::value).toList()), 3, SessionSealer.CLOSED);
        export = SessionExport.write(SESSION, records, seal, keys.publicKey());
        indexer = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
        indexer.createContext("/api/v1/", this::answer);
        indexer.start();
        url = "http://127.0.0.1:" + indexer.getAddress().getPort();
        Files.writeString(dir.resolve("indexer.pub"), keys.publicKeyPem());
    }

    @AfterEach
    void stopIndexer() {
        indexer.stop(0);
    }

    private void answer(HttpExchange exchange) throws IOException {
        boolean known = exchange.getRequestURI().getPath().equals("/api/v1/sessions/" + SESSION + "/export");
        boolean authorized = "Bearer t0k".equals(exchange.getRequestHeaders().getFirst("Authorization"));
        int status = !authorized ? 401 : known ? 200 : 404;
        byte[] bytes = (status == 200 ? export : "{\"error\":\"no such session\"}").getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().add("Content-Type", "application/json");
        exchange.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = exchange.getResponseBody()) {
            out.write(bytes);
        }
    }

    private CliRun cli(String... args) {
        List<String> all = new ArrayList<>(List.of(args));
        all.addAll(List.of("--data-dir", dir.resolve("no-dev").toString()));
        return CliRun.run(all.toArray(String[]::new));
    }

    @Test
    void exportsToAFileThatVerifiesWithTheTrustedKey() {
        // Given
        Path file = dir.resolve("session.json");

        // When
        CliRun exported = cli("audit", "export", SESSION, "--out", file.toString(), "--indexer", url, "--token", "t0k");
        CliRun verified = cli("audit", "verify", "--file", file.toString(), "--public-key",
                dir.resolve("indexer.pub").toString());

        // Then
        assertThat(exported.code()).as(exported.err()).isZero();
        assertThat(exported.err()).contains("wrote 3 events of session " + SESSION + " to " + file);
        assertThat(verified.code()).as(verified.err()).isZero();
        assertThat(verified.out()).startsWith("verified: 3 events, chain head ")
                .contains("signed by key " + keys.keyId() + ", session closed")
                .doesNotContain("key taken from the evidence");
    }

    @Test
    void verifiesASessionThroughTheIndexer() {
        // When
        CliRun run = cli("audit", "verify", SESSION, "--indexer", url, "--token", "t0k");
        CliRun unknown = cli("audit", "verify", "nope", "--indexer", url, "--token", "t0k");

        // Then
        assertThat(run.code()).as(run.err()).isZero();
        assertThat(run.out()).contains("verified: 3 events", "key taken from the evidence itself");
        assertThat(unknown.code()).isEqualTo(1);
        assertThat(unknown.err()).contains("no session nope in the indexer");
    }

    @Test
    void aTamperedFileFailsWithExitSevenNamingTheEvent() throws IOException {
        // Given
        String value = export.lines().filter(l -> l.contains("\"value\"")).skip(1).findFirst().orElseThrow();
        String encoded = value.substring(value.indexOf(": \"") + 3, value.lastIndexOf('"'));
        byte[] bytes = Base64.getDecoder().decode(encoded);
        bytes[bytes.length - 1] ^= 1;
        Path file = dir.resolve("tampered.json");
        Files.writeString(file, export.replace(encoded, Base64.getEncoder().encodeToString(bytes)));

        // When
        CliRun run = cli("audit", "verify", "--file", file.toString(), "--public-key", dir.resolve("indexer.pub").toString());

        // Then
        assertThat(run.code()).isEqualTo(7);
        assertThat(run.out()).startsWith("NOT verified: session " + SESSION + ": event #2 (e1, partition 0 offset 41) "
                + "does not hash to the chain value recorded for it");
    }

    @Test
    void anotherTrustedKeyFailsWithExitSeven() throws IOException {
        // Given
        Path file = dir.resolve("session.json");
        Files.writeString(file, export);
        SigningKeys other = SigningKeys.generate();
        Files.writeString(dir.resolve("other.pub"), other.publicKeyPem());

        // When
        CliRun run = cli("audit", "verify", "--file", file.toString(), "--public-key", dir.resolve("other.pub").toString());

        // Then
        assertThat(run.code()).isEqualTo(7);
        assertThat(run.out()).contains("the seal was made with key " + keys.keyId()
                + " but the verifying key is " + other.keyId());
    }

    @Test
    void refusesAmbiguousOrIncompleteArguments() {
        // When
        CliRun neither = cli("audit", "verify");
        CliRun both = cli("audit", "verify", SESSION, "--file", "x.json");
        CliRun fromLogWithoutKey = cli("audit", "verify", SESSION, "--from-log", "--bootstrap-servers", "127.0.0.1:1");

        // Then
        assertThat(neither.code()).isEqualTo(2);
        assertThat(neither.err()).contains("name a SESSION or pass --file");
        assertThat(both.code()).isEqualTo(2);
        assertThat(fromLogWithoutKey.code()).isEqualTo(1);
        assertThat(fromLogWithoutKey.err()).contains("--from-log needs the indexer's public key");
    }

    @Test
    void exitsWithTheCodesDocumentedInEvidenceMd() {
        // When
        CliRun fromLogWithFile = cli("audit", "verify", "--file", "x.json", "--from-log");
        CliRun unknownOption = cli("audit", "verify", SESSION, "--no-such-option");
        CliRun missingFile = cli("audit", "verify", "--file", dir.resolve("missing.json").toString());
        CliRun noKafka = cli("audit", "verify", SESSION, "--from-log", "--public-key", dir.resolve("indexer.pub").toString());
        CliRun unknownExport = cli("audit", "export", "nope", "--indexer", url, "--token", "t0k");

        // Then
        // bad arguments: 2
        assertThat(fromLogWithFile.code()).isEqualTo(2);
        assertThat(fromLogWithFile.err()).contains("--from-log needs a SESSION");
        assertThat(unknownOption.code()).isEqualTo(2);
        // what cannot be read or reached: 1
        assertThat(missingFile.code()).isEqualTo(1);
        assertThat(missingFile.err()).contains("cannot read");
        assertThat(noKafka.code()).isEqualTo(1);
        assertThat(noKafka.err()).contains("no Kafka to read");
        assertThat(unknownExport.code()).isEqualTo(1);
        assertThat(unknownExport.err()).contains("no session nope in the indexer");
    }
}
