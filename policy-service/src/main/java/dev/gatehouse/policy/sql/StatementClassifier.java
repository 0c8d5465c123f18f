package dev.gatehouse.policy.sql;

import com.fasterxml.jackson.databind.JsonNode;
import dev.gatehouse.platform.core.StatementKind;
import java.util.Locale;
import java.util.Map;

/**
 * Names one top-level statement node: its coarse kind, its PostgreSQL command tag and, for DDL,
 * the type of object it creates, alters or drops. What the statement's tree contains (writes in
 * CTEs, row locks) is added by {@link StatementAnalyzer}.
 */
final class StatementClassifier {

    /** The naming of one statement; {@code known} false for a statement type this class does not name. */
    record Classification(StatementKind kind, String tag, String objectType, boolean known) {
        static Classification of(StatementKind kind, String tag) {
            return new Classification(kind, tag, null, true);
        }

        static Classification ddl(String tag, String objectType) {
            return new Classification(StatementKind.DDL, tag, objectType, true);
        }

        static Classification unknown(String type) {
            return new Classification(StatementKind.UNKNOWN, type, null, false);
        }
    }

    /** ObjectType enum names that do not read as their SQL spelling once "OBJECT_" is removed. */
    private static final Map<String, String> OBJECT_TYPE_NAMES = Map.ofEntries(
            Map.entry("OBJECT_MATVIEW", "MATERIALIZED VIEW"),
            Map.entry("OBJECT_FDW", "FOREIGN DATA WRAPPER"),
            Map.entry("OBJECT_FOREIGN_SERVER", "SERVER"),
            Map.entry("OBJECT_STATISTIC_EXT", "STATISTICS"),
            Map.entry("OBJECT_TSCONFIGURATION", "TEXT SEARCH CONFIGURATION"),
            Map.entry("OBJECT_TSDICTIONARY", "TEXT SEARCH DICTIONARY"),
            Map.entry("OBJECT_TSPARSER", "TEXT SEARCH PARSER"),
            Map.entry("OBJECT_TSTEMPLATE", "TEXT SEARCH TEMPLATE"),
            Map.entry("OBJECT_OPCLASS", "OPERATOR CLASS"),
            Map.entry("OBJECT_OPFAMILY", "OPERATOR FAMILY"),
            Map.entry("OBJECT_TABCONSTRAINT", "CONSTRAINT"),
            Map.entry("OBJECT_DOMCONSTRAINT", "DOMAIN CONSTRAINT"),
            Map.entry("OBJECT_LARGEOBJECT", "LARGE OBJECT"),
            Map.entry("OBJECT_DEFACL", "DEFAULT PRIVILEGES"),
            Map.entry("OBJECT_TYPE_UNDEFINED", "UNKNOWN"));

    /** Session settings that change who the session acts as. */
    private static final java.util.Set<String> ROLE_SETTINGS = java.util.Set.of("role", "session_authorization");

    private StatementClassifier() {
    }

    static String objectTypeName(String enumName) {
        if (enumName == null || enumName.isEmpty()) {
            return "UNKNOWN";
        }
        String mapped = OBJECT_TYPE_NAMES.get(enumName);
        if (mapped != null) {
            return mapped;
        }
        return enumName.replaceFirst("^OBJECT_", "").replace('_', ' ');
    }

