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
        assertThat(ClientIntent.of("run", "3f2b9c1e-7a4d-4e0b-9c55-1d2e3f4a5b6c", "step", "wf:plan/3.a_b@x+y=z").runId())
                .isEqualTo("3f2b9c1e-7a4d-4e0b-9c55-1d2e3f4a5b6c");
        assertThatThrownBy(() -> ClientIntent.of("gatehouse.run_id", " ", "s", null)).hasMessageContaining("gatehouse.run_id");
        assertThatThrownBy(() -> ClientIntent.of("r", null, "gatehouse.step_id", "x".repeat(201)))
                .hasMessageContaining("gatehouse.step_id must be 1 to 200");
        assertThatThrownBy(() -> ClientIntent.of("r", "run\n1", "s", null)).hasMessageContaining("letters, digits");
    }

    @Test
    void anIdCannotPoseAsTheSignedMarkOrOtherText() {
        // the record shows "run r-1 (signed by the issuer)" for a signed intent: a client may not write that itself
        assertThatThrownBy(() -> ClientIntent.of("gatehouse.run_id", "r-1 (signed by the issuer)", "s", null))
                .hasMessageContaining("gatehouse.run_id must be 1 to 200 letters, digits or . _ : / @ + = -");
        for (String bad : new String[] {"a b", "a(b", "a)b", "a\"b", "a'b", "a[b", "a,b", "é"}) {
            assertThatThrownBy(() -> ClientIntent.of("r", bad, "s", null)).as(bad).isInstanceOf(IllegalArgumentException.class);
        }
    }
}
