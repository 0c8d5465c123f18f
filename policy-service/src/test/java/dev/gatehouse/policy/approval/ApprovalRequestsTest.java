package dev.gatehouse.policy.approval;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.events.AuditEventCodec;
import dev.gatehouse.platform.kafka.EventSerde;
import dev.gatehouse.platform.kafka.Topics;
import dev.gatehouse.policy.engine.Policy;
import dev.gatehouse.policy.engine.PolicyEvaluator;
import dev.gatehouse.policy.service.PolicyDecider;
import dev.gatehouse.policy.sql.LibPgQuery;
import dev.gatehouse.testsupport.KafkaFixture;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** Approval requests and deferred redemption against a real broker's {@code gatehouse.approvals}. */
@ExtendWith(KafkaFixture.class)
class ApprovalRequestsTest {

    private static final AuditEventCodec CODEC = new AuditEventCodec();
    private static final EventSerde<AuditEvent> SERDE = EventSerde.of(CODEC::encode, CODEC::decode);
    private static final ConnectionRef PROD = new ConnectionRef("prod", "postgres", "db:5432/app", Map.of("env", "prod"));
    private static final ApprovalFingerprint FINGERPRINT = new ApprovalFingerprint(LibPgQuery.load());
    private static final String POLICY = """
            id: p
            version: v7
            default: allow
            rules:
              - id: approve-ddl
                when: '"ddl" in command.kinds'
                action: require_approval
                approval: {group: dba, count: 1, mode: hold, expires_in: 2m}
                reason: DDL on prod needs a DBA
              - id: approve-deletes
                when: '"write" in command.kinds'
                action: require_approval
                approval: {group: dba, count: 1, mode: deferred}
                reason: deletes need a DBA
            """;

    private final List<AutoCloseable> resources = new ArrayList<>();
    private final Identity requester = person("bob-" + UUID.randomUUID());
    private KafkaProducer<String, byte[]> producer;

    @BeforeEach
    void producer() {
        producer = new KafkaProducer<>(Map.of(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, KafkaFixture.bootstrapServers(),
                ProducerConfig.ACKS_CONFIG, "all"), new StringSerializer(), new ByteArraySerializer());
        resources.add(producer);
    }

    @AfterEach
    void close() throws Exception {
        for (AutoCloseable c : resources.reversed()) c.close();
    }

    private KafkaApprovalLog log(String instance) {
        KafkaApprovalLog log = new KafkaApprovalLog(KafkaApprovalLog.Settings.of(KafkaFixture.bootstrapServers(), instance), SERDE);
        resources.add(log);
        return log;
    }

    private PolicyDecider decider(KafkaApprovalLog log, String instance) throws Exception {
        return new PolicyDecider(new PolicyEvaluator(Policy.parse(POLICY, "test")), instance)
                .useApprovals(new ApprovalRequests(log, FINGERPRINT,
                        new ApprovalRequests.Settings("#db-approvals", Duration.ofMinutes(10), Duration.ofHours(1)), instance));
    }

    @Test
    void aHeldRequestIsWrittenBeforeTheDecisionAndTheDecisionCarriesItsDetails() throws Exception {
        // Given
        KafkaApprovalLog log = log("policy-a");
        PolicyDecider decider = decider(log, "policy-a");
        AuditEvent.CommandReceived alter = received(requester, "ALTER TABLE orders ADD COLUMN note text", "enforce");

        // When
        Decision decision = decider.apply(alter).decision();

        // Then
        String approvalId = ApprovalRequests.approvalIdOf(alter.command().id());
        assertThat(approvalId).matches("ap-[0-9a-f]{12}");
        assertThat(decision).isEqualTo(new Decision.RequireApproval(alter.command().id(), "approve-ddl",
                "DDL on prod needs a DBA", "v7", "dba", 1, approvalId, "hold",
                alter.command().receivedAt().plus(Duration.ofMinutes(2)), "#db-approvals"));
        await().atMost(Duration.ofSeconds(10)).until(() -> log.book().get(approvalId).isPresent());
        Approval approval = log.book().get(approvalId).orElseThrow();
        assertThat(approval.state()).isEqualTo(Approval.State.PENDING);
        assertThat(approval.fingerprint()).isEqualTo(FINGERPRINT.of(PROD, requester, alter.command()));
        assertThat(approval.requester()).isEqualTo(requester);
        assertThat(approval.request().replyPartition()).isEqualTo(alter.replyPartition());
        assertThat(approval.request().command().sql()).isEqualTo(alter.command().sql());
    }

