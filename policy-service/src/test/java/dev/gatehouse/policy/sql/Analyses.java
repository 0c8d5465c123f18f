package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.StatementAnalysis;

/** The analysis of one statement, as the analyser tests use it. */
final class Analyses {

    private Analyses() {
    }

    /** The analysis of {@code sql}, which must parse into exactly one statement. */
    static StatementAnalysis single(PgQueryAnalyzer analyzer, String sql) {
        SqlAnalysis analysis = analyzer.analyze(sql);
        assertThat(analysis.parseable()).as("parseable: %s", analysis.parseError()).isTrue();
        assertThat(analysis.statements()).hasSize(1);
        return analysis.statements().getFirst();
    }
}
