package dev.gatehouse.deploy.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

class BinaryParametersTest {

    @Test
    void binaryValuesBecomeTheTextOfTheInferredType() {
        // When / Then
        assertThat(BinaryParameters.toText("int4", "\\x00000001")).isEqualTo("1");
        assertThat(BinaryParameters.toText("int4", "\\xffffffff")).isEqualTo("-1");
        assertThat(BinaryParameters.toText("int8", "\\x0000000000000100")).isEqualTo("256");
        assertThat(BinaryParameters.toText("bool", "\\x01")).isEqualTo("t");
        assertThat(BinaryParameters.toText("date", "\\xffffffff")).isEqualTo("1999-12-31");
        assertThat(BinaryParameters.toText("date", "\\x00000000")).isEqualTo("2000-01-01");
        assertThat(BinaryParameters.toText("uuid", "\\x0000000000000001000000000000000a"))
                .isEqualTo("00000000-0000-0001-0000-00000000000a");
    }

    @Test
    void textTypesByteaAndNonHexKeepTheRecordedText() {
        // When / Then
        assertThat(BinaryParameters.toText("text", "\\x41")).isEqualTo("\\x41");
        assertThat(BinaryParameters.toText("bytea", "\\x41")).isEqualTo("\\x41");
        assertThat(BinaryParameters.toText("int4", "42")).isEqualTo("42");
        assertThat(BinaryParameters.toText("int4", "\\x0001")).isEqualTo("\\x0001");
    }
}
