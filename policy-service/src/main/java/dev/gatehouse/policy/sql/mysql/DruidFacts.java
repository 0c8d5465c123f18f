package dev.gatehouse.policy.sql.mysql;

import com.alibaba.druid.sql.ast.SQLExpr;
import com.alibaba.druid.sql.ast.SQLObject;
import com.alibaba.druid.sql.ast.SQLOrderBy;
import com.alibaba.druid.sql.ast.SQLStatement;
import com.alibaba.druid.sql.ast.expr.SQLAllColumnExpr;
import com.alibaba.druid.sql.ast.expr.SQLCharExpr;
import com.alibaba.druid.sql.ast.expr.SQLIdentifierExpr;
import com.alibaba.druid.sql.ast.expr.SQLIntegerExpr;
import com.alibaba.druid.sql.ast.expr.SQLMethodInvokeExpr;
import com.alibaba.druid.sql.ast.expr.SQLPropertyExpr;
import com.alibaba.druid.sql.ast.statement.SQLAlterTableRename;
import com.alibaba.druid.sql.ast.statement.SQLAlterTableStatement;
import com.alibaba.druid.sql.ast.statement.SQLAlterViewStatement;
import com.alibaba.druid.sql.ast.statement.SQLCallStatement;
import com.alibaba.druid.sql.ast.statement.SQLCreateFunctionStatement;
import com.alibaba.druid.sql.ast.statement.SQLCreateIndexStatement;
import com.alibaba.druid.sql.ast.statement.SQLCreateProcedureStatement;
import com.alibaba.druid.sql.ast.statement.SQLCreateTableStatement;
import com.alibaba.druid.sql.ast.statement.SQLCreateTriggerStatement;
import com.alibaba.druid.sql.ast.statement.SQLCreateViewStatement;
import com.alibaba.druid.sql.ast.statement.SQLDeleteStatement;
import com.alibaba.druid.sql.ast.statement.SQLExprTableSource;
import com.alibaba.druid.sql.ast.statement.SQLInsertStatement;
import com.alibaba.druid.sql.ast.statement.SQLJoinTableSource;
import com.alibaba.druid.sql.ast.statement.SQLReplaceStatement;
import com.alibaba.druid.sql.ast.statement.SQLSelect;
import com.alibaba.druid.sql.ast.statement.SQLSelectOrderByItem;
import com.alibaba.druid.sql.ast.statement.SQLSelectQueryBlock;
import com.alibaba.druid.sql.ast.statement.SQLTableSource;
import com.alibaba.druid.sql.ast.statement.SQLUpdateSetItem;
import com.alibaba.druid.sql.ast.statement.SQLUpdateStatement;
import com.alibaba.druid.sql.ast.statement.SQLWithSubqueryClause;
import com.alibaba.druid.sql.dialect.mysql.ast.statement.MySqlAlterEventStatement;
import com.alibaba.druid.sql.dialect.mysql.ast.statement.MySqlCreateEventStatement;
import com.alibaba.druid.sql.dialect.mysql.ast.statement.MySqlLoadDataInFileStatement;
import com.alibaba.druid.sql.dialect.mysql.ast.statement.MySqlLoadXmlStatement;
import com.alibaba.druid.sql.dialect.mysql.ast.statement.MySqlRenameTableStatement;
import com.alibaba.druid.sql.dialect.mysql.ast.statement.MySqlSelectQueryBlock;
import java.lang.reflect.Field;
import java.lang.reflect.Modifier;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * What one statement of Druid's parse tree touches: tables read and written, functions called,
 * a missing WHERE, row locks.
 *
 * <p>The tree is walked by reflection over every field that holds a node, not by Druid's
 * visitors: those are written per node type and do not all visit every child (a
 * {@code SELECT ... INTO OUTFILE} target, for one), and a child a visitor skips would be a table
 * the analysis misses. Every table reference ({@link SQLExprTableSource}) anywhere in the tree is
 * read, unless the statement writes it: the target of INSERT / REPLACE / LOAD DATA, the tables a
 * multi-table UPDATE assigns (by the qualifier of its SET columns; all of its tables when a column
 * is unqualified), the targets a multi-table DELETE names (through their aliases), the table a DDL
 * statement creates, alters, renames, indexes, drops or puts a trigger on. An unqualified name of
 * a CTE visible at that point is not a table; {@code DUAL} is not one. Routine, trigger and event
 * bodies are definitions, not run now: not walked (the statement runs code, see
 * {@link MySqlStatementAnalyzer}). Not thread-safe: one per statement.
 */
