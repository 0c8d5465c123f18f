package dev.gatehouse.policy.sql.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.ParsedStatement;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.Size;

/** Whatever the text, the analyser answers (never throws), and its spans are well formed. */
class MySqlAnalyzerPropertiesTest {

    private static final List<MySqlAnalyzer> ANALYZERS = List.of(
            new MySqlAnalyzer(110405, true),
            new MySqlAnalyzer(80036, false),
            new MySqlAnalyzer(90200, false),
            new MySqlAnalyzer(110405, true).withSqlMode(Set.of("ANSI_QUOTES", "NO_BACKSLASH_ESCAPES")));

    /**
     * Statements of the corpus for joining: those that parse, without comments at their ends, and
     * that do not have to end their text (no change of sql_mode or character set, no code run now).
     */
    private static final List<String> STATEMENTS = MySqlCorpus.entries().stream()
            .filter(e -> !e.unparseable() && !e.sql().contains("#") && !e.sql().contains("--")
                    && !e.sql().startsWith("/*") && !e.sql().endsWith("*/")
                    && (!e.runsCode() || e.kind() == dev.gatehouse.platform.core.StatementKind.DDL)
                    && e.settings().stream().noneMatch(s -> Set.of("sql_mode", "names", "character_set_client").contains(s)))
            .map(MySqlCorpus.Entry::sql).toList();

    private static final List<String> FRAGMENTS = List.of("SELECT ", "FROM ", "t ", "WHERE ", "a = 1 ", "BEGIN ",
            "END ", "IF ", "THEN ", "CASE ", "WHEN ", "CREATE PROCEDURE p() ", "CREATE TRIGGER x BEFORE INSERT ON t ",
            "FOR EACH ROW ", "DROP DATABASE x ", "LOAD_FILE('/x') ", "INTO OUTFILE '/x' ", "PREPARE s FROM ", "EXECUTE ",
            "SET ", "@@sql_mode ", "'", "\"", "`", "\\", "/*", "*/", "/*!", "/*!80000 ", "/*!100000 ", "/*M!", "/*+ ",
            "--", "-- ", "#", ";", "\n", " ", "(", ")", ",", ".", "$$", "$x$", "1", "x'41'", "DELIMITER ", "\r\n",
            "\u00e9", "\u00a0", "\u0000");

    @Property(tries = 1500)
    void anyTextIsAnswered(@ForAll @Size(max = 120) String sql) {
        for (MySqlAnalyzer analyzer : ANALYZERS) {
            checkAnswer(analyzer, sql);
        }
    }

    @Property(tries = 3000)
    void sqlLikeTextIsAnswered(@ForAll("sqlLike") String sql) {
        for (MySqlAnalyzer analyzer : ANALYZERS) {
            checkAnswer(analyzer, sql);
        }
    }

    @Property(tries = 300)
    void joinedStatementsSplitBackIntoThemselves(@ForAll("joinedStatements") Joined joined) {
        // Given
        String sql = joined.text();

        // When
        ParsedSql parsed = ANALYZERS.getFirst().parse(sql);

        // Then
        assertThat(parsed.analysis().parseError()).as(sql).isNull();
        assertThat(parsed.statements()).extracting(s -> s.text(sql)).containsExactlyElementsOf(joined.statements());
    }

    /** Statements joined by separators (a semicolon, with whitespace and comments around it). */
    record Joined(List<String> statements, List<String> separators) {
        String text() {
            StringBuilder text = new StringBuilder();
            for (int i = 0; i < statements.size(); i++) {
                text.append(statements.get(i)).append(separators.get(i));
            }
            return text.toString();
        }
    }

    @Provide("joinedStatements")
    Arbitrary<Joined> joinedStatements() {
        Arbitrary<List<String>> statements = Arbitraries.of(STATEMENTS).list().ofMinSize(1).ofMaxSize(6);
        Arbitrary<List<String>> separators = Arbitraries.of(";", "; ", ";\n", " ;\r\n", "; /* c */ ", ";\n-- note\n",
                "; # x\n", " /* ; */ ;").list().ofSize(6);
        return Combinators.combine(statements, separators).as(Joined::new);
    }

    @Provide
    Arbitrary<String> sqlLike() {
        return Arbitraries.of(FRAGMENTS).list().ofMaxSize(30).map(parts -> String.join("", parts));
    }

    private static void checkAnswer(MySqlAnalyzer analyzer, String sql) {
        ParsedSql parsed = analyzer.parse(sql);
        if (!parsed.analysis().parseable()) {
            assertThat(parsed.analysis().parseError()).isNotBlank();
            assertThat(parsed.analysis().fingerprint()).isNull();
            assertThat(parsed.statements()).isEmpty();
            return;
        }
        assertThat(parsed.analysis().fingerprint()).matches("[0-9a-f]{64}");
        assertThat(parsed.statements()).hasSameSizeAs(parsed.analysis().statements());
        int end = 0;
        List<Integer> offsets = new ArrayList<>();
        for (ParsedStatement statement : parsed.statements()) {
            assertThat(statement.offset()).isGreaterThanOrEqualTo(end);
            assertThat(statement.offset() + statement.length()).isLessThanOrEqualTo(sql.length());
            String text = statement.text(sql);
            assertThat(text).isNotBlank();
            assertThat(text).isEqualTo(text.strip());
            end = statement.offset() + statement.length();
            offsets.add(statement.offset());
        }
        assertThat(offsets).isSorted();
    }
}
