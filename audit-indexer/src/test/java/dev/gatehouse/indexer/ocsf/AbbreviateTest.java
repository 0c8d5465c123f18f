package dev.gatehouse.indexer.ocsf;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;

import static org.assertj.core.api.Assertions.assertThat;

/** The OCSF message's one-line SQL: the same text as the definition it replaced, whatever the SQL holds. */
class AbbreviateTest {

    /** The definition: every run of whitespace one space, trimmed, cut with an ellipsis. */
    private static String definition(String text, int max) {
        String oneLine = text.replaceAll("\\s+", " ").trim();
        return oneLine.length() <= max ? oneLine : oneLine.substring(0, max - 1) + "…";
    }

    @Property(tries = 3000)
    void isTheDefinition(@ForAll("sqlish") String text, @ForAll @IntRange(min = 2, max = 40) int max) {
        assertThat(OcsfMapper.abbreviate(text, max)).isEqualTo(definition(text, max));
    }

    /** Text rich in what matters here: whitespace of every kind, control characters, non-ASCII. */
    @Provide
    Arbitrary<String> sqlish() {
        return Arbitraries.strings()
                .withChars(" \t\n\u000B\f\r\u0001\u001F\u00A0\u2003aZ;'é")
                .withCharRange('a', 'c')
                .ofMaxLength(80);
    }
}
