package dev.gatehouse.platform.kafka;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.time.Duration;
import java.util.Map;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KafkaClientsTest {

    private static final String JAAS = "org.apache.kafka.common.security.plain.PlainLoginModule required "
            + "username=\"edge\" password=\"pw-" + UUID.randomUUID() + "\";";

    @ParameterizedTest
    @ValueSource(strings = {"bootstrap.servers", "acks", "enable.idempotence", "isolation.level", "group.id",
            "key.serializer", "value.deserializer", "transactional.id", "enable.auto.commit", "client.id",
            "delivery.timeout.ms", "max.in.flight.requests.per.connection", "interceptor.classes", "linger.ms"})
    void aPropertyGatehouseSetsItselfIsRefusedByName(String key) {
        // Given
        Map<String, String> properties = Map.of("security.protocol", "SASL_SSL", key, "x", "sasl.jaas.config", JAAS);

        // When / Then
        assertThatThrownBy(() -> KafkaClients.checkProperties("kafka.properties", properties))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("kafka.properties." + key + " may not be set")
                .hasMessageNotContaining("pw-");
    }

    @Test
    void connectionSettingsPass() {
        // Given
        Map<String, String> properties = Map.of("security.protocol", "SASL_SSL", "sasl.mechanism", "SCRAM-SHA-512",
                "sasl.jaas.config", JAAS, "ssl.truststore.type", "PEM", "ssl.truststore.location", "/ca.crt");

        // When
        Map<String, String> checked = KafkaClients.checkProperties("kafka.properties", properties);

        // Then
        assertThat(checked).isEqualTo(properties);
    }

    @Test
    void everyClientOfARegisteredBootstrapGetsItsPropertiesUntilTheRegistrationCloses() {
        // Given
        String bootstrap = "kafka-" + UUID.randomUUID() + ":9093";
        Map<String, String> properties = Map.of("security.protocol", "SASL_SSL", "sasl.jaas.config", JAAS);

        // When
        KafkaClients.Registration registration = KafkaClients.register(bootstrap, properties);
        Map<String, Object> producer = KafkaClients.durableProducer(bootstrap, "p");
        Map<String, Object> consumer = KafkaClients.groupConsumer(bootstrap, "c", "g", Duration.ofSeconds(6), true);
        Map<String, Object> admin = KafkaClients.admin(bootstrap, "a", Duration.ofSeconds(5));
        Map<String, Object> other = KafkaClients.client("elsewhere-" + UUID.randomUUID() + ":9092", "o");
        registration.close();
        Map<String, Object> after = KafkaClients.client(bootstrap, "p");

        // Then
        assertThat(producer).containsAllEntriesOf(properties).containsEntry("acks", "all").containsEntry("bootstrap.servers", bootstrap);
        assertThat(consumer).containsAllEntriesOf(properties).containsEntry("group.id", "g");
        assertThat(admin).containsAllEntriesOf(properties);
        assertThat(other).doesNotContainKeys("security.protocol", "sasl.jaas.config");
        assertThat(after).doesNotContainKeys("security.protocol", "sasl.jaas.config");
    }

    @Test
    void aSecondCredentialForTheSameBootstrapIsRefusedWhileTheFirstIsInUse() {
        // Given
        String bootstrap = "kafka-" + UUID.randomUUID() + ":9093";
        try (KafkaClients.Registration first = KafkaClients.register(bootstrap, Map.of("sasl.jaas.config", JAAS));
             KafkaClients.Registration same = KafkaClients.register(bootstrap, Map.of("sasl.jaas.config", JAAS))) {

            // When / Then
            assertThatThrownBy(() -> KafkaClients.register(bootstrap, Map.of("sasl.jaas.config", JAAS + " ")))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining(bootstrap)
                    .hasMessageNotContaining("pw-");
            same.close();
            assertThat(KafkaClients.connectionProperties(bootstrap)).containsKey("sasl.jaas.config");
        }
        assertThat(KafkaClients.connectionProperties(bootstrap)).isEmpty();
    }
}