    static Classification classify(String type, JsonNode body) {
        return switch (type) {
            // SELECT ... INTO creates a table, as CREATE TABLE AS does.
            case PgNodes.SELECT -> body.has(PgNodes.INTO)
                    ? Classification.ddl("SELECT INTO", "TABLE")
                    : Classification.of(StatementKind.READ, "SELECT");
            // Only in a function's SQL body (RETURN expression); reads what its expression reads.
            case "ReturnStmt" -> Classification.of(StatementKind.READ, "RETURN");
            case PgNodes.INSERT -> Classification.of(StatementKind.WRITE, "INSERT");
            case PgNodes.UPDATE -> Classification.of(StatementKind.WRITE, "UPDATE");
            case PgNodes.DELETE -> Classification.of(StatementKind.WRITE, "DELETE");
            case PgNodes.MERGE -> Classification.of(StatementKind.WRITE, "MERGE");
            case PgNodes.TRUNCATE -> Classification.of(StatementKind.WRITE, "TRUNCATE TABLE");
            case PgNodes.COPY -> Classification.of(
                    body.path(PgNodes.IS_FROM).asBoolean() ? StatementKind.WRITE : StatementKind.UTILITY, "COPY");
            case "RefreshMatViewStmt" -> Classification.of(StatementKind.WRITE, "REFRESH MATERIALIZED VIEW");
            // Analysed as the statement they prepare or declare; the analyzer upgrades to WRITE.
            case "PrepareStmt" -> Classification.of(StatementKind.READ, "PREPARE");
            case "DeclareCursorStmt" -> Classification.of(StatementKind.READ, "DECLARE CURSOR");
            case "ExecuteStmt" -> Classification.of(StatementKind.UNKNOWN, "EXECUTE");

            case "TransactionStmt" -> Classification.of(StatementKind.TRANSACTION, transactionTag(text(body, PgNodes.KIND)));

            case "GrantStmt" -> Classification.of(StatementKind.DCL, body.path("is_grant").asBoolean() ? "GRANT" : "REVOKE");
            case "GrantRoleStmt" -> Classification.of(StatementKind.DCL,
                    body.path("is_grant").asBoolean() ? "GRANT ROLE" : "REVOKE ROLE");
            case "CreateRoleStmt" -> Classification.of(StatementKind.DCL, "CREATE ROLE");
            case "AlterRoleStmt", "AlterRoleSetStmt" -> Classification.of(StatementKind.DCL, "ALTER ROLE");
            case "DropRoleStmt" -> Classification.of(StatementKind.DCL, "DROP ROLE");
            case "AlterDefaultPrivilegesStmt" -> Classification.of(StatementKind.DCL, "ALTER DEFAULT PRIVILEGES");
            // They drop or change the owner of every object a role owns: schema changes.
            case "DropOwnedStmt" -> Classification.ddl("DROP OWNED", "OWNED");
            case "ReassignOwnedStmt" -> Classification.ddl("REASSIGN OWNED", "OWNED");

            case "VariableSetStmt" -> variableSet(body);
            case "VariableShowStmt" -> Classification.of(StatementKind.UTILITY, "SHOW");
            case PgNodes.EXPLAIN -> Classification.of(StatementKind.UTILITY, "EXPLAIN");
            case "VacuumStmt" -> Classification.of(StatementKind.UTILITY,
                    body.path("is_vacuumcmd").asBoolean() ? "VACUUM" : "ANALYZE");
            case "ListenStmt" -> Classification.of(StatementKind.UTILITY, "LISTEN");
            case "UnlistenStmt" -> Classification.of(StatementKind.UTILITY, "UNLISTEN");
            case "NotifyStmt" -> Classification.of(StatementKind.UTILITY, "NOTIFY");
            case "DiscardStmt" -> Classification.of(StatementKind.UTILITY,
                    "DISCARD " + text(body, "target").replaceFirst("^DISCARD_", ""));
            case "CheckPointStmt" -> Classification.of(StatementKind.UTILITY, "CHECKPOINT");
            case "LoadStmt" -> Classification.of(StatementKind.UTILITY, "LOAD");
            case "ClusterStmt" -> Classification.of(StatementKind.UTILITY, "CLUSTER");
            case "ReindexStmt" -> Classification.of(StatementKind.UTILITY, "REINDEX");
            case "LockStmt" -> Classification.of(StatementKind.UTILITY, "LOCK TABLE");
            case "ConstraintsSetStmt" -> Classification.of(StatementKind.UTILITY, "SET CONSTRAINTS");
            case "FetchStmt" -> Classification.of(StatementKind.UTILITY, body.path("ismove").asBoolean() ? "MOVE" : "FETCH");
            case "ClosePortalStmt" -> Classification.of(StatementKind.UTILITY,
                    body.has("portalname") ? "CLOSE CURSOR" : "CLOSE CURSOR ALL");
            case "DeallocateStmt" -> Classification.of(StatementKind.UTILITY,
                    body.has(PgNodes.NAME) ? "DEALLOCATE" : "DEALLOCATE ALL");
            case "AlterSystemStmt" -> Classification.of(StatementKind.UTILITY, "ALTER SYSTEM");

            case "DoStmt" -> Classification.of(StatementKind.PROCEDURAL, "DO");
            case "CallStmt" -> Classification.of(StatementKind.PROCEDURAL, "CALL");

            case "CreatedbStmt" -> Classification.ddl("CREATE DATABASE", "DATABASE");
            case "DropdbStmt" -> Classification.ddl("DROP DATABASE", "DATABASE");
            case "AlterDatabaseStmt", "AlterDatabaseSetStmt", "AlterDatabaseRefreshCollStmt" ->
                    Classification.ddl("ALTER DATABASE", "DATABASE");
            case PgNodes.CREATE_STMT -> Classification.ddl("CREATE TABLE", "TABLE");
            case "CreateForeignTableStmt" -> Classification.ddl("CREATE FOREIGN TABLE", "FOREIGN TABLE");
            case "CreateTableAsStmt" -> createTableAs(body);
            case "AlterTableStmt" -> alter(text(body, PgNodes.OBJTYPE));
            case "AlterTableMoveAllStmt" -> alter(text(body, PgNodes.OBJTYPE));
            case PgNodes.DROP -> drop(text(body, PgNodes.REMOVE_TYPE));
            case "IndexStmt" -> Classification.ddl("CREATE INDEX", "INDEX");
            case "ViewStmt" -> Classification.ddl("CREATE VIEW", "VIEW");
            case "CreateSchemaStmt" -> Classification.ddl("CREATE SCHEMA", "SCHEMA");
            case "CreateExtensionStmt" -> Classification.ddl("CREATE EXTENSION", "EXTENSION");
            case "AlterExtensionStmt", "AlterExtensionContentsStmt" -> Classification.ddl("ALTER EXTENSION", "EXTENSION");
            case "CreateFunctionStmt" -> body.path("is_procedure").asBoolean()
                    ? Classification.ddl("CREATE PROCEDURE", "PROCEDURE")
                    : Classification.ddl("CREATE FUNCTION", "FUNCTION");
            case "AlterFunctionStmt" -> alter(text(body, PgNodes.OBJTYPE));
            case "RenameStmt" -> alter(renamedObjectType(body));
            case "AlterObjectSchemaStmt", "AlterOwnerStmt", "AlterObjectDependsStmt" -> alter(text(body, "objectType"));
            case "CommentStmt" -> Classification.ddl("COMMENT", objectTypeName(text(body, PgNodes.OBJTYPE)));
            case "SecLabelStmt" -> Classification.ddl("SECURITY LABEL", objectTypeName(text(body, PgNodes.OBJTYPE)));
            case "RuleStmt" -> Classification.ddl("CREATE RULE", "RULE");
            case "CreateSeqStmt" -> Classification.ddl("CREATE SEQUENCE", "SEQUENCE");
            case "AlterSeqStmt" -> Classification.ddl("ALTER SEQUENCE", "SEQUENCE");
            case "CreateDomainStmt" -> Classification.ddl("CREATE DOMAIN", "DOMAIN");
            case "AlterDomainStmt" -> Classification.ddl("ALTER DOMAIN", "DOMAIN");
            case "DefineStmt" -> create(text(body, PgNodes.KIND));
            case "CompositeTypeStmt", "CreateEnumStmt", "CreateRangeStmt" -> Classification.ddl("CREATE TYPE", "TYPE");
            case "AlterEnumStmt", "AlterTypeStmt" -> Classification.ddl("ALTER TYPE", "TYPE");
            case "CreateTrigStmt" -> Classification.ddl("CREATE TRIGGER", "TRIGGER");
            case "CreateEventTrigStmt" -> Classification.ddl("CREATE EVENT TRIGGER", "EVENT TRIGGER");
            case "AlterEventTrigStmt" -> Classification.ddl("ALTER EVENT TRIGGER", "EVENT TRIGGER");
            case "CreatePLangStmt" -> Classification.ddl("CREATE LANGUAGE", "LANGUAGE");
            case "CreateConversionStmt" -> Classification.ddl("CREATE CONVERSION", "CONVERSION");
            case "CreateCastStmt" -> Classification.ddl("CREATE CAST", "CAST");
            case "CreateOpClassStmt" -> Classification.ddl("CREATE OPERATOR CLASS", "OPERATOR CLASS");
            case "CreateOpFamilyStmt" -> Classification.ddl("CREATE OPERATOR FAMILY", "OPERATOR FAMILY");
            case "AlterOpFamilyStmt" -> Classification.ddl("ALTER OPERATOR FAMILY", "OPERATOR FAMILY");
            case "AlterOperatorStmt" -> Classification.ddl("ALTER OPERATOR", "OPERATOR");
            case "AlterCollationStmt" -> Classification.ddl("ALTER COLLATION", "COLLATION");
            case "AlterTSDictionaryStmt" -> Classification.ddl("ALTER TEXT SEARCH DICTIONARY", "TEXT SEARCH DICTIONARY");
            case "AlterTSConfigurationStmt" ->
                    Classification.ddl("ALTER TEXT SEARCH CONFIGURATION", "TEXT SEARCH CONFIGURATION");
            case "CreateTableSpaceStmt" -> Classification.ddl("CREATE TABLESPACE", "TABLESPACE");
            case "DropTableSpaceStmt" -> Classification.ddl("DROP TABLESPACE", "TABLESPACE");
            case "AlterTableSpaceOptionsStmt" -> Classification.ddl("ALTER TABLESPACE", "TABLESPACE");
            case "CreateFdwStmt" -> Classification.ddl("CREATE FOREIGN DATA WRAPPER", "FOREIGN DATA WRAPPER");
            case "AlterFdwStmt" -> Classification.ddl("ALTER FOREIGN DATA WRAPPER", "FOREIGN DATA WRAPPER");
            case "CreateForeignServerStmt" -> Classification.ddl("CREATE SERVER", "SERVER");
            case "AlterForeignServerStmt" -> Classification.ddl("ALTER SERVER", "SERVER");
            case "CreateUserMappingStmt" -> Classification.ddl("CREATE USER MAPPING", "USER MAPPING");
            case "AlterUserMappingStmt" -> Classification.ddl("ALTER USER MAPPING", "USER MAPPING");
            case "DropUserMappingStmt" -> Classification.ddl("DROP USER MAPPING", "USER MAPPING");
            case "ImportForeignSchemaStmt" -> Classification.ddl("IMPORT FOREIGN SCHEMA", "FOREIGN TABLE");
            case "CreatePolicyStmt" -> Classification.ddl("CREATE POLICY", "POLICY");
            case "AlterPolicyStmt" -> Classification.ddl("ALTER POLICY", "POLICY");
            case "CreateTransformStmt" -> Classification.ddl("CREATE TRANSFORM", "TRANSFORM");
            case "CreateAmStmt" -> Classification.ddl("CREATE ACCESS METHOD", "ACCESS METHOD");
            case "CreatePublicationStmt" -> Classification.ddl("CREATE PUBLICATION", "PUBLICATION");
            case "AlterPublicationStmt" -> Classification.ddl("ALTER PUBLICATION", "PUBLICATION");
            case "CreateSubscriptionStmt" -> Classification.ddl("CREATE SUBSCRIPTION", "SUBSCRIPTION");
            case "AlterSubscriptionStmt" -> Classification.ddl("ALTER SUBSCRIPTION", "SUBSCRIPTION");
            case "DropSubscriptionStmt" -> Classification.ddl("DROP SUBSCRIPTION", "SUBSCRIPTION");
            case "CreateStatsStmt" -> Classification.ddl("CREATE STATISTICS", "STATISTICS");
            case "AlterStatsStmt" -> Classification.ddl("ALTER STATISTICS", "STATISTICS");
            default -> Classification.unknown(type);
        };
    }

