package dev.gatehouse.indexer;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Decision;
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
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

/** Realistic audit events of whole sessions, for the indexer's tests. */
public final class SampleSessions {

    private final String sessionId;
    private final String edgeId;
    private Instant clock;
    private long sequence;
    private Identity identity = ciIdentity();

    public SampleSessions(String sessionId, String edgeId, Instant start) {
        this.sessionId = sessionId;
        this.edgeId = edgeId;
        this.clock = start;
    }

    /** The identity of this session's events from now on (a CI job's unless set). */
    public SampleSessions as(Identity newIdentity) {
        this.identity = newIdentity;
        return this;
    }

    /**
     * executor-agent (group agents) acting for alice (group dba), set going by planner-agent, with
     * the intent it declared as a connection parameter (unverified).
     */
    public static Identity delegatedIdentity() {
        return new Identity("executor-agent", "https://issuer.example", List.of("agents"), List.of(), Map.of(), null,
                new Delegation("alice", "https://issuer.example", List.of("dba"), List.of(), List.of("planner-agent"), "act"),
                new DeclaredIntent("run-17", "4", false, DeclaredIntent.CONNECTION_PARAMETER));
    }

    public static Identity ciIdentity() {
        return new Identity("repo:acme/shop:ref:refs/heads/main", "https://token.actions.githubusercontent.com",
                List.of("ci", "deployers"), List.of(), Map.of(),
                new CiProvenance("github-actions", "acme/shop", "42", "0123456789abcdef0123456789abcdef01234567",
                        "refs/heads/main", "deploy", "9001", "17"));
    }

    public static ConnectionRef connection() {
        return new ConnectionRef("demo", "postgres", "127.0.0.1:5432/shop", Map.of("env", "dev"));
    }

    public String sessionId() {
        return sessionId;
    }

    private EventHeader header(String service) {
        clock = clock.plusMillis(7);
        return new EventHeader(UUID.randomUUID().toString(), new SessionId(sessionId), clock, service,
                service.equals("edge") ? edgeId : "policy-1");
    }

    public AuditEvent opened() {
        return new AuditEvent.SessionOpened(header("edge"), identity, connection(), "10.0.0.7", "app", "psql", "enforce", true);
    }

    public AuditEvent.CommandReceived command(String sql, StatementKind kind, String tag, String objectType, List<String> written,
                                              List<String> read, String... params) {
        StatementAnalysis st = new StatementAnalysis(kind, tag, objectType, read, written, List.of(), false);
        SqlCommand cmd = new SqlCommand(CommandId.random(), new SessionId(sessionId), ++sequence, clock.plusMillis(1),
                params.length == 0 ? SqlCommand.Form.SIMPLE_QUERY : SqlCommand.Form.EXTENDED, sql, List.of(params),
                new SqlAnalysis(true, null, "fp", List.of(st)));
        return new AuditEvent.CommandReceived(header("edge"), cmd, identity, connection(), edgeId, 0, "enforce",
                clock, "10.0.0.7");
    }

    /**
     * A simple Query {@code EXECUTE pay(40, 7)} recorded statement by statement: the prepared INSERT
     * it runs, with its own arguments; refused by the edge when {@code refusal} is not null.
     */
    public AuditEvent.CommandReceived executePrepared(String refusal) {
        StatementAnalysis insert = new StatementAnalysis(StatementKind.WRITE, "INSERT", null, List.of(),
                List.of("public.payouts"), List.of(), false);
        CommandStatement execute = new CommandStatement(CommandStatement.Step.QUERY,
                "INSERT INTO payouts (note, amount) VALUES ($1, $2)", "pay", null, List.of("refund", "40"),
                "sha256:" + "ab".repeat(32), 0, false, "EXECUTE pay('refund', 40)", insert);
        SqlCommand cmd = SqlCommand.of(CommandId.random(), new SessionId(sessionId), ++sequence, clock.plusMillis(1),
                SqlCommand.Form.SIMPLE_QUERY, SqlCommand.POSTGRES, List.of(execute), "EXECUTE pay('refund', 40)", true,
                null, "fp");
        return new AuditEvent.CommandReceived(header("edge"), cmd, identity, connection(), edgeId, 0, "enforce",
                clock, "10.0.0.7", refusal);
    }

