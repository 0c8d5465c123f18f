package dev.gatehouse.deploy.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.gatehouse.approval.slack.SlackConfig;
import dev.gatehouse.approval.slack.SlackSettings;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ApprovalSlackConfigTest {

    private static final Map<String, String> ENV = Map.of("ORDERS_PROD_PASSWORD", "s3cret", "KAFKA_BOOTSTRAP_SERVERS", "k:9092",
            "SLACK_BOT_TOKEN", "xoxb-example-token", "SLACK_SIGNING_SECRET", "example-signing-secret");

    @Test
    void theExampleConfigurationPostsApprovalsToSlack() {
        // When
        GatehouseConfig config = ConfigLoader.load(Path.of("config/gatehouse.yaml"), ENV::get);
        SlackConfig slack = config.approval().slack();
        SlackSettings settings = slack.settings(ENV::get);

        // Then
        assertThat(config.approval().port()).isEqualTo(18083);
        assertThat(slack.channel()).isEqualTo("#db-approvals");
        assertThat(slack.users()).containsOnlyKeys("U024BE7LH", "carol@example.com", "U0ALICE");
        assertThat(slack.users().get("U024BE7LH").groups()).containsExactly("dba");
        assertThat(settings.usesBotToken()).isTrue();
        assertThat(settings.signingSecret()).isEqualTo("example-signing-secret");
        assertThat(settings.approversByEmail()).isTrue();
        assertThat(settings.retry().maxBackoff()).isEqualTo(Duration.ofSeconds(60));
        assertThat(settings.userByEmail("Carol@Example.com")).hasValueSatisfying(u -> assertThat(u.subject()).isEqualTo("carol"));
        // originators are linked only by Slack user id with subject and issuer, never by e-mail
        assertThat(settings.slackUserOf("alice", "https://keycloak.example/realms/gatehouse")).contains("U0ALICE");
        assertThat(settings.slackUserOf("alice", "https://other.example")).isEmpty();
        assertThat(settings.slackUserOf("carol", "https://keycloak.example/realms/gatehouse")).isEmpty();
        assertThat(settings.toString()).doesNotContain("xoxb-example-token").doesNotContain("example-signing-secret");
    }

    @Test
    void withoutTheSlackTokenInTheEnvironmentTheVariablesAreNamed() {
        // Given
        GatehouseConfig config = ConfigLoader.load(Path.of("config/gatehouse.yaml"), ENV::get);

        // When / Then
        assertThatThrownBy(() -> config.approval().slack().settings(k -> null))
                .hasMessageContaining("SLACK_WEBHOOK_URL").hasMessageContaining("SLACK_BOT_TOKEN");
    }

    @Test
    void slackIsOptionalAndItsFieldsAreChecked() {
        // When
        GatehouseConfig without = ConfigLoader.parse("kafka: {bootstrap-servers: x}\napproval: {port: 0}", k -> null, "t.yaml");
        GatehouseConfig webhook = ConfigLoader.parse("""
                kafka: {bootstrap-servers: x}
                approval:
                  slack: {webhook-url-env: HOOK}
                """, k -> null, "t.yaml");

        // Then
        assertThat(without.approval().slack()).isNull();
        assertThat(new GatehouseConfig.Approval(null, null, null, null, null).slack()).isNull();
        SlackSettings settings = webhook.approval().slack().settings(Map.of("HOOK", "https://hooks.example/x")::get);
        assertThat(settings.usesBotToken()).isFalse();
        assertThat(settings.channel()).isEqualTo("gatehouse approvals");
        assertThatThrownBy(() -> ConfigLoader.parse("""
                kafka: {bootstrap-servers: x}
                approval:
                  slack: {chanel: "#typo"}
                """, k -> null, "t.yaml")).hasMessageContaining("chanel");
        assertThatThrownBy(() -> ConfigLoader.parse("""
                kafka: {bootstrap-servers: x}
                approval:
                  slack: {retry: {initial-backoff: soon}}
                """, k -> null, "t.yaml")).hasMessageContaining("approval.slack.retry.initial-backoff");
    }
}
