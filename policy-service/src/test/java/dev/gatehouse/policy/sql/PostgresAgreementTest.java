package dev.gatehouse.policy.sql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.SessionEffect;
import dev.gatehouse.platform.core.StatementAnalysis;
import io.zonky.test.db.postgres.embedded.EmbeddedPostgres;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * What the analyser claims about PostgreSQL 15, checked against a real one (the embedded
 * PostgreSQL 15 from zonky): the built-in function list, the value {@code SHOW search_path}
 * gives after a {@code SET}, and whether an {@code EXPLAIN} executes its statement.
 *
 * <p>The built-in function list ({@link BuiltinFunctions#RESOURCE}) is generated here too. To
 * regenerate it (after a change of the embedded PostgreSQL 15 binaries), run this test with
 * {@code -Dgatehouse.builtins.write=true}; it writes the resource in {@code src/main/resources}
 * and the diff shows what changed:
 * <pre>
 * ./mvnw -o -q -pl policy-service -am verify -Dtest=PostgresAgreementTest \
 *     -Dsurefire.failIfNoSpecifiedTests=false -DskipITs -Dgatehouse.builtins.write=true
 * </pre>
 */
class PostgresAgreementTest {

    private static final Path SOURCE = Path.of("src/main/resources/dev/gatehouse/policy/sql", BuiltinFunctions.RESOURCE);

    private static EmbeddedPostgres postgres;
    private final PgQueryAnalyzer analyzer = new PgQueryAnalyzer();

    @BeforeAll
    static void startPostgres() throws Exception {
        postgres = EmbeddedPostgres.builder().start();
    }

    @AfterAll
    static void stopPostgres() throws Exception {
        if (postgres != null) {
            postgres.close();
        }
    }

    @Test
    void builtinListIsEveryFunctionNameInPgCatalogOfPostgres15() throws Exception {
        // Given: a fresh PostgreSQL 15 cluster
        List<String> names = new ArrayList<>();
        int version;
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
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
        boolean write = Boolean.getBoolean("gatehouse.builtins.write");
        if (write) {
            write(names, version);
        }

        // Then
        assertThat(version / 10_000).isEqualTo(15);
        assertThat(names).contains("lower", "set_config", "count", "pg_sleep").doesNotContain("my_func");
        List<String> listed = write ? read() : List.copyOf(BuiltinFunctions.load());
        assertThat(listed).containsExactlyInAnyOrderElementsOf(names);
    }

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {
            "SET search_path = public, \"My Schema\", '$user', \"select\", analytics, \"Ünïcode😀\"",
            "SET search_path TO ''",
            "SET search_path = 'a b', \"x\"\"y\", user_data, \"user\", \"name\", \"int\", abs",
            "SET search_path TO \"$user\",public",
            "SET search_path = pg_catalog, 12"})
    void searchPathValueIsWhatPostgresShows(String set) throws Exception {
        // Given
        SessionEffect.Setting setting = (SessionEffect.Setting) analyzer.parse(set).statements().getFirst().effect();

        // When
        String shown;
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute(set);
            try (ResultSet rs = statement.executeQuery("SHOW search_path")) {
                rs.next();
                shown = rs.getString(1);
            }
        }

        // Then
        assertThat(setting.name()).isEqualTo("search_path");
        assertThat(setting.value()).isEqualTo(shown);
    }

    @ParameterizedTest(name = "EXPLAIN {0}")
    @ValueSource(strings = {
            "", "ANALYZE", "ANALYSE", "(ANALYZE)", "(ANALYZE true, ANALYZE false)", "(ANALYZE false, ANALYZE)",
            "(ANALYZE off, VERBOSE, ANALYZE on)", "(ANALYZE on, BUFFERS, ANALYZE off)", "(ANALYZE 0)", "(ANALYZE 1)",
            "(ANALYZE 'false')", "(ANALYZE FALSE)", "(ANALYZE TRUE)", "(ANALYZE no)", "(ANALYZE yes)", "(ANALYZE 2)",
            "(ANALYZE 1.0)", "(ANALYZE maybe)", "(VERBOSE, COSTS off)", "ANALYZE VERBOSE", "VERBOSE"})
    void explainExecutesExactlyWhenPostgresDoes(String options) throws Exception {
        // Given
        String sql = "EXPLAIN " + options + " INSERT INTO explained VALUES (1)";
        StatementAnalysis analysis = single(sql);

        // When
        boolean executed;
        boolean rejected = false;
        try (Connection connection = postgres.getPostgresDatabase().getConnection();
             Statement statement = connection.createStatement()) {
            statement.execute("CREATE TABLE IF NOT EXISTS explained (id int)");
            connection.setAutoCommit(false);
            try {
                statement.execute(sql);
            } catch (SQLException e) {
                rejected = true;
                connection.rollback();
            }
            try (ResultSet rs = statement.executeQuery("SELECT count(*) FROM explained")) {
                rs.next();
                executed = rs.getLong(1) > 0;
            }
            connection.rollback();
        }

        // Then: exactly when PostgreSQL runs it; an option value PostgreSQL rejects runs nothing,
        // which the analyser counts as running (the safe side)
        boolean analysedAsExecuted = !analysis.tablesWritten().isEmpty();
        if (rejected) {
            assertThat(executed).isFalse();
        } else {
            assertThat(analysedAsExecuted).isEqualTo(executed);
        }
    }

    private StatementAnalysis single(String sql) {
        ParsedSql parsed = analyzer.parse(sql);
        assertThat(parsed.analysis().parseable()).as("parseable: %s", parsed.analysis().parseError()).isTrue();
        return parsed.statements().getFirst().analysis();
    }

    private static void write(List<String> names, int version) throws Exception {
        StringBuilder text = new StringBuilder()
                .append("# Every function name in pg_catalog of PostgreSQL 15 (generated from ").append(version)
                .append(", the embedded PostgreSQL of io.zonky.test),\n")
                .append("# one per line: calls of other functions run code the SQL analyser cannot see.\n")
                .append("# Generated and checked by PostgresAgreementTest (see there how to regenerate).\n");
        names.forEach(name -> text.append(name).append('\n'));
        Files.writeString(SOURCE, text, StandardCharsets.UTF_8);
    }

    private static List<String> read() throws Exception {
        return Files.readAllLines(SOURCE, StandardCharsets.UTF_8).stream()
                .filter(line -> !line.isBlank() && !line.startsWith("#"))
                .toList();
    }
}
