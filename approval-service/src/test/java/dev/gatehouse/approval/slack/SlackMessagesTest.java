package dev.gatehouse.approval.slack;

import dev.gatehouse.platform.approval.Approval;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.EventHeader;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import java.time.Instant;
import java.util.List;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;

class SlackMessagesTest {

    private final SlackMessages messages = new SlackMessages("http://console.example:18082/");

    @Test
    void escapesMentionsMarkupAndEntitiesInText() {
        // Given
        String hostile = "<!channel> <@U123> *bold* _it_ ~s~ `code` a & b @here";
        // When
        String escaped = SlackText.escape(hostile);
        // Then
        assertThat(escaped).doesNotContain("<", ">").contains("&lt;!channel&gt;", "&lt;", "a &amp; b");
        assertThat(escaped).doesNotContain("*bold*", "_it_", "~s~", "`code`", "@here");
        assertThat(escaped.replace(String.valueOf(SlackText.ZWSP), ""))
                .isEqualTo("&lt;!channel&gt; &lt;\u0040U123&gt; *bold* _it_ ~s~ `code` a &amp; b @here");
    }

    @Test
    void codeBlockCannotBeClosedByTheSql() {
        // Given SQL that tries to close the code block and ping the channel
        String sql = "select 1; ``` <!channel> *hi* ``` & <@U123>";
        // When
        SlackText.Code code = SlackText.codeBlock(sql, 2500);
        // Then exactly two fences remain: the block's own
        String inner = code.mrkdwn().substring(3, code.mrkdwn().length() - 3);
        assertThat(inner).doesNotContain("```", "<", ">");
        assertThat(inner).contains("&lt;!channel&gt;", "&amp;", "&lt;@U123&gt;");
        assertThat(code.truncated()).isFalse();
    }

    @Test
    void requestMessageHasTheDocumentedShape() {
        // Given
        Approval a = SlackFixtures.approval("ap-1a2b3c4d5e6f", SlackFixtures.person("alice"),
                "DROP TABLE users; -- <!channel> *now*");
        // When
        JsonObject message = messages.request(a);
        // Then header, fields, SQL, buttons, metadata
        JsonArray blocks = message.getJsonArray("blocks");
        assertThat(blocks.getJsonObject(0).getString("type")).isEqualTo("header");
        assertThat(blocks.getJsonObject(0).getJsonObject("text").getString("text")).contains("ap-1a2b3c4d5e6f");
        String all = blocks.encode();
        assertThat(all).contains("alice", "prod-db", "env=prod", "approve-ddl", "DDL on prod needs a DBA",
                "1 of group dba", "<!date^", "*Kinds* ddl", "DROP TABLE", "public.users", "/sessions/sess-42");
        assertThat(all).contains("&lt;!channel&gt;").doesNotContain("<!channel>");
        JsonObject actions = blocks.stream().map(JsonObject.class::cast).filter(b -> "actions".equals(b.getString("type")))
                .findFirst().orElseThrow();
        JsonArray buttons = actions.getJsonArray("elements");
        assertThat(buttons.getJsonObject(0).getString("action_id")).isEqualTo(SlackMessages.APPROVE_ACTION);
        assertThat(buttons.getJsonObject(0).getString("value")).isEqualTo("ap-1a2b3c4d5e6f");
        assertThat(buttons.getJsonObject(0).containsKey("confirm")).isFalse();
        assertThat(buttons.getJsonObject(1).getString("action_id")).isEqualTo(SlackMessages.DENY_ACTION);
        assertThat(buttons.getJsonObject(1).getString("value")).isEqualTo("ap-1a2b3c4d5e6f");
        assertThat(buttons.getJsonObject(1).getJsonObject("confirm").getJsonObject("confirm").getString("text")).isEqualTo("Deny");
        assertThat(message.getJsonObject("metadata").getString("event_type")).isEqualTo("gatehouse_approval");
        assertThat(message.getJsonObject("metadata").getJsonObject("event_payload").getString("approval_id"))
                .isEqualTo("ap-1a2b3c4d5e6f");
        assertThat(message.getString("text")).contains("ap-1a2b3c4d5e6f");
        // every mrkdwn object is verbatim: Slack must not auto-link or auto-mention anything
        blocks.stream().map(JsonObject.class::cast).flatMap(SlackMessagesTest::textObjects)
                .filter(t -> "mrkdwn".equals(t.getString("type")))
                .forEach(t -> assertThat(t.getBoolean("verbatim")).as(t.encode()).isTrue());
    }