final class DruidFacts {

    final Set<String> read = new LinkedHashSet<>();
    final Set<String> written = new LinkedHashSet<>();
    /** Functions called, lower case ({@code db.f} when qualified), in order. */
    final Set<String> calls = new LinkedHashSet<>();
    boolean missingWhere;
    boolean rowLocks;

    private final Set<Object> visited = identitySet();
    private final Set<Object> writtenSources = identitySet();
    private final Set<Object> skipped = identitySet();

    private DruidFacts() {
    }

    /** The facts of one statement. */
    static DruidFacts of(SQLStatement statement) {
        DruidFacts facts = new DruidFacts();
        facts.targets(statement);
        facts.walk(statement, Set.of());
        return facts;
    }

    private void targets(SQLStatement statement) {
        switch (statement) {
            case SQLInsertStatement insert -> writtenSources.add(insert.getTableSource());
            case SQLReplaceStatement replace -> writtenSources.add(replace.getTableSource());
            case SQLUpdateStatement update -> {
                updateTargets(update);
                missingWhere = update.getWhere() == null;
            }
            case SQLDeleteStatement delete -> {
                deleteTargets(delete);
                missingWhere = delete.getWhere() == null;
            }
            case MySqlLoadDataInFileStatement load -> writtenName(load.getTableName());
            case MySqlLoadXmlStatement load -> writtenName(load.getTableName());
            case SQLCreateTableStatement create -> writtenSources.add(create.getTableSource());
            case SQLCreateViewStatement view -> writtenSources.add(view.getTableSource());
            case SQLAlterViewStatement view -> writtenSources.add(view.getTableSource());
            case SQLAlterTableStatement alter -> {
                writtenSources.add(alter.getTableSource());
                alter.getItems().forEach(item -> {
                    if (item instanceof SQLAlterTableRename rename) {
                        writtenSources.add(rename.getTo());
                    }
                });
            }
            case MySqlRenameTableStatement rename -> rename.getItems().forEach(item -> {
                writtenName(item.getName());
                writtenName(item.getTo());
            });
            case SQLCreateIndexStatement index -> {
                if (index.getTable() instanceof SQLExprTableSource table) {
                    writtenSources.add(table);
                }
            }
            case SQLCreateTriggerStatement trigger -> {
                writtenSources.add(trigger.getOn());
                skipped.add(trigger.getBody());
            }
            case SQLCreateProcedureStatement procedure -> skipped.add(procedure.getBlock());
            case SQLCreateFunctionStatement function -> skipped.add(function.getBlock());
            case MySqlCreateEventStatement event -> skipped.add(event.getEventBody());
            case MySqlAlterEventStatement event -> skipped.add(event.getEventBody());
            case SQLCallStatement call -> {
                String name = nameOf(call.getProcedureName());
                if (name != null) {
                    calls.add(name.toLowerCase(Locale.ROOT));
                }
            }
            default -> { }
        }
    }

    /** A multi-table UPDATE writes the tables its SET columns are qualified with; all of them when it cannot tell. */
    private void updateTargets(SQLUpdateStatement update) {
        List<SQLExprTableSource> tables = leaves(update.getTableSource());
        if (tables.size() <= 1) {
            writtenSources.addAll(tables);
            return;
        }
        for (SQLUpdateSetItem item : update.getItems()) {
            SQLExprTableSource target = null;
            if (item.getColumn() instanceof SQLPropertyExpr column) {
                target = byQualifier(tables, nameOf(column.getOwner()));
            }
            if (target == null) {
                writtenSources.addAll(tables);
                return;
            }
            writtenSources.add(target);
        }
    }

