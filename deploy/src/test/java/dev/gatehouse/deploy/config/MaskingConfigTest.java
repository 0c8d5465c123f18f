package dev.gatehouse.deploy.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MaskingConfigTest {

    @TempDir
    Path dir;

    @Test
    void theShippedExampleProfilesLoad() throws Exception {
        // Given the example profiles next to the example configuration
        Path example = Path.of("config/masking.yaml");

        // When it is loaded as an edge would
        var profiles = dev.gatehouse.edge.masking.MaskingProfiles.load(example,
                () -> dev.gatehouse.edge.masking.HmacKey.of("an-example-key-0001"));

        // Then both profiles are there
        assertThat(profiles.names()).containsExactlyInAnyOrder("pii-basic", "secrets-only");
    }

    @Test
    void loadsTheProfilesFileAndTheHmacKeyFile() throws Exception {
        // Given a configuration naming a profiles file and a key file
        Path profiles = Files.writeString(dir.resolve("masking.yaml"), """
                profiles:
                  - name: pii-basic
                    columns: [{column: public.customers.email, method: hmac}]
                """);
        Path key = Files.writeString(dir.resolve("hmac.key"), "a-key-from-a-file-0001\n");
        String yaml = """
                kafka: {bootstrap-servers: "localhost:9092"}
                edge:
                  masking:
                    profiles-file: %s
                    hmac-key-file: %s
                """.formatted(profiles, key);

        // When
        GatehouseConfig config = ConfigLoader.parse(yaml, k -> null, "test");

        // Then
        assertThat(config.edge().masking().profilesFile()).isEqualTo(profiles);
        assertThat(config.edge().masking().profiles().names()).containsExactly("pii-basic");
        assertThat(config.edge().postgres()).isNotNull();
    }

    @Test
    void withoutASectionThereAreNoProfiles() {
        // Given / When
        GatehouseConfig config = ConfigLoader.parse("kafka: {bootstrap-servers: \"localhost:9092\"}", k -> null, "test");

        // Then
        assertThat(config.edge().masking().profiles().names()).isEmpty();
        assertThat(config.edge().masking().hmacKeyEnv()).isEqualTo("GATEHOUSE_MASKING_HMAC_KEY");
    }

    @Test
    void aMissingKeyOrABadProfileFailsAtStartNamingIt() throws Exception {
        // Given a profile that needs a key no one configured, and one with a bad regex
        Path needsKey = Files.writeString(dir.resolve("k.yaml"), "profiles: [{name: p1, columns: [{column: x, method: hmac}]}]");
        Path badRegex = Files.writeString(dir.resolve("r.yaml"),
                "profiles: [{name: p2, detectors: [{detector: regex, pattern: '(', method: redact}]}]");
        var noKey = new GatehouseConfig.Masking(needsKey, "GATEHOUSE_TEST_UNSET_VARIABLE_42", null);
        var regex = new GatehouseConfig.Masking(badRegex, null, null);

        // When / Then
        assertThatThrownBy(noKey::profiles).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("edge.masking").hasMessageContaining("profile \"p1\"")
                .hasMessageContaining("GATEHOUSE_TEST_UNSET_VARIABLE_42");
        assertThatThrownBy(regex::profiles).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("profile \"p2\"").hasMessageContaining("invalid regex");
    }
}
