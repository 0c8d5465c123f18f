package dev.gatehouse.approval;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

class ApprovalJsonTest {

    private static final SessionId SESSION = new SessionId("sess-1");
    private static final StatementAnalysis UPDATE = new StatementAnalysis(StatementKind.WRITE, "UPDATE", null, List.of(),
            List.of("public.payouts"), List.of(), false);

    private static Approval approval(SqlCommand command) {
        Instant now = Instant.parse("2026-11-24T10:00:00Z");
        return Approval.requested(new AuditEvent.ApprovalRequested(EventHeader.now(SESSION, "policy", "p1"),
                command.id(), Approval.idFor(command.id()), "sha256:00", "dba", 1, now.plus(Duration.ofMinutes(10)),
                "approve-payouts", "payouts", "hold", command,
                new Identity("alice", "https://idp.example", List.of(), List.of(), Map.of(), null),
                new ConnectionRef("prod-db", "postgres", "db:5432/app", Map.of()), "edge-1", 0, null, "#db"), 0);
    }

    @Test
    void aCommandRecordedStatementByStatementListsEachWithItsOwnParameters() {
        // Given
        SqlCommand command = SqlCommand.of(CommandId.random(), SESSION, 2, Instant.EPOCH, SqlCommand.Form.EXTENDED,
                SqlCommand.POSTGRES, List.of(
                        new CommandStatement(CommandStatement.Step.EXECUTE, "UPDATE payouts SET amount = $1 WHERE id = $2",
                                "S_1", "", Arrays.asList("40", null), "sha256:" + "aa".repeat(32), 0, false, null, UPDATE),
                        new CommandStatement(CommandStatement.Step.EXECUTE, "SELECT * FROM payouts WHERE id > $1", "",
                                "C_1", List.of("7"), "sha256:" + "bb".repeat(32), 100, true, null, UPDATE)),
                null, true, null, "fp");

        // When
        JsonObject json = ApprovalJson.toJson(approval(command));

        // Then
        assertThat(json.getString("protocol")).isEqualTo("postgres");
        assertThat(json.getJsonArray("parameters").getList()).containsExactly("40", null, "7");
        JsonObject first = json.getJsonArray("statements").getJsonObject(0);
        assertThat(first.getString("step")).isEqualTo("EXECUTE");
        assertThat(first.getString("sql")).isEqualTo("UPDATE payouts SET amount = $1 WHERE id = $2");
        assertThat(first.getString("statementName")).isEqualTo("S_1");
        assertThat(first.getString("portalName")).isEmpty();
        assertThat(first.getJsonArray("parameters").getList()).containsExactly("40", null);
        assertThat(first.getString("parametersDigest")).startsWith("sha256:");
        assertThat(first.containsKey("via")).isTrue();
        assertThat(first.getString("via")).isNull();
        JsonObject second = json.getJsonArray("statements").getJsonObject(1);
        assertThat(second.getJsonArray("parameters").getList()).containsExactly("7");
        assertThat(second.getLong("rowLimit")).isEqualTo(100);
        assertThat(second.getBoolean("continued")).isTrue();
    }

    @Test
    void aCommandRecordedAsOneTextHasNoStatements() {
        // Given
        SqlCommand command = new SqlCommand(CommandId.random(), SESSION, 2, Instant.EPOCH, SqlCommand.Form.SIMPLE_QUERY,
                "DROP TABLE t", List.of(), new SqlAnalysis(true, null, "fp", List.of(UPDATE)));

        // When
        JsonObject json = ApprovalJson.toJson(approval(command));

        // Then
        assertThat(json.getString("sql")).isEqualTo("DROP TABLE t");
        assertThat(json.containsKey("statements")).isFalse();
        assertThat(json.getString("protocol")).isEqualTo("postgres");
    }
}
