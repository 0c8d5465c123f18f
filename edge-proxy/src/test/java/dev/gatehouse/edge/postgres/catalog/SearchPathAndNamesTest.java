package dev.gatehouse.edge.postgres.catalog;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** How path settings and written names are read, without a target. */
class SearchPathAndNamesTest {

    @Test
    void aPathIsReadAsPostgresqlReadsIt() {
        // Given
        SearchPath path = SearchPath.parse("\"$user\", Finance, \"My Schema\", \"a,\"\"b\"\"\", pg_temp", "alice", false);

        // When / Then
        assertThat(path.schemas()).containsExactly("\"$user\"", "Finance", "\"My Schema\"", "\"a,\"\"b\"\"\"", "pg_temp");
        assertThat(path.names()).containsExactly("alice", "finance", "My Schema", "a,\"b\"", "pg_temp");
    }

    @Test
    void aPathWithDollarUserAndNoRoleIsNotResolvable() {
        // When / Then
        assertThat(SearchPath.parse("\"$user\", public", null, false).resolvable()).isFalse();
        assertThat(SearchPath.parse("public", null, false).resolvable()).isTrue();
        assertThat(SearchPath.unknown("alice", false).resolvable()).isFalse();
    }

    @Test
    void aNameHasItsNaturalReadingFirstThenEveryGrouping() {
        // When / Then
        assertThat(Names.readings("payouts")).containsExactly(List.of("payouts"));
        assertThat(Names.readings("public.payouts")).containsExactly(List.of("public", "payouts"), List.of("public.payouts"));
        assertThat(Names.readings("demo.public.payouts")).first().isEqualTo(List.of("demo", "public", "payouts"));
        assertThat(Names.readings("demo.public.payouts")).hasSize(4);
        assertThat(Names.readings("a.b.c.d")).contains(List.of("a.b", "c", "d"), List.of("a", "b.c.d"))
                .noneMatch(reading -> reading.size() > 3);
        assertThat(Names.readings("\"a.b\".c")).containsExactly(List.of("a.b", "c"));
    }
}
