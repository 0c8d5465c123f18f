package dev.gatehouse.policy.sql;

import java.util.Map;
import java.util.Set;

/**
 * Names from libpg_query 15's JSON parse tree (see {@code pg_query/pg_query.proto}) that the
 * analysis relies on, in one place.
 */
final class PgNodes {

    private PgNodes() {
    }

    // Top level
    static final String STMTS = "stmts";
    static final String STMT = "stmt";

    // Statement and expression node types
    static final String SELECT = "SelectStmt";
    static final String INSERT = "InsertStmt";
    static final String UPDATE = "UpdateStmt";
    static final String DELETE = "DeleteStmt";
    static final String MERGE = "MergeStmt";
    static final String COPY = "CopyStmt";
    static final String TRUNCATE = "TruncateStmt";
    static final String EXPLAIN = "ExplainStmt";
    static final String RANGE_VAR = "RangeVar";
    static final String FUNC_CALL = "FuncCall";
    static final String STRING = "String";
    static final String LIST = "List";
    static final String DEF_ELEM = "DefElem";
    static final String WITH_CLAUSE = "WithClause";
    static final String INTO_CLAUSE = "IntoClause";
    static final String CREATE_STMT = "CreateStmt";
    static final String DROP = "DropStmt";
    static final String GRANT = "GrantStmt";
    static final String COMMON_TABLE_EXPR = "CommonTableExpr";
    static final String COLUMN_REF = "ColumnRef";
    static final String JOIN_EXPR = "JoinExpr";
    static final String A_CONST = "A_Const";
    static final String A_STAR = "A_Star";
    static final String TYPE_CAST = "TypeCast";
    static final String NAMED_ARG_EXPR = "NamedArgExpr";
    static final String VARIABLE_SET = "VariableSetStmt";
    static final String EXECUTE_STMT = "ExecuteStmt";
    static final String PREPARE_STMT = "PrepareStmt";
    static final String DECLARE_CURSOR = "DeclareCursorStmt";
    static final String CREATE_TABLE_AS = "CreateTableAsStmt";
    static final String DO = "DoStmt";
    static final String CALL = "CallStmt";
    static final String FETCH = "FetchStmt";
    static final String RANGE_TABLE_SAMPLE = "RangeTableSample";

    // Fields
    static final String RELNAME = "relname";
    static final String SCHEMANAME = "schemaname";
    static final String CATALOGNAME = "catalogname";
    static final String SVAL = "sval";
    static final String ITEMS = "items";
    static final String FUNCNAME = "funcname";
    static final String WHERE_CLAUSE = "whereClause";
    static final String WITH = "withClause";
    static final String CTES = "ctes";
    static final String CTENAME = "ctename";
    static final String CTEQUERY = "ctequery";
    static final String RECURSIVE = "recursive";
    static final String LOCKING_CLAUSE = "lockingClause";
    static final String INTO = "intoClause";
    static final String IS_FROM = "is_from";
    static final String QUERY = "query";
    static final String OPTIONS = "options";
    static final String DEFNAME = "defname";
    static final String ARG = "arg";
    static final String OBJECTS = "objects";
    static final String REMOVE_TYPE = "removeType";
    static final String OBJTYPE = "objtype";
    static final String KIND = "kind";
    static final String NAME = "name";
    static final String FIELDS = "fields";
    static final String ALIAS = "alias";
    static final String ALIASNAME = "aliasname";
    static final String RELPERSISTENCE = "relpersistence";
    static final String RELATION = "relation";
    static final String FROM_CLAUSE = "fromClause";
    static final String USING_CLAUSE = "usingClause";
    static final String LARG = "larg";
    static final String RARG = "rarg";
    static final String ARGS = "args";
    static final String PARAMS = "params";
    static final String PORTALNAME = "portalname";
    static final String IS_PROGRAM = "is_program";
    static final String IVAL = "ival";
    static final String FVAL = "fval";
    static final String BOOLVAL = "boolval";

    /** ExplainStmt option that makes EXPLAIN execute its statement. */
    static final String EXPLAIN_ANALYZE = "analyze";

    /** {@code RangeVar.relpersistence} of a temporary relation. */
    static final String TEMPORARY = "t";
    /** The schema every session's temporary relations live in, as PostgreSQL names it. */
    static final String PG_TEMP = "pg_temp";
    static final String PG_CATALOG = "pg_catalog";