    /**
     * What a statement runs that no analysis can see through, or null: a shell program
     * ({@code COPY ... PROGRAM}), a shared library ({@code LOAD}), an extension's scripts
     * ({@code CREATE EXTENSION}, {@code ALTER EXTENSION ... UPDATE}).
     */
    static String hiddenCode(String type, JsonNode body) {
        return switch (type) {
            case PgNodes.COPY -> body.path(PgNodes.IS_PROGRAM).asBoolean() ? "runs a program (COPY ... PROGRAM)" : null;
            case "LoadStmt" -> "loads a library (LOAD)";
            case "CreateExtensionStmt" -> "runs an extension's scripts (CREATE EXTENSION)";
            case "AlterExtensionStmt" -> "runs an extension's update scripts (ALTER EXTENSION ... UPDATE)";
            default -> null;
        };
    }

    private static Classification createTableAs(JsonNode body) {
        if (body.path("is_select_into").asBoolean()) {
            return Classification.ddl("SELECT INTO", "TABLE");
        }
        if ("OBJECT_MATVIEW".equals(text(body, PgNodes.OBJTYPE))) {
            return Classification.ddl("CREATE MATERIALIZED VIEW", "MATERIALIZED VIEW");
        }
        return Classification.ddl("CREATE TABLE AS", "TABLE");
    }

