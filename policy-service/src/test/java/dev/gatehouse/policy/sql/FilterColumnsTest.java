package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.StatementAnalysis;
import org.junit.jupiter.api.Test;

/** Columns that filter, join, group or sort: what a masked column still reveals. */
class FilterColumnsTest {

    private final PgQueryAnalyzer analyzer = new PgQueryAnalyzer();

    private StatementAnalysis single(String sql) {
        return Analyses.single(analyzer, sql);
    }

    @Test
    void whereJoinGroupHavingAndOrderColumnsQualifiedThroughAliases() {
        // Given
        String sql = "SELECT c.name, o.total FROM public.customers c JOIN orders o ON o.customer_id = c.id "
                + "WHERE c.ssn = '123' GROUP BY c.region HAVING count(o.total) > 1 ORDER BY c.name";

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.filterColumns()).containsExactly(
                "customer_id", "orders.customer_id", "id", "customers.id", "public.customers.id",
                "ssn", "customers.ssn", "public.customers.ssn",
                "region", "customers.region", "public.customers.region",
                "total", "orders.total",
                "name", "customers.name", "public.customers.name");
    }

    @Test
    void selectListColumnsDoNotFilter() {
        // Given / When
        StatementAnalysis statement = single("SELECT ssn, upper(name) FROM customers");

        // Then
        assertThat(statement.filterColumns()).isEmpty();
    }

    @Test
    void subqueriesCtesAndCorrelatedReferencesAtAnyDepth() {
        // Given
        String sql = "WITH v AS (SELECT * FROM vip WHERE tier = 'gold') "
                + "SELECT * FROM accounts a WHERE a.owner IN (SELECT owner FROM v WHERE v.since > now()) "
                + "AND EXISTS (SELECT 1 FROM flags f WHERE f.account = a.id)";

        // When
        StatementAnalysis statement = single(sql);

        // Then: a CTE is not a table, so v.since is only "since"; an unqualified column counts for every
        // table in scope (tier can only be vip's)
        assertThat(statement.filterColumns()).containsExactly(
                "tier", "vip.tier", "owner", "accounts.owner", "since", "account", "flags.account", "id", "accounts.id");
    }

    @Test
    void windowDistinctOnAndAggregateClauses() {
        // Given
        String sql = "SELECT DISTINCT ON (d) a, string_agg(b, ',' ORDER BY e) FILTER (WHERE f), "
                + "row_number() OVER (PARTITION BY g ORDER BY h), sum(k) OVER w FROM t "
                + "WINDOW w AS (PARTITION BY i ORDER BY j)";

        // When
        StatementAnalysis statement = single(sql);

        // Then
        assertThat(statement.filterColumns()).containsExactly("d", "t.d", "e", "t.e", "f", "t.f", "g", "t.g", "h", "t.h",
                "i", "t.i", "j", "t.j");
    }

    @Test
    void joinUsingQualifiesWithBothTables() {
        // Given / When
        StatementAnalysis statement = single("SELECT * FROM customers JOIN s.orders USING (customer_id)");

        // Then
        assertThat(statement.filterColumns())
                .containsExactly("customer_id", "customers.customer_id", "orders.customer_id", "s.orders.customer_id");
    }

    @Test
    void updateDeleteAndMergeTargetsAreInScope() {
        // Given / When
        StatementAnalysis update = single("UPDATE customers AS c SET flag = true WHERE c.ssn LIKE '1%'");
        StatementAnalysis delete = single("DELETE FROM public.customers WHERE customers.ssn = 'x'");
        StatementAnalysis merge = single("MERGE INTO t USING s ON t.id = s.id WHEN MATCHED AND s.x > 1 THEN DELETE");

        // Then
        assertThat(update.filterColumns()).containsExactly("ssn", "customers.ssn");
        assertThat(delete.filterColumns()).containsExactly("ssn", "customers.ssn", "public.customers.ssn");
        assertThat(merge.filterColumns()).containsExactly("id", "t.id", "s.id", "x", "s.x");
    }

    @Test
    void qualifiersThatAreNotTablesOrNotInScope() {
        // Given / When
        StatementAnalysis subquery = single("SELECT * FROM (SELECT ssn FROM customers) s WHERE s.ssn = '1'");
        StatementAnalysis schemaQualified = single("SELECT 1 FROM public.customers WHERE public.customers.ssn = 'x'");
        StatementAnalysis unknown = single("SELECT 1 FROM customers WHERE item.price > 0 ORDER BY 1");

        // Then
        assertThat(subquery.filterColumns()).containsExactly("ssn");
        assertThat(schemaQualified.filterColumns()).containsExactly("ssn", "customers.ssn", "public.customers.ssn");
        assertThat(unknown.filterColumns()).containsExactly("price", "item.price");
    }
}