    /**
     * Fields that hold a message without its type wrapper, and the node type they hold: they are
     * walked as that node (the walker needs to see the WITH clauses and INTO clauses in them).
     */
    static final Map<String, String> UNWRAPPED_FIELDS = Map.of(
            "withClause", WITH_CLAUSE,
            "intoClause", INTO_CLAUSE,
            "into", INTO_CLAUSE,
            "larg", SELECT,
            "rarg", SELECT,
            "base", CREATE_STMT,
            "funccall", FUNC_CALL,
            "setstmt", VARIABLE_SET);

    /**
     * Fields whose expressions filter, join, group or sort rows: the columns they reference (at any
     * depth) are a statement's filter columns. By field name, whatever node owns it: WHERE
     * (statements, partial indexes, FILTER), JOIN ... ON ({@code quals}), MERGE ... ON and WHEN
     * conditions, GROUP BY, HAVING, ORDER BY (queries and aggregates), DISTINCT ON, and window
     * PARTITION BY / ORDER BY. {@code JoinExpr.usingClause} holds names, not expressions, and is
     * read where the join is.
     */
    static final Set<String> FILTER_FIELDS = Set.of(
            "whereClause", "quals", "joinCondition", "condition", "groupClause", "havingClause", "sortClause",
            "distinctClause", "partitionClause", "orderClause", "agg_order", "agg_filter");

    /**
     * Fields that define code run later, not now (a view's query, a rule's actions, a function's
     * SQL body and parameter defaults, policy and trigger conditions, column defaults and checks of
     * a new table, a new domain's checks): nothing in them runs when the statement runs, so their
     * writes count as reads and their function calls are named but not called.
     */
    static final Map<String, Set<String>> DEFINITION_FIELDS = Map.of(
            "ViewStmt", Set.of("query"),
            "RuleStmt", Set.of("actions", "whereClause"),
            "CreateFunctionStmt", Set.of("sql_body", "parameters"),
            "CreatePolicyStmt", Set.of("qual", "with_check"),
            "AlterPolicyStmt", Set.of("qual", "with_check"),
            "CreateTrigStmt", Set.of("whenClause"),
            "CreateDomainStmt", Set.of("constraints"),
            CREATE_STMT, Set.of("tableElts"));

    /**
     * Fields whose relations are written (rows inserted, updated, deleted, or the relation's
     * definition changed), by the node type that owns the field. {@code CopyStmt.relation} is
     * decided by {@code is_from}; {@code DropStmt.objects} and {@code GrantStmt.objects} by the
     * object type.
     */
    static final Map<String, Set<String>> WRITE_FIELDS = Map.ofEntries(
            Map.entry(INSERT, Set.of("relation")),
            Map.entry(UPDATE, Set.of("relation")),
            Map.entry(DELETE, Set.of("relation")),
            Map.entry(MERGE, Set.of("relation")),
            Map.entry(TRUNCATE, Set.of("relations")),
            Map.entry(INTO_CLAUSE, Set.of("rel")),
            Map.entry(CREATE_STMT, Set.of("relation")),
            Map.entry("AlterTableStmt", Set.of("relation")),
            Map.entry("IndexStmt", Set.of("relation")),
            Map.entry("ViewStmt", Set.of("view")),
            Map.entry("CreateSeqStmt", Set.of("sequence")),
            Map.entry("AlterSeqStmt", Set.of("sequence")),
            Map.entry("RenameStmt", Set.of("relation")),
            Map.entry("RefreshMatViewStmt", Set.of("relation")),
            Map.entry("CreateTrigStmt", Set.of("relation")),
            Map.entry("RuleStmt", Set.of("relation")),
            Map.entry("CreatePolicyStmt", Set.of("table")),
            Map.entry("AlterPolicyStmt", Set.of("table")),
            Map.entry("AlterObjectSchemaStmt", Set.of("relation")),
            Map.entry("AlterObjectDependsStmt", Set.of("relation")),
            Map.entry(GRANT, Set.of(OBJECTS)));

    /** DROP object types whose objects are relations (tables, views, sequences, indexes, ...). */
    static final Set<String> RELATION_OBJECT_TYPES = Set.of(
            "OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE", "OBJECT_INDEX");
}
