package dev.gatehouse.edge.postgres.catalog;

import dev.gatehouse.edge.masking.ColumnName;
import dev.gatehouse.edge.postgres.ResultMasker;
import dev.gatehouse.platform.core.RoutineAnalysis;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.core.StatementAnalysis;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * One target's catalog at one time: its schemas, relations (with their columns, rules, triggers,
 * foreign keys that cascade, inheritance), routines (with the definitions of user-defined ones)
 * and event triggers. Immutable, except for the analyses of routine bodies, which are made once,
 * on first use, and kept. Thread-safe.
 *
 * <p>Names the columns of tables for masking ({@link #name}, {@link #derived}), lists a relation's
 * columns ({@link #columnsOf}), and resolves what a statement touches as the target would
 * ({@link #resolve}).
 */
public final class Snapshot implements ResultMasker.Columns {
    /** PostgreSQL's first OID for objects not created by initdb: below it, everything is built in. */
    static final int FIRST_NORMAL_OBJECT_ID = 16384;

    /**
     * A relation ({@code pg_class}, TOAST tables left out).
     *
     * @param kind         {@code relkind}
     * @param temp         in a temporary schema ({@code pg_temp_N}): named {@code pg_temp.name}
     * @param columns      attribute names by attribute number (index 0 unused), null where
     *                     dropped; empty for relations without columns of their own
     * @param parents      the relations it inherits from, or is a partition of
     * @param children     its inheritance children and partitions
     * @param rules        its rewrite rules, the view's {@code _RETURN} rule included
     * @param triggers     its enabled, user-made triggers
     * @param referencedBy foreign keys of other relations that reference it
     */
    record Relation(int oid, String schema, String name, char kind, boolean temp, String[] columns, int[] parents,
                    int[] children, List<Rule> rules, List<Trigger> triggers, List<Reference> referencedBy) {
        /** As resolved names are reported: {@code schema.relation}, {@code pg_temp.relation} for a temporary one. */
        String canonical() {
            return (temp ? SearchPath.TEMP : schema) + "." + name;
        }
    }

    /**
     * A rewrite rule.
     *
     * @param event       {@code ev_type}: '1' SELECT, '2' UPDATE, '3' INSERT, '4' DELETE
     * @param instead     an INSTEAD rule
     * @param conditional it has a WHERE condition
     * @param relations   the relations its actions (or, for a view, its query) reference
     * @param routines    the functions its actions reference (operators as their functions)
     */
    record Rule(char event, boolean instead, boolean conditional, int[] relations, int[] routines) {
    }

    /** A trigger; {@code type} is {@code tgtype} (see {@link Resolution} for its bits). */
    record Trigger(String name, int type, int routine) {
    }

    /** A foreign key of {@code relation} that references another; actions as {@code confupdtype}, {@code confdeltype}. */
    record Reference(int relation, char onUpdate, char onDelete) {
    }

    /**
     * A function, procedure or aggregate.
     *
     * @param searchPath its own {@code SET search_path}, or null
     * @param definition {@code pg_get_functiondef} of a user-defined routine, or null (built in,
     *                   an aggregate, or not read: then {@code notRead} says why)
     * @param support    an aggregate's support functions
     */
    record Routine(int oid, String schema, String name, char kind, String language, String searchPath,
                   String definition, String notRead, int[] support) {
        boolean builtIn() {
            return Integer.compareUnsigned(oid, FIRST_NORMAL_OBJECT_ID) < 0;
        }

        String canonical() {
            return schema + "." + name;
        }
    }

    /** An enabled event trigger; {@code tags} null when it fires for every command. */
    record EventTrigger(String name, int routine, Set<String> tags) {
    }

    /**
     * What a relation name resolves to: the relations found, and every name to report in search
     * order (those found, and candidates without a relation: the session's possible temporary
     * relation, the most likely name of a missing or created one).
     */
    record Lookup(List<Relation> found, List<String> names, boolean missing, boolean otherDatabase) {
    }

    private final String database;
    private final String searchPath;
    private final Map<Integer, Relation> relations;
    private final Map<String, List<Relation>> relationsByName;
    private final Set<String> schemas;
    private final Map<Integer, Routine> routines;
    private final Map<String, List<Routine>> routinesByName;
    private final List<EventTrigger> eventTriggers;
    private final Map<SqlAnalyzer, Map<Integer, RoutineAnalysis>> analyses = new ConcurrentHashMap<>();
    private final long readNanos = System.nanoTime();

    Snapshot(String database, String searchPath, Set<String> schemas, Map<Integer, Relation> relations,
             Map<Integer, Routine> routines, List<EventTrigger> eventTriggers) {
        this.database = database;
        this.searchPath = searchPath;
        this.schemas = Set.copyOf(schemas);
        this.relations = Map.copyOf(relations);
        this.routines = Map.copyOf(routines);
        this.eventTriggers = List.copyOf(eventTriggers);
        this.relationsByName = byName(relations.values(), Relation::name);
        this.routinesByName = byName(routines.values(), Routine::name);
    }

    private static <T> Map<String, List<T>> byName(Iterable<T> values, java.util.function.Function<T, String> name) {
        Map<String, List<T>> map = new java.util.HashMap<>();
        for (T value : values) map.computeIfAbsent(name.apply(value), n -> new ArrayList<>(1)).add(value);
        map.replaceAll((n, list) -> List.copyOf(list));
        return Map.copyOf(map);
    }

    @Override
    public Optional<ColumnName> name(int tableOid, int attnum) {
        Relation relation = relations.get(tableOid);
        if (relation == null || attnum <= 0 || attnum >= relation.columns().length) return Optional.empty();
        String column = relation.columns()[attnum];
        return column == null ? Optional.empty() : Optional.of(new ColumnName(relation.schema(), relation.name(), column));
    }

    /** Views and materialized views: their columns derive from other relations' columns. */
    @Override
    public boolean derived(int tableOid) {
        Relation relation = relations.get(tableOid);
        return relation != null && (relation.kind() == 'v' || relation.kind() == 'm');
    }

    /**
     * The columns of {@code schema.relation} ({@code pg_temp} for a temporary one), in attribute
     * number order, dropped ones left out; empty if the snapshot does not know the relation.
     */
    public List<String> columnsOf(String schema, String relation) {
        for (Relation r : relationsByName.getOrDefault(relation, List.of())) {
            if (schema.equals(r.temp() ? SearchPath.TEMP : r.schema()) || schema.equals(r.schema())) {
                List<String> columns = new ArrayList<>();
                for (String column : r.columns()) if (column != null) columns.add(column);
                return List.copyOf(columns);
            }
        }
        return List.of();
    }

    /**
     * {@code raw} (as the analyser gave it) with its relations resolved as the target resolves
     * them under {@code path}, the relations that views, rules, triggers and cascading foreign keys
     * reach added, and its function calls decided with the catalog (see {@link Resolution}).
     * Everything else of the statement is kept.
     */
    public StatementAnalysis resolve(StatementAnalysis raw, SearchPath path, SqlAnalyzer analyzer) {
        return new Resolution(this, path, analyzer).resolve(raw);
    }

    /** Relations, routines and event triggers known; for the log. */
    String size() {
        return relations.size() + " relations, " + routines.size() + " routines, " + eventTriggers.size() + " event triggers";
    }

    /** When it was read ({@link System#nanoTime}). */
    /**
     * A catalog with the schemas {@code public} and {@code pg_catalog} and nothing in them: every
     * relation a statement names is unknown (for fuzzing the session without a target).
     */
    public static Snapshot empty(String database, String searchPath) {
        return new Snapshot(database, searchPath, Set.of("public", "pg_catalog"), Map.of(), Map.of(), List.of());
    }

    /**
     * The search_path a session of the connection's role starts with in the target's database (read
     * on the catalog's own connection, which logs in as the sessions do), as the target shows it.
     */
    public String searchPath() {
        return searchPath;
    }

    private final Map<SqlAnalyzer, java.util.concurrent.CompletableFuture<Snapshot>> warming = new ConcurrentHashMap<>();

    /**
     * This snapshot once every user-defined routine's body is analysed by {@code analyzer}, so that
     * resolving statements never waits for the analyser: analysed once, on {@code executor} (never
     * an event loop, never a shared pool that callers may block).
     */
    public java.util.concurrent.CompletableFuture<Snapshot> warmed(SqlAnalyzer analyzer, java.util.concurrent.Executor executor) {
        return warming.computeIfAbsent(analyzer, a -> java.util.concurrent.CompletableFuture.supplyAsync(() -> {
            for (Routine routine : routines.values()) {
                if (routine.definition() != null) analysis(routine, a);
            }
            return this;
        }, executor));
    }

    /** When the snapshot was read ({@link System#nanoTime()}). */
    public long readNanos() {
        return readNanos;
    }

    String database() {
        return database;
    }

    Relation relation(int oid) {
        return relations.get(oid);
    }

    Routine routine(int oid) {
        return routines.get(oid);
    }

    List<EventTrigger> eventTriggers() {
        return eventTriggers;
    }

    /** What {@code routine}'s body does, analysed once per analyser; opaque when its definition was not read. */
    RoutineAnalysis analysis(Routine routine, SqlAnalyzer analyzer) {
        if (routine.definition() == null) return RoutineAnalysis.opaque(routine.notRead());
        return analyses.computeIfAbsent(analyzer, a -> new ConcurrentHashMap<>())
                .computeIfAbsent(routine.oid(), oid -> analyse(routine, analyzer));
    }

    private static RoutineAnalysis analyse(Routine routine, SqlAnalyzer analyzer) {
        try {
            RoutineAnalysis analysis = analyzer.analyzeRoutine(routine.language(), routine.definition());
            return analysis == null ? RoutineAnalysis.opaque("the analyser returned nothing") : analysis;
        } catch (RuntimeException e) {
            return RoutineAnalysis.opaque("the analyser failed (" + e.getClass().getSimpleName() + ")");
        }
    }

    /**
     * The relations {@code written} may name under {@code path}: every reading of the name (see
     * {@link Names}); a qualified name in its schema ({@code pg_temp}: any temporary schema), an
     * unqualified one along the path (see {@link #unqualified}). When none is found the most likely
     * name is reported (an unqualified name in the creation schema) and the lookup is
     * {@code missing}, or {@code otherDatabase} when the name is qualified with another database;
     * neither for a name qualified with {@code pg_temp} (only ever a temporary relation) or in a
     * {@code creating} statement, whose unqualified names also stand for the relation it creates
     * in the creation schema.
     */
    Lookup lookupRelation(String written, SearchPath path, boolean creating) {
        Set<Relation> found = new LinkedHashSet<>();
        Set<String> names = new LinkedHashSet<>();
        List<List<String>> readings = Names.readings(written);
        List<String> natural = readings.isEmpty() ? List.of(written) : readings.getFirst();
        boolean otherDatabase = natural.size() == 3 && !natural.getFirst().equals(database);
        for (List<String> reading : readings) {
            int n = reading.size();
            if (n == 3 && !reading.getFirst().equals(database)) continue;
            String name = reading.getLast();
            if (n == 1) {
                unqualified(name, path, found, reading == natural ? names : new LinkedHashSet<>());
            } else {
                found.addAll(inSchema(reading.get(n - 2), name));
            }
        }
        for (Relation r : found) names.add(r.canonical());
        boolean qualified = natural.size() > 1;
        if (found.isEmpty() || (creating && !qualified)) {
            names.add(qualified ? natural.get(natural.size() - 2) + "." + natural.getLast()
                    : creationName(natural.getFirst(), path));
        }
        // a name qualified with pg_temp can only ever be a temporary relation, never a protected one
        boolean temp = qualified && natural.get(natural.size() - 2).equals(SearchPath.TEMP);
        boolean nowhere = found.isEmpty() && !creating && !temp;
        return new Lookup(List.copyOf(found), List.copyOf(names), nowhere && !otherDatabase, nowhere && otherDatabase);
    }

    private List<Relation> inSchema(String schema, String name) {
        List<Relation> result = new ArrayList<>(1);
        for (Relation r : relationsByName.getOrDefault(name, List.of())) {
            if (schema.equals(SearchPath.TEMP) ? r.temp() : schema.equals(r.schema())) result.add(r);
        }
        return result;
    }

    /**
     * An unqualified relation name along the path: the temporary schema first (unless the path
     * places {@code pg_temp} itself), then {@code pg_catalog} (unless placed), then the path's
     * schemas in order; the first schema that has the name ends the walk. A temporary relation of
     * that name never ends it (it may be another session's): it is one candidate, the next schema's
     * relation another. When the path is not known: every schema's relation of that name.
     */
    private void unqualified(String name, SearchPath path, Set<Relation> found, Set<String> names) {
        List<Relation> temp = inSchema(SearchPath.TEMP, name);
        String tempName = SearchPath.TEMP + "." + name;
        if (!path.resolvable()) {
            found.addAll(temp);
            if (!temp.isEmpty() || path.sessionHasTempTables()) names.add(tempName);
            for (Relation r : relationsByName.getOrDefault(name, List.of())) {
                if (!r.temp() && found.add(r)) names.add(r.canonical());
            }
            return;
        }
        for (String schema : searchOrder(path, true)) {
            if (schema.equals(SearchPath.TEMP)) {
                found.addAll(temp);
                if (!temp.isEmpty() || path.sessionHasTempTables()) names.add(tempName);
                continue;
            }
            List<Relation> here = inSchema(schema, name);
            if (!here.isEmpty()) {
                found.addAll(here);
                for (Relation r : here) names.add(r.canonical());
                return;
            }
        }
    }

    /** The schemas searched, in order: implicit {@code pg_temp} (relations only) and {@code pg_catalog} first. */
    private static List<String> searchOrder(SearchPath path, boolean withTemp) {
        List<String> names = path.names();
        List<String> order = new ArrayList<>();
        if (withTemp && !names.contains(SearchPath.TEMP)) order.add(SearchPath.TEMP);
        if (!names.contains(SearchPath.CATALOG)) order.add(SearchPath.CATALOG);
        for (String name : names) if (withTemp || !name.equals(SearchPath.TEMP)) order.add(name);
        return order;
    }

    /**
     * Where an unqualified name is created: the first schema of the path that exists
     * ({@code pg_temp} when the path names it first); the name as written if there is none.
     */
    private String creationName(String name, SearchPath path) {
        List<String> names = new SearchPath(path.schemas(), true, path.role(), false).names();
        for (String schema : names) {
            if (schema.equals(SearchPath.TEMP) || schemas.contains(schema)) return schema + "." + name;
        }
        return name;
    }

    /**
     * The routines a call of {@code written} may run: a qualified name's routines of that name in
     * its schema; an unqualified one's in every schema of the path ({@code pg_catalog} included,
     * the temporary schema never, as PostgreSQL never looks for functions there), since the
     * target picks among them by argument types; every schema's when the path is not known.
     */
    List<Routine> lookupRoutine(String written, SearchPath path) {
        Set<Routine> found = new LinkedHashSet<>();
        for (List<String> reading : Names.readings(written)) {
            int n = reading.size();
            if (n == 3 && !reading.get(0).equals(database)) continue;
            List<Routine> named = routinesByName.getOrDefault(reading.get(n - 1), List.of());
            if (n > 1) {
                String schema = reading.get(n - 2);
                for (Routine r : named) {
                    if (schema.equals(r.schema()) || (schema.equals(SearchPath.TEMP) && r.schema().startsWith("pg_temp_"))) {
                        found.add(r);
                    }
                }
            } else if (!path.resolvable()) {
                for (Routine r : named) if (r.builtIn()) found.add(r);
                for (Routine r : named) if (!r.schema().startsWith("pg_temp_")) found.add(r);
            } else {
                for (String schema : searchOrder(path, false)) {
                    for (Routine r : named) if (schema.equals(r.schema())) found.add(r);
                }
            }
        }
        return List.copyOf(found);
    }
}