    private static Classification variableSet(JsonNode body) {
        boolean reset = text(body, PgNodes.KIND).startsWith("VAR_RESET");
        String tag = reset ? "RESET" : "SET";
        String name = text(body, PgNodes.NAME).toLowerCase(Locale.ROOT);
        return Classification.of(ROLE_SETTINGS.contains(name) ? StatementKind.DCL : StatementKind.UTILITY, tag);
    }

    private static String renamedObjectType(JsonNode body) {
        String renamed = text(body, "renameType");
        return switch (renamed) {
            case "OBJECT_COLUMN", "OBJECT_ATTRIBUTE", "OBJECT_TABCONSTRAINT", "OBJECT_TRIGGER", "OBJECT_RULE",
                 "OBJECT_POLICY" -> {
                String relationType = text(body, "relationType");
                yield relationType.isEmpty() || renamed.equals("OBJECT_TRIGGER") || renamed.equals("OBJECT_RULE")
                        || renamed.equals("OBJECT_POLICY") ? renamed : relationType;
            }
            case "OBJECT_DOMCONSTRAINT" -> "OBJECT_DOMAIN";
            default -> renamed;
        };
    }

    private static Classification alter(String objectTypeEnum) {
        String name = objectTypeName(objectTypeEnum);
        return Classification.ddl("ALTER " + name, name);
    }

