package dev.gatehouse.deploy.cli;

import dev.gatehouse.deploy.dev.DevState;
import dev.gatehouse.platform.evidence.SessionEvidence;
import dev.gatehouse.platform.evidence.SessionExport;
import dev.gatehouse.platform.evidence.SessionLogReader;
import dev.gatehouse.platform.evidence.SigningKeys;
import dev.gatehouse.platform.evidence.Verification;
import dev.gatehouse.platform.kafka.Topics;
import io.vertx.core.json.JsonObject;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.PublicKey;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Callable;

/**
 * {@code gatehouse audit export} and {@code gatehouse audit verify}: a session's evidence (hash
 * chain and signed seal, see docs/evidence.md) fetched from the audit indexer, read from a file, or
 * read straight from the audit log, and checked.
 */
final class AuditEvidenceCommands {

    /** Exit code when the evidence does not verify. */
    static final int NOT_VERIFIED = 7;

    private AuditEvidenceCommands() {
    }

    /** {@code gatehouse audit export SESSION [--out F]}. */
    @Command(name = "export", mixinStandardHelpOptions = true,
            description = {"Export a session's evidence from the audit indexer as JSON (format gatehouse-session-export/v1): "
                    + "the exact record bytes of its events, its signed seal and the public key.",
                    "Check it anywhere with: gatehouse audit verify --file F --public-key KEY.pem",
                    "Exit 1: the indexer cannot be asked or does not know the session, or the file cannot be written."})
    static final class Export implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        AdminClient.IndexerOptions indexer = new AdminClient.IndexerOptions();
        @Parameters(index = "0", paramLabel = "SESSION", description = "The session id.")
        String session;
        @Option(names = {"-o", "--out"}, paramLabel = "FILE", description = "Write to this file instead of standard output.")
        Path out;

