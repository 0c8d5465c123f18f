package dev.gatehouse.platform.approval;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class ApprovalBookTest {

    private static final String ISSUER = "https://idp.example";
    private static final Instant T0 = Instant.parse("2026-01-01T10:00:00Z");

    private final ApprovalBook book = new ApprovalBook();
    private final SessionId session = SessionId.random();
    private final CommandId command = CommandId.random();
    private final String id = Approval.idFor(command);
    private long offset;

    private EventHeader header(Instant at) {
        return new EventHeader(UUID.randomUUID().toString(), session, at, "test", "t1");
    }

    private AuditEvent.ApprovalRequested request(int required, String mode) {
        SqlCommand sql = new SqlCommand(command, session, 3, T0, SqlCommand.Form.SIMPLE_QUERY, "DROP TABLE t",
                List.of(), SqlAnalysis.unparseable("test"));
        return new AuditEvent.ApprovalRequested(header(T0), command, id, "sha256:abc", "dba", required,
                T0.plus(Duration.ofMinutes(10)), "approve-ddl", "DDL needs a DBA", mode, sql,
                new Identity("alice", ISSUER, List.of("dev", "dba"), List.of(), Map.of(), null),
                new ConnectionRef("prod", "postgres", "db:5432/app", Map.of()), "edge-1", 2, Duration.ofHours(1), "#db");
    }

    private AuditEvent.ApprovalVoted vote(String who, boolean approve, List<String> groups, Instant at) {
        return new AuditEvent.ApprovalVoted(header(at), id, who, ISSUER, groups, approve, approve ? null : "not now",
                "rest", null);
    }

    private Approval apply(AuditEvent e) {
        return book.apply(offset++, e).orElse(book.get(id).orElse(null));
    }

    private Approval requested(int required) {
        return apply(request(required, "hold"));
    }

    @Test
    void theApprovalIdIsDerivedFromTheCommandId() {
        // Given a command id
        CommandId c = new CommandId("cmd-1");

        // When its approval id is derived twice
        String first = Approval.idFor(c);

        // Then it is stable, short and prefixed
        assertThat(first).isEqualTo(Approval.idFor(new CommandId("cmd-1"))).matches("ap-[0-9a-f]{12}");
        assertThat(first).isNotEqualTo(Approval.idFor(new CommandId("cmd-2")));
    }

    @Test
    void aRequestIsPendingWithItsContext() {
        // Given / When a request
        Approval a = requested(1);

        // Then it is pending and carries what is to be approved
        assertThat(a.state()).isEqualTo(Approval.State.PENDING);
        assertThat(a.requester().subject()).isEqualTo("alice");
        assertThat(a.command().sql()).isEqualTo("DROP TABLE t");
        assertThat(a.replyPartition()).isEqualTo(2);
        assertThat(a.mode()).isEqualTo("hold");
        assertThat(book.pending()).extracting(Approval::id).containsExactly(id);
    }

    @Test
    void theRequesterCannotApproveTheirOwnRequest() {
        // Given a request by alice, who is in the approver group
        requested(1);

        // When alice approves
        Approval a = apply(vote("alice", true, List.of("dba"), T0.plusSeconds(5)));

        // Then the vote is recorded but does not count
        assertThat(a.votes()).singleElement().satisfies(v -> {
            assertThat(v.counted()).isFalse();
            assertThat(v.refusal()).contains("requester cannot approve their own request");
        });
        assertThat(a.tally()).isEqualTo(Approval.State.PENDING);
        assertThat(a.refusal("alice", null, List.of("dba"), T0)).map(Approval.Refusal::kind)
                .contains(Approval.Refusal.Kind.SELF);
    }

    @Test
    void aVoterOutsideTheGroupDoesNotCount() {
        // Given a request for group dba
        requested(1);

        // When bob, not in dba, approves
        Approval a = apply(vote("bob", true, List.of("dev"), T0.plusSeconds(5)));

        // Then it does not count and says why
        assertThat(a.votes().getFirst().counted()).isFalse();
        assertThat(a.votes().getFirst().refusal()).isEqualTo("bob is not in the approver group dba");
        assertThat(a.outcomeDue()).isFalse();
    }

    @Test
    void twoApprovalsNeedTwoDistinctApprovers() {
        // Given a request needing 2 approvals
        requested(2);

        // When bob approves twice, then carol approves
        Approval afterBob = apply(vote("bob", true, List.of("dba"), T0.plusSeconds(1)));
        Approval afterRepeat = apply(vote("bob", true, List.of("dba"), T0.plusSeconds(2)));
        Approval afterCarol = apply(vote("carol", true, List.of("dba"), T0.plusSeconds(3)));

        // Then only bob's first vote and carol's count, and the votes decide GRANTED
        assertThat(afterBob.tally()).isEqualTo(Approval.State.PENDING);
        assertThat(afterRepeat.votes().get(1).refusal()).isEqualTo("bob has already voted on approval " + id);
        assertThat(afterCarol.approvedBy()).containsExactly("bob", "carol");
        assertThat(afterCarol.tally()).isEqualTo(Approval.State.GRANTED);
        assertThat(afterCarol.outcomeDue()).isTrue();
        assertThat(afterCarol.state()).as("pending until the outcome event").isEqualTo(Approval.State.PENDING);
    }

    @Test
    void theFirstCountedDenyDecidesAndLaterVotesDoNotCount() {
        // Given a request needing 2 approvals, approved once
        requested(2);
        apply(vote("bob", true, List.of("dba"), T0.plusSeconds(1)));

        // When carol denies, then dave approves
        apply(vote("carol", false, List.of("dba"), T0.plusSeconds(2)));
        Approval a = apply(vote("dave", true, List.of("dba"), T0.plusSeconds(3)));

        // Then the votes decide DENIED and dave's vote does not count
        assertThat(a.tally()).isEqualTo(Approval.State.DENIED);
        assertThat(a.deniedBy()).hasValueSatisfying(v -> assertThat(v.approver()).isEqualTo("carol"));
        assertThat(a.votes().getLast().counted()).isFalse();
        assertThat(a.votes().getLast().refusal()).contains("already decided");
    }

    @Test
    void theFirstOutcomeEventWinsAndVotesAfterItDoNotCount() {
        // Given a request approved by bob
        requested(1);
        apply(vote("bob", true, List.of("dba"), T0.plusSeconds(1)));

        // When a Granted, then a Denied and an Expired are written, then carol votes
        apply(new AuditEvent.ApprovalGranted(header(T0.plusSeconds(2)), id, List.of("bob")));
        assertThat(book.apply(offset++, new AuditEvent.ApprovalDenied(header(T0.plusSeconds(3)), id, "carol", "no"))).isEmpty();
        assertThat(book.apply(offset++, new AuditEvent.ApprovalExpired(header(T0.plusSeconds(4)), id))).isEmpty();
        Approval a = apply(vote("carol", false, List.of("dba"), T0.plusSeconds(5)));

        // Then it stays granted by bob
        assertThat(a.state()).isEqualTo(Approval.State.GRANTED);
        assertThat(a.outcome().by()).containsExactly("bob");
        assertThat(a.votes().getLast().counted()).isFalse();
        assertThat(a.votes().getLast().refusal()).isEqualTo("approval " + id + " is already granted");
        assertThat(book.pending()).isEmpty();
    }

    @Test
    void anExpiryFirstInTheLogWinsOverALateGrant() {
        // Given a pending request
        requested(1);

        // When expiry is written, then a vote and a grant
        apply(new AuditEvent.ApprovalExpired(header(T0.plus(Duration.ofMinutes(10))), id));
        Approval a = apply(vote("bob", true, List.of("dba"), T0.plus(Duration.ofMinutes(10)).plusMillis(1)));
        apply(new AuditEvent.ApprovalGranted(header(T0.plus(Duration.ofMinutes(11))), id, List.of("bob")));

        // Then it stays expired
        assertThat(book.get(id).orElseThrow().state()).isEqualTo(Approval.State.EXPIRED);
        assertThat(a.votes().getFirst().counted()).isFalse();
    }

    @Test
    void aVoteCastAfterTheExpiryTimeDoesNotCountEvenBeforeTheExpiredEvent() {
        // Given a pending request, expired by the clock but not yet in the log
        requested(1);

        // When bob votes after expiresAt
        Approval a = apply(vote("bob", true, List.of("dba"), T0.plus(Duration.ofMinutes(10))));

        // Then the vote does not count
        assertThat(a.votes().getFirst().counted()).isFalse();
        assertThat(a.votes().getFirst().refusal()).contains("expired");
        assertThat(a.open()).isTrue();
    }

    @Test
    void aDeferredGrantIsRedeemableOnceByTheRequesterWithinItsValidity() {
        // Given a deferred request granted until T0+1h
        apply(request(1, "deferred"));
        apply(vote("bob", true, List.of("dba"), T0.plusSeconds(1)));
        Instant validUntil = T0.plus(Duration.ofHours(1));
        apply(new AuditEvent.ApprovalGranted(header(T0.plusSeconds(2)), id, List.of("bob"), validUntil));

        // When looking it up by content and identity
        // Then only the same fingerprint, issuer and subject, before validUntil, find it
        assertThat(book.findRedeemable("sha256:abc", ALICE, DBA_ONE, T0.plusSeconds(3))).map(Approval::id).contains(id);
        assertThat(book.findRedeemable("sha256:other", ALICE, DBA_ONE, T0.plusSeconds(3))).isEmpty();
        assertThat(book.findRedeemable("sha256:abc", person("mallory", ISSUER), DBA_ONE, T0.plusSeconds(3))).isEmpty();
        assertThat(book.findRedeemable("sha256:abc", person("alice", "https://other"), DBA_ONE, T0.plusSeconds(3))).isEmpty();
        assertThat(book.findRedeemable("sha256:abc", ALICE, DBA_ONE, validUntil)).isEmpty();
    }

    @Test
    void aDeferredGrantRedeemsOnlyWhatItsKindGroupAndCountGive() {
        // Given a granted deferred approval of one dba vote
        apply(request(1, "deferred"));
        apply(vote("bob", true, List.of("dba"), T0.plusSeconds(1)));
        apply(new AuditEvent.ApprovalGranted(header(T0.plusSeconds(2)), id, List.of("bob"), T0.plus(Duration.ofHours(1))));
        Instant at = T0.plusSeconds(3);

        // Then it gives one dba vote, not two, not another group's, and not an originator's confirmation
        assertThat(book.findRedeemable("sha256:abc", ALICE, ApprovalBook.Requirement.group("dba", 1), at)).isPresent();
        assertThat(book.findRedeemable("sha256:abc", ALICE, ApprovalBook.Requirement.group("dba", 2), at)).isEmpty();
        assertThat(book.findRedeemable("sha256:abc", ALICE, ApprovalBook.Requirement.group("security", 1), at)).isEmpty();
        assertThat(book.findRedeemable("sha256:abc", ALICE, ApprovalBook.Requirement.originator(), at)).isEmpty();
    }

    private static final Identity ALICE = person("alice", ISSUER);
    private static final ApprovalBook.Requirement DBA_ONE = ApprovalBook.Requirement.group("dba", 1);

    private static Identity person(String subject, String issuer) {
        return new Identity(subject, issuer, List.of("dev", "dba"), List.of(), Map.of(), null);
    }

    @Test
    void theFirstExecutionWinsAndTheApprovalIsNoLongerRedeemable() {
        // Given a granted deferred approval
        apply(request(1, "deferred"));
        apply(vote("bob", true, List.of("dba"), T0.plusSeconds(1)));
        apply(new AuditEvent.ApprovalGranted(header(T0.plusSeconds(2)), id, List.of("bob"), T0.plus(Duration.ofHours(1))));
        CommandId first = CommandId.random();
        CommandId second = CommandId.random();

        // When two policy instances both write an execution
        apply(new AuditEvent.ApprovalExecuted(header(T0.plusSeconds(3)), id, first));
        apply(new AuditEvent.ApprovalExecuted(header(T0.plusSeconds(3)), id, second));

        // Then the first in the log is the one that runs
        assertThat(book.firstExecution(id)).contains(first);
        assertThat(book.get(id).orElseThrow().state()).isEqualTo(Approval.State.EXECUTED);
        assertThat(book.findRedeemable("sha256:abc", ALICE, DBA_ONE, T0.plusSeconds(4))).isEmpty();
    }

    @Test
    void anExecutionOfAnApprovalThatWasNotGrantedIsIgnored() {
        // Given a pending request
        requested(1);

        // When an execution is written
        // Then it is ignored
        assertThat(book.apply(offset++, new AuditEvent.ApprovalExecuted(header(T0), id, CommandId.random()))).isEmpty();
        assertThat(book.firstExecution(id)).isEmpty();
    }

    @Test
    void aRepeatedRequestAndAReReadRecordAreIgnored() {
        // Given a request and a vote
        requested(1);
        apply(vote("bob", true, List.of("dba"), T0.plusSeconds(1)));

        // When the same request is written again and an old offset is applied again
        assertThat(book.apply(offset++, request(1, "hold"))).isEmpty();
        assertThat(book.apply(0, vote("carol", true, List.of("dba"), T0))).isEmpty();

        // Then the approval keeps its single vote
        assertThat(book.get(id).orElseThrow().votes()).hasSize(1);
        assertThat(book.lastOffset()).isEqualTo(offset - 1);
    }

    @Test
    void notificationsAreRecorded() {
        // Given a request
        requested(1);

        // When a failed, then a delivered notification
        apply(new AuditEvent.ApprovalNotified(header(T0), id, "slack", "#db", false, 1, "503", null));
        Approval a = apply(new AuditEvent.ApprovalNotified(header(T0), id, "slack", "#db", true, 2, null, "ts-1"));

        // Then both attempts are there
        assertThat(a.notifications()).extracting(Approval.Notification::delivered).containsExactly(false, true);
    }

    @Test
    void foldingTheSameLogTwiceGivesTheSameState() {
        // Given a log with racing votes and outcomes
        List<AuditEvent> events = new ArrayList<>(List.of(request(2, "hold"),
                vote("bob", true, List.of("dba"), T0.plusSeconds(1)),
                vote("carol", false, List.of("dba"), T0.plusSeconds(1)),
                vote("dave", true, List.of("dba"), T0.plusSeconds(1)),
                new AuditEvent.ApprovalDenied(header(T0.plusSeconds(2)), id, "carol", "not now"),
                new AuditEvent.ApprovalGranted(header(T0.plusSeconds(2)), id, List.of("bob", "dave"))));

        // When two books fold it
        ApprovalBook other = new ApprovalBook();
        for (int i = 0; i < events.size(); i++) {
            book.apply(i, events.get(i));
            other.apply(i, events.get(i));
        }

        // Then they agree: denied by carol
        assertThat(other.get(id)).isEqualTo(book.get(id));
        assertThat(book.get(id).orElseThrow().state()).isEqualTo(Approval.State.DENIED);
        assertThat(book.get(id).orElseThrow().outcome().by()).containsExactly("carol");
    }
}