    private static Classification drop(String objectTypeEnum) {
        String name = objectTypeName(objectTypeEnum);
        return Classification.ddl("DROP " + name, name);
    }

    private static Classification create(String objectTypeEnum) {
        String name = objectTypeName(objectTypeEnum);
        return Classification.ddl("CREATE " + name, name);
    }

    private static String transactionTag(String kind) {
        return switch (kind) {
            case "TRANS_STMT_BEGIN" -> "BEGIN";
            case "TRANS_STMT_START" -> "START TRANSACTION";
            case "TRANS_STMT_COMMIT" -> "COMMIT";
            case "TRANS_STMT_ROLLBACK", "TRANS_STMT_ROLLBACK_TO" -> "ROLLBACK";
            case "TRANS_STMT_SAVEPOINT" -> "SAVEPOINT";
            case "TRANS_STMT_RELEASE" -> "RELEASE";
            case "TRANS_STMT_PREPARE" -> "PREPARE TRANSACTION";
            case "TRANS_STMT_COMMIT_PREPARED" -> "COMMIT PREPARED";
            case "TRANS_STMT_ROLLBACK_PREPARED" -> "ROLLBACK PREPARED";
            default -> "TRANSACTION";
        };
    }

    private static String text(JsonNode body, String field) {
        return body.path(field).asText("");
    }
}
