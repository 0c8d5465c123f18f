package dev.gatehouse.approval.slack;

import dev.gatehouse.approval.Approver;
import dev.gatehouse.approval.VoteRefusedException;
import dev.gatehouse.approval.VoteResult;
import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.approval.ApprovalBook;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.AuditSink;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;

/** Approvals for Slack tests, and an in-memory approvals log folded by the real {@link ApprovalBook}. */
final class SlackFixtures {

    static final SessionId SESSION = new SessionId("sess-42");

    private SlackFixtures() {
    }

    static Identity person(String subject) {
        return new Identity(subject, "https://idp.example", List.of("dev"), List.of(), Map.of(), null);
    }

    static Identity ci() {
        return new Identity("repo:acme/payments:ref:refs/heads/main", "https://token.actions.githubusercontent.com",
                List.of(), List.of(), Map.of(), new CiProvenance("github-actions", "acme/payments", "123",
                "0123456789abcdef0123456789abcdef01234567", "refs/heads/main", "deploy", "987654321", "1"));
    }

    static AuditEvent.ApprovalRequested request(String approvalId, Identity who, String sql) {
        Instant now = Instant.now();
        SqlAnalysis analysis = new SqlAnalysis(true, null, "fp", List.of(new StatementAnalysis(StatementKind.DDL,
                "DROP TABLE", "TABLE", List.of(), List.of("public.users"), List.of(), false)));
        SqlCommand command = new SqlCommand(new CommandId("cmd-" + approvalId), SESSION, 3, now,
                SqlCommand.Form.SIMPLE_QUERY, sql, List.of(), analysis);
        return new AuditEvent.ApprovalRequested(new EventHeader(UUID.randomUUID().toString(), SESSION, now, "policy", "p1"),
                command.id(), approvalId, "sha256:00", "dba", 1, now.plus(Duration.ofMinutes(10)), "approve-ddl",
                "DDL on prod needs a DBA", "hold", command, who,
                new ConnectionRef("prod-db", "postgres", "db:5432/app", Map.of("env", "prod")), "edge-1", 0, null,
                "#db-approvals");
    }

    /**
     * A request for an extended batch recorded statement by statement: an Execute of the prepared
     * statement S_1 with its arguments, then a statement reached through {@code EXECUTE pay(40)}.
     */
    static AuditEvent.ApprovalRequested statementsRequest(String approvalId) {
        AuditEvent.ApprovalRequested plain = request(approvalId, person("alice"), "unused");
        StatementAnalysis update = new StatementAnalysis(StatementKind.WRITE, "UPDATE", null, List.of(),
                List.of("public.payouts"), List.of(), false, true, true, List.of("trigger on public.payouts"), List.of(),
                List.of());
        SqlCommand command = SqlCommand.of(plain.commandId(), SESSION, 3, plain.header().timestamp(),
                SqlCommand.Form.EXTENDED, SqlCommand.POSTGRES, List.of(
                        new CommandStatement(CommandStatement.Step.EXECUTE, "UPDATE payouts SET amount = $1 WHERE id = $2",
                                "S_1", "", java.util.Arrays.asList("40", null), "sha256:" + "aa".repeat(32), 0, false,
                                null, update),
                        new CommandStatement(CommandStatement.Step.QUERY, "UPDATE payouts SET amount = $1 WHERE id = 9",
                                "pay", null, List.of("40"), "sha256:" + "bb".repeat(32), 0, false, "EXECUTE pay(40)",
                                update)),
                null, true, null, "fp");
        return new AuditEvent.ApprovalRequested(plain.header(), plain.commandId(), approvalId, "sha256:01", "dba", 1,
                plain.expiresAt(), "approve-payouts", "payouts need a second pair of eyes", "hold", command,
                plain.identity(), plain.connection(), "edge-1", 0, null, "#db-approvals");
    }

    /** {@code agent} acting for {@code originator} (both of the test issuer), after no earlier actor. */
    static Identity agentFor(String originator, String agent) {
        return new Identity(agent, "https://idp.example", List.of("agents"), List.of(), Map.of(), null,
                new Delegation(originator, "https://idp.example", List.of("dev"), List.of(), List.of(), Delegation.ACT), null);
    }

    /** An originator confirmation of {@code who}'s command. */
    static AuditEvent.ApprovalRequested originatorRequest(String approvalId, Identity who, String sql) {
        AuditEvent.ApprovalRequested plain = request(approvalId, who, sql);
        return new AuditEvent.ApprovalRequested(plain.header(), plain.commandId(), approvalId, "sha256:02", null, 1,
                plain.expiresAt(), "agent-confirms", "the originator confirms what the agent writes", "hold",
                plain.command(), who, plain.connection(), "edge-1", 0, null, "the originator "
                + (who.delegated() ? who.delegation().originator() : "?"), AuditEvent.ApprovalRequested.FROM_ORIGINATOR);
    }

    static Approval approval(String approvalId, Identity who, String sql) {
        return Approval.requested(request(approvalId, who, sql), 0);
    }

    /** An approvals log in memory: events are folded by the real book in append order. */
    static final class MemoryLog implements AuditSink, SlackInteractivity.Voter {
        final ApprovalBook book = new ApprovalBook();
        final List<AuditEvent> events = new CopyOnWriteArrayList<>();
        private final AtomicLong offset = new AtomicLong();

        @Override
        public synchronized CompletionStage<Void> append(AuditEvent event) {
            events.add(event);
            book.apply(offset.getAndIncrement(), event);
            return CompletableFuture.completedFuture(null);
        }

        @Override
        public synchronized CompletionStage<VoteResult> vote(String approvalId, Approver approver, boolean approve,
                                                             String reason, String channel, String externalUser) {
            Optional<Approval> current = book.get(approvalId);
            if (current.isEmpty()) {
                return CompletableFuture.failedFuture(new VoteRefusedException(VoteRefusedException.UNKNOWN,
                        "no approval " + approvalId));
            }
            Optional<Approval.Refusal> refusal = current.get().refusal(approver.subject(), approver.issuer(),
                    approver.groups(), Instant.now());
            if (refusal.isPresent()) return CompletableFuture.failedFuture(VoteRefusedException.of(refusal.get()));
            append(new AuditEvent.ApprovalVoted(EventHeader.now(SESSION, "approval", "test"), approvalId,
                    approver.subject(), approver.issuer(), approver.groups(), approve, reason, channel, externalUser));
            return CompletableFuture.completedFuture(new VoteResult(book.get(approvalId).orElseThrow(), true, null));
        }

        @Override
        public synchronized Optional<Approval> approval(String approvalId) {
            return book.get(approvalId);
        }

        <T extends AuditEvent> List<T> events(Class<T> type) {
            return events.stream().filter(type::isInstance).map(type::cast).toList();
        }
    }
}