    @Test
    void anInlineDecisionLeavesWhatAsksForAnApprovalToTheDecisionServicesPath() throws Exception {
        // Given
        KafkaApprovalLog log = log("policy-inline");
        PolicyDecider decider = decider(log, "policy-inline");
        AuditEvent.CommandReceived alter = received(requester, "ALTER TABLE orders ADD COLUMN note text", "enforce");
        AuditEvent.CommandReceived observed = received(requester, "ALTER TABLE orders ADD COLUMN memo text", "observe");
        AuditEvent.CommandReceived select = received(requester, "SELECT * FROM orders", "enforce");

        // When
        var left = decider.decideInline(alter);
        Decision later = decider.apply(alter).decision();

        // Then: nothing was asked or remembered inline; the service's path then asks for the approval
        assertThat(left).isEmpty();
        assertThat(later).isInstanceOfSatisfying(Decision.RequireApproval.class, ra ->
                assertThat(ra.approvalId()).isEqualTo(ApprovalRequests.approvalIdOf(alter.command().id())));
        // and what needs nobody is decided inline, as apply would
        assertThat(decider.decideInline(observed)).hasValueSatisfying(made ->
                assertThat(made.decision()).isInstanceOfSatisfying(Decision.RequireApproval.class, ra -> assertThat(ra.approvalId()).isNull()));
        assertThat(decider.decideInline(select)).hasValueSatisfying(made -> {
            assertThat(made.decision()).isInstanceOf(Decision.Allow.class);
            assertThat(decider.apply(select)).isEqualTo(made);
        });
    }

    @Test
    void observeModeRecordsTheVerdictWithoutAskingAnyone() throws Exception {
        // Given
        KafkaApprovalLog log = log("policy-b");
        PolicyDecider decider = decider(log, "policy-b");
        AuditEvent.CommandReceived alter = received(requester, "ALTER TABLE orders ADD COLUMN note text", "observe");

        // When
        Decision decision = decider.apply(alter).decision();

        // Then
        assertThat(decision).isInstanceOfSatisfying(Decision.RequireApproval.class, ra -> assertThat(ra.approvalId()).isNull());
        assertThat(log.book().get(ApprovalRequests.approvalIdOf(alter.command().id()))).isEmpty();
    }

    @Test
    void aDeferredGrantRunsTheSameContentFromTheSameIdentityExactlyOnce() throws Exception {
        // Given: a deferred request, granted
        KafkaApprovalLog log = log("policy-c");
        PolicyDecider decider = decider(log, "policy-c");
        String sql = "DELETE FROM orders WHERE id = 42";
        Decision first = decider.apply(received(requester, sql, "enforce")).decision();
        String approvalId = ((Decision.RequireApproval) first).approvalId();
        grant(approvalId, Instant.now().plus(Duration.ofHours(1)), "carol");
        await().atMost(Duration.ofSeconds(10)).until(() -> log.book().get(approvalId)
                .map(a -> a.state() == Approval.State.GRANTED).orElse(false));

        // When
        Decision fromSomeoneElse = decider.apply(received(person("mallory-" + UUID.randomUUID()), sql, "enforce")).decision();
        Decision otherContent = decider.apply(received(requester, "DELETE FROM orders WHERE id = 43", "enforce")).decision();
        AuditEvent.CommandReceived resend = received(requester, "delete from orders  where id = 42", "enforce");
        Decision redeemed = decider.apply(resend).decision();
        Decision again = decider.apply(received(requester, sql, "enforce")).decision();

        // Then
        assertThat(first).isInstanceOfSatisfying(Decision.RequireApproval.class, ra -> assertThat(ra.deferred()).isTrue());
        assertThat(fromSomeoneElse).isInstanceOf(Decision.RequireApproval.class);
        assertThat(otherContent).isInstanceOf(Decision.RequireApproval.class);
        assertThat(redeemed).isEqualTo(new Decision.Allow(resend.command().id(), "approve-deletes",
                "approved by carol (approval " + approvalId + ")", "v7"));
        assertThat(again).isInstanceOfSatisfying(Decision.RequireApproval.class,
                ra -> assertThat(ra.approvalId()).isNotEqualTo(approvalId));
        assertThat(log.book().firstExecution(approvalId)).contains(resend.command().id());
    }

