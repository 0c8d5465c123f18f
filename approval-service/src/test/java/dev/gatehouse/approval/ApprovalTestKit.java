package dev.gatehouse.approval;

import dev.gatehouse.platform.identity.BearerAuth;
import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import dev.gatehouse.testsupport.KafkaFixture;
import io.vertx.core.Vertx;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.StringDeserializer;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Fixtures shared by the approval-service tests: requests, a service instance, topic readers. */
final class ApprovalTestKit {

    static final EventSerde<AuditEvent> SERDE;

    static {
        AuditEventCodec codec = new AuditEventCodec();
        SERDE = EventSerde.of(codec::encode, codec::decode);
    }

    private ApprovalTestKit() {
    }

    static ApprovalService start(Vertx vertx, String instance, BearerAuth.Validator auth) {
        return ApprovalService.start(new ApprovalService.Settings(KafkaFixture.bootstrapServers(), instance, "127.0.0.1", 0,
                Duration.ofSeconds(6), Duration.ofHours(1)), SERDE, vertx, auth, List.of(), Clock.systemUTC());
    }

    /** A hold-mode request by {@code requester} (issuer {@code issuer}) for group dba, expiring at {@code expiresAt}. */
    static AuditEvent.ApprovalRequested request(String requester, String issuer, int required, Instant expiresAt,
                                                int replyPartition) {
        SessionId session = SessionId.random();
        CommandId command = CommandId.random();
        SqlCommand sql = new SqlCommand(command, session, 7, Instant.now(), SqlCommand.Form.SIMPLE_QUERY,
                "DROP TABLE orders", List.of(), SqlAnalysis.unparseable("test"));
        return new AuditEvent.ApprovalRequested(EventHeader.now(session, "policy", "test"), command,
                Approval.idFor(command), "sha256:" + UUID.randomUUID(), "dba", required, expiresAt, "approve-ddl",
                "DDL on prod needs a DBA", "hold", sql, new Identity(requester, issuer, List.of("dev"), List.of(), Map.of(), null),
                new ConnectionRef("prod", "postgres", "db:5432/app", Map.of()), "edge-test", replyPartition,
                null, "#db-approvals");
    }

    /** {@code agent} acting for {@code originator}, both of the test issuer. */
    static Identity agentFor(String originator, String agent) {
        return new Identity(agent, "https://idp.test", List.of("agents"), List.of(), Map.of(), null,
                new Delegation(originator, "https://idp.test", List.of("dba"), List.of(), List.of(), Delegation.ACT), null);
    }

    /** A hold-mode originator confirmation of {@code requester}'s command, expiring at {@code expiresAt}. */
    static AuditEvent.ApprovalRequested originatorRequest(Identity requester, Instant expiresAt, int replyPartition) {
        AuditEvent.ApprovalRequested r = request(requester.subject(), requester.issuer(), 1, expiresAt, replyPartition);
        return new AuditEvent.ApprovalRequested(r.header(), r.commandId(), r.approvalId(), r.contentFingerprint(), null, 1,
                expiresAt, "agent-confirms", "the originator confirms", "hold", r.command(), requester, r.connection(),
                r.edgeId(), replyPartition, null, "the originator", AuditEvent.ApprovalRequested.FROM_ORIGINATOR);
    }

    /** Every event of the given topic partition from {@code from}, decoded (reads to the current end). */
    static List<AuditEvent> read(String topic, int partition, long from) {
        List<AuditEvent> events = new ArrayList<>();
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaFixture.bootstrapServers(),
                ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, false), new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, partition);
            consumer.assign(List.of(tp));
            consumer.seek(tp, from);
            long end = consumer.endOffsets(List.of(tp)).get(tp);
            while (consumer.position(tp) < end) {
                for (ConsumerRecord<String, byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                    events.add(SERDE.decode(r.value()));
                }
            }
        }
        return events;
    }

    static long endOffset(String topic, int partition) {
        try (KafkaConsumer<String, byte[]> consumer = new KafkaConsumer<>(Map.of(
                ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaFixture.bootstrapServers()),
                new StringDeserializer(), new ByteArrayDeserializer())) {
            TopicPartition tp = new TopicPartition(topic, partition);
            return consumer.endOffsets(List.of(tp)).get(tp);
        }
    }

    /** Final decisions for this command on its reply partition since {@code from}. */
    static List<AuditEvent.DecisionMade> decisions(AuditEvent.ApprovalRequested r, long from) {
        return read(Topics.DECISIONS, r.replyPartition(), from).stream()
                .filter(e -> e instanceof AuditEvent.DecisionMade d && d.commandId().equals(r.commandId()))
                .map(e -> (AuditEvent.DecisionMade) e).toList();
    }

    /** Outcome events (granted, denied, expired) of this approval in the approvals topic. */
    static List<AuditEvent> outcomes(String approvalId) {
        return read(Topics.APPROVALS, 0, 0).stream()
                .filter(e -> e instanceof AuditEvent.ApprovalGranted || e instanceof AuditEvent.ApprovalDenied
                        || e instanceof AuditEvent.ApprovalExpired)
                .filter(e -> Approval.idOf(e).orElseThrow().equals(approvalId)).toList();
    }
}
