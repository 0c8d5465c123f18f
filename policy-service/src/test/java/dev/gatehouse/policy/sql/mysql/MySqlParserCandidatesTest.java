package dev.gatehouse.policy.sql.mysql;

import static org.assertj.core.api.Assertions.assertThat;

import com.alibaba.druid.DbType;
import com.alibaba.druid.sql.SQLUtils;
import com.alibaba.druid.sql.ast.SQLStatement;
import com.alibaba.druid.sql.visitor.SchemaStatVisitor;
import dev.gatehouse.platform.core.StatementKind;
import java.io.IOException;
import java.lang.reflect.InvocationTargetException;
import java.lang.reflect.Method;
import java.net.URL;
import java.net.URLClassLoader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/**
 * How the candidate parsers read the corpus, each given every statement's code as the lexer
 * expands it (MariaDB 11.4): how many statements each parses, for how many of those its statement
 * type gives the kind the corpus expects, and for how many reads and writes (SELECT, INSERT,
 * UPDATE, DELETE, REPLACE) its own table finder names exactly the corpus's tables. The report is
 * printed and written to {@code target/mysql-parser-candidates.txt}; its figures are in
 * {@link MySqlAnalyzer}'s javadoc.
 *
 * <p>Druid is the chosen parser (a dependency). JSqlParser 5.3 is not: it is loaded from the local
 * Maven repository when there ({@code com.github.jsqlparser:jsqlparser:5.3}), else left out of the
 * report. The kind is read from the parser's statement class alone, so statements the analyser
 * classifies by more than the statement type (SELECT ... FOR UPDATE is WRITE, PREPARE takes the
 * kind of its statement) count against both parsers alike.
 */
class MySqlParserCandidatesTest {

    private static final MySqlLexer LEXER = new MySqlLexer(new MySqlLexer.Settings(110405, true, false, false));

    /** What one parser says of one statement's code: its kind (null when unknown) and tables, or null when it cannot parse it. */
    record Reading(StatementKind kind, Set<String> tables) {
    }

    /** The figures of one candidate. */
    record Figures(String parser, int statements, int parsed, int kindsChecked, int kindsRight, int dmlParsed,
                   int tablesRight) {
        String line() {
            return String.format(Locale.ROOT, "%-18s parsed %3d/%d (%2.0f%%)  kind right %3d/%d  DML tables right %3d/%d",
                    parser, parsed, statements, 100.0 * parsed / statements, kindsRight, kindsChecked, tablesRight, dmlParsed);
        }
    }

    @Test
    void reportsHowEachCandidateReadsTheCorpus() throws IOException {
        // Given
        List<MySqlCorpus.Entry> entries = MySqlCorpus.entries();
        Function<String, Reading> jsqlParser = jsqlParser();

        // When
        Figures druid = figures("Druid 1.2.27", entries, MySqlParserCandidatesTest::druid);
        Figures jsql = jsqlParser == null ? null : figures("JSqlParser 5.3", entries, jsqlParser);

        // Then
        StringBuilder report = new StringBuilder("MySQL / MariaDB parser candidates on mysql-corpus.sql\n");
        report.append(druid.line()).append('\n');
        report.append(jsql == null ? "JSqlParser 5.3     not in the local Maven repository: not measured\n" : jsql.line() + "\n");
        System.out.print(report);
        Files.writeString(Path.of("target", "mysql-parser-candidates.txt"), report);
        assertThat(druid.parsed()).isGreaterThanOrEqualTo(255);
        assertThat(druid.kindsRight()).isGreaterThanOrEqualTo(druid.kindsChecked() - 10);
        if (jsql != null) {
            assertThat(druid.parsed()).isGreaterThan(jsql.parsed());
        }
    }

    private static Figures figures(String parser, List<MySqlCorpus.Entry> entries, Function<String, Reading> reader) {
        int parsed = 0;
        int kindsChecked = 0;
        int kindsRight = 0;
        int dmlParsed = 0;
        int tablesRight = 0;
        for (MySqlCorpus.Entry entry : entries) {
            MySqlLexer.Result split = LEXER.split(entry.sql());
            assertThat(split.statements()).as(entry.toString()).hasSize(1);
            Reading reading = reader.apply(split.statements().getFirst().code());
            if (reading == null) {
                continue;
            }
            parsed++;
            if (!entry.unparseable()) {
                kindsChecked++;
                if (reading.kind() == entry.kind()) {
                    kindsRight++;
                }
            }
            if (entry.dml()) {
                dmlParsed++;
                Set<String> expected = new HashSet<>(entry.read());
                expected.addAll(entry.written());
                if (reading.tables().equals(expected)) {
                    tablesRight++;
                }
            }
        }
        return new Figures(parser, entries.size(), parsed, kindsChecked, kindsRight, dmlParsed, tablesRight);
    }

    // ---- Druid --------------------------------------------------------------------------------

    private static Reading druid(String code) {
        List<SQLStatement> statements;
        try {
            statements = SQLUtils.parseStatements(code, DbType.mariadb);
        } catch (RuntimeException e) {
            return null;
        }
        if (statements.size() != 1) {
            return null;
        }
        SQLStatement statement = statements.getFirst();
        Set<String> tables = new HashSet<>();
        try {
            SchemaStatVisitor visitor = SQLUtils.createSchemaStatVisitor(DbType.mariadb);
            statement.accept(visitor);
            visitor.getTables().keySet().forEach(name -> tables.add(name.getName().replace("`", "")));
        } catch (RuntimeException e) {
            // its visitor fails on some trees: no tables then
        }
        return new Reading(druidKind(statement.getClass().getSimpleName()), tables);
    }