    /** An extended batch of two Executes, each with its own parameters, the second continuing a suspended portal. */
    public AuditEvent.CommandReceived extendedBatch() {
        StatementAnalysis update = new StatementAnalysis(StatementKind.WRITE, "UPDATE", null, List.of(),
                List.of("public.orders"), List.of(), false);
        StatementAnalysis select = new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of("public.orders"),
                List.of(), List.of(), false);
        SqlCommand cmd = SqlCommand.of(CommandId.random(), new SessionId(sessionId), ++sequence, clock.plusMillis(1),
                SqlCommand.Form.EXTENDED, SqlCommand.POSTGRES, List.of(
                        new CommandStatement(CommandStatement.Step.EXECUTE, "UPDATE orders SET state = $1 WHERE id = $2",
                                "", "", java.util.Arrays.asList("paid", null), "sha256:" + "cd".repeat(32), 0, false,
                                null, update),
                        new CommandStatement(CommandStatement.Step.EXECUTE, "SELECT * FROM orders WHERE id > $1", "S_1",
                                "C_2", List.of("10"), "sha256:" + "ef".repeat(32), 50, true, null, select)),
                null, true, null, "fp");
        return new AuditEvent.CommandReceived(header("edge"), cmd, identity, connection(), edgeId, 0, "enforce",
                clock, "10.0.0.7");
    }

    /** The completion of a command of which {@code statementsRun} statements ran before an error. */
    public AuditEvent completedPartly(AuditEvent.CommandReceived c, int statementsRun, String sqlState, String error) {
        return new AuditEvent.CommandCompleted(header("edge"), c.command().id(), c.command().sequence(),
                new AuditEvent.Outcome(true, List.of("UPDATE 1"), 1, sqlState, error, Duration.ofMillis(3), 120, "E",
                        null, statementsRun));
    }

    public AuditEvent decided(AuditEvent.CommandReceived c, Decision decision) {
        return new AuditEvent.DecisionMade(header("policy"), c.command().id(), c.command().sequence(), decision, edgeId, 0,
                "enforce", Duration.ofMillis(2));
    }

    /** The policy asks approvers about {@code c}: approval {@code approvalId}, one approver of the dba group. */
    public AuditEvent approvalRequested(AuditEvent.CommandReceived c, String approvalId) {
        return new AuditEvent.ApprovalRequested(header("policy"), c.command().id(), approvalId, "content-" + approvalId, "dba", 1,
                clock.plusSeconds(600), "ddl-needs-approval", "DDL needs a DBA");
    }

    /** Approval {@code approvalId} is granted by {@code approver}. */
    public AuditEvent approvalGranted(String approvalId, String approver) {
        return new AuditEvent.ApprovalGranted(header("approval"), approvalId, List.of(approver));
    }

    public AuditEvent completed(AuditEvent.CommandReceived c, boolean forwarded, long rows, String sqlState, String error) {
        return new AuditEvent.CommandCompleted(header("edge"), c.command().id(), c.command().sequence(),
                new AuditEvent.Outcome(forwarded, forwarded && sqlState == null ? List.of("SELECT " + rows) : List.of(), rows,
                        sqlState, error, Duration.ofMillis(3), 120, "I"));
    }

    public AuditEvent closed(long commands) {
        return new AuditEvent.SessionClosed(header("edge"), "client terminated", commands, Duration.ofSeconds(2));
    }

    /**
     * A whole session: open, an allowed SELECT with a parameter, a denied DROP TABLE, an allowed
     * CREATE DATABASE (its name only in the text), and, when {@code close}, its close.
     */
    public List<AuditEvent> typical(boolean close) {
        List<AuditEvent> events = new ArrayList<>();
        events.add(opened());
        var select = command("SELECT * FROM public.orders WHERE id = $1", StatementKind.READ, "SELECT", null,
                List.of(), List.of("public.orders"), "42");
        events.add(select);
        events.add(decided(select, new Decision.Allow(select.command().id(), "reads", "reads are fine", "v3")));
        events.add(completed(select, true, 1, null, null));
        var drop = command("DROP TABLE public.orders", StatementKind.DDL, "DROP TABLE", "TABLE", List.of("public.orders"), List.of());
        events.add(drop);
        events.add(decided(drop, new Decision.Deny(drop.command().id(), "no-drop", "dropping tables is not allowed", "v3")));
        events.add(completed(drop, false, 0, "42501", "denied by policy"));
        var create = command("CREATE DATABASE reports", StatementKind.DDL, "CREATE DATABASE", "DATABASE", List.of(), List.of());
        events.add(create);
        events.add(decided(create, new Decision.Allow(create.command().id(), "ddl", "ok", "v3")));
        events.add(completed(create, true, 0, null, null));
        if (close) events.add(closed(3));
        return events;
    }
}
