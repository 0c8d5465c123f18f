package dev.gatehouse.indexer.ocsf;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
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
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

class OcsfMapperTest {

    private static final OcsfDefinitions DEFINITIONS = OcsfDefinitions.load();
    private static final Instant T0 = Instant.parse("2025-03-01T10:00:00Z");
    private static final ConnectionRef DEMO = new ConnectionRef("demo", "postgres", "db.internal:5432/app", Map.of("env", "prod"));
    private static final Identity CI = new Identity("repo:acme/infra:ref:refs/heads/main", "https://token.actions.githubusercontent.com",
            List.of("deployers"), List.of(), Map.of(),
            new CiProvenance("github-actions", "acme/infra", "42", "0123abcd", "refs/heads/main", "deploy", "9001", "77"));
    private static final Identity ALICE = new Identity("alice-id", "https://sso.example.com/realms/corp", List.of("dba", "oncall"),
            List.of(), Map.of("preferred_username", "alice", "email", "alice@example.com"), null);

    private final SessionId session = new SessionId(UUID.randomUUID().toString());
    private final OcsfMapper mapper = new OcsfMapper(OcsfMapper.Settings.defaults());
    private final List<ObjectNode> emitted = new ArrayList<>();
    private long offset;

    @Test
    void sessionOpenedIsASuccessfulLogonWithUserEndpointsAndCiProvenance() {
        // Given
        AuditEvent.SessionOpened opened = opened(CI, 0);

        // When
        List<ObjectNode> out = feed(opened);

        // Then
        assertThat(out).hasSize(1);
        ObjectNode e = out.getFirst();
        assertConforms(e);
        assertThat(e.path("class_uid").asInt()).isEqualTo(3002);
        assertThat(e.path("activity_id").asInt()).isEqualTo(1);
        assertThat(e.path("type_uid").asLong()).isEqualTo(300201L);
        assertThat(e.path("status_id").asInt()).isEqualTo(1);
        assertThat(e.path("time").asLong()).isEqualTo(T0.toEpochMilli());
        assertThat(e.path("user").path("uid").asText()).isEqualTo(CI.subject());
        assertThat(e.path("user").path("groups").get(0).path("name").asText()).isEqualTo("deployers");
        assertThat(e.path("actor").path("idp").path("name").asText()).isEqualTo("token.actions.githubusercontent.com");
        assertThat(e.path("src_endpoint").path("ip").asText()).isEqualTo("10.1.2.3");
        assertThat(e.path("dst_endpoint").path("hostname").asText()).isEqualTo("db.internal");
        assertThat(e.path("dst_endpoint").path("port").asInt()).isEqualTo(5432);
        assertThat(e.path("service").path("name").asText()).isEqualTo("demo");
        assertThat(e.path("session").path("uid").asText()).isEqualTo(session.value());
        assertThat(e.path("metadata").path("product").path("name").asText()).isEqualTo("Gatehouse");
        assertThat(e.path("metadata").path("uid").asText()).isEqualTo(opened.header().eventId());
        assertThat(e.path("metadata").path("labels").toString()).contains("ci.repository=acme/infra", "ci.commit_sha=0123abcd");
        assertThat(e.path("unmapped").path("gatehouse").path("ci").path("commit_sha").asText()).isEqualTo("0123abcd");
    }

    @Test
    void aDelegatedSessionsLogonAndCommandsNameTheAgentAsUserAndCarryTheChainAndTheUnverifiedIntent() {
        // Given planner-agent acting for alice, with a run it declared itself
        Identity agent = new Identity("planner-agent", "https://sso.example.com/realms/corp", List.of("agents"), List.of(),
                Map.of(), null, new Delegation("alice-id", "https://sso.example.com/realms/corp", List.of("dba"), List.of(),
                List.of(), "act"), new DeclaredIntent("r-1", null, false, DeclaredIntent.CONNECTION_PARAMETER));
        var received = received(agent, 1, "SELECT 1",
                new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of(), List.of(), List.of(), false));