    @Test
    void ciIdentitiesShowRepositoryCommitAndRunAsLinks() {
        // Given
        Approval a = SlackFixtures.approval("ap-ci", SlackFixtures.ci(), "ALTER TABLE t ADD c int");
        // When
        String all = messages.request(a).getJsonArray("blocks").encode();
        // Then
        assertThat(all).contains("<https://github.com/acme/payments|acme/payments>",
                "<https://github.com/acme/payments/commit/0123456789abcdef0123456789abcdef01234567|0123456>",
                "<https://github.com/acme/payments/actions/runs/987654321|987654321>");
    }

    @Test
    void longSqlIsTruncatedWithALinkToTheConsole() {
        // Given 10,000 characters of SQL
        String sql = "INSERT INTO t VALUES " + String.join(",", IntStream.range(0, 2000).mapToObj(i -> "(" + i + ")").toList());
        Approval a = SlackFixtures.approval("ap-long", SlackFixtures.person("alice"), sql);
        // When
        JsonArray blocks = messages.request(a).getJsonArray("blocks");
        // Then no text exceeds Slack's 3000-character limit and the console is linked
        blocks.stream().map(JsonObject.class::cast).flatMap(SlackMessagesTest::textObjects)
                .forEach(t -> assertThat(t.getString("text").length()).isLessThanOrEqualTo(3000));
        assertThat(blocks.encode()).contains("shortened", "http://console.example:18082/sessions/sess-42");
    }

    @Test
    void aCommandRecordedStatementByStatementShowsEachWithItsOwnParameters() {
        // Given
        Approval a = Approval.requested(SlackFixtures.statementsRequest("ap-stmts"), 0);
        // When
        String sql = SlackMessages.sqlWithParameters(a.command());
        String all = messages.request(a).getJsonArray("blocks").encode();
        // Then
        assertThat(sql).isEqualTo("""
                -- statement 1 of 2: execute, statement "S_1", portal ""
                UPDATE payouts SET amount = $1 WHERE id = $2
                -- parameters:
                -- $1 = '40'
                -- $2 = NULL
                -- statement 2 of 2: statement "pay", via EXECUTE pay(40)
                UPDATE payouts SET amount = $1 WHERE id = 9
                -- parameters:
                -- $1 = '40'""");
        assertThat(all).contains("statement 1 of 2", "via EXECUTE pay(40)", "*Runs code*",
                "*Uncertain* trigger on public.payouts");
    }

    @Test
    void aCommandRecordedAsOneTextShowsItsTextAndParameters() {
        // Given
        Approval a = SlackFixtures.approval("ap-text", SlackFixtures.person("alice"), "DROP TABLE users");
        // When
        String sql = SlackMessages.sqlWithParameters(a.command());
        // Then
        assertThat(sql).isEqualTo("DROP TABLE users");
    }

    @Test
    void outcomeMessageNamesWhoDecidedAndRemovesTheButtons() {
        // Given an approval denied by carol
        SlackFixtures.MemoryLog log = new SlackFixtures.MemoryLog();
        AuditEvent.ApprovalRequested request = SlackFixtures.request("ap-denied", SlackFixtures.person("alice"), "DROP TABLE x");
        log.append(request);
        log.append(new AuditEvent.ApprovalDenied(EventHeader.now(SlackFixtures.SESSION, "approval", "a1"),
                "ap-denied", "carol", "not during the freeze"));
        Approval denied = log.book.get("ap-denied").orElseThrow();
        // When
        JsonObject message = messages.current(denied);
        // Then
        String all = message.getJsonArray("blocks").encode();
        assertThat(all).contains("Denied", "carol", "not during the freeze").doesNotContain("\"actions\"");
        assertThat(message.getJsonArray("blocks").getJsonObject(0).getJsonObject("text").getString("text"))
                .startsWith("Denied");
    }

    private static java.util.stream.Stream<JsonObject> textObjects(JsonObject block) {
        List<JsonObject> out = new java.util.ArrayList<>();
        if (block.getValue("text") instanceof JsonObject t) out.add(t);
        if (block.getValue("fields") instanceof JsonArray f) f.forEach(o -> out.add((JsonObject) o));
        if (block.getValue("elements") instanceof JsonArray e) {
            e.forEach(o -> {
                JsonObject el = (JsonObject) o;
                if (el.containsKey("verbatim") || "mrkdwn".equals(el.getString("type"))) out.add(el);
            });
        }
        return out.stream();
    }

    @SuppressWarnings("unused")
    private static Instant now() {
        return Instant.now();
    }
}
