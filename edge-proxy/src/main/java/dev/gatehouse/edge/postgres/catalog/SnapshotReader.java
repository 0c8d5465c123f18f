package dev.gatehouse.edge.postgres.catalog;

import dev.gatehouse.edge.postgres.catalog.Snapshot.EventTrigger;
import dev.gatehouse.edge.postgres.catalog.Snapshot.Reference;
import dev.gatehouse.edge.postgres.catalog.Snapshot.Relation;
import dev.gatehouse.edge.postgres.catalog.Snapshot.Routine;
import dev.gatehouse.edge.postgres.catalog.Snapshot.Rule;
import dev.gatehouse.edge.postgres.catalog.Snapshot.Trigger;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The catalog queries of a {@link Snapshot} (one text, one round trip, one read-only repeatable
 * read transaction so that all of them see the same catalog) and the snapshot built from their
 * rows. Names are interned: a schema, relation or column name shared by many rows is held once.
 */
final class SnapshotReader {
    /**
     * Source bytes of user-defined routines read with their definitions, in OID order; routines
     * beyond are kept without a definition (calls of them are uncertain).
     */
    static final long MAX_DEFINITION_BYTES = 16L << 20;

    private static final String NOT_READ = "its definition was not read (the target's routines hold more than "
            + (MAX_DEFINITION_BYTES >> 20) + " MiB of source)";

    private static final String DEPENDS_ON = "FROM pg_catalog.pg_depend d WHERE d.classid = 'pg_catalog.pg_rewrite'::pg_catalog.regclass"
            + " AND d.objid = r.oid AND d.refclassid = ";