    /** DELETE t1, t2 FROM ... / DELETE FROM t1 USING ...: the named targets, through their aliases. */
    private void deleteTargets(SQLDeleteStatement delete) {
        SQLTableSource from = delete.getFrom() != null ? delete.getFrom() : delete.getUsing();
        if (from == null) {
            writtenSources.addAll(leaves(delete.getTableSource()));
            return;
        }
        List<SQLExprTableSource> tables = leaves(from);
        for (SQLExprTableSource target : leaves(delete.getTableSource())) {
            skipped.add(target);
            String name = nameOf(target.getExpr());
            if (name == null) {
                continue;
            }
            if (name.endsWith(".*")) {
                name = name.substring(0, name.length() - 2);
            }
            SQLExprTableSource table = byQualifier(tables, name);
            if (table != null) {
                writtenSources.add(table);
            } else {
                written.add(name);
            }
        }
    }

    /** The table a qualifier names: by alias, else by its name (as written, or its last part). */
    private static SQLExprTableSource byQualifier(List<SQLExprTableSource> tables, String qualifier) {
        if (qualifier == null) {
            return null;
        }
        for (SQLExprTableSource table : tables) {
            String alias = unquote(table.getAlias());
            if (alias != null && alias.equalsIgnoreCase(qualifier)) {
                return table;
            }
        }
        for (SQLExprTableSource table : tables) {
            String name = nameOf(table.getExpr());
            if (name != null && (name.equals(qualifier) || name.endsWith("." + qualifier))) {
                return table;
            }
        }
        return null;
    }

    /** The plain tables of a FROM clause (through joins; not subqueries). */
    private static List<SQLExprTableSource> leaves(SQLTableSource source) {
        List<SQLExprTableSource> tables = new ArrayList<>();
        collectLeaves(source, tables);
        return tables;
    }

    private static void collectLeaves(SQLTableSource source, List<SQLExprTableSource> tables) {
        if (source instanceof SQLExprTableSource table) {
            tables.add(table);
        } else if (source instanceof SQLJoinTableSource join) {
            collectLeaves(join.getLeft(), tables);
            collectLeaves(join.getRight(), tables);
        }
    }

    private void writtenName(SQLExpr name) {
        String text = nameOf(name);
        if (text != null) {
            written.add(text);
        }
    }

    private void walk(Object node, Set<String> ctes) {
        switch (node) {
            case null -> { }
            case Collection<?> items -> {
                for (Object item : items) {
                    walk(item, ctes);
                }
            }
            case Map<?, ?> map -> {
                for (Object item : map.values()) {
                    walk(item, ctes);
                }
            }
            case Object[] items -> {
                for (Object item : items) {
                    walk(item, ctes);
                }
            }
            case SQLObject object -> walkNode(object, ctes);
            default -> { }
        }
    }

    private void walkNode(SQLObject node, Set<String> outerCtes) {
        if (!visited.add(node) || skipped.contains(node)) {
            return;
        }
        Set<String> ctes = withCtes(node, outerCtes);
        switch (node) {
            case SQLExprTableSource table -> table(table, ctes);
            case SQLMethodInvokeExpr call -> call(call);
            case SQLSelectQueryBlock block -> {
                if (block.getInto() != null) {
                    skipped.add(block.getInto()); // INTO @var / OUTFILE: not a table
                }
                rowLocks |= block.isForUpdate() || block.isForShare()
                        || (block instanceof MySqlSelectQueryBlock mysql && mysql.isLockInShareMode());
            }
            default -> { }
        }
        for (Field field : FIELDS.get(node.getClass())) {
            try {
                walk(field.get(node), ctes);
            } catch (IllegalAccessException e) {
                throw new IllegalStateException("cannot read " + field, e);
            }
        }
    }

