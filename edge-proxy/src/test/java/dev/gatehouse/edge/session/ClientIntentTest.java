package dev.gatehouse.edge.session;

import dev.gatehouse.platform.core.DeclaredIntent;
import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ClientIntentTest {

    @Test
    void aDeclaredRunOrStepIsTheClientsWordAndUnverified() {
        assertThat(ClientIntent.of("run", "r-1", "step", null))
                .isEqualTo(new DeclaredIntent("r-1", null, false, DeclaredIntent.CONNECTION_PARAMETER));
        assertThat(ClientIntent.of("run", null, "step", "4").describe()).isEqualTo("step 4 (unverified: declared by the client)");
        assertThat(ClientIntent.of("run", null, "step", null)).isNull();
    }

    @Test
    void emptyLongOrUnprintableValuesAreRefusedNamingTheParameter() {
        assertThatThrownBy(() -> ClientIntent.of("gatehouse.run_id", " ", "s", null)).hasMessageContaining("gatehouse.run_id");
        assertThatThrownBy(() -> ClientIntent.of("r", null, "gatehouse.step_id", "x".repeat(201)))
                .hasMessageContaining("gatehouse.step_id must be 1 to 200");
        assertThatThrownBy(() -> ClientIntent.of("r", "run\n1", "s", null)).hasMessageContaining("printable");
    }
}
