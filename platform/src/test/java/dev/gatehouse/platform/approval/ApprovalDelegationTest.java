package dev.gatehouse.platform.approval;

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
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Who may answer an approval of a delegated session: only the originator confirms an originator
 * confirmation; neither the originator, the acting agent nor an earlier actor approves a group
 * (four-eyes) approval.
 */
class ApprovalDelegationTest {

    private static final String ISSUER = "https://idp.example";
    private static final String OTHER_ISSUER = "https://other.example";
    private static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

    private final ApprovalBook book = new ApprovalBook();
    private final SessionId session = SessionId.random();
    private final CommandId command = CommandId.random();
    private final String id = Approval.idFor(command);
    private long offset;

    /** planner-agent (groups dba, agents) acting for alice (dba), after an earlier actor intake-agent. */
    private static Identity agentForAlice() {
        return agentFor("alice");
    }

    /** planner-agent (groups dba, agents) acting for {@code originator} (dba), after an earlier actor intake-agent. */
    private static Identity agentFor(String originator) {
        return new Identity("planner-agent", ISSUER, List.of("dba", "agents"), List.of(), Map.of(), null,
                new Delegation(originator, ISSUER, List.of("dba"), List.of(), List.of("intake-agent"), Delegation.ACT), null);
    }

    private AuditEvent.ApprovalRequested request(Identity requester, String group, int required, String from) {
        return request(requester, group, required, from, "hold");
    }

    private AuditEvent.ApprovalRequested request(Identity requester, String group, int required, String from, String mode) {
        SqlCommand sql = new SqlCommand(command, session, 3, T0, SqlCommand.Form.SIMPLE_QUERY, "DELETE FROM errands WHERE id = 1",
                List.of(), SqlAnalysis.unparseable("test"));
        return new AuditEvent.ApprovalRequested(new EventHeader(UUID.randomUUID().toString(), session, T0, "test", "t1"),
                command, id, "sha256:abc", group, required, T0.plus(Duration.ofMinutes(10)), "agent-confirm",
                "the originator confirms", mode, sql, requester, new ConnectionRef("prod", "postgres", "db:5432/app", Map.of()),
                "edge-1", 2, "deferred".equals(mode) ? Duration.ofHours(1) : null, "the originator alice", from);
    }

    private Approval apply(AuditEvent e) {
        return book.apply(offset++, e).orElse(book.get(id).orElse(null));
    }

    private Approval vote(String who, String issuer, List<String> groups) {
        return apply(new AuditEvent.ApprovalVoted(new EventHeader(UUID.randomUUID().toString(), session, T0.plusSeconds(5),
                "test", "t1"), id, who, issuer, groups, true, null, "slack", null));
    }

    @Test
    void onlyTheOriginatorConfirmsAnOriginatorConfirmation() {
        // Given an originator confirmation of planner-agent's command, acting for alice
        Approval a = apply(request(agentForAlice(), null, 1, AuditEvent.ApprovalRequested.FROM_ORIGINATOR));
        assertThat(a.fromOriginator()).isTrue();

        // When bob (in dba), the agent itself, alice of another issuer and alice without an issuer answer
        // Then none of them may
        assertThat(a.refusal("bob", ISSUER, List.of("dba"), T0)).hasValueSatisfying(r -> {
            assertThat(r.kind()).isEqualTo(Approval.Refusal.Kind.NOT_ORIGINATOR);
            assertThat(r.message()).contains("only alice").contains("alice → intake-agent → planner-agent")
                    .contains("bob (" + ISSUER + ") may not");
        });
        assertThat(a.refusal("planner-agent", ISSUER, List.of("dba"), T0)).map(Approval.Refusal::kind)
                .contains(Approval.Refusal.Kind.NOT_ORIGINATOR);
        assertThat(a.refusal("alice", OTHER_ISSUER, List.of(), T0)).map(Approval.Refusal::kind)
                .contains(Approval.Refusal.Kind.NOT_ORIGINATOR);
        assertThat(a.refusal("alice", null, List.of(), T0)).map(Approval.Refusal::kind)
                .contains(Approval.Refusal.Kind.NOT_ORIGINATOR);

        // When bob votes anyway, then alice (of her issuer, in no group at all)
        Approval afterBob = vote("bob", ISSUER, List.of("dba"));
        Approval afterAlice = vote("alice", ISSUER, List.of());

        // Then bob's vote is recorded but does not count; alice's confirms it
        assertThat(afterBob.votes()).singleElement().satisfies(v -> assertThat(v.counted()).isFalse());
        assertThat(afterAlice.votes().get(1).counted()).isTrue();
        assertThat(afterAlice.tally()).isEqualTo(Approval.State.GRANTED);
        assertThat(afterAlice.approvedBy()).containsExactly("alice");
    }

    @Test
    void anOriginatorConfirmationOfASessionThatIsNotDelegatedCannotBeConfirmed() {
        // Given an originator confirmation requested by a session without delegation
        Approval a = apply(request(new Identity("alice", ISSUER, List.of("dba"), List.of(), Map.of(), null), null, 1,
                AuditEvent.ApprovalRequested.FROM_ORIGINATOR));

        // When alice herself answers
        // Then nobody may: there is no originator
        assertThat(a.refusal("alice", ISSUER, List.of("dba"), T0)).hasValueSatisfying(r -> {
            assertThat(r.kind()).isEqualTo(Approval.Refusal.Kind.INVALID);
            assertThat(r.message()).contains("not delegated").contains("no originator");
        });
    }

