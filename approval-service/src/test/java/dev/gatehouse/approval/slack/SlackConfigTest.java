package dev.gatehouse.approval.slack;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class SlackConfigTest {

    private static final String YAML = """
            channel: "#db-approvals"
            bot-token-env: MY_BOT_TOKEN
            signing-secret-env: MY_SIGNING_SECRET
            api-url: http://127.0.0.1:9999/api/
            users:
              U024BE7LH: {subject: bob, groups: [dba]}
              "Carol@Example.com": {subject: carol, issuer: https://idp.example, groups: [dba], display-name: Carol}
            approvers-by-email: true
            retry: {max-attempts: 3, initial-backoff: 200ms, max-backoff: 2s}
            """;

    @Test
    void readsTheSectionAndResolvesSecretsFromTheEnvironment() throws Exception {
        // Given
        SlackConfig config = new ObjectMapper(new YAMLFactory()).readValue(YAML, SlackConfig.class);
        Map<String, String> env = Map.of("MY_BOT_TOKEN", "xoxb-123", "MY_SIGNING_SECRET", "s3cr3t");
        // When
        SlackSettings settings = config.settings(env::get);
        // Then
        assertThat(settings.botToken()).isEqualTo("xoxb-123");
        assertThat(settings.signingSecret()).isEqualTo("s3cr3t");
        assertThat(settings.apiUrl()).isEqualTo("http://127.0.0.1:9999/api");
        assertThat(settings.userById("U024BE7LH")).get().extracting(SlackSettings.User::subject).isEqualTo("bob");
        assertThat(settings.userByEmail("carol@example.COM")).get().extracting(SlackSettings.User::displayName).isEqualTo("Carol");
        assertThat(settings.retry()).isEqualTo(new SlackSettings.Retry(3, Duration.ofMillis(200), Duration.ofSeconds(2)));
        assertThat(settings.toString()).doesNotContain("xoxb-123", "s3cr3t");
    }

    @Test
    void namesTheVariablesWhenNoCredentialIsSet() throws Exception {
        // Given
        SlackConfig config = new ObjectMapper(new YAMLFactory()).readValue(YAML, SlackConfig.class);
        // When / Then
        assertThatThrownBy(() -> config.settings(k -> null))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("SLACK_WEBHOOK_URL").hasMessageContaining("MY_BOT_TOKEN");
    }
}
