package dev.gatehouse.approval;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.kafka.KafkaClients;
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
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * Writes approval events: each to {@code gatehouse.approvals} (key = approval id) and to
 * {@code gatehouse.audit} (key = session id), and final decisions to {@code gatehouse.decisions}
 * (the waiting edge's reply partition) and the audit log. Idempotent producer, {@code acks=all}.
 * Thread-safe; stages complete on the producer's network thread.
 */
public final class ApprovalEvents implements AutoCloseable {

    private static final Logger LOGGER = LoggerFactory.getLogger(ApprovalEvents.class);

    /**
     * @param approvalsTopic normally {@link Topics#APPROVALS}
     * @param auditTopic     normally {@link Topics#AUDIT}
     * @param decisionsTopic normally {@link Topics#DECISIONS}
     */
    public record Settings(String bootstrapServers, String clientId, String approvalsTopic, String auditTopic,
                           String decisionsTopic, Duration deliveryTimeout) {
        public Settings {
            Objects.requireNonNull(bootstrapServers, "bootstrapServers");
            Objects.requireNonNull(clientId, "clientId");
            Objects.requireNonNull(approvalsTopic, "approvalsTopic");
            Objects.requireNonNull(auditTopic, "auditTopic");
            Objects.requireNonNull(decisionsTopic, "decisionsTopic");
            Objects.requireNonNull(deliveryTimeout, "deliveryTimeout");
        }

        public static Settings of(String bootstrapServers, String clientId) {
            return new Settings(bootstrapServers, clientId, Topics.APPROVALS, Topics.AUDIT, Topics.DECISIONS,
                    Duration.ofSeconds(30));
        }
    }

    private final Settings settings;
    private final EventSerde<AuditEvent> serde;
    private final KafkaProducer<String, byte[]> producer;

    public ApprovalEvents(Settings settings, EventSerde<AuditEvent> serde) {
        this.settings = Objects.requireNonNull(settings, "settings");
        this.serde = Objects.requireNonNull(serde, "serde");
        Map<String, Object> config = KafkaClients.durableProducer(settings.bootstrapServers(), settings.clientId());
        int deliveryMs = (int) settings.deliveryTimeout().toMillis();
        config.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, deliveryMs);
        config.put(ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG, Math.min(deliveryMs, 30_000));
        config.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, deliveryMs);
        this.producer = new KafkaProducer<>(config, new StringSerializer(), new ByteArraySerializer());
    }

    /**
     * Appends an approval event to the approvals topic and the audit log; completes when both have
     * acknowledged it.
     */
    public CompletionStage<Void> append(AuditEvent event) {
        return write(event).thenApply(offset -> null);
    }

    /**
     * Like {@link #append}, completing with the event's offset in the approvals topic (so a caller
     * can wait until its fold has applied it).
     *
     * @throws IllegalArgumentException when the event is not an approval event
     */
    public CompletionStage<Long> write(AuditEvent event) {
        String approvalId = Approval.idOf(event).orElseThrow(() ->
                new IllegalArgumentException("not an approval event: " + event.getClass().getSimpleName()));
        byte[] value = serde.encode(event);
        CompletableFuture<RecordMetadata> toApprovals = send(new ProducerRecord<>(settings.approvalsTopic(), approvalId, value));
        CompletableFuture<RecordMetadata> toAudit = send(new ProducerRecord<>(settings.auditTopic(),
                event.sessionId().value(), value));
        return toApprovals.thenCombine(toAudit, (approvals, audit) -> approvals.offset());
    }

    /**
     * Sends a final decision to the waiting edge's reply partition and to the audit log. A decision
     * without a valid reply partition goes to the audit log only.
     */
    public CompletionStage<Void> decide(AuditEvent.DecisionMade made) {
        byte[] value = serde.encode(made);
        String key = made.sessionId().value();
        CompletableFuture<RecordMetadata> toAudit = send(new ProducerRecord<>(settings.auditTopic(), key, value));
        int partition = made.replyPartition();
        int partitions;
        try {
            partitions = producer.partitionsFor(settings.decisionsTopic()).size();
        } catch (RuntimeException e) {
            return CompletableFuture.failedFuture(e);
        }
        if (partition < 0 || partition >= partitions) {
            LOGGER.warn("Final decision has no valid reply partition; written to the audit log only sessionId={} "
                    + "commandId={} replyPartition={}", key, made.commandId(), partition);
            return toAudit.thenApply(m -> null);
        }
        CompletableFuture<RecordMetadata> toEdge = send(new ProducerRecord<>(settings.decisionsTopic(), partition, key, value));
        return toEdge.thenCombine(toAudit, (a, b) -> null);
    }

    private CompletableFuture<RecordMetadata> send(ProducerRecord<String, byte[]> record) {
        CompletableFuture<RecordMetadata> done = new CompletableFuture<>();
        try {
            producer.send(record, (metadata, error) -> {
                if (error != null) done.completeExceptionally(error);
                else done.complete(metadata);
            });
        } catch (RuntimeException e) {
            done.completeExceptionally(e);
        }
        return done;
    }

    @Override
    public void close() {
        producer.close(Duration.ofSeconds(5));
    }
}
