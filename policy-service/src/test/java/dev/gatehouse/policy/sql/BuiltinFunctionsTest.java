package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class BuiltinFunctionsTest {

    private final BuiltinFunctions builtins = BuiltinFunctions.shared();

    @Test
    void pgCatalogFunctionsAreBuiltInUnqualifiedOrQualifiedWithPgCatalog() {
        // Given / When / Then
        assertThat(builtins.isBuiltin(List.of("lower"))).isTrue();
        assertThat(builtins.isBuiltin(List.of("pg_catalog", "lower"))).isTrue();
        assertThat(builtins.isBuiltin(List.of("set_config"))).isTrue();
        assertThat(builtins.isBuiltin(List.of("count"))).isTrue();
        assertThat(builtins.isBuiltin(List.of("pg_catalog", "pg_collation_for"))).isTrue();
    }

    @Test
    void otherFunctionsAreNot() {
        // Given / When / Then
        assertThat(builtins.isBuiltin(List.of("my_func"))).isFalse();
        assertThat(builtins.isBuiltin(List.of("public", "lower"))).isFalse();
        assertThat(builtins.isBuiltin(List.of("mydb", "public", "lower"))).isFalse();
        assertThat(builtins.isBuiltin(List.of("pg_catalog", "my_func"))).isFalse();
        assertThat(builtins.isBuiltin(List.of("LOWER"))).isFalse();
        assertThat(builtins.isBuiltin(List.of())).isFalse();
    }

    @Test
    void listHoldsEveryPostgres15CatalogFunctionName() {
        // Given / When
        var names = BuiltinFunctions.load();

        // Then: the size of PostgreSQL 15's pg_catalog (PostgresAgreementTest checks each name)
        assertThat(names).hasSizeGreaterThan(2_500).contains("lower", "jsonb_path_query", "pg_read_file")
                .allSatisfy(name -> assertThat(name).doesNotContain(" ").isNotEmpty());
    }
}