    /** No backslashes and no escape strings: read the same whatever {@code standard_conforming_strings} says. */
    static final String SQL = String.join(";\n",
            "BEGIN ISOLATION LEVEL REPEATABLE READ, READ ONLY",
            // the database, and the search_path a session of the connection's role starts with (role and database settings)
            "SELECT pg_catalog.current_database(), pg_catalog.current_setting('search_path')",
            // 1 schemas
            "SELECT n.oid, n.nspname FROM pg_catalog.pg_namespace n WHERE NOT pg_catalog.starts_with(n.nspname, 'pg_toast')",
            // 2 relations
            "SELECT c.oid, c.relnamespace, c.relname, c.relkind FROM pg_catalog.pg_class c"
                    + " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
                    + " WHERE c.relkind <> 't' AND NOT pg_catalog.starts_with(n.nspname, 'pg_toast')",
            // 3 columns
            "SELECT a.attrelid, a.attnum, a.attname FROM pg_catalog.pg_attribute a"
                    + " JOIN pg_catalog.pg_class c ON c.oid = a.attrelid"
                    + " WHERE a.attnum > 0 AND NOT a.attisdropped AND c.relkind IN ('r', 'p', 'v', 'm', 'f')",
            // 4 rules of user relations, with the relations and functions (operators: their functions) they reference
            "SELECT r.ev_class, r.ev_type, r.is_instead, r.ev_qual::pg_catalog.text <> '<>',"
                    + " pg_catalog.array_to_string(ARRAY(SELECT DISTINCT d.refobjid " + DEPENDS_ON
                    + "'pg_catalog.pg_class'::pg_catalog.regclass AND d.refobjid <> r.ev_class), ' '),"
                    + " pg_catalog.array_to_string(ARRAY(SELECT d.refobjid " + DEPENDS_ON + "'pg_catalog.pg_proc'::pg_catalog.regclass"
                    + " UNION SELECT o.oprcode::pg_catalog.oid " + DEPENDS_ON.replace("FROM pg_catalog.pg_depend d",
                    "FROM pg_catalog.pg_depend d JOIN pg_catalog.pg_operator o ON o.oid = d.refobjid")
                    + "'pg_catalog.pg_operator'::pg_catalog.regclass), ' ')"
                    + " FROM pg_catalog.pg_rewrite r WHERE r.ev_class >= " + Snapshot.FIRST_NORMAL_OBJECT_ID
                    + " AND r.ev_enabled <> 'D'",
            // 5 enabled user-made triggers
            "SELECT t.tgrelid, t.tgname, t.tgtype, t.tgfoid FROM pg_catalog.pg_trigger t"
                    + " WHERE NOT t.tgisinternal AND t.tgenabled <> 'D'",
            // 6 foreign keys
            "SELECT c.confrelid, c.conrelid, c.confupdtype, c.confdeltype FROM pg_catalog.pg_constraint c WHERE c.contype = 'f'",
            // 7 inheritance and partitions
            "SELECT i.inhrelid, i.inhparent FROM pg_catalog.pg_inherits i",
            // 8 routines, with the definitions of user-defined ones up to the budget
            "SELECT p.oid, p.pronamespace, p.proname, p.prokind, l.lanname,"
                    + " (SELECT pg_catalog.substr(s, 13) FROM pg_catalog.unnest(p.proconfig) s"
                    + " WHERE pg_catalog.starts_with(s, 'search_path=') LIMIT 1),"
                    + " CASE WHEN b.total <= " + MAX_DEFINITION_BYTES + " THEN pg_catalog.pg_get_functiondef(p.oid) END"
                    + " FROM pg_catalog.pg_proc p JOIN pg_catalog.pg_language l ON l.oid = p.prolang"
                    + " LEFT JOIN (SELECT q.oid, pg_catalog.sum(pg_catalog.octet_length(q.prosrc)) OVER (ORDER BY q.oid) AS total"
                    + " FROM pg_catalog.pg_proc q WHERE q.oid >= " + Snapshot.FIRST_NORMAL_OBJECT_ID + " AND q.prokind <> 'a') b"
                    + " ON b.oid = p.oid",
            // 9 support functions of user-defined aggregates
            "SELECT a.aggfnoid::pg_catalog.oid, pg_catalog.array_to_string(pg_catalog.array_remove(ARRAY[a.aggtransfn,"
                    + " a.aggfinalfn, a.aggcombinefn, a.aggserialfn, a.aggdeserialfn, a.aggmtransfn, a.aggminvtransfn,"
                    + " a.aggmfinalfn]::pg_catalog.oid[], 0::pg_catalog.oid), ' ') FROM pg_catalog.pg_aggregate a"
                    + " WHERE a.aggfnoid::pg_catalog.oid >= " + Snapshot.FIRST_NORMAL_OBJECT_ID,
            // 10 enabled event triggers
            "SELECT e.evtname, e.evtfoid, pg_catalog.array_to_string(e.evttags, pg_catalog.chr(10))"
                    + " FROM pg_catalog.pg_event_trigger e WHERE e.evtenabled <> 'D'",
            "COMMIT");

    private final Map<String, String> interned = new HashMap<>();

    private SnapshotReader() {
    }

    /** The snapshot from the rows of {@link #SQL}'s results, in order. */
    static Snapshot build(List<List<String[]>> results) {
        if (results.size() != 11) {
            throw new IllegalStateException("the catalog query returned " + results.size() + " results, not 11");
        }
        return new SnapshotReader().snapshot(results);
    }