    static StatementKind druidKind(String type) {
        if (type.equals("SQLSelectStatement")) {
            return StatementKind.READ;
        }
        if (type.matches("(SQL|MySql)(Insert|Replace|Update|Delete|Truncate)Statement|MySqlLoad(DataInFile|Xml)Statement")) {
            return StatementKind.WRITE;
        }
        if (type.matches(".*(Grant|Revoke|User|Role).*")) {
            return StatementKind.DCL;
        }
        if (type.matches("(SQL|MySql)(Create|Drop|Alter|Rename).*")) {
            return StatementKind.DDL;
        }
        if (type.matches("SQL(StartTransaction|Begin|Commit|Rollback|SavePoint|ReleaseSavePoint)Statement|MySqlXAStatement")) {
            return StatementKind.TRANSACTION;
        }
        if (type.equals("SQLCallStatement")) {
            return StatementKind.PROCEDURAL;
        }
        if (type.equals("MySqlExecuteStatement")) {
            return StatementKind.UNKNOWN;
        }
        if (type.matches(".*(Set|Use|Show|Explain|Describe|Analyze|Optimize|CheckTable|Checksum|Kill|Flush|LockTable|UnlockTables"
                + "|PurgeLogs|Binlog|Help|Prepare|Deallocate|Reset).*")) {
            return StatementKind.UTILITY;
        }
        return null;
    }

    // ---- JSqlParser, by reflection ------------------------------------------------------------

    /** JSqlParser 5.3 from the local Maven repository (MySQL options: backslash escapes, complex parsing), or null. */
    private static Function<String, Reading> jsqlParser() throws IOException {
        String repository = System.getProperty("maven.repo.local",
                Path.of(System.getProperty("user.home"), ".m2", "repository").toString());
        Path jar = Path.of(repository, "com", "github", "jsqlparser", "jsqlparser", "5.3", "jsqlparser-5.3.jar");
        if (!Files.isRegularFile(jar)) {
            return null;
        }
        URLClassLoader loader = new URLClassLoader(new URL[] {jar.toUri().toURL()}, MySqlParserCandidatesTest.class.getClassLoader());
        try {
            Class<?> util = loader.loadClass("net.sf.jsqlparser.parser.CCJSqlParserUtil");
            Class<?> statementType = loader.loadClass("net.sf.jsqlparser.statement.Statement");
            Class<?> finderType = loader.loadClass("net.sf.jsqlparser.util.TablesNamesFinder");
            Method parse = util.getMethod("parse", String.class, Consumer.class);
            Method getTables = finderType.getMethod("getTables", statementType);
            Consumer<Object> options = parser -> {
                try {
                    parser.getClass().getMethod("withBackslashEscapeCharacter", boolean.class).invoke(parser, true);
                    parser.getClass().getMethod("withAllowComplexParsing", boolean.class).invoke(parser, true);
                    parser.getClass().getMethod("withSquareBracketQuotation", boolean.class).invoke(parser, false);
                } catch (ReflectiveOperationException e) {
                    throw new IllegalStateException(e);
                }
            };
            return code -> {
                Object statement;
                try {
                    statement = parse.invoke(null, code, options);
                } catch (InvocationTargetException | IllegalAccessException e) {
                    return null;
                }
                Set<String> tables = new HashSet<>();
                try {
                    @SuppressWarnings("unchecked")
                    Set<String> found = (Set<String>) getTables.invoke(finderType.getConstructor().newInstance(), statement);
                    found.forEach(name -> tables.add(name.replace("`", "")));
                } catch (ReflectiveOperationException | RuntimeException e) {
                    // its finder fails on some statements: no tables then
                }
                return new Reading(jsqlKind(statement.getClass().getSimpleName()), tables);
            };
        } catch (ReflectiveOperationException e) {
            return null;
        }
    }

    static StatementKind jsqlKind(String type) {
        return switch (type) {
            case "Select", "PlainSelect", "SetOperationList", "Values", "ParenthesedSelect", "TableStatement" -> StatementKind.READ;
            case "Insert", "Update", "Delete", "Upsert", "Merge", "Truncate" -> StatementKind.WRITE;
            case "CreateTable", "CreateIndex", "CreateView", "AlterView", "Alter", "Drop", "CreateSchema", "CreateSequence",
                 "AlterSequence", "CreateFunction", "CreateProcedure", "RenameTableStatement", "CreateSynonym" -> StatementKind.DDL;
            case "Grant" -> StatementKind.DCL;
            case "Commit", "RollbackStatement", "SavepointStatement" -> StatementKind.TRANSACTION;
            case "Execute", "Block" -> StatementKind.PROCEDURAL;
            case "SetStatement", "UseStatement", "ShowStatement", "ShowColumnsStatement", "ShowTablesStatement",
                 "DescribeStatement", "ExplainStatement", "ShowIndexStatement", "AnalyzeStatement", "LockStatement",
                 "UnlockStatement" -> StatementKind.UTILITY;
            default -> null;
        };
    }
}