    @Test
    void aGrantPastItsValidityIsNotRedeemed() throws Exception {
        // Given
        KafkaApprovalLog log = log("policy-d");
        PolicyDecider decider = decider(log, "policy-d");
        String sql = "DELETE FROM orders WHERE id = 7";
        String approvalId = ((Decision.RequireApproval) decider.apply(received(requester, sql, "enforce")).decision()).approvalId();
        grant(approvalId, Instant.now().minusSeconds(1), "carol");
        await().atMost(Duration.ofSeconds(10)).until(() -> log.book().get(approvalId).map(a -> a.outcome() != null).orElse(false));

        // When
        Decision resent = decider.apply(received(requester, sql, "enforce")).decision();

        // Then
        assertThat(resent).isInstanceOf(Decision.RequireApproval.class);
        assertThat(log.book().firstExecution(approvalId)).isEmpty();
    }

    @Test
    void twoPolicyInstancesRedeemingTheSameGrantAtOnceAllowOnlyOne() throws Exception {
        // Given
        KafkaApprovalLog logA = log("policy-e1");
        KafkaApprovalLog logB = log("policy-e2");
        PolicyDecider a = decider(logA, "policy-e1");
        PolicyDecider b = decider(logB, "policy-e2");
        String sql = "DELETE FROM orders WHERE id = 99";
        String approvalId = ((Decision.RequireApproval) a.apply(received(requester, sql, "enforce")).decision()).approvalId();
        grant(approvalId, Instant.now().plus(Duration.ofHours(1)), "carol");
        await().atMost(Duration.ofSeconds(10)).until(() -> List.of(logA, logB).stream().allMatch(l -> l.book().get(approvalId)
                .map(x -> x.state() == Approval.State.GRANTED).orElse(false)));

        // When
        var pool = Executors.newFixedThreadPool(2);
        resources.add(pool::shutdownNow);
        CompletableFuture<Decision> viaA = CompletableFuture.supplyAsync(() -> a.apply(received(requester, sql, "enforce")).decision(), pool);
        CompletableFuture<Decision> viaB = CompletableFuture.supplyAsync(() -> b.apply(received(requester, sql, "enforce")).decision(), pool);
        List<Decision> decisions = List.of(viaA.get(), viaB.get());

        // Then
        assertThat(decisions).filteredOn(d -> d instanceof Decision.Allow).hasSize(1);
        assertThat(decisions).filteredOn(d -> d instanceof Decision.RequireApproval).hasSize(1);
    }

    @Test
    void anOriginatorConfirmationGoesToTheOriginatorAndFailsClosedWithoutOne() throws Exception {
        // Given: a rule asking the originator to confirm writes to errands
        KafkaApprovalLog log = log("policy-f");
        PolicyDecider decider = new PolicyDecider(new PolicyEvaluator(Policy.parse("""
                id: p
                version: v8
                default: allow
                rules:
                  - id: agent-errands-confirmed
                    when: '"write" in command.kinds'
                    action: require_approval
                    approval: {from: originator, expires_in: 5m, mode: hold}
                    reason: the originator confirms what an agent writes
                """, "test")), "policy-f").useApprovals(new ApprovalRequests(log, FINGERPRINT,
                new ApprovalRequests.Settings("#db-approvals", Duration.ofMinutes(10), Duration.ofHours(1)), "policy-f"));
        Identity agent = new Identity("planner-agent", "https://issuer.example", List.of("agents"), List.of(), Map.of(), null,
                new Delegation("alice", "https://issuer.example", List.of("dba"), List.of(), List.of(), Delegation.ACT), null);
        AuditEvent.CommandReceived byAgent = received(agent, "DELETE FROM errands WHERE id = 1", "enforce");
        AuditEvent.CommandReceived byAlice = received(person("alice"), "DELETE FROM errands WHERE id = 1", "enforce");

        // When
        Decision delegated = decider.apply(byAgent).decision();
        Decision notDelegated = decider.apply(byAlice).decision();

        // Then: the agent's command waits for alice, the request says so
        String approvalId = ApprovalRequests.approvalIdOf(byAgent.command().id());
        assertThat(delegated).isEqualTo(new Decision.RequireApproval(byAgent.command().id(), "agent-errands-confirmed",
                "the originator confirms what an agent writes", "v8", null, 1, approvalId, "hold",
                byAgent.command().receivedAt().plus(Duration.ofMinutes(5)), "the originator alice"));
        await().atMost(Duration.ofSeconds(10)).until(() -> log.book().get(approvalId).isPresent());
        Approval approval = log.book().get(approvalId).orElseThrow();
        assertThat(approval.fromOriginator()).isTrue();
        assertThat(approval.approverGroup()).isNull();
        assertThat(approval.delegation().originator()).isEqualTo("alice");
        // Then: a session that is not delegated has nobody to confirm: denied at once, naming the rule, nothing asked
        assertThat(notDelegated).isEqualTo(new Decision.Deny(byAlice.command().id(), "agent-errands-confirmed",
                "rule agent-errands-confirmed asks the originator to confirm this command, but the session is not "
                        + "delegated: there is no originator to confirm it", "v8"));
        assertThat(log.book().get(ApprovalRequests.approvalIdOf(byAlice.command().id()))).isEmpty();
    }

