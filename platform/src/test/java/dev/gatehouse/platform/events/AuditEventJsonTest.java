package dev.gatehouse.platform.events;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;

import org.junit.jupiter.api.Test;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.gatehouse.platform.core.AuditEvent;

class AuditEventJsonTest {

    private static final ObjectMapper MAPPER = new ObjectMapper();

    @Test
    void rendersASessionOpenedFieldByField() throws Exception {
        // Given
        AuditEvent event = new AuditEvent.SessionOpened(EventFixtures.HEADER, EventFixtures.identity(),
                EventFixtures.connection(), "10.0.0.7:51234", "app", null, "enforce", true);

        // When
        String line = AuditEventJson.render(event);

        // Then
        assertThat(line).doesNotContain("\n");
        JsonNode json = MAPPER.readTree(line);
        List<String> names = new ArrayList<>();
        json.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("type", "eventId", "sessionId", "timestamp", "service", "instance",
                "identity", "connection", "clientAddress", "databaseUser", "applicationName", "mode", "tls",
                "startupParameters", "targetParameters", "targetProcessId");
        assertThat(json.get("type").asText()).isEqualTo("SessionOpened");
        assertThat(json.get("eventId").asText()).isEqualTo("e-0001");
        assertThat(json.get("sessionId").asText()).isEqualTo("s-0001");
        assertThat(json.get("timestamp").asText()).isEqualTo("2026-03-01T12:34:56.123456Z");
        assertThat(json.get("service").asText()).isEqualTo("edge");
        assertThat(json.get("instance").asText()).isEqualTo("edge-1");
        JsonNode identity = json.get("identity");
        assertThat(identity.get("subject").asText()).isEqualTo("repo:acme/payments:ref:refs/heads/main");
        assertThat(identity.get("issuer").asText()).isEqualTo("https://token.actions.githubusercontent.com");
        assertThat(identity.get("groups")).containsExactly(MAPPER.valueToTree("ci"), MAPPER.valueToTree("payments"));
        assertThat(identity.get("roles").get(0).asText()).isEqualTo("deployer");
        JsonNode claims = identity.get("claims");
        assertThat(claims.get("n").isInt()).isTrue();
        assertThat(claims.get("n").asInt()).isEqualTo(42);
        assertThat(claims.get("admin").isBoolean()).isTrue();
        assertThat(claims.get("aud").isArray()).isTrue();
        assertThat(claims.get("nested").get("list").get(1).asInt()).isEqualTo(2);
        assertThat(claims.get("sub").asText()).isEqualTo("repo:acme/payments");
        assertThat(identity.get("ci").get("commitSha").asText()).isEqualTo("0123456789abcdef0123456789abcdef01234567");
        assertThat(identity.get("ci").get("system").asText()).isEqualTo("github-actions");
        assertThat(json.get("connection").get("name").asText()).isEqualTo("demo");
        assertThat(json.get("connection").get("labels").get("env").asText()).isEqualTo("prod");
        assertThat(json.get("clientAddress").asText()).isEqualTo("10.0.0.7:51234");
        assertThat(json.get("databaseUser").asText()).isEqualTo("app");
        assertThat(json.get("applicationName").isNull()).isTrue();
        assertThat(json.get("mode").asText()).isEqualTo("enforce");
        assertThat(json.get("tls").isBoolean()).isTrue();
        assertThat(json.get("tls").asBoolean()).isTrue();
        assertThat(json.get("startupParameters").isObject()).isTrue();
        assertThat(json.get("startupParameters")).isEmpty();
        assertThat(json.get("targetProcessId").isNull()).isTrue();
    }

    @Test
    void rendersStartupParametersAndTheTargetProcess() throws Exception {
        // Given
        AuditEvent event = EventFixtures.allFieldsSet().getFirst();

        // When
        JsonNode json = MAPPER.readTree(AuditEventJson.render(event));

        // Then
        assertThat(json.at("/startupParameters/options").asText()).isEqualTo("-c search_path=app");
        assertThat(json.at("/targetParameters/standard_conforming_strings").asText()).isEqualTo("on");
        assertThat(json.get("targetProcessId").isInt()).isTrue();
        assertThat(json.get("targetProcessId").asInt()).isEqualTo(48213);
    }

