package dev.gatehouse.deploy.cli;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class PlaceholdersTest {

    @Test
    void numberedParametersBecomeQuestionMarksBoundInOrderOfAppearance() {
        // When
        Placeholders.Jdbc jdbc = Placeholders.toJdbc("SELECT $2, $1, $2", List.of("a", "b"));

        // Then
        assertThat(jdbc.sql()).isEqualTo("SELECT ?, ?, ?");
        assertThat(jdbc.parameters()).containsExactly("b", "a", "b");
    }

    @Test
    void literalsCommentsAndDollarQuotesAreLeftAlone() {
        // Given
        String sql = "SELECT '$1 ?', \"$1\", E'it\\'s $1', $$ $1 ? $$, $f$x$1$f$ -- $1 ?\n /* $1 /* ? */ */ , $1, data ? 'k'";

        // When
        Placeholders.Jdbc jdbc = Placeholders.toJdbc(sql, Arrays.asList((String) null));

        // Then
        assertThat(jdbc.sql()).isEqualTo(
                "SELECT '$1 ?', \"$1\", E'it\\'s $1', $$ $1 ? $$, $f$x$1$f$ -- $1 ?\n /* $1 /* ? */ */ , ?, data ?? 'k'");
        assertThat(jdbc.parameters()).containsExactly((String) null);
    }

    @Test
    void aParameterThatWasNotRecordedIsAClearError() {
        // When / Then
        assertThatThrownBy(() -> Placeholders.toJdbc("SELECT $3", List.of("a")))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessage("the recorded SQL refers to $3 but 1 parameter(s) were recorded");
    }
}
