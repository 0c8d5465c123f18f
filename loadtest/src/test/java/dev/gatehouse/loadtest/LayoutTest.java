package dev.gatehouse.loadtest;

import dev.gatehouse.deploy.roles.Role;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** How the load runs spread the gateway's roles over processes. */
class LayoutTest {

    @Test
    void everyLayoutRunsEveryRoleExactlyOnce() {
        for (Layout layout : Layout.values()) {
            // Given / When
            List<Role> placed = new ArrayList<>();
            layout.processes().forEach(placed::addAll);

            // Then
            assertThat(placed).as(layout.label()).containsExactlyInAnyOrder(Role.values());
        }
    }

    @Test
    void splitSeparatesTheIndexerAndPerRoleTheEdgePolicyAndIndexer() {
        // When / Then
        assertThat(Layout.of("all-in-one").processes()).hasSize(1);
        assertThat(Layout.SPLIT.describe()).isEqualTo("edge+policy+admin+approval | indexer");
        assertThat(Layout.PER_ROLE.processes()).first().isEqualTo(Set.of(Role.EDGE));
        assertThat(Layout.PER_ROLE.describe()).isEqualTo("edge | policy | indexer | admin+approval");
    }
}
