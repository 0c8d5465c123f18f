package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The built-in function list ({@link BuiltinFunctions#RESOURCE}) is exactly the function names in
 * {@code pg_catalog} of a fresh PostgreSQL 15 cluster (the embedded one from zonky).
 *
 * <p>To regenerate the list (after a change of the embedded PostgreSQL 15 binaries), run this test
 * with {@code -Dgatehouse.builtins.write=true}; it writes the resource in
 * {@code src/main/resources} and the diff shows what changed:
 * <pre>
 * ./mvnw -o -q -pl policy-service -am verify -Dtest=BuiltinFunctionsCatalogTest \
 *     -Dsurefire.failIfNoSpecifiedTests=false -DskipITs -Dgatehouse.builtins.write=true
 * </pre>
 */
class BuiltinFunctionsCatalogTest {

    private static final Path SOURCE = Path.of("src/main/resources/dev/gatehouse/policy/sql", BuiltinFunctions.RESOURCE);

    @Test
    void listIsEveryFunctionNameInPgCatalogOfPostgres15() throws Exception {
        // Given: a fresh PostgreSQL 15 cluster
        List<String> names = new ArrayList<>();
        int version;
        try (EmbeddedPostgres postgres = EmbeddedPostgres.builder().start();
             Connection connection = postgres.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            // When
            try (ResultSet rs = statement.executeQuery("SHOW server_version_num")) {
                rs.next();
                version = Integer.parseInt(rs.getString(1));
            }
            try (ResultSet rs = statement.executeQuery("SELECT DISTINCT proname FROM pg_catalog.pg_proc"
                    + " WHERE pronamespace = 'pg_catalog'::regnamespace ORDER BY 1")) {
                while (rs.next()) {
                    names.add(rs.getString(1));
                }
            }
        }
        if (Boolean.getBoolean("gatehouse.builtins.write")) {
            write(names, version);
        }

        // Then
        assertThat(version / 10_000).isEqualTo(15);
        assertThat(names).contains("lower", "set_config", "count", "pg_sleep").doesNotContain("my_func");
        List<String> listed = Boolean.getBoolean("gatehouse.builtins.write") ? read() : List.copyOf(BuiltinFunctions.load());
        assertThat(listed).containsExactlyInAnyOrderElementsOf(names);
    }

    private static void write(List<String> names, int version) throws Exception {
        StringBuilder text = new StringBuilder()
                .append("# Every function name in pg_catalog of PostgreSQL 15 (generated from ").append(version)
                .append(", the embedded PostgreSQL of io.zonky.test),\n")
                .append("# one per line: calls of other functions run code the SQL analyser cannot see.\n")
                .append("# Generated and checked by BuiltinFunctionsCatalogTest (see there how to regenerate).\n");
        names.forEach(name -> text.append(name).append('\n'));
        Files.writeString(SOURCE, text, StandardCharsets.UTF_8);
    }

    private static List<String> read() throws Exception {
        return Files.readAllLines(SOURCE, StandardCharsets.UTF_8).stream()
                .filter(line -> !line.isBlank() && !line.startsWith("#"))
                .toList();
    }
}
