package dev.gatehouse.platform.events;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DryRunVerdict;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import dev.gatehouse.platform.core.Verdict;

/** One event of every type, with every field set or with every optional field null. */
final class EventFixtures {

    static final SessionId SESSION = new SessionId("s-0001");
    static final CommandId COMMAND = new CommandId("c-0001");
    /** Microsecond precision: what timestamp-micros keeps. */
    static final Instant AT = Instant.parse("2026-03-01T12:34:56.123456Z");
    static final EventHeader HEADER = new EventHeader("e-0001", SESSION, AT, "edge", "edge-1");

    private EventFixtures() {
    }

    static Identity identity() {
        return new Identity("repo:acme/payments:ref:refs/heads/main", "https://token.actions.githubusercontent.com",
                List.of("ci", "payments"), List.of("deployer"),
                Map.of("sub", "repo:acme/payments", "n", 42, "admin", true, "ratio", 1.5,
                        "aud", List.of("gatehouse", "other"), "nested", Map.of("k", "v", "list", List.of(1, 2))),
                new CiProvenance("github-actions", "acme/payments", "123456", "0123456789abcdef0123456789abcdef01234567",
                        "refs/heads/main", "deploy", "987654321", "migrate",
                        "acme/payments/.github/workflows/deploy.yml@refs/heads/main", "89abcdef",
                        "acme/shared/.github/workflows/migrate.yml@refs/tags/v2", "fedcba98", "2", "octocat", "583231",
                        "prod", "push", "true", "github-hosted"),
                // a CI job's agent acting for a person: every identity field is written
                new Delegation("alice", "https://keycloak.example/realms/acme", List.of("dba"), List.of("db-reader"),
                        List.of("planner-agent"), "azp"),
                new DeclaredIntent("run-17", "4", true, DeclaredIntent.TOKEN));
    }

    static ConnectionRef connection() {
        return new ConnectionRef("demo", "postgres", "db.internal:5432/app", Map.of("env", "prod", "team", "payments"));
    }