    private Snapshot snapshot(List<List<String[]>> results) {
        String database = results.get(0).getFirst()[0];
        String searchPath = results.get(0).getFirst()[1];
        Map<Integer, String> namespaces = new HashMap<>();
        for (String[] row : results.get(1)) namespaces.put(oid(row[0]), intern(row[1]));
        Set<String> schemas = new HashSet<>();
        for (String name : namespaces.values()) if (!temporary(name)) schemas.add(name);

        Map<Integer, Map<Integer, String>> columns = new HashMap<>();
        for (String[] row : results.get(3)) {
            columns.computeIfAbsent(oid(row[0]), o -> new HashMap<>()).put(Integer.parseInt(row[1]), intern(row[2]));
        }
        Map<Integer, List<Rule>> rules = new HashMap<>();
        for (String[] row : results.get(4)) {
            rules.computeIfAbsent(oid(row[0]), o -> new ArrayList<>(1))
                    .add(new Rule(row[1].charAt(0), bool(row[2]), bool(row[3]), oids(row[4]), oids(row[5])));
        }
        Map<Integer, List<Trigger>> triggers = new HashMap<>();
        for (String[] row : results.get(5)) {
            triggers.computeIfAbsent(oid(row[0]), o -> new ArrayList<>(1))
                    .add(new Trigger(row[1], Integer.parseInt(row[2]), oid(row[3])));
        }
        Map<Integer, List<Reference>> references = new HashMap<>();
        for (String[] row : results.get(6)) {
            references.computeIfAbsent(oid(row[0]), o -> new ArrayList<>(1))
                    .add(new Reference(oid(row[1]), row[2].charAt(0), row[3].charAt(0)));
        }
        Map<Integer, List<Integer>> parents = new HashMap<>();
        Map<Integer, List<Integer>> children = new HashMap<>();
        for (String[] row : results.get(7)) {
            parents.computeIfAbsent(oid(row[0]), o -> new ArrayList<>(1)).add(oid(row[1]));
            children.computeIfAbsent(oid(row[1]), o -> new ArrayList<>()).add(oid(row[0]));
        }

        Map<Integer, Relation> relations = new HashMap<>();
        for (String[] row : results.get(2)) {
            int oid = oid(row[0]);
            String schema = namespaces.get(oid(row[1]));
            if (schema == null) continue;
            relations.put(oid, new Relation(oid, schema, intern(row[2]), row[3].charAt(0), temporary(schema),
                    columns(columns.get(oid)), ints(parents.get(oid)), ints(children.get(oid)),
                    List.copyOf(rules.getOrDefault(oid, List.of())), List.copyOf(triggers.getOrDefault(oid, List.of())),
                    List.copyOf(references.getOrDefault(oid, List.of()))));
        }

        Map<Integer, int[]> support = new HashMap<>();
        for (String[] row : results.get(9)) support.put(oid(row[0]), oids(row[1]));
        Map<Integer, Routine> routines = new HashMap<>();
        for (String[] row : results.get(8)) {
            int oid = oid(row[0]);
            String schema = namespaces.get(oid(row[1]));
            if (schema == null) continue;
            char kind = row[3].charAt(0);
            boolean unread = row[6] == null && kind != 'a' && Integer.compareUnsigned(oid, Snapshot.FIRST_NORMAL_OBJECT_ID) >= 0;
            routines.put(oid, new Routine(oid, schema, intern(row[2]), kind, intern(row[4]),
                    row[5], row[6], unread ? NOT_READ : null, support.getOrDefault(oid, new int[0])));
        }

        List<EventTrigger> eventTriggers = new ArrayList<>();
        for (String[] row : results.get(10)) {
            eventTriggers.add(new EventTrigger(row[0], oid(row[1]), row[2] == null ? null : Set.of(row[2].split("\n"))));
        }
        return new Snapshot(database, searchPath, schemas, relations, routines, eventTriggers);
    }

    private String intern(String s) {
        return interned.computeIfAbsent(s, k -> k);
    }

    private static boolean temporary(String schema) {
        return schema.startsWith("pg_temp_");
    }

    /** An OID (unsigned 32 bits) as the int that holds its bits. */
    private static int oid(String text) {
        return (int) Long.parseLong(text);
    }

    private static boolean bool(String text) {
        return "t".equals(text);
    }

    /** Space-separated OIDs. */
    private static int[] oids(String text) {
        if (text == null || text.isBlank()) return new int[0];
        String[] parts = text.trim().split(" ");
        int[] oids = new int[parts.length];
        for (int i = 0; i < parts.length; i++) oids[i] = oid(parts[i]);
        return oids;
    }

    private static int[] ints(List<Integer> values) {
        if (values == null) return new int[0];
        int[] ints = new int[values.size()];
        for (int i = 0; i < ints.length; i++) ints[i] = values.get(i);
        return ints;
    }

    /** Column names by attribute number (index 0 unused, null where dropped). */
    private static String[] columns(Map<Integer, String> byNumber) {
        if (byNumber == null) return new String[0];
        int max = 0;
        for (int attnum : byNumber.keySet()) max = Math.max(max, attnum);
        String[] columns = new String[max + 1];
        byNumber.forEach((attnum, name) -> columns[attnum] = name);
        return columns;
    }
}
