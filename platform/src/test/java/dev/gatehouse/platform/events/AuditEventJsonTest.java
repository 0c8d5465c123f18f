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
                "identity", "connection", "clientAddress", "databaseUser", "applicationName", "mode", "tls");
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