    @Test
    void rendersACommandsStatementsRefusalAndProtocolUnderTheSchemasNames() throws Exception {
        // Given
        AuditEvent event = EventFixtures.allFieldsSet().stream()
                .filter(e -> e instanceof AuditEvent.CommandReceived c && c.refusal() != null).findFirst().orElseThrow();

        // When
        JsonNode json = MAPPER.readTree(AuditEventJson.render(event));

        // Then
        assertThat(json.get("refusal").asText()).isEqualTo("standard_conforming_strings is pinned to on by Gatehouse");
        JsonNode command = json.get("command");
        assertThat(command.get("protocol").asText()).isEqualTo("mysql");
        JsonNode first = command.at("/statements/0");
        List<String> names = new ArrayList<>();
        first.fieldNames().forEachRemaining(names::add);
        assertThat(names).containsExactly("step", "sql", "statementName", "portalName", "parameters", "parametersDigest",
                "rowLimit", "continued", "via", "analysis");
        assertThat(first.get("step").asText()).isEqualTo("EXECUTE");
        assertThat(first.get("parameters").get(0).asText()).isEqualTo("100");
        assertThat(first.get("parameters").get(1).isNull()).isTrue();
        assertThat(first.get("rowLimit").asLong()).isEqualTo(100);
        assertThat(first.get("continued").asBoolean()).isTrue();
        assertThat(first.get("via").asText()).isEqualTo("EXECUTE upd(100, NULL)");
        assertThat(first.at("/analysis/runsCode").asBoolean()).isTrue();
        assertThat(first.at("/analysis/uncertain").asBoolean()).isTrue();
        assertThat(first.at("/analysis/settings/0").asText()).isEqualTo("search_path");
        assertThat(first.at("/analysis/filterColumns/2").asText()).isEqualTo("public.accounts.id");
        assertThat(command.at("/statements/1/statementName").asText()).isEmpty();
        assertThat(command.at("/statements/2/statementName").isNull()).isTrue();
    }

    @Test
    void rendersDurationsAsMicrosAndEnumsAsNames() throws Exception {
        // Given
        AuditEvent event = EventFixtures.allFieldsSet().stream()
                .filter(e -> e instanceof AuditEvent.DecisionMade).findFirst().orElseThrow();

        // When
        JsonNode json = MAPPER.readTree(AuditEventJson.render(event));

        // Then
        assertThat(json.get("type").asText()).isEqualTo("DecisionMade");
        assertThat(json.get("evaluationMicros").asLong()).isEqualTo(1_234);
        assertThat(json.get("decision").get("verdict").asText()).isEqualTo("ALLOW");
        assertThat(json.get("decision").get("ruleId").asText()).isEqualTo("r1");
        assertThat(json.get("sequence").asLong()).isEqualTo(7);
    }

    @Test
    void rendersDryRunVerdictsForTheAuditTail() throws Exception {
        // Given
        AuditEvent event = EventFixtures.allFieldsSet().stream()
                .filter(e -> e instanceof AuditEvent.DecisionMade d && !d.dryRun().isEmpty()).findFirst().orElseThrow();

        // When
        JsonNode json = MAPPER.readTree(AuditEventJson.render(event));

        // Then
        assertThat(json.get("dryRun")).hasSize(3);
        assertThat(json.at("/dryRun/0/ruleId").asText()).isEqualTo("new-ddl-rule");
        assertThat(json.at("/dryRun/0/verdict").asText()).isEqualTo("DENY");
        assertThat(json.at("/dryRun/0/staged").asBoolean()).isFalse();
        assertThat(json.at("/dryRun/1/approverGroup").asText()).isEqualTo("dba");
        assertThat(json.at("/dryRun/1/approvals").asInt()).isEqualTo(2);
        assertThat(json.at("/dryRun/1/staged").asBoolean()).isTrue();
        assertThat(json.at("/dryRun/2/maskProfile").asText()).isEqualTo("pii-basic");
    }
}
