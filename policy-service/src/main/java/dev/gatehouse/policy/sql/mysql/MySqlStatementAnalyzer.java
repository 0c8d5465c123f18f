package dev.gatehouse.policy.sql.mysql;

import com.alibaba.druid.sql.ast.SQLStatement;
import com.alibaba.druid.sql.ast.statement.SQLCreateTableStatement;
import dev.gatehouse.platform.core.SessionEffect;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import dev.gatehouse.policy.sql.mysql.MySqlLexer.Token;
import dev.gatehouse.policy.sql.mysql.MySqlLexer.Type;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * What one MySQL / MariaDB statement does, from its tokens ({@link MySqlLexer}) and, where the
 * facts depend on its structure, Druid's parse of it ({@link DruidFacts}).
 *
 * <p>The statement's command (kind, tag, object type) is read from its leading keywords, as the
 * server's grammar dispatches on them; Druid parses what touches tables or calls functions: queries,
 * INSERT / REPLACE / UPDATE / DELETE, LOAD DATA, CREATE / ALTER TABLE, CREATE INDEX, views,
 * triggers, CALL, DO, the values of SET, and every statement that holds a compound statement
 * (which Druid must read as exactly one statement: a check on where the lexer ended it). Statements
 * whose grammar is a keyword and a list of names (DROP TABLE, RENAME TABLE, TRUNCATE, LOCK TABLES,
 * GRANT, SHOW, USE, transaction control, ...) are read from their tokens; in their expressions
 * (SHOW ... WHERE, HANDLER ... WHERE, KILL, SIGNAL ... SET) a name before {@code (} is a call and a
 * subquery is uncertain. When Druid cannot read a
 * statement that needs it, the text is unparseable: nothing is guessed. A few forms Druid does not
 * know are parsed in an equivalent spelling: {@code CREATE OR REPLACE} without {@code OR REPLACE},
 * {@code IF [NOT] EXISTS} left out, {@code RETURNING list} as a {@code SELECT list} of its own,
 * {@code INTO DUMPFILE} as {@code INTO OUTFILE}, {@code TABLE t} as {@code SELECT * FROM t},
 * without {@code NOWAIT} / {@code SKIP LOCKED}.
 *
 * <p>Thread-safe (no state beyond its settings).
 */
final class MySqlStatementAnalyzer {

    /** Deepest nesting of statements in statements (EXPLAIN, SET STATEMENT, PREPARE, EXECUTE IMMEDIATE). */
    static final int MAX_DEPTH = 4;

    static final String OUTFILE = "writes a file on the server (SELECT ... INTO OUTFILE)";
    static final String DUMPFILE = "writes a file on the server (SELECT ... INTO DUMPFILE)";
    static final String LOAD_FILE = "reads a file on the server (LOAD_FILE)";
    static final String SHARED_LIBRARY = "loads a shared library into the server";
    static final String DYNAMIC_SQL = "dynamic SQL: the statement text is computed at run time";

    /** Words a {@code (} may follow that do not call a function. */
    private static final Set<String> NOT_CALLS = Set.of("IN", "AND", "OR", "NOT", "XOR", "WHERE", "ON", "USING",
            "VALUES", "VALUE", "AS", "SET", "INTO", "FROM", "SELECT", "BY", "LIKE", "EXISTS", "ALL", "ANY", "SOME",
            "KEY", "INDEX", "TABLE", "TABLES", "WHEN", "THEN", "ELSE", "CASE", "READ", "WRITE", "FOR", "WITH",
            "LIMIT", "RETURNS", "TO", "IS", "BETWEEN", "DIV", "MOD", "REGEXP", "RLIKE", "INTERVAL", "ROW", "OPTIONS",
            "INSERT", "UPDATE", "DELETE", "REFERENCES", "PARTITION", "COLUMNS", "IGNORE_SERVER_IDS");
    /** Settings that choose a file the server writes (its content partly the client's: a way to plant files). */
    private static final Set<String> LOG_FILE_SETTINGS = Set.of("general_log_file", "slow_query_log_file");
    private static final Set<String> SCOPES = Set.of("GLOBAL", "SESSION", "LOCAL", "PERSIST", "PERSIST_ONLY");
    private static final Set<String> EXPLAINABLE = Set.of("SELECT", "WITH", "TABLE", "VALUES", "(", "INSERT",
            "REPLACE", "UPDATE", "DELETE");
    private static final Set<String> CHARSET_SETTINGS = Set.of("character_set_client", "character_set_connection",
            "character_set_results", "collation_connection");
    private static final Set<String> CREATE_OBJECTS = Set.of("DATABASE", "SCHEMA", "TABLE", "INDEX", "VIEW",
            "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "SEQUENCE", "SERVER", "TABLESPACE", "USER", "ROLE",
            "LOGFILE", "PACKAGE", "SYNONYM", "RESOURCE");

    /** One statement's analysis and effect on the session, or why the text cannot be analysed. */
    record Outcome(StatementAnalysis analysis, SessionEffect effect, String error) {
        static Outcome of(StatementAnalysis analysis) {
            return new Outcome(analysis, null, null);
        }

        static Outcome failed(String error) {
            return new Outcome(null, null, error);
        }

        boolean ok() {
            return error == null;
        }
    }

    private final MySqlLexer lexer;
    private final boolean mariaDb;

    MySqlStatementAnalyzer(MySqlLexer lexer, boolean mariaDb) {
        this.lexer = lexer;
        this.mariaDb = mariaDb;
    }

    /** Analyses one statement's tokens; {@code depth} counts the statements it is nested in. */
    Outcome analyse(List<Token> tokens, int depth) {
        if (depth > MAX_DEPTH) {
            return Outcome.failed("statements nested deeper than " + MAX_DEPTH);
        }
        Words w = new Words(tokens);
        Outcome outcome = statement(w, depth);
        List<String> variables = userVariablesAssigned(w);
        if (variables.isEmpty() || !outcome.ok()) {
            return outcome;
        }
        StatementAnalysis a = outcome.analysis();
        List<String> settings = new ArrayList<>(a.settings());
        variables.stream().filter(v -> !settings.contains(v)).forEach(settings::add);
        return new Outcome(new StatementAnalysis(a.kind(), a.tag(), a.objectType(), a.tablesRead(), a.tablesWritten(),
                a.functions(), a.missingWhere(), a.runsCode(), a.uncertain(), a.uncertainty(), settings, a.filterColumns()),
                outcome.effect(), null);
    }

    /**
     * The user variables a statement assigns, as settings named {@code @name} (lower case): with
     * {@code :=} anywhere, {@code SELECT ... INTO @a, @b}, {@code SET @a = ...}. A value assigned to
     * one outlives the statement (a later command reads it), so policies and the masking edge see
     * it as a changed setting.
     */
    static List<String> userVariablesAssigned(Words w) {
        List<String> out = new ArrayList<>();
        for (int i = 0; i + 1 < w.size(); i++) {
            if (!w.isPunct(i, "@") || w.isPunct(i + 1, "@") || (i > 0 && w.isPunct(i - 1, "@"))) {
                continue;
            }
            if (i > 0 && w.token(i - 1).type() != Type.PUNCT && w.token(i - 1).end() == w.token(i).start()) {
                continue; // an account name, user@host
            }
            boolean assigned = w.isPunct(i + 2, ":=") || (w.isWord(0, "SET") && (w.isPunct(i + 2, "=")))
                    || intoList(w, i);
            if (assigned) {
                String name = "@" + w.token(i + 1).text().replace("`", "").replace("'", "").replace("\"", "")
                        .toLowerCase(Locale.ROOT);
                if (!out.contains(name)) {
                    out.add(name);
                }
            }
        }
        return out;
    }

    /** Whether the {@code @} at {@code at} is in the variable list of an {@code INTO}: {@code INTO @a, @b}. */
    private static boolean intoList(Words w, int at) {
        int i = at;
        while (i >= 0) {
            if (w.isWord(i - 1, "INTO")) {
                return true;
            }
            // step back over one earlier item of the list: "@ name ,"
            if (w.isPunct(i - 1, ",") && w.isPunct(i - 3, "@")) {
                i -= 3;
            } else {
                return false;
            }
        }
        return false;
    }

    private Outcome statement(Words w, int depth) {
        String w0 = w.word(0);
        return switch (w0) {
            case "SELECT", "TABLE", "VALUES", "(" -> query(w, "SELECT");
            case "WITH" -> with(w);
            case "INSERT", "REPLACE", "UPDATE", "DELETE" -> write(w, w0);
            case "LOAD" -> load(w);
            case "TRUNCATE" -> names(w, StatementKind.WRITE, "TRUNCATE TABLE", null, w.isWord(1, "TABLE") ? 2 : 1, false);
            case "CREATE" -> create(w);
            case "ALTER" -> alter(w);
            case "DROP" -> drop(w);
            case "RENAME" -> rename(w);
            case "GRANT", "REVOKE" -> privileges(w, w0);
            case "SET" -> set(w, depth);
            case "USE" -> simple(w, StatementKind.UTILITY, "USE");
            case "SHOW" -> simple(w, StatementKind.UTILITY, "SHOW");
            case "EXPLAIN", "DESCRIBE", "DESC" -> explain(w, depth);
            case "ANALYZE" -> w.isWordIn(1, Set.of("TABLE", "TABLES", "NO_WRITE_TO_BINLOG", "LOCAL"))
                    ? maintenance(w, "ANALYZE TABLE") : explain(w, depth);
            case "OPTIMIZE", "CHECK", "REPAIR", "CHECKSUM" -> maintenance(w, w0 + " TABLE");
            case "START" -> w.isWord(1, "TRANSACTION")
                    ? simple(w, StatementKind.TRANSACTION, "START TRANSACTION")
                    : simple(w, StatementKind.UTILITY, "START " + replicationWhat(w));
            case "STOP" -> simple(w, StatementKind.UTILITY, "STOP " + replicationWhat(w));
            case "BEGIN" -> w.isWord(1, "NOT") ? compound(w) : simple(w, StatementKind.TRANSACTION, "BEGIN");
            case "COMMIT", "ROLLBACK", "SAVEPOINT", "XA" -> simple(w, StatementKind.TRANSACTION, w0);
            case "RELEASE" -> simple(w, StatementKind.TRANSACTION, "RELEASE");
            case "LOCK" -> w.isWord(1, "TABLE") || w.isWord(1, "TABLES")
                    ? lockTables(w) : unknown(w);
            case "UNLOCK" -> simple(w, StatementKind.UTILITY, "UNLOCK TABLES");
            case "FLUSH", "KILL", "RESET", "SHUTDOWN", "RESTART", "HELP", "SIGNAL", "RESIGNAL", "BACKUP" ->
                    simple(w, StatementKind.UTILITY, w0);
            case "PURGE" -> simple(w, StatementKind.UTILITY, "PURGE BINARY LOGS");
            case "CACHE" -> simple(w, StatementKind.UTILITY, "CACHE INDEX");
            case "GET" -> simple(w, StatementKind.UTILITY, "GET DIAGNOSTICS");
            case "CHANGE" -> simple(w, StatementKind.UTILITY, w.isWord(1, "MASTER") ? "CHANGE MASTER"
                    : "CHANGE REPLICATION " + w.word(2));
            case "CLONE" -> withReason(simple(w, StatementKind.UTILITY, "CLONE"),
                    "copies a data directory (CLONE)", false);
            case "BINLOG" -> withReason(simple(w, StatementKind.UTILITY, "BINLOG"),
                    "applies binary log events (BINLOG)", true);
            case "INSTALL", "UNINSTALL" -> {
                String tag = w0 + " " + w.word(1);
                Outcome outcome = simple(w, StatementKind.UTILITY, tag);
                yield w0.equals("INSTALL") ? withReason(outcome, SHARED_LIBRARY + " (" + tag + ")", true) : outcome;
            }
            case "IMPORT" -> withReason(simple(w, StatementKind.DDL, "IMPORT TABLE", "TABLE"),
                    "reads files on the server (IMPORT TABLE)", false);
            case "PREPARE" -> prepare(w, depth);
            case "EXECUTE" -> w.isWord(1, "IMMEDIATE") ? executeImmediate(w, depth) : execute(w);
            case "DEALLOCATE" -> deallocate(w, w.isWord(1, "PREPARE") ? 2 : 1);
            case "CALL" -> call(w);
            case "DO" -> doStatement(w);
            case "HANDLER" -> names(w, StatementKind.READ, "HANDLER", null, 1, true);
            case "IF", "CASE", "LOOP", "WHILE", "REPEAT", "FOR" -> compound(w);
            default -> w.isPunct(1, ":") ? compound(w) : unknown(w);
        };
    }

    // ---- queries and writes -------------------------------------------------------------------

    private Outcome with(Words w) {
        int depth = 0;
        for (int i = 1; i < w.size(); i++) {
            if (w.isPunct(i, "(")) {
                depth++;
            } else if (w.isPunct(i, ")")) {
                depth--;
            } else if (depth == 0) {
                String word = w.word(i);
                if (Set.of("UPDATE", "DELETE", "INSERT", "REPLACE").contains(word)) {
                    return write(w, word);
                }
                if (Set.of("SELECT", "TABLE", "VALUES").contains(word)) {
                    break;
                }
            }
        }
        return query(w, "SELECT");
    }

    private Outcome query(Words w, String tag) {
        int into = w.indexOfSequence("INTO", "OUTFILE");
        int dump = w.indexOfSequence("INTO", "DUMPFILE");
        MySqlFacts facts = new MySqlFacts();
        DruidFacts parsed = druid(w.tokens(), true);
        if (parsed == null) {
            return cannotParse(tag);
        }
        add(facts, parsed, false);
        StatementKind kind = parsed.rowLocks ? StatementKind.WRITE : StatementKind.READ;
        if (into >= 0 || dump >= 0) {
            facts.uncertain(into >= 0 ? OUTFILE : DUMPFILE);
            return Outcome.of(facts.analysis(StatementKind.UTILITY, into >= 0 ? "SELECT INTO OUTFILE"
                    : "SELECT INTO DUMPFILE", null));
        }
        return Outcome.of(facts.analysis(kind, tag, null));
    }

    private Outcome write(Words w, String tag) {
        DruidFacts parsed = druid(w.tokens(), true);
        if (parsed == null) {
            return cannotParse(tag);
        }
        MySqlFacts facts = new MySqlFacts();
        add(facts, parsed, true);
        return Outcome.of(facts.analysis(StatementKind.WRITE, tag, null));
    }

    private Outcome load(Words w) {
        if (!w.isWord(1, "DATA") && !w.isWord(1, "XML")) {
            return w.isWord(1, "INDEX") ? simple(w, StatementKind.UTILITY, "LOAD INDEX") : unknown(w);
        }
        String tag = "LOAD " + w.word(1);
        DruidFacts parsed = druid(w.tokens(), true);
        if (parsed == null) {
            return cannotParse(tag);
        }
        MySqlFacts facts = new MySqlFacts();
        add(facts, parsed, true);
        int infile = w.indexOfWord(2, "INFILE");
        boolean local = w.indexOfWord(2, "LOCAL") >= 0 && w.indexOfWord(2, "LOCAL") < infile;
        facts.uncertain(local ? "reads a file from the client (" + tag + " LOCAL INFILE)"
                : "reads a file on the server (" + tag + " INFILE)");
        return Outcome.of(facts.analysis(StatementKind.WRITE, tag, null));
    }

    // ---- DDL ----------------------------------------------------------------------------------

    private Outcome create(Words w) {
        int i = w.objectIndex(1, CREATE_OBJECTS);
        if (i < 0) {
            return unknown(w);
        }
        String object = w.word(i);
        return switch (object) {
            case "DATABASE", "SCHEMA" -> database(w, "CREATE DATABASE", i + 1);
            case "TABLE" -> {
                SQLStatement statement = parseWithRewrites(w.tokens(), true);
                if (statement == null) {
                    yield cannotParse("CREATE TABLE");
                }
                MySqlFacts facts = new MySqlFacts();
                add(facts, DruidFacts.of(statement), false);
                boolean as = statement instanceof SQLCreateTableStatement table && table.getSelect() != null;
                yield Outcome.of(facts.analysis(StatementKind.DDL, as ? "CREATE TABLE AS" : "CREATE TABLE", "TABLE"));
            }
            case "INDEX", "VIEW" -> parsedDdl(w, "CREATE " + object, object);
            case "TRIGGER" -> routine(w, "CREATE TRIGGER", "TRIGGER", true);
            case "PROCEDURE", "FUNCTION", "EVENT", "PACKAGE" -> routine(w, "CREATE " + object, object,
                    !w.containsWord(i, "SONAME"));
            case "SEQUENCE" -> names(w, StatementKind.DDL, "CREATE SEQUENCE", "SEQUENCE", i + 1, false);
            case "USER", "ROLE" -> simple(w, StatementKind.DCL, "CREATE " + object, object);
            case "LOGFILE", "RESOURCE" -> simple(w, StatementKind.DDL, "CREATE " + object + " GROUP", object + " GROUP");
            default -> simple(w, StatementKind.DDL, "CREATE " + object, object);
        };
    }

    private Outcome alter(Words w) {
        int i = w.objectIndex(1, Set.of("TABLE", "DATABASE", "SCHEMA", "VIEW", "PROCEDURE", "FUNCTION", "EVENT",
                "SEQUENCE", "SERVER", "TABLESPACE", "USER", "ROLE", "INSTANCE", "LOGFILE", "RESOURCE"));
        if (i < 0) {
            return unknown(w);
        }
        String object = w.word(i);
        return switch (object) {
            case "TABLE" -> parsedDdl(w, "ALTER TABLE", "TABLE");
            case "VIEW" -> parsedDdl(w, "ALTER VIEW", "VIEW");
            case "DATABASE", "SCHEMA" -> database(w, "ALTER DATABASE", i + 1);
            case "EVENT" -> routine(w, "ALTER EVENT", "EVENT", w.containsWord(i, "DO"));
            case "PROCEDURE", "FUNCTION" -> routine(w, "ALTER " + object, object, false);
            case "SEQUENCE" -> names(w, StatementKind.DDL, "ALTER SEQUENCE", "SEQUENCE", i + 1, false);
            case "USER", "ROLE" -> simple(w, StatementKind.DCL, "ALTER " + object, object);
            case "INSTANCE" -> simple(w, StatementKind.UTILITY, "ALTER INSTANCE");
            case "LOGFILE", "RESOURCE" -> simple(w, StatementKind.DDL, "ALTER " + object + " GROUP", object + " GROUP");
            default -> simple(w, StatementKind.DDL, "ALTER " + object, object);
        };
    }

    private Outcome drop(Words w) {
        int i = w.isWord(1, "TEMPORARY") ? 2 : 1;
        String object = w.word(i);
        return switch (object) {
            case "TABLE", "TABLES" -> names(w, StatementKind.DDL, "DROP TABLE", "TABLE", i + 1, false);
            case "VIEW" -> names(w, StatementKind.DDL, "DROP VIEW", "VIEW", i + 1, false);
            case "DATABASE", "SCHEMA" -> database(w, "DROP DATABASE", i + 1);
            case "SEQUENCE" -> names(w, StatementKind.DDL, "DROP SEQUENCE", "SEQUENCE", i + 1, false);
            case "INDEX" -> {
                int on = w.indexOfWord(i + 1, "ON");
                yield on < 0 ? unknown(w) : names(w, StatementKind.DDL, "DROP INDEX", "INDEX", on + 1, false);
            }
            case "PREPARE" -> deallocate(w, i + 1);
            case "USER", "ROLE" -> simple(w, StatementKind.DCL, "DROP " + object, object);
            case "PROCEDURE", "FUNCTION", "TRIGGER", "EVENT", "SERVER", "TABLESPACE", "PACKAGE", "SYNONYM" ->
                    simple(w, StatementKind.DDL, "DROP " + object, object);
            case "LOGFILE", "RESOURCE" -> simple(w, StatementKind.DDL, "DROP " + object + " GROUP", object + " GROUP");
            default -> unknown(w);
        };
    }

    private Outcome rename(Words w) {
        if (w.isWord(1, "USER")) {
            return simple(w, StatementKind.DCL, "RENAME USER", "USER");
        }
        if (!w.isWord(1, "TABLE") && !w.isWord(1, "TABLES")) {
            return unknown(w);
        }
        MySqlFacts facts = new MySqlFacts();
        int i = w.skipIfExists(2);
        while (i < w.size()) {
            Name from = w.name(i);
            if (from == null || !w.isWord(from.next(), "TO")) {
                return cannotParse("RENAME TABLE");
            }
            Name to = w.name(from.next() + 1);
            if (to == null) {
                return cannotParse("RENAME TABLE");
            }
            facts.tablesWritten.add(from.text());
            facts.tablesWritten.add(to.text());
            i = to.next();
            if (!w.isPunct(i, ",")) {
                break;
            }
            i++;
        }
        return Outcome.of(facts.analysis(StatementKind.DDL, "RENAME TABLE", "TABLE"));
    }

    private Outcome database(Words w, String tag, int from) {
        int i = w.skipIfExists(from);
        MySqlFacts facts = new MySqlFacts();
        Name name = w.name(i);
        if (name != null && !(tag.startsWith("ALTER") && w.isWordIn(i, Set.of("CHARACTER", "CHARSET", "DEFAULT",
                "COLLATE", "ENCRYPTION", "READ", "UPGRADE", "COMMENT")))) {
            facts.tablesWritten.add(name.text());
        }
        return Outcome.of(facts.analysis(StatementKind.DDL, tag, "DATABASE"));
    }

    /** CREATE INDEX, CREATE VIEW, ALTER TABLE, ALTER VIEW: parsed. */
    private Outcome parsedDdl(Words w, String tag, String objectType) {
        DruidFacts parsed = druid(w.tokens(), true);
        if (parsed == null) {
            return cannotParse(tag);
        }
        MySqlFacts facts = new MySqlFacts();
        add(facts, parsed, false);
        return Outcome.of(facts.analysis(StatementKind.DDL, tag, objectType));
    }

    /**
     * CREATE / ALTER of a procedure, function, trigger or event: its body is a definition, not
     * analysed; one holding a compound statement must parse as exactly one statement.
     */
    private Outcome routine(Words w, String tag, String objectType, boolean runsCode) {
        boolean compound = w.containsPunct(0, ";");
        SQLStatement statement = parseWithRewrites(w.tokens(), false);
        if (statement == null && compound) {
            return cannotParse(tag);
        }
        MySqlFacts facts = new MySqlFacts();
        if (statement != null) {
            add(facts, DruidFacts.of(statement), false);
        } else if (tag.equals("CREATE TRIGGER")) {
            int on = w.indexOfWord(2, "ON");
            Name table = on < 0 ? null : w.name(on + 1);
            if (table == null) {
                return cannotParse(tag);
            }
            facts.tablesWritten.add(table.text());
        } else if (w.containsWord(0, "SELECT")) {
            facts.uncertain("a part of this " + tag + " statement is not analysed");
        }
        if (w.containsWord(0, "SONAME")) {
            facts.runsCode = true;
            facts.uncertain(SHARED_LIBRARY + " (CREATE FUNCTION ... SONAME)");
        }
        facts.runsCode |= runsCode;
        return Outcome.of(facts.analysis(StatementKind.DDL, tag, objectType));
    }

    // ---- statements read from their tokens ----------------------------------------------------

    /**
     * A statement whose tables are a list of names from token {@code from} on (DROP TABLE,
     * TRUNCATE, HANDLER, CREATE SEQUENCE, ...): written, or read when {@code read}.
     */
    private Outcome names(Words w, StatementKind kind, String tag, String objectType, int from, boolean read) {
        MySqlFacts facts = new MySqlFacts();
        int i = w.skipIfExists(from);
        while (true) {
            Name name = w.name(i);
            if (name == null) {
                return cannotParse(tag);
            }
            (read ? facts.tablesRead : facts.tablesWritten).add(name.text());
            if (!w.isPunct(name.next(), ",") || tag.equals("HANDLER") || tag.endsWith("SEQUENCE")
                    || tag.equals("DROP INDEX")) {
                break;
            }
            i = name.next() + 1;
        }
        tokenLevelExpressions(w, from, tag, facts);
        return Outcome.of(facts.analysis(kind, tag, objectType));
    }

    /**
     * What the expressions of a statement read from its tokens hold (SHOW ... WHERE, HANDLER ...
     * WHERE, KILL, SIGNAL ... SET, PURGE ... BEFORE): a subquery is not analysed (uncertain), and a
     * name followed by {@code (} is a call.
     */
    private static void tokenLevelExpressions(Words w, int from, String tag, MySqlFacts facts) {
        if (w.containsWord(from, "SELECT")) {
            facts.uncertain("a subquery in this " + tag + " statement is not analysed");
        }
        for (int i = Math.max(from, 1); i + 1 < w.size(); i++) {
            Token t = w.token(i);
            if (!t.isName() || !w.isPunct(i + 1, "(") || t.isWordIn(NOT_CALLS)) {
                continue;
            }
            String name = t.value();
            if (w.isPunct(i - 1, ".") && i >= 2 && w.token(i - 2).isName()) {
                name = w.token(i - 2).value() + "." + name;
            }
            facts.call(name.toLowerCase(Locale.ROOT));
        }
    }

    /** ANALYZE / OPTIMIZE / CHECK / REPAIR / CHECKSUM TABLE list: the tables are read. */
    private Outcome maintenance(Words w, String tag) {
        int i = w.isWordIn(1, Set.of("NO_WRITE_TO_BINLOG", "LOCAL")) ? 2 : 1;
        if (!w.isWord(i, "TABLE") && !w.isWord(i, "TABLES")) {
            return unknown(w);
        }
        return names(w, StatementKind.UTILITY, tag, null, i + 1, true);
    }

    /** LOCK TABLE[S] t [[AS] alias] lock_type, ...: the tables are read. */
    private Outcome lockTables(Words w) {
        MySqlFacts facts = new MySqlFacts();
        int i = 2;
        while (i < w.size()) {
            Name name = w.name(i);
            if (name == null) {
                return cannotParse("LOCK TABLES");
            }
            facts.tablesRead.add(name.text());
            int comma = w.nextTopLevelPunct(name.next(), ",");
            if (comma < 0) {
                break;
            }
            i = comma + 1;
        }
        return Outcome.of(facts.analysis(StatementKind.UTILITY, "LOCK TABLES", null));
    }

    /** GRANT / REVOKE: the object granted on (as written: db.t, db.*, *.*) is written; without ON, roles. */
    private Outcome privileges(Words w, String verb) {
        int on = w.topLevelWord(1, "ON");
        MySqlFacts facts = new MySqlFacts();
        if (on < 0) {
            boolean privileges = w.containsWord(1, "PRIVILEGES") || w.containsWord(1, "OPTION");
            return Outcome.of(facts.analysis(StatementKind.DCL, privileges ? verb : verb + " ROLE", null));
        }
        int i = on + 1;
        if (w.isWordIn(i, Set.of("TABLE", "FUNCTION", "PROCEDURE", "PACKAGE"))) {
            i++;
        }
        if (!w.isWord(1, "PROXY")) {
            StringBuilder object = new StringBuilder();
            while (i < w.size() && !w.isWord(i, "TO") && !w.isWord(i, "FROM")) {
                Token t = w.token(i++);
                object.append(t.type() == Type.IDENT ? t.value() : t.text());
            }
            if (!object.isEmpty()) {
                facts.tablesWritten.add(object.toString());
            }
        }
        return Outcome.of(facts.analysis(StatementKind.DCL, verb, null));
    }

    private Outcome simple(Words w, StatementKind kind, String tag) {
        return simple(w, kind, tag, null);
    }

    /** A statement with nothing to analyse beyond its name (a subquery in it is not analysed). */
    private Outcome simple(Words w, StatementKind kind, String tag, String objectType) {
        MySqlFacts facts = new MySqlFacts();
        tokenLevelExpressions(w, 1, tag, facts);
        return Outcome.of(facts.analysis(kind, tag, objectType));
    }

    private static Outcome withReason(Outcome outcome, String reason, boolean runsCode) {
        StatementAnalysis analysis = outcome.analysis().withUncertainty(reason);
        return new Outcome(runsCode ? analysis.withRunsCode() : analysis, outcome.effect(), null);
    }

    /** What START / STOP starts or stops: SLAVE, REPLICA, ALL SLAVES, GROUP_REPLICATION, ... */
    private static String replicationWhat(Words w) {
        return w.isWord(1, "ALL") ? "ALL " + w.word(2) : w.word(1);
    }

    // ---- SET ----------------------------------------------------------------------------------

    private Outcome set(Words w, int depth) {
        if (w.isWord(1, "STATEMENT")) {
            int forIndex = w.topLevelWord(2, "FOR");
            if (forIndex < 0 || forIndex + 1 >= w.size()) {
                return cannotParse("SET STATEMENT");
            }
            return analyse(w.tokens().subList(forIndex + 1, w.size()), depth + 1);
        }
        if (w.isWord(1, "PASSWORD")) {
            return simple(w, StatementKind.DCL, "SET PASSWORD");
        }
        if (w.isWord(1, "ROLE")) {
            MySqlFacts facts = new MySqlFacts();
            facts.settings.add("role");
            return Outcome.of(facts.analysis(StatementKind.DCL, "SET ROLE", null));
        }
        if (w.isWord(1, "DEFAULT") && w.isWord(2, "ROLE")) {
            return simple(w, StatementKind.DCL, "SET DEFAULT ROLE");
        }
        MySqlFacts facts = new MySqlFacts();
        List<SessionEffect.Setting> changes = new ArrayList<>();
        int items = 0;
        int start = 1;
        while (start < w.size()) {
            int end = w.nextTopLevelPunct(start, ",");
            if (end < 0) {
                end = w.size();
            }
            String problem = setItem(w, start, end, facts, changes);
            if (problem != null) {
                return cannotParse(problem);
            }
            items++;
            start = end + 1;
        }
        StatementAnalysis analysis = facts.analysis(StatementKind.UTILITY, "SET", null);
        return new Outcome(analysis, items == 1 && changes.size() == 1 ? changes.getFirst() : null, null);
    }

    /** One item of a SET list: the setting it changes, and what its value reads and calls. */
    private String setItem(Words w, int from, int to, MySqlFacts facts, List<SessionEffect.Setting> changes) {
        int i = from;
        String scope = null;
        if (w.isWordIn(i, SCOPES) && !w.isPunct(i + 1, "=") && !w.isPunct(i + 1, ":=")) {
            scope = w.word(i++);
        }
        if (w.isWord(i, "TRANSACTION")) {
            boolean isolation = w.containsWord(i, "ISOLATION");
            boolean access = w.indexOfSequence("READ", "ONLY") >= 0 || w.indexOfSequence("READ", "WRITE") >= 0;
            if (isolation) {
                facts.settings.add(scoped(scope, "transaction_isolation"));
            }
            if (access) {
                facts.settings.add(scoped(scope, "transaction_read_only"));
            }
            return null;
        }
        if (w.isWord(i, "NAMES")) {
            facts.settings.add("names");
            CHARSET_SETTINGS.stream().sorted().forEach(facts.settings::add);
            String charset = w.literalOrWord(i + 1);
            if (charset != null) {
                changes.add(new SessionEffect.Setting("names", charset.equalsIgnoreCase("DEFAULT") ? null : charset,
                        false, charset.equalsIgnoreCase("DEFAULT")));
            }
            return null;
        }
        if (w.isWord(i, "CHARSET") || (w.isWord(i, "CHARACTER") && w.isWord(i + 1, "SET"))) {
            CHARSET_SETTINGS.stream().sorted().forEach(facts.settings::add);
            return null;
        }
        String name;
        if (w.isPunct(i, "@") && !w.isPunct(i + 1, "@")) {
            name = null; // a user variable
            i += 2;
        } else {
            if (w.isPunct(i, "@") && w.isPunct(i + 1, "@")) {
                i += 2;
                if (w.isWordIn(i, SCOPES) && w.isPunct(i + 1, ".")) {
                    scope = w.word(i);
                    i += 2;
                }
            }
            Name variable = w.name(i);
            if (variable == null) {
                return "SET";
            }
            name = scoped(scope, variable.text().toLowerCase(Locale.ROOT));
            i = variable.next();
        }
        if (name != null) {
            facts.settings.add(name);
            if (LOG_FILE_SETTINGS.contains(name.substring(name.indexOf('.') + 1))) {
                facts.uncertain("sets where the server writes a log file (" + name + "): writes files on the server");
            }
        }
        if (!w.isPunct(i, "=") && !w.isPunct(i, ":=")) {
            return "SET";
        }
        List<Token> value = w.tokens().subList(i + 1, to);
        String literal = value.size() == 1 ? w.literalOrWord(i + 1) : null;
        if (name != null && literal != null && name.indexOf('.') < 0) {
            boolean reset = value.getFirst().isWord("DEFAULT");
            changes.add(new SessionEffect.Setting(name, reset ? null : literal, false, reset));
        }
        if (value.size() > 1) {
            DruidFacts parsed = expressions(value);
            if (parsed == null) {
                return "SET";
            }
            add(facts, parsed, false);
        }
        return null;
    }

    private static String scoped(String scope, String name) {
        if (scope == null) {
            return name;
        }
        return switch (scope) {
            case "GLOBAL" -> "global." + name;
            case "PERSIST", "PERSIST_ONLY" -> "persist." + name;
            default -> name;
        };
    }

    // ---- statements about statements ----------------------------------------------------------

    /**
     * EXPLAIN / DESCRIBE of a statement: its tables are read (nothing runs); EXPLAIN ANALYZE and
     * MariaDB's ANALYZE run it, so its writes, code and missing WHERE count. DESCRIBE of a table
     * reads it.
     */
    private Outcome explain(Words w, int depth) {
        boolean analyze = w.word(0).equals("ANALYZE");
        int i = 1;
        while (i < w.size()) {
            if (w.isWordIn(i, Set.of("EXTENDED", "PARTITIONS"))) {
                i++;
            } else if (w.isWord(i, "ANALYZE")) {
                analyze = true;
                i++;
            } else if (w.isWord(i, "FORMAT") && w.isPunct(i + 1, "=")) {
                i += 3;
            } else {
                break;
            }
        }
        String tag = w.word(0).equals("ANALYZE") ? "ANALYZE" : "EXPLAIN";
        if (w.isWord(i, "FOR") && w.isWord(i + 1, "CONNECTION")) {
            return simple(w, StatementKind.UTILITY, tag);
        }
        if (!EXPLAINABLE.contains(w.word(i))) {
            if (analyze) {
                return unknown(w);
            }
            return names(w, StatementKind.UTILITY, "DESCRIBE", null, i, true);
        }
        Outcome inner = analyse(w.tokens().subList(i, w.size()), depth + 1);
        if (!inner.ok()) {
            return inner;
        }
        StatementAnalysis s = inner.analysis();
        MySqlFacts facts = new MySqlFacts();
        facts.add(s);
        if (!analyze) {
            facts.tablesRead.addAll(s.tablesWritten());
            facts.tablesWritten.clear();
            facts.missingWhere = false;
            facts.settings.clear();
        }
        StatementKind kind = analyze && s.kind() == StatementKind.WRITE ? StatementKind.WRITE : StatementKind.UTILITY;
        return Outcome.of(facts.analysis(kind, tag, null));
    }

    /** PREPARE name FROM 'text': analysed as the statement it prepares; from a variable or expression, dynamic SQL. */
    private Outcome prepare(Words w, int depth) {
        Name name = w.name(1);
        if (name == null || !w.isWord(name.next(), "FROM")) {
            return cannotParse("PREPARE");
        }
        String statementName = name.text().toLowerCase(Locale.ROOT);
        String text = w.literal(name.next() + 1, w.size());
        if (text == null) {
            MySqlFacts facts = new MySqlFacts();
            facts.runsCode = true;
            facts.uncertain(DYNAMIC_SQL + " (PREPARE from a variable or expression)");
            StatementAnalysis analysis = facts.analysis(StatementKind.UNKNOWN, "PREPARE", null);
            return new Outcome(analysis, new SessionEffect.Prepare(statementName, "", analysis), null);
        }
        Outcome inner = nested(text, depth);
        if (!inner.ok()) {
            return inner;
        }
        StatementAnalysis s = inner.analysis();
        MySqlFacts facts = new MySqlFacts();
        facts.add(s);
        StatementAnalysis analysis = facts.analysis(s.kind(), "PREPARE", null);
        return new Outcome(analysis, new SessionEffect.Prepare(statementName, text, s), null);
    }

    /** EXECUTE IMMEDIATE 'text' runs that statement: analysed as it; of an expression, dynamic SQL. */
    private Outcome executeImmediate(Words w, int depth) {
        int using = w.topLevelWord(2, "USING");
        int end = using < 0 ? w.size() : using;
        String text = w.literal(2, end);
        if (text != null) {
            return nested(text, depth);
        }
        MySqlFacts facts = new MySqlFacts();
        DruidFacts parsed = expressions(w.tokens().subList(2, end));
        if (parsed == null) {
            return cannotParse("EXECUTE IMMEDIATE");
        }
        add(facts, parsed, false);
        facts.runsCode = true;
        facts.uncertain(DYNAMIC_SQL + " (EXECUTE IMMEDIATE of an expression)");
        return Outcome.of(facts.analysis(StatementKind.UNKNOWN, "EXECUTE IMMEDIATE", null));
    }

    /** EXECUTE name [USING @a, ...]: what it runs the edge knows (it tracks PREPARE). */
    private Outcome execute(Words w) {
        Name name = w.name(1);
        if (name == null) {
            return cannotParse("EXECUTE");
        }
        String statementName = name.text().toLowerCase(Locale.ROOT);
        List<String> arguments = new ArrayList<>();
        int i = name.next();
        if (w.isWord(i, "USING")) {
            int start = i + 1;
            while (start < w.size()) {
                int end = w.nextTopLevelPunct(start, ",");
                if (end < 0) {
                    end = w.size();
                }
                arguments.add(w.source(start, end));
                start = end + 1;
            }
        } else if (i < w.size()) {
            return cannotParse("EXECUTE");
        }
        MySqlFacts facts = new MySqlFacts();
        facts.runsCode = true;
        facts.uncertain("executes prepared statement " + statementName + ": resolved by the edge");
        StatementAnalysis argumentsAnalysis = new MySqlFacts().analysis(StatementKind.READ, "SELECT", null);
        return new Outcome(facts.analysis(StatementKind.UNKNOWN, "EXECUTE", null),
                new SessionEffect.Execute(statementName, arguments, argumentsAnalysis), null);
    }

    private Outcome deallocate(Words w, int at) {
        Name name = w.name(at);
        if (name == null || name.next() != w.size()) {
            return cannotParse("DEALLOCATE PREPARE");
        }
        StatementAnalysis analysis = new MySqlFacts().analysis(StatementKind.UTILITY, "DEALLOCATE", null);
        return new Outcome(analysis, new SessionEffect.Deallocate(name.text().toLowerCase(Locale.ROOT)), null);
    }

    /** The one statement of a literal's text (PREPARE, EXECUTE IMMEDIATE), lexed with the same settings. */
    private Outcome nested(String text, int depth) {
        MySqlLexer.Result split = lexer.split(text);
        if (!split.ok()) {
            return Outcome.failed("in the prepared text: " + split.error());
        }
        if (split.statements().size() != 1) {
            return Outcome.failed("the prepared text holds " + split.statements().size() + " statements, not one");
        }
        return analyse(split.statements().getFirst().tokens(), depth + 1);
    }

    // ---- code ---------------------------------------------------------------------------------

    private Outcome call(Words w) {
        DruidFacts parsed = druid(w.tokens(), false);
        if (parsed == null) {
            return cannotParse("CALL");
        }
        MySqlFacts facts = new MySqlFacts();
        add(facts, parsed, false);
        facts.runsCode = true;
        return Outcome.of(facts.analysis(StatementKind.PROCEDURAL, "CALL", null));
    }

    /** DO expr, ...: evaluates them, as a SELECT of them would. */
    private Outcome doStatement(Words w) {
        DruidFacts parsed = expressions(w.tokens().subList(1, w.size()));
        if (parsed == null) {
            return cannotParse("DO");
        }
        MySqlFacts facts = new MySqlFacts();
        add(facts, parsed, false);
        return Outcome.of(facts.analysis(StatementKind.READ, "DO", null));
    }

    /**
     * A compound statement outside a stored program (MariaDB's BEGIN NOT ATOMIC, IF, CASE, LOOP,
     * ...): refused. Its statements are not analysed, and only a parse could confirm where it ends.
     */
    private Outcome compound(Words w) {
        return Outcome.failed("compound statements outside stored programs (" + w.word(0)
                + " ...) are not analysed");
    }

    private Outcome unknown(Words w) {
        String first = w.size() == 0 ? "" : w.token(0).text();
        return Outcome.failed("unknown statement " + (first.length() > 40 ? first.substring(0, 40) : first));
    }

    private static Outcome cannotParse(String tag) {
        return Outcome.failed("the parser cannot read this " + tag + " statement");
    }

    // ---- Druid --------------------------------------------------------------------------------

    /** Adds what Druid found; a missing WHERE only where the statement runs an UPDATE or DELETE. */
    private static void add(MySqlFacts facts, DruidFacts parsed, boolean write) {
        facts.tablesRead.addAll(parsed.read);
        facts.tablesWritten.addAll(parsed.written);
        parsed.calls.forEach(facts::call);
        facts.missingWhere |= write && parsed.missingWhere;
    }

    /** What a statement touches, per Druid (after the rewrites it may need); null when Druid cannot read it. */
    private DruidFacts druid(List<Token> tokens, boolean rewriteIfExists) {
        SQLStatement statement = ParserText.parse(ParserText.of(tokens), mariaDb);
        if (statement != null) {
            return DruidFacts.of(statement);
        }
        Rewritten rewritten = Rewritten.of(tokens, rewriteIfExists);
        if (rewritten == null) {
            return null;
        }
        statement = ParserText.parse(ParserText.of(rewritten.main()), mariaDb);
        if (statement == null) {
            return null;
        }
        DruidFacts facts = DruidFacts.of(statement);
        if (rewritten.returning() != null) {
            DruidFacts returning = expressions(rewritten.returning());
            if (returning == null) {
                return null;
            }
            facts.read.addAll(returning.read);
            facts.calls.addAll(returning.calls);
        }
        return facts;
    }

    private SQLStatement parseWithRewrites(List<Token> tokens, boolean rewriteIfExists) {
        SQLStatement statement = ParserText.parse(ParserText.of(tokens), mariaDb);
        if (statement != null) {
            return statement;
        }
        Rewritten rewritten = Rewritten.of(tokens, rewriteIfExists);
        return rewritten == null || rewritten.returning() != null ? null
                : ParserText.parse(ParserText.of(rewritten.main()), mariaDb);
    }

    /** What evaluating expressions reads and calls: Druid's parse of {@code SELECT <expressions>}. */
    private DruidFacts expressions(List<Token> expressions) {
        if (expressions.isEmpty()) {
            return null;
        }
        SQLStatement statement = ParserText.parse("SELECT " + ParserText.of(expressions), mariaDb);
        return statement == null ? null : DruidFacts.of(statement);
    }

    /**
     * A statement in a spelling Druid reads, with the same tables and calls; {@code returning}
     * the expressions of a RETURNING clause, parsed on their own.
     */
    private record Rewritten(List<Token> main, List<Token> returning) {
        static Rewritten of(List<Token> tokens, boolean rewriteIfExists) {
            Words w = new Words(tokens);
            List<Token> main = new ArrayList<>(tokens);
            List<Token> returning = null;
            boolean changed = false;
            if (w.isWord(0, "CREATE") && w.isWord(1, "OR") && w.isWord(2, "REPLACE")) {
                main.subList(1, 3).clear();
                changed = true;
            }
            if (w.isWord(0, "TABLE")) {
                Token t = main.getFirst();
                main.set(0, new Token(Type.WORD, "SELECT * FROM", "SELECT * FROM", t.start(), t.end(), t.codeStart()));
                changed = true;
            }
            if (w.isWordIn(0, Set.of("INSERT", "REPLACE", "DELETE"))) {
                int at = w.topLevelWord(1, "RETURNING");
                if (at > 0) {
                    returning = List.copyOf(tokens.subList(at + 1, tokens.size()));
                    main = new ArrayList<>(main.subList(0, main.size() - (tokens.size() - at)));
                    changed = true;
                }
            }
            for (int i = main.size() - 1; i >= 0; i--) {
                Token t = main.get(i);
                Token prev = i > 0 ? main.get(i - 1) : null;
                Token next = i + 1 < main.size() ? main.get(i + 1) : null;
                if (t.isWord("DUMPFILE") && prev != null && prev.isWord("INTO")) {
                    main.set(i, new Token(Type.WORD, "OUTFILE", "OUTFILE", t.start(), t.end(), t.codeStart()));
                    changed = true;
                } else if (t.isWord("NOWAIT") || (t.isWord("LOCKED") && prev != null && prev.isWord("SKIP"))) {
                    int from = t.isWord("LOCKED") ? i - 1 : i;
                    main.subList(from, i + 1).clear();
                    i = from;
                    changed = true;
                } else if (rewriteIfExists && t.isWord("IF") && next != null
                        && (next.isWord("EXISTS") || next.isWord("NOT") && i + 2 < main.size() && main.get(i + 2).isWord("EXISTS"))) {
                    int to = next.isWord("EXISTS") ? i + 1 : i + 2;
                    if (to + 1 < main.size() && main.get(to + 1).isPunct("(")) {
                        continue; // IF EXISTS (SELECT ...): not the DDL clause
                    }
                    main.subList(i, to + 1).clear();
                    changed = true;
                }
            }
            return changed ? new Rewritten(main, returning) : null;
        }
    }

    // ---- token helpers ------------------------------------------------------------------------

    /** A name read from tokens ({@code t}, {@code db.t}, quotes removed) and the index after it. */
    record Name(String text, int next) {
    }

    /** Index-based reading of a statement's tokens. */
    static final class Words {
        private final List<Token> tokens;

        Words(List<Token> tokens) {
            this.tokens = tokens;
        }

        List<Token> tokens() {
            return tokens;
        }

        int size() {
            return tokens.size();
        }

        Token token(int i) {
            return tokens.get(i);
        }

        /** A word in upper case, a punctuation character as is, else "". */
        String word(int i) {
            if (i < 0 || i >= tokens.size()) {
                return "";
            }
            Token t = tokens.get(i);
            return t.type() == Type.WORD || t.type() == Type.PUNCT ? t.upper() : "";
        }

        boolean isWord(int i, String word) {
            return i >= 0 && i < tokens.size() && tokens.get(i).isWord(word);
        }

        boolean isWordIn(int i, Set<String> words) {
            return i >= 0 && i < tokens.size() && tokens.get(i).isWordIn(words);
        }

        boolean isPunct(int i, String p) {
            return i >= 0 && i < tokens.size() && tokens.get(i).isPunct(p);
        }

        int indexOfWord(int from, String word) {
            for (int i = Math.max(0, from); i < tokens.size(); i++) {
                if (tokens.get(i).isWord(word)) {
                    return i;
                }
            }
            return -1;
        }

        boolean containsWord(int from, String word) {
            return indexOfWord(from, word) >= 0;
        }

        boolean containsPunct(int from, String p) {
            for (int i = Math.max(0, from); i < tokens.size(); i++) {
                if (tokens.get(i).isPunct(p)) {
                    return true;
                }
            }
            return false;
        }

        int indexOfSequence(String first, String second) {
            for (int i = 0; i + 1 < tokens.size(); i++) {
                if (tokens.get(i).isWord(first) && tokens.get(i + 1).isWord(second)) {
                    return i;
                }
            }
            return -1;
        }

        /** The first {@code word} outside parentheses from {@code from} on, or -1. */
        int topLevelWord(int from, String word) {
            int depth = 0;
            for (int i = from; i < tokens.size(); i++) {
                Token t = tokens.get(i);
                if (t.isPunct("(")) {
                    depth++;
                } else if (t.isPunct(")")) {
                    depth--;
                } else if (depth == 0 && t.isWord(word)) {
                    return i;
                }
            }
            return -1;
        }

        /** The first {@code p} outside parentheses from {@code from} on, or -1. */
        int nextTopLevelPunct(int from, String p) {
            int depth = 0;
            for (int i = from; i < tokens.size(); i++) {
                Token t = tokens.get(i);
                if (t.isPunct("(")) {
                    depth++;
                } else if (t.isPunct(")")) {
                    depth--;
                } else if (depth == 0 && t.isPunct(p)) {
                    return i;
                }
            }
            return -1;
        }

        /** After {@code IF [NOT] EXISTS} at {@code i}, else {@code i}. */
        int skipIfExists(int i) {
            if (isWord(i, "IF") && isWord(i + 1, "EXISTS")) {
                return i + 2;
            }
            if (isWord(i, "IF") && isWord(i + 1, "NOT") && isWord(i + 2, "EXISTS")) {
                return i + 3;
            }
            return i;
        }

        /**
         * The index of the object word of a CREATE / ALTER (TABLE, VIEW, ...), skipping what may
         * come before it ({@code OR REPLACE}, {@code DEFINER = user}, {@code ALGORITHM = x},
         * {@code SQL SECURITY x}, {@code TEMPORARY}, {@code UNIQUE}, ...); -1 when none is found.
         */
        int objectIndex(int from, Set<String> objects) {
            for (int i = from; i < tokens.size() && i < from + 40; i++) {
                if (isWord(i, "DEFINER") && isPunct(i + 1, "=")) {
                    i = skipUser(i + 2) - 1;
                    continue;
                }
                if (isWordIn(i, objects)) {
                    return i;
                }
            }
            return -1;
        }

        /** After a user name ({@code 'u'@'h'}, {@code u@h}, {@code CURRENT_USER[()]}) at {@code i}: its tokens touch. */
        private int skipUser(int i) {
            int j = i + 1;
            while (j < tokens.size() && touching(j - 1, j)) {
                j++;
            }
            return j;
        }

        private boolean touching(int a, int b) {
            Token x = tokens.get(a);
            return x.codeStart() + x.text().length() == tokens.get(b).codeStart();
        }

        /** A name ({@code name} or {@code db.name}, words or quoted identifiers) at {@code i}, or null. */
        Name name(int i) {
            if (i < 0 || i >= tokens.size() || !tokens.get(i).isName()) {
                return null;
            }
            StringBuilder text = new StringBuilder(tokens.get(i).value());
            int j = i + 1;
            while (isPunct(j, ".") && j + 1 < tokens.size() && tokens.get(j + 1).isName()) {
                text.append('.').append(tokens.get(j + 1).value());
                j += 2;
            }
            return new Name(text.toString(), j);
        }

        /**
         * The value of tokens [from, to) when they are only string literals (adjacent ones are
         * concatenated, as the server does), else null.
         */
        String literal(int from, int to) {
            if (from >= to) {
                return null;
            }
            StringBuilder text = new StringBuilder();
            for (int i = from; i < to; i++) {
                Token t = tokens.get(i);
                if (t.type() != Type.STRING) {
                    return null;
                }
                text.append(t.value());
            }
            return text.toString();
        }

        /** A string's value, a number or a word at {@code i} (a setting's literal value), else null. */
        String literalOrWord(int i) {
            if (i < 0 || i >= tokens.size()) {
                return null;
            }
            Token t = tokens.get(i);
            return switch (t.type()) {
                case STRING, IDENT -> t.value();
                case NUMBER, WORD -> t.text();
                case PUNCT -> null;
            };
        }

        /** The source text of tokens [from, to), as written (comments left out). */
        String source(int from, int to) {
            return ParserText.of(tokens.subList(from, to));
        }
    }
}