    /** The CTE names visible inside {@code node}: those around it and those its WITH defines. */
    private static Set<String> withCtes(SQLObject node, Set<String> ctes) {
        SQLWithSubqueryClause with = switch (node) {
            case SQLSelect select -> select.getWithSubQuery();
            case SQLUpdateStatement update -> update.getWith();
            case SQLDeleteStatement delete -> delete.getWith();
            case SQLInsertStatement insert -> insert.getWith();
            default -> null;
        };
        if (with == null || with.getEntries().isEmpty()) {
            return ctes;
        }
        Set<String> names = new HashSet<>(ctes);
        with.getEntries().forEach(entry -> names.add(unquote(entry.getAlias())));
        return Set.copyOf(names);
    }

    private void table(SQLExprTableSource table, Set<String> ctes) {
        String name = nameOf(table.getExpr());
        if (name == null) {
            return; // a table function, a variable: their parts are walked
        }
        boolean qualified = name.indexOf('.') >= 0;
        if (writtenSources.contains(table)) {
            written.add(name);
        } else if (!qualified && (ctes.contains(name) || name.equalsIgnoreCase("dual"))) {
            return;
        } else {
            read.add(name);
        }
    }

    private void call(SQLMethodInvokeExpr call) {
        String name = unquote(call.getMethodName());
        if (name == null || isPrefixLength(call)) {
            return;
        }
        if (call.getOwner() != null) {
            String owner = nameOf(call.getOwner());
            if (owner != null) {
                name = owner + "." + name;
            }
        }
        calls.add(name.toLowerCase(Locale.ROOT));
    }

    /**
     * A key part with a prefix length ({@code KEY k (name(10))}), which Druid reads as a call: one
     * integer argument, unqualified, in an index's column list (an ORDER BY item is a real call).
     */
    private static boolean isPrefixLength(SQLMethodInvokeExpr call) {
        return call.getOwner() == null && call.getArguments().size() == 1
                && call.getArguments().getFirst() instanceof SQLIntegerExpr
                && call.getParent() instanceof SQLSelectOrderByItem item
                && !(item.getParent() instanceof SQLOrderBy);
    }

    /** A name as written ({@code t}, {@code db.t}, {@code db.*}), quotes removed; null when the expression is no name. */
    static String nameOf(SQLExpr expr) {
        return switch (expr) {
            case SQLIdentifierExpr identifier -> unquote(identifier.getName());
            case SQLPropertyExpr property -> {
                String owner = property.getOwner() == null ? null : nameOf(property.getOwner());
                String name = unquote(property.getName());
                yield owner == null ? name : owner + "." + name;
            }
            case SQLAllColumnExpr all -> {
                String owner = all.getOwner() == null ? null : nameOf(all.getOwner());
                yield owner == null ? "*" : owner + ".*";
            }
            // Druid takes a string for a name where the server does not (FROM 'x': a syntax error): kept as a name
            case SQLCharExpr string -> string.getText();
            case null, default -> null;
        };
    }

    /** A backtick-quoted name unquoted (the parser keeps the quotes). */
    static String unquote(String name) {
        if (name != null && name.length() >= 2 && name.charAt(0) == '`' && name.charAt(name.length() - 1) == '`') {
            return name.substring(1, name.length() - 1).replace("``", "`");
        }
        return name;
    }

    private static Set<Object> identitySet() {
        return Collections.newSetFromMap(new IdentityHashMap<>());
    }

    /**
     * The fields of a node class that may hold child nodes: every instance field of the class and
     * its superclasses but its parent and what resolution fills in (links to other parts of the tree).
     */
    private static final ClassValue<List<Field>> FIELDS = new ClassValue<>() {
        @Override
        protected List<Field> computeValue(Class<?> type) {
            List<Field> fields = new ArrayList<>();
            for (Class<?> c = type; c != null && c != Object.class; c = c.getSuperclass()) {
                for (Field field : c.getDeclaredFields()) {
                    if (Modifier.isStatic(field.getModifiers()) || field.getType().isPrimitive()
                            || field.getType() == String.class || field.getType().isEnum()
                            || field.getName().equals("parent") || field.getName().startsWith("resolved")
                            || field.getName().equals("schemaObject") || field.getName().equals("attributes")) {
                        continue;
                    }
                    field.setAccessible(true);
                    fields.add(field);
                }
            }
            return List.copyOf(fields);
        }
    };
}