    @Test
    void aDeferredConfirmationByTheOriginatorRunsForHerAgentOnlyAndIsNoFourEyesApproval() throws Exception {
        // Given: alice confirmed, deferred, what planner-agent runs for her
        KafkaApprovalLog log = log("policy-g");
        String rules = """
                id: p
                version: v9
                default: allow
                rules:
                  - id: agent-writes
                    when: '"write" in command.kinds'
                    action: require_approval
                    approval: %s
                    reason: writes need an approval
                """;
        ApprovalRequests.Settings settings = new ApprovalRequests.Settings("#db-approvals", Duration.ofMinutes(10), Duration.ofHours(1));
        PolicyDecider byOriginator = new PolicyDecider(new PolicyEvaluator(Policy.parse(rules.formatted(
                "{from: originator, mode: deferred}"), "test")), "policy-g")
                .useApprovals(new ApprovalRequests(log, FINGERPRINT, settings, "policy-g"));
        PolicyDecider fourEyes = new PolicyDecider(new PolicyEvaluator(Policy.parse(rules.formatted(
                "{group: dba, count: 1, mode: deferred}"), "test")), "policy-g")
                .useApprovals(new ApprovalRequests(log, FINGERPRINT, settings, "policy-g"));
        String sql = "DELETE FROM errands WHERE id = 2";
        Decision first = byOriginator.apply(received(agentFor("alice"), sql, "enforce")).decision();
        String approvalId = ((Decision.RequireApproval) first).approvalId();
        grant(approvalId, Instant.now().plus(Duration.ofHours(1)), "alice");
        await().atMost(Duration.ofSeconds(10)).until(() -> log.book().get(approvalId)
                .map(a -> a.state() == Approval.State.GRANTED).orElse(false));

        // When: the same agent, the same statement, for bob; where a dba approval is asked; then for alice
        Decision forBob = byOriginator.apply(received(agentFor("bob"), sql, "enforce")).decision();
        Decision asFourEyes = fourEyes.apply(received(agentFor("alice"), sql, "enforce")).decision();
        AuditEvent.CommandReceived forAlice = received(agentFor("alice"), sql, "enforce");
        Decision redeemed = byOriginator.apply(forAlice).decision();

        // Then: alice's confirmation covers alice's errand only, and never stands in for the group's
        assertThat(forBob).isInstanceOfSatisfying(Decision.RequireApproval.class,
                ra -> assertThat(ra.approvalId()).isNotEqualTo(approvalId));
        assertThat(asFourEyes).isInstanceOfSatisfying(Decision.RequireApproval.class,
                ra -> assertThat(ra.approvalId()).isNotEqualTo(approvalId));
        assertThat(redeemed).isEqualTo(new Decision.Allow(forAlice.command().id(), "agent-writes",
                "approved by alice (approval " + approvalId + ")", "v9"));
    }

    private static Identity agentFor(String originator) {
        return new Identity("planner-agent", "https://issuer.example", List.of("agents"), List.of(), Map.of(), null,
                new Delegation(originator, "https://issuer.example", List.of("dba"), List.of(), List.of(), Delegation.ACT), null);
    }

    private void grant(String approvalId, Instant validUntil, String approver) throws Exception {
        var granted = new AuditEvent.ApprovalGranted(EventHeader.now(SessionId.random(), "approval", "test"), approvalId,
                List.of(approver), validUntil);
        producer.send(new ProducerRecord<>(Topics.APPROVALS, approvalId, SERDE.encode(granted))).get();
    }

    private static Identity person(String subject) {
        return new Identity(subject, "https://issuer.example", List.of("dev"), List.of(), Map.of(), null);
    }

    private static AuditEvent.CommandReceived received(Identity who, String sql, String mode) {
        SessionId session = SessionId.random();
        SqlCommand command = new SqlCommand(CommandId.random(), session, 1, Instant.now(), SqlCommand.Form.SIMPLE_QUERY, sql,
                List.of(), analysis(sql));
        return new AuditEvent.CommandReceived(EventHeader.now(session, "edge", "edge-1"), command, who, PROD, "edge-1", 2, mode);
    }

    private static SqlAnalysis analysis(String sql) {
        return new dev.gatehouse.policy.sql.PgQueryAnalyzer().analyze(sql);
    }
}
