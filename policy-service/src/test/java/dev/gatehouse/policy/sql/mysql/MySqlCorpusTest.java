package dev.gatehouse.policy.sql.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.StatementAnalysis;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Every statement of the corpus is analysed as its header says, on MariaDB 11.4.5. */
class MySqlCorpusTest {

    private static final MySqlAnalyzer MARIADB = new MySqlAnalyzer(110405, true);

    static List<MySqlCorpus.Entry> entries() {
        return MySqlCorpus.entries();
    }

    @Test
    void corpusIsLargeAndCoversEveryKind() {
        // Given / When
        List<MySqlCorpus.Entry> entries = entries();

        // Then
        assertThat(entries).hasSizeGreaterThanOrEqualTo(250);
        assertThat(entries.stream().filter(e -> !e.unparseable()).map(MySqlCorpus.Entry::kind).distinct())
                .hasSize(dev.gatehouse.platform.core.StatementKind.values().length);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("entries")
    void analysesAsExpected(MySqlCorpus.Entry entry) {
        // Given / When
        ParsedSql parsed = MARIADB.parse(entry.sql());

        // Then
        if (entry.unparseable()) {
            assertThat(parsed.analysis().parseable()).as("refused").isFalse();
            assertThat(parsed.analysis().parseError()).isNotBlank();
            assertThat(parsed.analysis().fingerprint()).isNull();
            return;
        }
        assertThat(parsed.analysis().parseError()).isNull();
        assertThat(parsed.statements()).hasSize(1);
        StatementAnalysis s = parsed.analysis().statements().getFirst();
        assertThat(s.kind()).as("kind").isEqualTo(entry.kind());
        assertThat(s.tag()).as("tag").isEqualTo(entry.tag());
        assertThat(s.objectType()).as("object type").isEqualTo(entry.objectType());
        assertThat(s.tablesRead()).as("tables read").containsExactlyInAnyOrderElementsOf(entry.read());
        assertThat(s.tablesWritten()).as("tables written").containsExactlyInAnyOrderElementsOf(entry.written());
        if (entry.functions() != null) {
            assertThat(s.functions()).as("functions").containsAll(entry.functions());
        }
        assertThat(s.settings()).as("settings").containsExactlyInAnyOrderElementsOf(entry.settings());
        assertThat(s.missingWhere()).as("missing WHERE").isEqualTo(entry.missingWhere());
        assertThat(s.runsCode()).as("runs code").isEqualTo(entry.runsCode());
        assertThat(s.uncertain()).as("uncertain " + s.uncertainty()).isEqualTo(entry.uncertain());
        assertThat(s.uncertainty().isEmpty()).isEqualTo(!entry.uncertain());
        assertThat(parsed.analysis().fingerprint()).matches("[0-9a-f]{64}");
        assertThat(parsed.statements().getFirst().text(entry.sql())).isNotBlank();
    }
}