    static SqlCommand command() {
        return new SqlCommand(COMMAND, SESSION, 7, AT.plusMillis(1), SqlCommand.Form.EXTENDED,
                "UPDATE accounts SET balance = $1 WHERE id = $2;\nSELECT now()", Arrays.asList("100", null),
                new SqlAnalysis(true, null, "UPDATE accounts SET balance = $1 WHERE id = $2;\nSELECT now()",
                        List.of(new StatementAnalysis(StatementKind.WRITE, "UPDATE", null, List.of("accounts"),
                                        List.of("accounts"), List.of(), false),
                                new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of(), List.of(),
                                        List.of("now"), false))));
    }

    /**
     * A command recorded statement by statement, every field of every statement set: an Execute of
     * a named statement through a portal with a row limit and arguments, continuing a suspended
     * portal, reached by an SQL-level statement; a Bind; then a statement of a simple Query. The
     * protocol is not the default ("postgres"), so a codec that drops it is seen.
     */
    static SqlCommand statementsCommand() {
        StatementAnalysis update = new StatementAnalysis(StatementKind.WRITE, "UPDATE", null, List.of("public.accounts"),
                List.of("public.accounts", "public.audit_trail"), List.of("public.touch"), true, true, true,
                List.of("a trigger on public.accounts runs code"), List.of("search_path"),
                List.of("id", "accounts.id", "public.accounts.id"));
        StatementAnalysis set = new StatementAnalysis(StatementKind.UTILITY, "SET", null, List.of(), List.of(), List.of(),
                false, false, false, List.of(), List.of("*"), List.of());
        CommandStatement execute = new CommandStatement(CommandStatement.Step.EXECUTE,
                "UPDATE accounts SET balance = $1 WHERE id = $2", "upd", "p1", Arrays.asList("100", null),
                "sha256:" + "0f".repeat(32), 100, true, "EXECUTE upd(100, NULL)", update);
        StatementAnalysis drop = new StatementAnalysis(StatementKind.DDL, "DROP TABLE", "TABLE", List.of(),
                List.of("public.old_accounts"), List.of(), false);
        CommandStatement bind = new CommandStatement(CommandStatement.Step.BIND, "SELECT set_config($1, 'x', false)", "",
                "", List.of("search_path"), "sha256:" + "a1".repeat(32), 0, false, null, set);
        return SqlCommand.of(COMMAND, SESSION, 8, AT.plusMillis(2), SqlCommand.Form.EXTENDED, "mysql",
                List.of(execute, bind, CommandStatement.query("DROP TABLE old_accounts", drop)), null, true, null,
                "UPDATE accounts SET balance = $1 WHERE id = $2");
    }

    static List<AuditEvent> allFieldsSet() {
        return List.of(
                new AuditEvent.SessionOpened(HEADER, identity(), connection(), "10.0.0.7:51234", "app", "psql",
                        "enforce", true, Map.of("user", "app", "database", "demo", "application_name", "psql",
                        "options", "-c search_path=app"), Map.of("user", "app_rw", "database", "demo",
                        "standard_conforming_strings", "on", "client_encoding", "UTF8"), 48213),
                new AuditEvent.SessionRejected(HEADER, "10.0.0.7:51234", "demo", "app", "alice", "28000",
                        "token expired"),
                new AuditEvent.CommandReceived(HEADER, command(), identity(), connection(), "edge-1", 3, "enforce",
                        AT.minusSeconds(60), "10.0.0.7"),
                new AuditEvent.CommandReceived(HEADER, SqlCommand.of(COMMAND, SESSION, 9, AT, SqlCommand.Form.SIMPLE_QUERY,
                        "postgres", List.of(CommandStatement.query("SELEC 1", StatementAnalysis.unknown(null,
                                "not parseable"))), "SELEC 1", false, "syntax error at or near \"SELEC\"", null),
                        identity(), connection(), "edge-1", 3, "enforce", AT.minusSeconds(60), "10.0.0.7"),
                new AuditEvent.CommandReceived(HEADER, statementsCommand(), identity(), connection(), "edge-1", 3,
                        "enforce", AT.minusSeconds(60), "10.0.0.7",
                        "standard_conforming_strings is pinned to on by Gatehouse"),
                new AuditEvent.DecisionMade(HEADER, COMMAND, 7, new Decision.Allow(COMMAND, "r1", "reads ok", "v3"),
                        "edge-1", 3, "enforce", Duration.ofNanos(1_234_000)),
                new AuditEvent.DecisionMade(HEADER, COMMAND, 7, new Decision.Allow(COMMAND, "r1", "reads ok", "v3"),
                        "edge-1", 3, "enforce", Duration.ofMillis(1), List.of(
                        new DryRunVerdict("new-ddl-rule", Verdict.DENY, "no DDL at night", "v3", false, null, 0, null),
                        new DryRunVerdict("approve-prod", Verdict.REQUIRE_APPROVAL, "prod write", "v4", true, "dba", 2,
                                null),
                        new DryRunVerdict("mask-pii", Verdict.MASK, "pii", "v4", true, null, 0, "pii-basic"))),
                new AuditEvent.DecisionMade(HEADER, COMMAND, 7, new Decision.Deny(COMMAND, "r2", "no ddl", "v3"),
                        "edge-1", 3, "enforce", Duration.ofMillis(2)),
                new AuditEvent.DecisionMade(HEADER, COMMAND, 7,
                        new Decision.Mask(COMMAND, "r3", "pii", "v3", "email-hash"), "edge-1", 3, "enforce",
                        Duration.ofMillis(2)),
                new AuditEvent.DecisionMade(HEADER, COMMAND, 7,
                        new Decision.RequireApproval(COMMAND, "r4", "prod write", "v3", "dba", 2), "edge-1", 3,
                        "enforce", Duration.ofMillis(2)),
                new AuditEvent.CommandCompleted(HEADER, COMMAND, 7,
                        new AuditEvent.Outcome(true, List.of("UPDATE 1", "SELECT 1"), 2, "23505",
                                "duplicate key value", Duration.ofNanos(5_678_901_000L), 512, "T")),
                new AuditEvent.CommandCompleted(HEADER, COMMAND, 8,
                        new AuditEvent.Outcome(true, List.of("UPDATE 1"), 1, "22012", "division by zero",
                                Duration.ofMillis(3), 128, "E", new AuditEvent.Masking("pii", 2,
                                Map.of("public.accounts.iban", 2L), Map.of("iban", 1L)), 1)),
                // a one-chunk sample inside (under the event's own header, as the reader rebuilds it)
                new AuditEvent.CommandCompleted(HEADER, COMMAND, 9,
                        new AuditEvent.Outcome(true, List.of("SELECT 2"), 2, null, null, Duration.ofMillis(1), 96, "I"),
                        new AuditEvent.ResultSampled(HEADER, COMMAND, 9, 0, true, List.of("id", "email"),
                                java.util.Arrays.asList(java.util.Arrays.asList("1", "a***@example.com"),
                                        java.util.Arrays.asList("2", null)), false, 2, 20, true)),
                new AuditEvent.SessionClosed(HEADER, "client terminated", 12, Duration.ofSeconds(3600, 1_000)),
                new AuditEvent.ProtocolViolation(HEADER, "postgres", "10.0.0.7:51234", "message length 2147483647 too large"),
                new AuditEvent.CancelRequested(HEADER, "10.0.0.7:51235", true),
                new AuditEvent.PolicyActivated(HEADER, "default", "v3", "alice"),
                new AuditEvent.PolicyActivated(HEADER, "default", "v4", "bob", true,
                        java.time.Instant.parse("2026-11-24T09:00:00Z"), "ab12"),
                new AuditEvent.ApprovalRequested(HEADER, COMMAND, "a-1", "sha256:abcd", "dba", 2,
                        AT.plusSeconds(900), "r4", "prod write"),
                new AuditEvent.ApprovalRequested(HEADER, COMMAND, "a-2", "sha256:ef01", "dba", 1,
                        AT.plusSeconds(600), "r4", "prod write", "deferred", command(), identity(), connection(),
                        "edge-1", 3, Duration.ofHours(1), "#db-approvals", AuditEvent.ApprovalRequested.FROM_GROUP),
                new AuditEvent.ApprovalRequested(HEADER, COMMAND, "a-3", "sha256:ef02", "dba", 1,
                        AT.plusSeconds(600), "r4", "prod write", "hold", statementsCommand(), identity(), connection(),
                        "edge-1", 3, null, "#db-approvals"),
                new AuditEvent.DecisionMade(HEADER, COMMAND, 7,
                        new Decision.RequireApproval(COMMAND, "r4", "prod write", "v3", "dba", 2, "a-2", "hold",
                                AT.plusSeconds(600), "#db-approvals"), "edge-1", 3, "enforce", Duration.ofMillis(2)),
                new AuditEvent.ApprovalGranted(HEADER, "a-1", List.of("bob", "carol")),
                new AuditEvent.ApprovalGranted(HEADER, "a-2", List.of("bob"), AT.plusSeconds(4200)),
                new AuditEvent.ApprovalVoted(HEADER, "a-1", "bob", "https://issuer", List.of("dba"), true, "looks fine",
                        "slack", "U0123"),
                new AuditEvent.ApprovalNotified(HEADER, "a-1", "slack", "#db-approvals", false, 2,
                        "connection refused", "C1/1700000000.0001"),
                new AuditEvent.ApprovalExecuted(HEADER, "a-1", COMMAND),
                new AuditEvent.ApprovalDenied(HEADER, "a-1", "bob", "not now"),
                new AuditEvent.ApprovalExpired(HEADER, "a-1"),
                new AuditEvent.AccessRevoked(HEADER, "repository", "acme/payments", "alice", "leaked", true),
                new AuditEvent.ResultSampled(HEADER, COMMAND, 7, 1, true, List.of("id", "email"),
                        java.util.Arrays.asList(java.util.Arrays.asList("1", "a***@example.com"),
                                java.util.Arrays.asList("2", null), java.util.Arrays.asList("\\x00ff", "")),
                        true, 23, 16384, true),
                new AuditEvent.ResultSampled(HEADER, COMMAND, 7, 0, false, List.of("id"), List.of(List.of("1")), false,
                        1, 1, false),
                // not the default algorithm, so that dropping the field is seen
                new AuditEvent.SessionSealed(HEADER, SESSION.value(), 12, "ab".repeat(32), "sha512-chain/ed25519",
                        "c2lnbmF0dXJl", "0123456789abcdef", "aborted"),
                new AuditEvent.SessionRequested(HEADER, COMMAND, identity(), connection(), "10.0.0.7", "app", "psql",
                        "edge-1", 3, "enforce"));
    }

    static List<AuditEvent> optionalFieldsNull() {
        Identity bare = new Identity("alice", "https://issuer", List.of(), List.of(), Map.of(), null);
        ConnectionRef bareConnection = new ConnectionRef(null, null, null, Map.of());
        SqlCommand bareCommand = new SqlCommand(COMMAND, SESSION, 1, null, SqlCommand.Form.SIMPLE_QUERY, "SELEC 1",
                null, SqlAnalysis.unparseable("syntax error at or near \"SELEC\""));
        return List.of(
                new AuditEvent.SessionOpened(HEADER, bare, bareConnection, null, null, null, null, false),
                new AuditEvent.SessionRejected(HEADER, null, null, null, null, null, null),
                new AuditEvent.CommandReceived(HEADER, bareCommand, null, null, null, -1, null),
                new AuditEvent.DecisionMade(HEADER, COMMAND, 1, new Decision.Allow(COMMAND, null, null, null), null,
                        -1, null, null),
                new AuditEvent.DecisionMade(HEADER, COMMAND, 1, Decision.of(
                        dev.gatehouse.platform.core.Verdict.MASK, COMMAND, null, null, null), null, -1, null, null),
                new AuditEvent.CommandCompleted(HEADER, COMMAND, 1,
                        new AuditEvent.Outcome(false, List.of(), 0, null, null, null, 0, null)),
                new AuditEvent.SessionClosed(HEADER, null, 0, null),
                new AuditEvent.ProtocolViolation(HEADER, null, null, null),
                new AuditEvent.CancelRequested(HEADER, null, false),
                new AuditEvent.PolicyActivated(HEADER, null, null, null),
                new AuditEvent.ApprovalRequested(HEADER, COMMAND, "a-1", null, null, 0, null, null, null),
                new AuditEvent.ApprovalGranted(HEADER, "a-1", List.of()),
                new AuditEvent.ApprovalVoted(HEADER, "a-1", "bob", null, List.of(), false, null, "cli", null),
                new AuditEvent.ApprovalNotified(HEADER, "a-1", "slack", null, true, 1, null, null),
                new AuditEvent.ApprovalExecuted(HEADER, "a-1", COMMAND),
                new AuditEvent.ApprovalDenied(HEADER, "a-1", null, null),
                new AuditEvent.ApprovalExpired(HEADER, "a-1"),
                new AuditEvent.AccessRevoked(HEADER, null, null, null, null, false),
                new AuditEvent.ResultSampled(HEADER, COMMAND, 1, 0, true, List.of(), List.of(), false, 0, 0, false),
                new AuditEvent.SessionSealed(HEADER, SESSION.value(), 0, "", "sha256-chain/ed25519", "", "", "closed"),
                new AuditEvent.SessionRequested(HEADER, COMMAND, null, null, null, null, null, null, -1, null));
    }
}
