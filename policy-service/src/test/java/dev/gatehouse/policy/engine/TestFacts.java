package dev.gatehouse.policy.engine;

import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/** Hand-built facts for engine tests: the SQL analysis is written out, not computed. */
final class TestFacts {

    static final ConnectionRef DEMO = new ConnectionRef("demo", "postgres", "127.0.0.1:5432/demo", Map.of("env", "dev"));

    private TestFacts() {
    }

    static Identity person(String subject, String... groups) {
        return new Identity(subject, "https://issuer.example", List.of(groups), List.of(), Map.of("sub", subject), null);
    }

    static Identity ci(String subject) {
        return new Identity(subject, "https://token.actions.githubusercontent.com", List.of("ci"), List.of(),
                Map.of("sub", subject),
                new CiProvenance("github", "acme/app", "42", "0123abcd", "refs/heads/main", "deploy", "1001", "migrate"));
    }

    static Identity withClaims(Map<String, Object> claims) {
        return new Identity("alice", "https://issuer.example", List.of("dev"), List.of("reader"), claims, null);
    }

    static StatementAnalysis stmt(StatementKind kind, String tag) {
        return new StatementAnalysis(kind, tag, null, List.of(), List.of(), List.of(), false);
    }

    static StatementAnalysis ddl(String tag, String objectType, String table) {
        return new StatementAnalysis(StatementKind.DDL, tag, objectType, List.of(), List.of(table), List.of(), false);
    }

    static StatementAnalysis write(String tag, String table, boolean missingWhere) {
        return new StatementAnalysis(StatementKind.WRITE, tag, null, List.of(), List.of(table), List.of(), missingWhere);
    }

    static SqlCommand command(String sql, StatementAnalysis... statements) {
        return command(SqlCommand.Form.SIMPLE_QUERY, sql, new SqlAnalysis(true, null, "fp-" + sql.length(), List.of(statements)));
    }

    static SqlCommand command(SqlCommand.Form form, String sql, SqlAnalysis analysis) {
        return new SqlCommand(CommandId.random(), new SessionId("session-1"), 1, Instant.EPOCH, form, sql, List.of(), analysis);
    }

    static SqlCommand unparseable(String sql) {
        return command(SqlCommand.Form.SIMPLE_QUERY, sql, SqlAnalysis.unparseable("syntax error at or near \"SELEC\""));
    }

    static Facts facts(Identity identity, SqlCommand command) {
        return Facts.of(identity, DEMO, command);
    }

    static SqlCommand select() {
        return command("SELECT 1", stmt(StatementKind.READ, "SELECT"));
    }
}
