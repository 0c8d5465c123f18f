package dev.gatehouse.approval.slack;

import dev.gatehouse.approval.ApprovalNotifier;
import dev.gatehouse.approval.ApprovalPlugin;
import dev.gatehouse.approval.Approver;
import dev.gatehouse.approval.VoteResult;
import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditSink;
import io.micrometer.core.instrument.MeterRegistry;
import io.vertx.ext.web.Router;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletionStage;

/**
 * The Slack integration as an approval-service plugin: {@link SlackNotifier} posts requests and
 * outcomes (its {@code ApprovalNotified} events go through {@code ApprovalEvents::append}), and,
 * when a signing secret is set, {@link SlackInteractivity} takes the buttons' callbacks at
 * {@code POST /slack/interactivity} and votes through the desk. One plugin serves one service
 * instance; {@link #close()} stops its HTTP client.
 */
public final class SlackApprovalPlugin implements ApprovalPlugin, AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(SlackApprovalPlugin.class);

    private final SlackSettings settings;
    private final AuditSink audit;
    private final MeterRegistry meters;
    private SlackNotifier notifier;

    /**
     * @param audit where forged or stale callbacks are recorded as {@code ProtocolViolation} (the audit log)
     */
    public SlackApprovalPlugin(SlackSettings settings, AuditSink audit, MeterRegistry meters) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.audit = Objects.requireNonNull(audit, "audit");
        this.meters = Objects.requireNonNull(meters, "meters");
    }

    public SlackSettings settings() {
        return settings;
    }

    @Override
    public synchronized ApprovalNotifier notifier(Parts parts) {
        return notifierFor(parts);
    }

    @Override
    public void routes(Router router, Parts parts) {
        if (settings.signingSecret() == null) {
            LOGGER.warn("Slack buttons are disabled: no signing secret (approval.slack.signing-secret-env is unset "
                    + "or empty); approve through the REST API, the CLI or the console");
            return;
        }
        SlackInteractivity.Voter voter = new SlackInteractivity.Voter() {
            @Override
            public CompletionStage<VoteResult> vote(String id, Approver approver,
                    boolean approve, String reason, String channel, String externalUser) {
                return parts.desk().vote(id, approver, approve, reason, channel, externalUser);
            }

            @Override
            public Optional<Approval> approval(String id) {
                return parts.desk().get(id);
            }
        };
        SlackInteractivity.create(settings, notifierFor(parts), voter, audit, meters, parts.instanceId()).register(router);
        LOGGER.info("Slack interactivity endpoint registered path={}", SlackInteractivity.PATH);
    }

    private synchronized SlackNotifier notifierFor(Parts parts) {
        if (notifier == null) {
            notifier = new SlackNotifier(parts.vertx(), settings, parts.events()::append, meters, parts.instanceId());
        }
        return notifier;
    }

    @Override
    public synchronized void close() {
        if (notifier != null) {
            notifier.close();
            notifier = null;
        }
    }
}
