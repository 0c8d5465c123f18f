/**
 * The MySQL / MariaDB SQL analyser ({@link dev.gatehouse.policy.sql.mysql.MySqlAnalyzer}): what a
 * COM_QUERY text does, as the server will run it.
 *
 * <p>Two parts. A lexer of its own ({@link dev.gatehouse.policy.sql.mysql.MySqlLexer}, with
 * {@link dev.gatehouse.policy.sql.mysql.BlockTracker}) follows the server's {@code sql_lex.cc}:
 * where statements end, which executable comments run on this server's version and flavour, how
 * strings and names read under ANSI_QUOTES and NO_BACKSLASH_ESCAPES. It decides everything lexical;
 * the behaviours that matter were checked against a real MariaDB 11.4.5 (MariaDB ignores
 * {@code /*!NNNNN} for MySQL versions 50700..99999; each statement of a multi-statement text is
 * lexed afresh, under the sql_mode and character set current when the server reaches it). Then a
 * parser reads each statement's code for what it touches.
 *
 * <h2>Choice of parser</h2>
 * Measured on {@code src/test/resources/dev/gatehouse/policy/sql/mysql/mysql-corpus.sql} (295
 * statements: queries with joins, subqueries, CTEs and windows; INSERT ... ON DUPLICATE KEY UPDATE,
 * REPLACE, multi-table UPDATE and DELETE, LOAD DATA, INTO OUTFILE / DUMPFILE, LOAD_FILE; DDL for
 * databases, tables, indexes, views, routines, triggers, events, sequences, users and roles; GRANT
 * / REVOKE, SET, USE, SHOW, transactions, XA, PREPARE / EXECUTE, CALL, DO, HANDLER, LOCK TABLES,
 * KILL, FLUSH, MariaDB's RETURNING, sequences and system versioning, executable comments) by
 * {@code MySqlParserCandidatesTest}, each parser given the code the lexer expands:
 * <pre>
 *   parser                 parses          statement type gives the kind   raw table names right (DML)
 *   Alibaba Druid 1.2.27   259/295 (88%)   249/259                         96/97
 *   JSqlParser 5.3         203/295 (69%)   172/203                         95/96
 * </pre>
 * Druid is used ({@code com.alibaba:druid}): it reads MySQL's administrative and procedural
 * statements JSqlParser does not (LOAD DATA / XML, INTO OUTFILE, LOCK IN SHARE MODE, DELETE ...
 * USING, GRANT / REVOKE, users and roles, procedures, triggers and events with their
 * {@code BEGIN ... END} bodies, XA, PREPARE / EXECUTE, EXPLAIN of writes, table maintenance,
 * FLUSH, KILL), and both name the tables of the reads and writes they parse alike. It is actively
 * maintained and has no runtime dependencies. Apache Calcite was not measured: its parsers read
 * queries and DML, none of MySQL's administrative statements. Druid is not trusted further than
 * its parse tree: it is given a canonical spelling of the lexer's tokens
 * ({@link dev.gatehouse.policy.sql.mysql.ParserText}), its tree is walked by reflection rather than
 * by its visitors ({@link dev.gatehouse.policy.sql.mysql.DruidFacts}), a statement that must
 * parse and does not is refused, and a statement that holds a compound statement must parse as
 * exactly one.
 *
 * <p>A cost of the jar: Druid also holds a connection pool, and declares two JDBC drivers in
 * {@code META-INF/services/java.sql.Driver} ({@code jdbc:wrap-jdbc:}, {@code jdbc:mock:});
 * {@code DriverManager} loads them in any JVM with this module on its class path (DruidDriver
 * registers an MBean {@code com.alibaba.druid:type=DruidDriver}). Only the parser
 * ({@code com.alibaba.druid.sql}) is used here.
 */
package dev.gatehouse.policy.sql.mysql;