        @Override
        public Integer call() {
            PrintWriter err = spec.commandLine().getErr();
            JsonObject export;
            try {
                export = fetchExport(indexer, session);
            } catch (AdminClient.ApiError e) {
                err.println("gatehouse audit export: " + (e.status == 404 ? "no session " + session + " in the indexer"
                        : e.getMessage()));
                return 1;
            } catch (IllegalArgumentException | IllegalStateException e) {
                err.println("gatehouse audit export: " + e.getMessage());
                return 1;
            }
            String text = export.encodePrettily();
            if (out == null) {
                spec.commandLine().getOut().println(text);
                return 0;
            }
            try {
                Files.writeString(out, text + "\n", StandardCharsets.UTF_8);
            } catch (IOException e) {
                err.println("gatehouse audit export: cannot write " + out + ": " + e.getMessage());
                return 1;
            }
            int events = export.getJsonArray("events") == null ? 0 : export.getJsonArray("events").size();
            err.println("wrote " + events + " events of session " + session + " to " + out
                    + (export.getValue("seal") == null ? " (the session is not sealed yet)" : ""));
            return 0;
        }
    }

    /** {@code gatehouse audit verify SESSION | --file F [--public-key PEM] [--from-log]}. */
    @Command(name = "verify", mixinStandardHelpOptions = true,
            description = {"Check that a session's timeline was not altered: recompute the hash chain over the exact "
                    + "record bytes and check the seal's Ed25519 signature.",
                    "Prints 'verified: N events, chain head H, signed by key K' (exit 0), or exactly what broke (exit "
                            + NOT_VERIFIED + "). Exit 1: the evidence cannot be had (indexer, file, key or Kafka); "
                            + "exit 2: bad arguments.",
                    "Sources: the indexer's export (SESSION), an export file (--file), or the audit log itself "
                            + "(SESSION --from-log, independent of the indexer's store: the strongest check)."})
    static final class Verify implements Callable<Integer> {
        @Spec
        CommandLine.Model.CommandSpec spec;
        @Mixin
        AdminClient.IndexerOptions indexer = new AdminClient.IndexerOptions();
        @Parameters(index = "0", arity = "0..1", paramLabel = "SESSION", description = "The session id.")
        String session;
        @Option(names = "--file", paramLabel = "FILE", description = "Verify an export file written by 'gatehouse audit export'.")
        Path file;
        @Option(names = "--public-key", paramLabel = "PEM", description = "The indexer's trusted public key (PEM; a private "
                + "key file works too). Default: the local gatehouse dev's key if there is one, else the key the export "
                + "carries (which proves integrity, not origin).")
        Path publicKey;
        @Option(names = "--from-log", description = "Read the session's events and seal from the audit log instead of the indexer.")
        boolean fromLog;
        @Option(names = "--bootstrap-servers", description = "With --from-log: Kafka bootstrap servers (default: the running "
                + "gatehouse dev's).")
        String bootstrap;
        @Option(names = "--topic", defaultValue = Topics.AUDIT, description = "With --from-log: the audit topic (default: ${DEFAULT-VALUE}).")
        String topic;

        @Override
        public Integer call() {
            PrintWriter out = spec.commandLine().getOut();
            PrintWriter err = spec.commandLine().getErr();
            if ((session == null) == (file == null)) {
                err.println("gatehouse audit verify: name a SESSION or pass --file, not both");
                return 2;
            }
            if (fromLog && session == null) {
                err.println("gatehouse audit verify: --from-log needs a SESSION");
                return 2;
            }
            Verification verification;
            try {
                PublicKey trusted = trustedKey();
                if (file != null) {
                    verification = SessionExport.verify(Files.readString(file, StandardCharsets.UTF_8), trusted);
                } else if (fromLog) {
                    verification = fromLog(trusted, err);
                } else {
                    verification = SessionExport.verify(fetchExport(indexer, session).encode(), trusted);
                }
            } catch (AdminClient.ApiError e) {
                err.println("gatehouse audit verify: " + (e.status == 404 ? "no session " + session + " in the indexer"
                        : e.getMessage()));
                return 1;
            } catch (IOException e) {
                err.println("gatehouse audit verify: cannot read " + file + ": " + e);
                return 1;
            } catch (IllegalArgumentException | IllegalStateException | org.apache.kafka.common.KafkaException e) {
                err.println("gatehouse audit verify: " + e.getMessage());
                return 1;
            }
            verification.warnings().forEach(w -> err.println("warning: " + w));
            if (verification.ok()) {
                out.println(verification.describe());
                return 0;
            }
            out.println(verification.describe());
            return NOT_VERIFIED;
        }

        private Verification fromLog(PublicKey trusted, PrintWriter err) {
            String servers = bootstrap != null ? bootstrap
                    : DevState.read(dataDir()).getProperty("kafka.bootstrap-servers");
            if (servers == null) {
                throw new IllegalArgumentException("no Kafka to read: pass --bootstrap-servers or start ./gatehouse dev");
            }
            if (trusted == null) {
                throw new IllegalArgumentException("--from-log needs the indexer's public key: pass --public-key PEM");
            }
            SessionLogReader.SessionLog log;
            try (SessionLogReader reader = new SessionLogReader(servers, topic, Duration.ofSeconds(30))) {
                log = reader.read(session);
            }
            if (log.records().isEmpty() && log.seal() == null) {
                throw new IllegalArgumentException("no events of session " + session + " in " + topic + " (partition "
                        + log.partition() + ")");
            }
            return SessionEvidence.verify(session, log.records(), null, log.seal(), trusted, true);
        }

        private PublicKey trustedKey() {
            if (publicKey != null) {
                return SigningKeys.readPublicKey(publicKey);
            }
            Path dev = SigningKeys.publicKeyFile(dataDir().resolve(SigningKeys.DEV_KEY_FILE));
            return Files.isRegularFile(dev) ? SigningKeys.readPublicKey(dev) : null;
        }

        private Path dataDir() {
            return GatehouseCli.home().resolve(indexer.dataDir);
        }
    }

    static JsonObject fetchExport(AdminClient.IndexerOptions options, String session) {
        return AdminClient.indexer(options).get("/sessions/" + URLEncoder.encode(session, StandardCharsets.UTF_8)
                .replace("+", "%20") + "/export", Map.of());
    }
}
