package dev.gatehouse.platform.kafka;

import org.apache.kafka.common.acl.AclBinding;
import org.apache.kafka.common.acl.AclOperation;
import org.apache.kafka.common.resource.ResourceType;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class KafkaAclsTest {

    private static final Map<String, String> PRINCIPALS = Map.of("edge", "User:gatehouse-edge", "policy", "User:gatehouse-policy",
            "approval", "User:gatehouse-approval", "indexer", "User:gatehouse-indexer", "admin", "User:gatehouse-admin");

    @Test
    void onlyThePolicyPrincipalMayWriteDecisions() {
        // When
        List<AclBinding> bindings = KafkaAcls.bindings(PRINCIPALS);

        // Then
        assertThat(writers(bindings, Topics.DECISIONS)).containsExactlyInAnyOrder("User:gatehouse-policy",
                "User:gatehouse-approval");
        assertThat(writers(bindings, Topics.CONTROL)).containsExactly("User:gatehouse-edge");
        assertThat(writers(bindings, Topics.REVOCATIONS)).containsExactly("User:gatehouse-admin");
        assertThat(writers(bindings, Topics.POLICIES)).containsExactlyInAnyOrder("User:gatehouse-policy", "User:gatehouse-admin");
        assertThat(writers(bindings, Topics.AUDIT)).hasSize(5);
        assertThat(bindings).allSatisfy(b -> {
            assertThat(b.entry().host()).isEqualTo("*");
            assertThat(b.entry().operation()).isIn(AclOperation.READ, AclOperation.WRITE);
            assertThat(b.pattern().resourceType()).isIn(ResourceType.TOPIC, ResourceType.GROUP);
        });
        assertThat(bindings).noneMatch(b -> b.pattern().resourceType() == ResourceType.CLUSTER
                || b.pattern().resourceType() == ResourceType.TRANSACTIONAL_ID);
    }

    @Test
    void onlyTheRolesNamedGetBindings() {
        // When
        List<AclBinding> bindings = KafkaAcls.bindings(Map.of("edge", "User:e"));

        // Then
        assertThat(bindings).isNotEmpty().allMatch(b -> b.entry().principal().equals("User:e"));
        assertThat(bindings).extracting(KafkaAcls::describe).contains("ALLOW User:e WRITE TOPIC gatehouse.audit",
                "ALLOW User:e READ TOPIC gatehouse.decisions");
    }

    @Test
    void anUnknownRoleOrAPrincipalWithoutTypeIsRefusedByName() {
        assertThatThrownBy(() -> KafkaAcls.bindings(Map.of("edges", "User:e")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("kafka.acl-principals.edges: unknown role");
        assertThatThrownBy(() -> KafkaAcls.bindings(Map.of("edge", "gatehouse-edge")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageStartingWith("kafka.acl-principals.edge: 'gatehouse-edge' is not a Kafka principal");
    }

    private static List<String> writers(List<AclBinding> bindings, String topic) {
        return bindings.stream()
                .filter(b -> b.pattern().resourceType() == ResourceType.TOPIC && b.pattern().name().equals(topic)
                        && b.entry().operation() == AclOperation.WRITE)
                .map(b -> b.entry().principal())
                .toList();
    }
}
