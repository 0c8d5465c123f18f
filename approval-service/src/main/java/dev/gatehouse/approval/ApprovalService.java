package dev.gatehouse.approval;

import dev.gatehouse.platform.identity.BearerAuth;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import io.vertx.core.Vertx;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * One approval-service instance: the log follower and its fold, the desk, the arbiter (active
 * when elected) and the HTTP server. {@link #start} blocks until the log is read and the server
 * listens; call it off the event loop.
 */
public final class ApprovalService implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(ApprovalService.class);

    /**
     * @param sessionTimeout   how soon a standby takes over from a dead arbiter
     * @param deferredValidity how long a deferred grant stays redeemable when the request names no validity
     */
    public record Settings(String bootstrapServers, String instanceId, String host, int port, Duration sessionTimeout,
                           Duration deferredValidity) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(instanceId, "instanceId");
            Objects.requireNonNull(host, "host");
            Objects.requireNonNull(sessionTimeout, "sessionTimeout");
            Objects.requireNonNull(deferredValidity, "deferredValidity");
            if (port < 0 || port > 65535) throw new IllegalArgumentException("port must be 0..65535, was " + port);
        }
    }

    private final List<AutoCloseable> closeables = new ArrayList<>();
    private ApprovalLog log;
    private ApprovalEvents events;
    private ApprovalDesk desk;
    private ApprovalArbiter arbiter;
    private ApprovalHttpServer http;
    private int port = -1;

    private ApprovalService() {
    }

    /** Starts an instance; on failure stops what was started and rethrows. */
    public static ApprovalService start(Settings settings, EventSerde<AuditEvent> serde, Vertx vertx, BearerAuth.Validator tokens,
                                        List<ApprovalPlugin> plugins, Clock clock) {
        ApprovalService service = new ApprovalService();
        try {
            service.doStart(settings, serde, vertx, tokens, plugins, clock);
            return service;
        } catch (RuntimeException e) {
            service.close();
            throw e;
        }
    }

    private void doStart(Settings settings, EventSerde<AuditEvent> serde, Vertx vertx, BearerAuth.Validator tokens,
                         List<ApprovalPlugin> plugins, Clock clock) {
        String id = settings.instanceId();
        events = new ApprovalEvents(ApprovalEvents.Settings.of(settings.bootstrapServers(), "gatehouse-approval-" + id), serde);
        closeables.add(events);
        log = new ApprovalLog(settings.bootstrapServers(), Topics.APPROVALS, "gatehouse-approval-log-" + id, serde);
        closeables.add(log);
        desk = new ApprovalDesk(log, events, id, clock);
        ApprovalPlugin.Parts parts = new ApprovalPlugin.Parts(desk, events, log, vertx, id);
        ApprovalNotifier notifier = null;
        for (ApprovalPlugin p : plugins) {
            ApprovalNotifier n = p.notifier(parts);
            if (n != null) {
                if (notifier != null) throw new IllegalStateException("two plugins supply an approval notifier");
                notifier = n;
            }
        }
        http = new ApprovalHttpServer(vertx, settings.host(), settings.port(), desk,
                new BearerAuth(ApprovalHttpServer.REALM, tokens, null));
        for (ApprovalPlugin p : plugins) http.addRoutes(router -> p.routes(router, parts));
        arbiter = new ApprovalArbiter(new ApprovalArbiter.Settings(settings.bootstrapServers(), ApprovalArbiter.GROUP,
                Topics.APPROVALS, id, settings.sessionTimeout(), settings.deferredValidity()), log, events,
                notifier == null ? ApprovalNotifier.LOGGING : notifier, clock);
        // close order: the arbiter first (a standby takes over at once), then the server, the log, the producer
        closeables.add(arbiter);
        port = http.start().await();
        closeables.add(() -> http.stop().await());
        LOGGER.info("Approval service started instanceId={} port={} approvals={} pending={}", id, port,
                log.book().all().size(), log.book().pending().size());
    }

    public ApprovalDesk desk() {
        return desk;
    }

    public ApprovalLog log() {
        return log;
    }

    public ApprovalEvents events() {
        return events;
    }

    public ApprovalArbiter arbiter() {
        return arbiter;
    }

    /** The HTTP server's bound port. */
    public int port() {
        return port;
    }

    /** Readiness: the log follower runs and the instance takes part in the arbiter election. */
    public boolean isRunning() {
        return log != null && log.health().ready() && arbiter != null && arbiter.isMember();
    }

    @Override
    public void close() {
        for (int i = closeables.size() - 1; i >= 0; i--) {
            try {
                closeables.get(i).close();
            } catch (Exception e) {
                LOGGER.warn("Stopping part of the approval service failed error={}", e.toString());
            }
        }
        closeables.clear();
    }
}