    @Test
    void neitherTheOriginatorNorAnyActorApprovesAGroupApproval() {
        // Given a four-eyes approval by one dba of planner-agent's command, acting for alice
        Approval a = apply(request(agentForAlice(), "dba", 1, AuditEvent.ApprovalRequested.FROM_GROUP));
        assertThat(a.fromOriginator()).isFalse();

        // When alice, planner-agent and intake-agent (all in dba) answer
        // Then each is refused as a party to the request
        assertThat(a.refusal("alice", ISSUER, List.of("dba"), T0)).hasValueSatisfying(r -> {
            assertThat(r.kind()).isEqualTo(Approval.Refusal.Kind.SELF);
            assertThat(r.message()).contains("alice cannot approve their own agent's command")
                    .contains("planner-agent acts for alice");
        });
        assertThat(a.refusal("alice", null, List.of("dba"), T0)).map(Approval.Refusal::kind)
                .contains(Approval.Refusal.Kind.SELF);
        assertThat(a.refusal("planner-agent", ISSUER, List.of("dba"), T0)).hasValueSatisfying(r -> {
            assertThat(r.kind()).isEqualTo(Approval.Refusal.Kind.SELF);
            assertThat(r.message()).contains("the acting agent cannot approve its own command");
        });
        assertThat(a.refusal("intake-agent", ISSUER, List.of("dba"), T0)).hasValueSatisfying(r -> {
            assertThat(r.kind()).isEqualTo(Approval.Refusal.Kind.SELF);
            assertThat(r.message()).contains("earlier actor");
        });
        // an alice of another issuer is another person: only group membership decides for her
        assertThat(a.refusal("alice", OTHER_ISSUER, List.of("dba"), T0)).isEmpty();

        // When the fold sees alice's and the agent's votes, then bob's
        vote("alice", ISSUER, List.of("dba"));
        vote("planner-agent", ISSUER, List.of("dba"));
        Approval after = vote("bob", ISSUER, List.of("dba"));

        // Then only bob's counts, and it decides
        assertThat(after.votes()).extracting(Approval.Vote::approver, Approval.Vote::counted)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("alice", false),
                        org.assertj.core.groups.Tuple.tuple("planner-agent", false),
                        org.assertj.core.groups.Tuple.tuple("bob", true));
        assertThat(after.tally()).isEqualTo(Approval.State.GRANTED);
    }

    @Test
    void whoAnswersTravelsOnTheWireAndOldRecordsReadAsGroupApprovals() {
        // Given an originator confirmation and a group approval written before the field existed
        AuditEventCodec codec = new AuditEventCodec();
        AuditEvent.ApprovalRequested originator = request(agentForAlice(), null, 1, AuditEvent.ApprovalRequested.FROM_ORIGINATOR);
        AuditEvent.ApprovalRequested old = request(agentForAlice(), "dba", 1, null);

        // When both are encoded and read back
        AuditEvent.ApprovalRequested readOriginator = (AuditEvent.ApprovalRequested) codec.decode(codec.encode(originator));
        AuditEvent.ApprovalRequested readOld = (AuditEvent.ApprovalRequested) codec.decode(codec.encode(old));

        // Then
        assertThat(readOriginator.approverFrom()).isEqualTo(AuditEvent.ApprovalRequested.FROM_ORIGINATOR);
        assertThat(readOriginator.fromOriginator()).isTrue();
        assertThat(readOriginator.identity().delegation().originator()).isEqualTo("alice");
        assertThat(readOld.approverFrom()).isNull();
        assertThat(readOld.fromOriginator()).isFalse();
    }

    @Test
    void anOriginatorsDeferredConfirmationLetsTheAgentActForHerOnlyAndIsNoFourEyesApproval() {
        // Given planner-agent acting for alice, whose deferred confirmation alice gave
        apply(request(agentForAlice(), null, 1, AuditEvent.ApprovalRequested.FROM_ORIGINATOR, "deferred"));
        vote("alice", ISSUER, List.of("dba"));
        apply(new AuditEvent.ApprovalGranted(new EventHeader(UUID.randomUUID().toString(), session, T0.plusSeconds(6), "test", "t1"),
                id, List.of("alice"), T0.plus(Duration.ofHours(1))));
        Instant at = T0.plusSeconds(7);

        // Then the same agent for alice may redeem it; for bob, on its own, or where a dba group approval is asked, not
        assertThat(book.findRedeemable("sha256:abc", agentForAlice(), ApprovalBook.Requirement.originator(), at)).isPresent();
        assertThat(book.findRedeemable("sha256:abc", agentFor("bob"), ApprovalBook.Requirement.originator(), at)).isEmpty();
        assertThat(book.findRedeemable("sha256:abc", new Identity("planner-agent", ISSUER, List.of("dba", "agents"), List.of(),
                Map.of(), null), ApprovalBook.Requirement.originator(), at)).isEmpty();
        assertThat(book.findRedeemable("sha256:abc", agentForAlice(), ApprovalBook.Requirement.group("dba", 1), at)).isEmpty();
    }
}
