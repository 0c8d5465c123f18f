package dev.gatehouse.deploy.roles;

import dev.gatehouse.platform.identity.BearerAuth;
import dev.gatehouse.deploy.config.GatehouseConfig;
import dev.gatehouse.indexer.api.IndexerApi;
import dev.gatehouse.indexer.ocsf.OcsfExporter;
import dev.gatehouse.indexer.projection.AuditProjector;
import dev.gatehouse.indexer.store.JdbcTimelineStore;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.evidence.SessionSealer;
import dev.gatehouse.platform.evidence.SigningKeys;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.SessionDirectory;
import dev.gatehouse.platform.kafka.Topics;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.function.Function;

/**
 * Starts the {@code indexer} role: the timeline store (embedded H2 under data-dir/indexer, or
 * PostgreSQL), the projector reading {@code gatehouse.audit}, the session directory it checks for
 * aborted sessions, the sealing key, the HTTP API and, when {@code indexer.ocsf.enabled}, the OCSF
 * exporter. The console hangs off the same role. What one start opened is closed together by
 * {@link Started#close()}, so the role can be stopped and started again inside a running process.
 */
final class IndexerRole {

    private static final Logger LOGGER = LoggerFactory.getLogger(IndexerRole.class);

    /** What the role started: the API's port and the pieces other components of the role use. */
    record Started(int port, JdbcTimelineStore store, AuditProjector projector, SessionDirectory directory, IndexerApi api,
                   OcsfExporter ocsf, Closer closer) implements AutoCloseable {
        /** Stops everything this start opened, the API first and the store last. */
        @Override
        public void close() {
            closer.close();
        }
    }

    private IndexerRole() {
    }

    /**
     * @param port      the API's port (0 for a free one); normally {@code indexer.port}
     * @param validator validates a bearer token into an identity (the same issuers as the edge)
     */
    static Started start(GatehouseConfig config, int port, String bootstrapServers, Vertx vertx, MeterRegistry meters,
                         EventSerde<AuditEvent> serde, BearerAuth.Validator validator) {
        return start(config, port, bootstrapServers, vertx, meters, serde, validator, () -> null);
    }

    /**
     * @param approvalsUrl the approval service's base URL for the console's approvals page (null while there is none)
     */
    static Started start(GatehouseConfig config, int port, String bootstrapServers, Vertx vertx, MeterRegistry meters,
                         EventSerde<AuditEvent> serde, BearerAuth.Validator validator,
                         java.util.function.Supplier<java.net.URI> approvalsUrl) {
        GatehouseConfig.Indexer settings = config.indexer();
        Closer closer = new Closer();
        try {
            JdbcTimelineStore store = closer.add(settings.store().equals("postgres")
                    ? JdbcTimelineStore.postgres(settings.postgres().url(), settings.postgres().user(), settings.postgres().password())
                    : JdbcTimelineStore.embedded(config.dataDir().resolve("indexer")));
            SigningKeys keys = SigningKeys.loadOrGenerate(settings.signingKeyFile(config.dataDir()));
            SessionSealer sealer = new SessionSealer(keys, config.instanceId());
            SessionDirectory directory = closer.add(new SessionDirectory(bootstrapServers, "indexer-" + config.instanceId(),
                    Topics.SESSIONS, Duration.ofSeconds(30)));
            AuditProjector.Settings projectorSettings = AuditProjector.Settings.of(bootstrapServers, config.instanceId())
                    .withAbortGrace(settings.abortGraceDuration(), Duration.ofSeconds(1));
            AuditProjector projector = closer.add(new AuditProjector(projectorSettings, store, serde, sealer,
                    directory::edges, meters, Clock.systemUTC()));
            OcsfExporter ocsf = null;
            if (settings.ocsf().enabled()) {
                ocsf = closer.add(new OcsfExporter(OcsfExporter.Settings.of(bootstrapServers), serde, meters));
                ocsf.start();
            }
            IndexerApi api = new IndexerApi(vertx, store, new BearerAuth("gatehouse-indexer", validator, settings.readGroup()), keys.publicKey(),
                    serde::decode);
            var console = dev.gatehouse.indexer.console.ConsoleRoutes.install(vertx, api.router(), approvalsUrl);
            closer.add(() -> console.close().await());
            int actualPort = api.start(settings.host(), port).await();
            closer.add(() -> api.stop().await());
            LOGGER.info("Indexer running store={} port={} readGroup={} sealingKey={} ocsf={}", settings.store(), actualPort,
                    settings.readGroup(), keys.keyId(), ocsf != null);
            return new Started(actualPort, store, projector, directory, api, ocsf, closer);
        } catch (RuntimeException e) {
            closer.close();
            throw e;
        }
    }
}
