package dev.gatehouse.deploy.cli;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ApprovalsCommandTest {

    private static String shown(JsonObject approval) {
        PrintStream stdout = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        try {
            System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
            ApprovalsCommand.print(approval);
        } finally {
            System.setOut(stdout);
        }
        return captured.toString(StandardCharsets.UTF_8);
    }

    private static JsonObject approval() {
        return new JsonObject().put("id", "ap-1").put("state", "pending").put("mode", "hold")
                .put("requester", new JsonObject().put("subject", "alice").put("issuer", "https://idp"))
                .put("connection", "prod").put("ruleId", "approve-payouts").put("reason", "payouts")
                .put("approverGroup", "dba").put("approvedBy", new JsonArray()).put("approvalsRequired", 1)
                .put("requestedAt", "2026-11-24T10:00:00Z").put("expiresAt", "2026-11-24T10:10:00Z")
                .put("votes", new JsonArray());
    }

    @Test
    void showListsEachStatementWithItsOwnParameters() {
        // Given
        JsonObject a = approval().put("sql", "UPDATE payouts SET amount = $1 WHERE id = $2\n;\nEXECUTE pay(40)")
                .put("parameters", new JsonArray(Arrays.asList("40", null, "40")))
                .put("statements", new JsonArray()
                        .add(TranscriptTest.run("EXECUTE", "UPDATE payouts SET amount = $1 WHERE id = $2", "S_1", "",
                                Arrays.asList("40", null), 0, false, null))
                        .add(TranscriptTest.run("QUERY", "UPDATE payouts SET amount = $1 WHERE id = 9", "pay", null,
                                List.of("40"), 0, false, "EXECUTE pay(40)")));

        // When
        String out = shown(a);

        // Then
        assertThat(out).contains(
                "statement  1: execute statement \"S_1\" portal \"\": UPDATE payouts SET amount = $1 WHERE id = $2",
                "           parameters [\"40\",null]",
                "statement  2: query statement \"pay\" via EXECUTE pay(40): UPDATE payouts SET amount = $1 WHERE id = 9",
                "           parameters [\"40\"]");
        assertThat(out).doesNotContain("parameters [\"40\",null,\"40\"]");
    }

    @Test
    void showPrintsTheParametersOfACommandRecordedAsOneText() {
        // Given
        JsonObject a = approval().put("sql", "DELETE FROM t WHERE id = $1").put("parameters", new JsonArray().add("7"));

        // When
        String out = shown(a);

        // Then
        assertThat(out).contains("sql        DELETE FROM t WHERE id = $1", "parameters [\"7\"]").doesNotContain("statement  1");
    }
}