        // When
        ObjectNode logon = feed(opened(agent, 0)).getFirst();
        feed(received);
        feed(decided(received, new Decision.Allow(received.command().id(), "r", null, "v1"), "enforce"));
        ObjectNode command = feed(completed(received, true, 1, null, null)).getFirst();

        // Then
        for (ObjectNode e : List.of(logon, command)) {
            assertConforms(e);
            JsonNode g = e.path("unmapped").path("gatehouse");
            assertThat(g.path("delegation").path("originator").asText()).isEqualTo("alice-id");
            assertThat(g.path("delegation").path("actor").asText()).isEqualTo("planner-agent");
            assertThat(g.path("delegation").path("chain").asText()).isEqualTo("alice-id → planner-agent");
            assertThat(g.path("intent").path("verified").asBoolean(true)).isFalse();
            assertThat(g.path("intent").path("description").asText()).isEqualTo("run r-1 (unverified: declared by the client)");
        }
        assertThat(logon.path("user").path("uid").asText()).isEqualTo("planner-agent");
        assertThat(command.path("actor").path("user").path("uid").asText()).isEqualTo("planner-agent");
        assertThat(feed(opened(ALICE, 5)).getFirst().path("unmapped").path("gatehouse").has("delegation")).isFalse();
    }

    @Test
    void sessionRejectedIsAFailedLogonWithTheReason() {
        // Given
        var rejected = new AuditEvent.SessionRejected(header(0), "10.9.9.9", "demo", "app", null, "28000",
                "token expired");

        // When
        List<ObjectNode> out = feed(rejected);

        // Then
        assertThat(out).hasSize(1);
        ObjectNode e = out.getFirst();
        assertConforms(e);
        assertThat(e.path("class_uid").asInt()).isEqualTo(3002);
        assertThat(e.path("activity_id").asInt()).isEqualTo(1);
        assertThat(e.path("status_id").asInt()).isEqualTo(2);
        assertThat(e.path("status_detail").asText()).isEqualTo("token expired");
        assertThat(e.path("status_code").asText()).isEqualTo("28000");
        assertThat(e.path("disposition_id").asInt()).isEqualTo(2);
        assertThat(e.path("user").path("name").asText()).isEqualTo("app");
    }

    @Test
    void sessionClosedIsALogoffOfTheSessionsUser() {
        // Given
        feed(opened(ALICE, 0));

        // When
        List<ObjectNode> out = feed(new AuditEvent.SessionClosed(header(60), "client terminated", 3, Duration.ofSeconds(60)));

        // Then
        assertThat(out).hasSize(1);
        ObjectNode e = out.getFirst();
        assertConforms(e);
        assertThat(e.path("type_uid").asLong()).isEqualTo(300202L);
        assertThat(e.path("user").path("name").asText()).isEqualTo("alice");
        assertThat(e.path("user").path("email_addr").asText()).isEqualTo("alice@example.com");
        assertThat(e.path("duration").asLong()).isEqualTo(60_000L);
        assertThat(e.path("unmapped").path("gatehouse").path("commands").asLong()).isEqualTo(3);
    }

    @Test
    void sessionClosedOfAnUnknownSessionStillConforms() {
        // Given a mapper that never saw the session open (e.g. started after it)

        // When
        List<ObjectNode> out = feed(new AuditEvent.SessionClosed(header(60), "edge stopped", 0, null));

        // Then
        assertThat(out).hasSize(1);
        assertConforms(out.getFirst());
        assertThat(out.getFirst().path("session").path("uid").asText()).isEqualTo(session.value());
    }

    @Test
    void allowedCommandIsEmittedOnceItsCompletionArrives() {
        // Given
        var received = received(ALICE, 1, "CREATE DATABASE billing",
                new StatementAnalysis(StatementKind.DDL, "CREATE DATABASE", "DATABASE", List.of(), List.of("billing"), List.of(), false));
        var decided = decided(received, new Decision.Allow(received.command().id(), "dba-ddl", "DBAs may run DDL", "v7"), "enforce");

        // When
        List<ObjectNode> beforeCompletion = new ArrayList<>(feed(received));
        beforeCompletion.addAll(feed(decided));
        List<ObjectNode> out = feed(completed(received, true, 0, null, null));

        // Then
        assertThat(beforeCompletion).isEmpty();
        assertThat(out).hasSize(1);
        ObjectNode e = out.getFirst();
        assertConforms(e);
        assertThat(e.path("class_uid").asInt()).isEqualTo(6005);
        assertThat(e.path("category_uid").asInt()).isEqualTo(6);
        assertThat(e.path("activity_id").asInt()).isEqualTo(6);
        assertThat(e.path("type_uid").asLong()).isEqualTo(600506L);
        assertThat(e.path("query_info").path("query_string").asText()).isEqualTo("CREATE DATABASE billing");
        assertThat(e.path("query_info").path("uid").asText()).isEqualTo(received.command().id().value());
        assertThat(e.path("metadata").path("uid").asText()).isEqualTo(received.command().id().value());
        assertThat(e.path("database").path("name").asText()).isEqualTo("app");
        assertThat(e.has("table")).as("CREATE DATABASE names no table").isFalse();
        assertThat(e.path("actor").path("user").path("uid").asText()).isEqualTo("alice-id");
        assertThat(e.path("actor").path("user").path("org").path("uid").asText()).isEqualTo(ALICE.issuer());
        assertThat(e.path("src_endpoint").path("ip").asText()).isEqualTo("10.1.2.3");
        assertThat(e.path("dst_endpoint").path("name").asText()).isEqualTo("demo");
        assertThat(e.path("policy").path("uid").asText()).isEqualTo("dba-ddl");
        assertThat(e.path("policy").path("version").asText()).isEqualTo("v7");
        assertThat(e.path("action_id").asInt()).isEqualTo(1);
        assertThat(e.path("disposition_id").asInt()).isEqualTo(1);
        assertThat(e.path("status_id").asInt()).isEqualTo(1);
        assertThat(e.path("severity_id").asInt()).isEqualTo(1);
        assertThat(mapper.pendingCommands()).isZero();
    }

    @Test
    void aSessionsCommandsShowTheIdentityEachCarriesEvenWhenItChangesMidSession() {
        // Given: two commands of one session from alice, then one that carries another identity
        StatementAnalysis select = new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of("t"), List.of(), List.of(), false);
        var first = received(ALICE, 1, "SELECT 1", select);
        var second = received(ALICE, 2, "SELECT 2", select);
        var third = received(CI, 3, "SELECT 3", select);

        // When
        List<ObjectNode> out = new ArrayList<>();
        for (var r : List.of(first, second, third)) {
            feed(r);
            out.addAll(feed(completed(r, true, 1, null, null)));
        }

        // Then: the parts built once for alice serve her second command; the third shows its own identity
        assertThat(out).hasSize(3);
        out.forEach(this::assertConforms);
        assertThat(out.get(0).path("actor")).isEqualTo(out.get(1).path("actor"));
        assertThat(out.get(1).path("actor").path("user").path("uid").asText()).isEqualTo("alice-id");
        assertThat(out.get(2).path("actor").path("user").path("uid").asText()).isEqualTo(CI.subject());
        assertThat(out.get(2).path("actor").path("user").path("type").asText()).isEqualTo("Service");
        assertThat(out.get(2).path("dst_endpoint").path("name").asText()).isEqualTo("demo");
    }

    @Test
    void deniedCommandIsEmittedAtTheDecisionAndItsLaterCompletionIgnored() {
        // Given
        var received = received(CI, 1, "DROP TABLE users",
                new StatementAnalysis(StatementKind.DDL, "DROP TABLE", "TABLE", List.of(), List.of("public.users"), List.of(), false));
        feed(received);

        // When
        List<ObjectNode> atDecision = feed(decided(received,
                new Decision.Deny(received.command().id(), "no-drops", "tables are never dropped", "v7"), "enforce"));
        List<ObjectNode> atCompletion = feed(completed(received, false, 0, "42501", "denied by policy"));

        // Then
        assertThat(atDecision).hasSize(1);
        assertThat(atCompletion).isEmpty();
        ObjectNode e = atDecision.getFirst();
        assertConforms(e);
        assertThat(e.path("activity_id").asInt()).isEqualTo(7);
        assertThat(e.path("action_id").asInt()).isEqualTo(2);
        assertThat(e.path("disposition_id").asInt()).isEqualTo(2);
        assertThat(e.path("status_id").asInt()).isEqualTo(2);
        assertThat(e.path("status_detail").asText()).isEqualTo("tables are never dropped");
        assertThat(e.path("severity_id").asInt()).isEqualTo(3);
        assertThat(e.path("is_alert").asBoolean()).isTrue();
        assertThat(e.path("unmapped").path("gatehouse").path("ci").path("repository").asText()).isEqualTo("acme/infra");
    }

    @Test
    void aCommandTheEdgeRefusedIsBlockedByGatehouseAndEmittedWithItsCompletion() {
        // Given: no decision ever follows a refused command
        var plain = received(CI, 1, "SET standard_conforming_strings = off",
                new StatementAnalysis(StatementKind.UTILITY, "SET", null, List.of(), List.of(), List.of(), false, false,
                        false, List.of(), List.of("standard_conforming_strings"), List.of()));
        var refused = new AuditEvent.CommandReceived(plain.header(), plain.command(), plain.identity(), plain.connection(),
                plain.edgeId(), plain.replyPartition(), plain.mode(), plain.sessionStartedAt(), plain.clientAddress(),
                "standard_conforming_strings is pinned to on by Gatehouse");

        // When
        List<ObjectNode> atReceipt = feed(refused);
        List<ObjectNode> out = feed(completed(refused, false, 0, "55P02", "gatehouse: standard_conforming_strings is pinned"));

        // Then
        assertThat(atReceipt).isEmpty();
        assertThat(out).hasSize(1);
        ObjectNode e = out.getFirst();
        assertConforms(e);
        assertThat(e.path("action_id").asInt()).isEqualTo(2);
        assertThat(e.path("disposition_id").asInt()).isEqualTo(2);
        assertThat(e.path("status_id").asInt()).isEqualTo(2);
        assertThat(e.path("status_code").asText()).isEqualTo("55P02");
        assertThat(e.path("status_detail").asText())
                .isEqualTo("refused by gatehouse: standard_conforming_strings is pinned to on by Gatehouse");
        assertThat(e.path("is_alert").asBoolean()).isTrue();
        assertThat(e.path("message").asText()).startsWith("Command refused by gatehouse: SET standard_conforming_strings");
        assertThat(e.has("policy")).as("no policy decided it").isFalse();
        assertThat(e.path("unmapped").path("gatehouse").path("refusal").asText())
                .isEqualTo("standard_conforming_strings is pinned to on by Gatehouse");
        assertThat(e.path("unmapped").path("gatehouse").path("statements").get(0).path("settings").get(0).asText())
                .isEqualTo("standard_conforming_strings");
    }

    @Test
    void aCommandRecordedStatementByStatementListsHowEachRuns() {
        // Given
        StatementAnalysis update = new StatementAnalysis(StatementKind.WRITE, "UPDATE", null, List.of(),
                List.of("public.payouts"), List.of(), false, true, true, List.of("trigger on public.payouts"), List.of(),
                List.of());
        SqlCommand command = SqlCommand.of(CommandId.random(), session, 1, T0.plusSeconds(1), SqlCommand.Form.EXTENDED,
                SqlCommand.POSTGRES, List.of(new CommandStatement(CommandStatement.Step.EXECUTE,
                        "UPDATE payouts SET amount = $1 WHERE id = $2", "S_3", "", List.of("40", "7"),
                        "sha256:" + "12".repeat(32), 0, false, null, update)), null, true, null, "fp");
        var received = new AuditEvent.CommandReceived(header(1), command, ALICE, DEMO, "edge-1", 0, "enforce", T0,
                "10.1.2.3");
        feed(received);
        feed(decided(received, new Decision.Allow(command.id(), "dba", "ok", "v7"), "enforce"));

        // When
        List<ObjectNode> out = feed(new AuditEvent.CommandCompleted(header(2), command.id(), 1,
                new AuditEvent.Outcome(true, List.of("UPDATE 1"), 1, null, null, Duration.ofMillis(3), 10, "I", null, 1)));

        // Then
        ObjectNode e = out.getFirst();
        assertConforms(e);
        var g = e.path("unmapped").path("gatehouse");
        assertThat(g.path("protocol").asText()).isEqualTo("postgres");
        assertThat(g.path("statements_run").asInt()).isEqualTo(1);
        var st = g.path("statements").get(0);
        assertThat(st.path("step").asText()).isEqualTo("execute");
        assertThat(st.path("statement_name").asText()).isEqualTo("S_3");
        assertThat(st.path("portal_name").asText()).isEmpty();
        assertThat(st.path("parameters").asInt()).isEqualTo(2);
        assertThat(st.path("parameters_digest").asText()).startsWith("sha256:");
        assertThat(st.path("runs_code").asBoolean()).isTrue();
        assertThat(st.path("uncertainty").get(0).asText()).isEqualTo("trigger on public.payouts");
        assertThat(st.path("tables_written").get(0).asText()).isEqualTo("public.payouts");
        assertThat(st.toString()).doesNotContain("\"40\"");
    }

    @Test
    void observeModeDenialIsLoggedNotBlockedAndWaitsForTheCompletion() {
        // Given
        var received = received(ALICE, 1, "DELETE FROM orders",
                new StatementAnalysis(StatementKind.WRITE, "DELETE", null, List.of(), List.of("orders"), List.of(), true));
        feed(received);

        // When
        List<ObjectNode> atDecision = feed(decided(received,
                new Decision.Deny(received.command().id(), "no-unbounded-delete", "DELETE without WHERE", "v7"), "observe"));
        List<ObjectNode> out = feed(completed(received, true, 12, null, null));

        // Then
        assertThat(atDecision).isEmpty();
        assertThat(out).hasSize(1);
        ObjectNode e = out.getFirst();
        assertConforms(e);
        assertThat(e.path("action_id").asInt()).isEqualTo(3);
        assertThat(e.path("disposition_id").asInt()).isEqualTo(17);
        assertThat(e.path("status_id").asInt()).isEqualTo(1);
        assertThat(e.path("policy").path("is_applied").asBoolean()).isFalse();
        assertThat(e.path("unmapped").path("gatehouse").path("rows").asLong()).isEqualTo(12);
    }

    @Test
    void approvedCommandCarriesItsApproversAndFailureCarriesTheSqlState() {
        // Given
        var received = received(CI, 2, "UPDATE accounts SET frozen = true WHERE id = $1",
                new StatementAnalysis(StatementKind.WRITE, "UPDATE", null, List.of(), List.of("accounts"), List.of(), false));
        feed(received);
        feed(decided(received, new Decision.RequireApproval(received.command().id(), "prod-writes", "needs a second pair of eyes",
                "v7", "dba", 1), "enforce"));
        feed(new AuditEvent.ApprovalRequested(header(2), received.command().id(), "appr-1", "fp", "dba", 1,
                T0.plusSeconds(600), "prod-writes", "needs a second pair of eyes"));
        feed(new AuditEvent.ApprovalGranted(header(3), "appr-1", List.of("bob")));

        // When
        List<ObjectNode> out = feed(completed(received, true, 0, "40001", "could not serialize access"));

        // Then
        assertThat(out).hasSize(1);
        ObjectNode e = out.getFirst();
        assertConforms(e);
        assertThat(e.path("activity_id").asInt()).isEqualTo(2);
        assertThat(e.path("disposition_id").asInt()).isEqualTo(8);
        assertThat(e.path("action_id").asInt()).isEqualTo(1);
        assertThat(e.path("status_id").asInt()).isEqualTo(2);
        assertThat(e.path("status_code").asText()).isEqualTo("40001");
        assertThat(e.path("status_detail").asText()).isEqualTo("could not serialize access");
        assertThat(e.path("unmapped").path("gatehouse").path("approval").path("approvers").get(0).asText()).isEqualTo("bob");
    }

    @Test
    void deniedApprovalBlocksTheCommand() {
        // Given
        var received = received(ALICE, 3, "SELECT * FROM salaries",
                new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of("hr.salaries"), List.of(), List.of(), false));
        feed(received);
        feed(decided(received, new Decision.RequireApproval(received.command().id(), "hr", "HR data", "v7", "hr-leads", 1), "enforce"));
        feed(new AuditEvent.ApprovalRequested(header(2), received.command().id(), "appr-2", "fp", "hr-leads", 1,
                T0.plusSeconds(600), "hr", "HR data"));
        feed(new AuditEvent.ApprovalDenied(header(3), "appr-2", "carol", "not today"));

        // When
        List<ObjectNode> out = feed(completed(received, false, 0, "42501", "approval denied"));

        // Then
        assertThat(out).hasSize(1);
        ObjectNode e = out.getFirst();
        assertConforms(e);
        assertThat(e.path("activity_id").asInt()).isEqualTo(4);
        assertThat(e.path("action_id").asInt()).isEqualTo(2);
        assertThat(e.path("disposition_id").asInt()).isEqualTo(2);
        assertThat(e.path("status_detail").asText()).isEqualTo("approval denied: not today");
        assertThat(e.path("table").path("name").asText()).isEqualTo("hr.salaries");
    }

    @Test
    void maskedCommandIsAllowedAndModified() {
        // Given
        var received = received(ALICE, 4, "SELECT email FROM customers",
                new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of("customers"), List.of(), List.of(), false));
        feed(received);
        feed(decided(received, new Decision.Mask(received.command().id(), "pii", "PII is masked", "v7", "pii-default"), "enforce"));

        // When
        var outcome = new AuditEvent.Outcome(true, List.of("SELECT 3"), 3, null, null, Duration.ofMillis(4), 120, "I",
                new AuditEvent.Masking("pii-default", 3, Map.of("public.customers.email", 3L), Map.of()));
        List<ObjectNode> out = feed(new AuditEvent.CommandCompleted(header(5), received.command().id(), 4, outcome));

        // Then
        assertThat(out).hasSize(1);
        ObjectNode e = out.getFirst();
        assertConforms(e);
        assertThat(e.path("action_id").asInt()).isEqualTo(4);
        assertThat(e.path("disposition_id").asInt()).isEqualTo(1);
        assertThat(e.path("duration").asLong()).isEqualTo(4);
        assertThat(e.path("unmapped").path("gatehouse").path("masking").path("values").asLong()).isEqualTo(3);
    }

    @Test
    void commandWithoutOutcomeIsEmittedAsUnknownOnceTooOldAndReleasesTheCommitPosition() {
        // Given
        var received = received(ALICE, 1, "SELECT 1",
                new StatementAnalysis(StatementKind.READ, "SELECT", null, List.of(), List.of(), List.of(), false));
        feed(received);
        long receivedAt = offset - 1;

        // When
        var pendingBefore = mapper.oldestPendingOffset();
        List<ObjectNode> out = feed(new AuditEvent.SessionClosed(header(3600), "edge stopped", 1, null));

        // Then
        assertThat(pendingBefore).hasValue(receivedAt);
        assertThat(out).hasSize(2);
        ObjectNode command = out.getFirst();
        assertConforms(command);
        assertThat(command.path("class_uid").asInt()).isEqualTo(6005);
        assertThat(command.path("status_id").asInt()).isZero();
        assertThat(command.path("status_detail").asText()).contains("no outcome recorded within PT15M");
        assertThat(mapper.oldestPendingOffset()).isEmpty();
    }

    @Test
    void eventsWithoutAnOcsfClassAreNotEmitted() {
        // Given
        var activated = new AuditEvent.PolicyActivated(header(0), "default", "v8", "admin");
        var violation = new AuditEvent.ProtocolViolation(header(0), "postgres", "10.0.0.1", "oversized message");

        // When
        List<ObjectNode> out = new ArrayList<>(feed(activated));
        out.addAll(feed(violation));

        // Then
        assertThat(out).isEmpty();
    }

    @Test
    void definitionCheckRejectsWhatTheClassDoesNotDefine() throws Exception {
        // Given a conforming event, broken four ways
        feed(opened(ALICE, 0));
        ObjectNode e = (ObjectNode) new ObjectMapper().readTree(
                feed(new AuditEvent.SessionClosed(header(1), "bye", 0, null)).getFirst().toString());
        e.remove("user");
        e.put("query_info", "not in this class");
        e.put("status_id", 7);
        e.put("type_uid", 600501);

        // When
        List<String> violations = DEFINITIONS.violations(e);

        // Then
        assertThat(violations).anySatisfy(v -> assertThat(v).contains("user is required but missing"))
                .anySatisfy(v -> assertThat(v).contains("query_info is not an attribute"))
                .anySatisfy(v -> assertThat(v).contains("status_id = 7 is not one of"))
                .anySatisfy(v -> assertThat(v).contains("type_uid is 600501"));
    }

    @Test
    void targetsParseWithAndWithoutPortsAndDatabases() {
        // Given / When / Then
        assertThat(OcsfMapper.Target.parse("db:5432/app")).isEqualTo(new OcsfMapper.Target("db", 5432, "app"));
        assertThat(OcsfMapper.Target.parse("postgresql://10.0.0.5:6432/x?sslmode=require"))
                .isEqualTo(new OcsfMapper.Target("10.0.0.5", 6432, "x"));
        assertThat(OcsfMapper.Target.parse("[::1]:5432/app")).isEqualTo(new OcsfMapper.Target("::1", 5432, "app"));
        assertThat(OcsfMapper.Target.parse("db")).isEqualTo(new OcsfMapper.Target("db", 0, null));
        assertThat(OcsfMapper.Target.parse(null)).isEqualTo(new OcsfMapper.Target(null, 0, null));
    }

    // ---- helpers ----

    private List<ObjectNode> feed(AuditEvent event) {
        List<ObjectNode> out = mapper.map(event, offset++);
        emitted.addAll(out);
        return out;
    }

    private void assertConforms(ObjectNode event) {
        assertThat(DEFINITIONS.violations(event)).as("OCSF %s violations of %s", DEFINITIONS.version(), event).isEmpty();
    }

    private EventHeader header(long seconds) {
        return new EventHeader(UUID.randomUUID().toString(), session, T0.plusSeconds(seconds), "edge", "edge-1");
    }

    private AuditEvent.SessionOpened opened(Identity identity, long at) {
        return new AuditEvent.SessionOpened(header(at), identity, DEMO, "10.1.2.3", "app", "psql", "enforce", true);
    }

    private AuditEvent.CommandReceived received(Identity identity, long sequence, String sql, StatementAnalysis statement) {
        var command = new SqlCommand(CommandId.random(), session, sequence, T0.plusSeconds(sequence), SqlCommand.Form.SIMPLE_QUERY,
                sql, List.of(), new SqlAnalysis(true, null, sql, List.of(statement)));
        return new AuditEvent.CommandReceived(header(sequence), command, identity, DEMO, "edge-1", 0, "enforce",
                T0, "10.1.2.3");
    }

    private AuditEvent.DecisionMade decided(AuditEvent.CommandReceived received, Decision decision, String mode) {
        return new AuditEvent.DecisionMade(new EventHeader(UUID.randomUUID().toString(), session,
                received.header().timestamp().plusMillis(2), "policy", "policy-1"), received.command().id(),
                received.command().sequence(), decision, "edge-1", 0, mode, Duration.ofMillis(1));
    }

    private AuditEvent.CommandCompleted completed(AuditEvent.CommandReceived received, boolean forwarded, long rows,
                                                  String sqlState, String error) {
        var outcome = new AuditEvent.Outcome(forwarded, List.of(), rows, sqlState, error, Duration.ofMillis(3), 10, "I");
        return new AuditEvent.CommandCompleted(new EventHeader(UUID.randomUUID().toString(), session,
                received.header().timestamp().plusMillis(5), "edge", "edge-1"), received.command().id(),
                received.command().sequence(), outcome);
    }
}
