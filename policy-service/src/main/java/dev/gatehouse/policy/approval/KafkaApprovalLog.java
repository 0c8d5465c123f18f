package dev.gatehouse.policy.approval;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.approval.ApprovalBook;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.kafka.KafkaClients;
import dev.gatehouse.platform.kafka.CompactedTopicReader;
import dev.gatehouse.platform.kafka.ConsumerLoop;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * {@link ApprovalLog} on Kafka: an idempotent producer ({@code acks=all}) for writes, and a
 * group-less reader that folds {@code gatehouse.approvals} from its beginning into the shared
 * {@link ApprovalBook} and follows it. Every policy instance reads the whole topic.
 */
public final class KafkaApprovalLog implements ApprovalLog, AutoCloseable {
    private static final Logger LOGGER = LoggerFactory.getLogger(KafkaApprovalLog.class);

    /**
     * @param bootstrapServers Kafka bootstrap servers
     * @param instanceId       the policy instance, in client ids
     * @param approvalsTopic   normally {@link Topics#APPROVALS}
     * @param auditTopic       normally {@link Topics#AUDIT}
     * @param timeout          bound on reading the topic at start, on each write and on each read-back
     */
    public record Settings(String bootstrapServers, String instanceId, String approvalsTopic, String auditTopic,
                           Duration timeout) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(instanceId, "instanceId");
            Objects.requireNonNull(approvalsTopic, "approvalsTopic");
            Objects.requireNonNull(auditTopic, "auditTopic");
            Objects.requireNonNull(timeout, "timeout");
        }

        public static Settings of(String bootstrapServers, String instanceId) {
            return new Settings(bootstrapServers, instanceId, Topics.APPROVALS, Topics.AUDIT, Duration.ofSeconds(30));
        }
    }

    private final Settings settings;
    private final EventSerde<AuditEvent> serde;
    private final ApprovalBook book = new ApprovalBook();
    private final Object folded = new Object();
    private final KafkaProducer<String, byte[]> producer;
    private final CompactedTopicReader<AuditEvent> reader;
    private long readUpTo = -1; // guarded by folded

    /** Reads the approvals log to its end, then follows it. */
    public KafkaApprovalLog(Settings settings, EventSerde<AuditEvent> serde) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.serde = Objects.requireNonNull(serde, "serde");
        Map<String, Object> config = KafkaClients.durableProducer(settings.bootstrapServers(), "gatehouse-policy-approvals-" + settings.instanceId());
        int timeoutMs = (int) Math.min(Integer.MAX_VALUE, settings.timeout().toMillis());
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, Math.max(timeoutMs, 1000));
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.max(Math.min(timeoutMs, 30_000), 1000));
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, (long) timeoutMs);
        this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
        try {
            this.reader = new CompactedTopicReader<>(new CompactedTopicReader.Settings(settings.bootstrapServers(),
                    settings.approvalsTopic(), "policy-approvals-" + settings.instanceId(), settings.timeout()),
                    serde::decode, (key, event, offset) -> {
                        if (event != null) book.apply(offset, event);
                        synchronized (folded) {
                            readUpTo = offset;
                            folded.notifyAll();
                        }
                    });
        } catch (RuntimeException e) {
            producer.close(Duration.ZERO);
            throw e;
        }
    }

    @Override
    public void request(AuditEvent.ApprovalRequested request) {
        byte[] value = serde.encode(request);
        Future<RecordMetadata> approvals = producer.send(new ProducerRecord<>(settings.approvalsTopic(), request.approvalId(), value));
        Future<RecordMetadata> audit = producer.send(new ProducerRecord<>(settings.auditTopic(),
                request.header().sessionId().value(), value));
        await(approvals, "approval request " + request.approvalId());
        await(audit, "approval request " + request.approvalId());
        LOGGER.info("Approval requested approvalId={} sessionId={} commandId={} mode={} from={} group={} count={}",
                request.approvalId(), request.header().sessionId(), request.commandId(), request.mode(),
                request.fromOriginator() ? AuditEvent.ApprovalRequested.FROM_ORIGINATOR : AuditEvent.ApprovalRequested.FROM_GROUP,
                request.approverGroup(), request.approvalsRequired());
    }

    @Override
    public Optional<Grant> grant(String fingerprint, Identity requester, ApprovalBook.Requirement required, CommandId redeemer,
                                 Instant at) {
        Optional<Approval> mine = book.all().stream()
                .filter(a -> a.executedBy().filter(redeemer::equals).isPresent() && fingerprint.equals(a.fingerprint()))
                .findFirst();
        return mine.or(() -> book.findRedeemable(fingerprint, requester, required, at))
                .map(a -> new Grant(a.id(), a.outcome() != null && !a.outcome().by().isEmpty() ? a.outcome().by() : a.approvedBy(),
                        a.validUntil()));
    }

    @Override
    public boolean redeem(AuditEvent.ApprovalExecuted executed) {
        byte[] value = serde.encode(executed);
        RecordMetadata written = await(producer.send(new ProducerRecord<>(settings.approvalsTopic(),
                executed.approvalId(), value)), "execution of approval " + executed.approvalId());
        try {
            if (!awaitRead(written.offset(), settings.timeout().toMillis())) {
                throw new IllegalStateException("the approvals log was not read up to offset " + written.offset()
                        + " within " + settings.timeout() + "; approval " + executed.approvalId() + " not redeemed");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while reading back approval " + executed.approvalId(), e);
        }
        boolean first = book.firstExecution(executed.approvalId()).map(executed.commandId()::equals).orElse(false);
        if (first) {
            await(producer.send(new ProducerRecord<>(settings.auditTopic(), executed.header().sessionId().value(), value)),
                    "execution of approval " + executed.approvalId());
        }
        LOGGER.info("Approval redemption approvalId={} commandId={} first={} offset={}", executed.approvalId(),
                executed.commandId(), first, written.offset());
        return first;
    }

    /** The fold of the approvals log this instance keeps. */
    public ApprovalBook book() {
        return book;
    }

    /** Waits until the record at {@code offset} has been folded; false when not within the timeout. */
    private boolean awaitRead(long offset, long timeoutMillis) throws InterruptedException {
        long deadline = System.nanoTime() + timeoutMillis * 1_000_000L;
        synchronized (folded) {
            while (readUpTo < offset) {
                long left = (deadline - System.nanoTime()) / 1_000_000L;
                if (left <= 0) return false;
                folded.wait(left);
            }
            return true;
        }
    }

    /** The reader's health: ready while it follows the approvals log, having read it to its end. */
    public ConsumerLoop.Health health() {
        return reader.health();
    }

    private RecordMetadata await(Future<RecordMetadata> send, String what) {
        try {
            return send.get(settings.timeout().toMillis() + 1000, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while writing " + what, e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("could not write " + what + ": " + e.getCause().getMessage(), e.getCause());
        } catch (TimeoutException e) {
            throw new IllegalStateException("could not write " + what + " within " + settings.timeout(), e);
        }
    }

    @Override
    public void close() {
        reader.close();
        producer.close(Duration.ofSeconds(5));
    }
}
