package dev.gatehouse.edge.postgres.catalog;

import dev.gatehouse.edge.postgres.catalog.Snapshot.Lookup;
import dev.gatehouse.edge.postgres.catalog.Snapshot.Reference;
import dev.gatehouse.edge.postgres.catalog.Snapshot.Relation;
import dev.gatehouse.edge.postgres.catalog.Snapshot.Routine;
import dev.gatehouse.edge.postgres.catalog.Snapshot.Rule;
import dev.gatehouse.edge.postgres.catalog.Snapshot.Trigger;
import dev.gatehouse.platform.core.RoutineAnalysis;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * Resolves one statement through a {@link Snapshot}: the safe superset of what the target may
 * touch when it runs the statement. Not thread-safe: one per statement.
 *
 * <ul>
 *   <li><b>Names</b> become {@code schema.relation} as the catalog spells them
 *       ({@code pg_temp.relation} for temporary ones); see {@link Snapshot#lookupRelation}. A
 *       name found nowhere keeps its most likely name and makes the statement uncertain
 *       ({@value #NOT_IN_CATALOG}), unless the statement creates it.</li>
 *   <li><b>Reads</b> through a view (or a materialized view, whose rows came from its query) read
 *       what its query references (transitively); reading a
 *       partition or inheritance child reads its ancestors' data (they are added).</li>
 *   <li><b>Writes</b> of rows (any statement but DDL and DCL) reach: the relations referenced by
 *       the actions of the relation's enabled non-SELECT rules; what its enabled, user-made
 *       triggers' functions write and read; for a view, what its query references (an
 *       auto-updatable view writes its base relation), unless INSTEAD OF triggers or
 *       unconditional INSTEAD rules handle every event; for a materialized view (REFRESH), its
 *       query's reads; the relations whose foreign keys cascade from it (ON UPDATE/DELETE
 *       CASCADE, SET NULL, SET DEFAULT; for TRUNCATE every referencing one); its partitions and
 *       inheritance children; its ancestors (names only). Transitively, at most
 *       {@value #MAX_DEPTH} levels deep, each relation expanded once per path. The analysis does
 *       not say which relation gets which event (a CTE may insert while the statement deletes),
 *       so every row event (INSERT, UPDATE, DELETE) counts for every written relation; TRUNCATE
 *       fires TRUNCATE triggers only.</li>
 *   <li><b>Functions</b> (see {@link Snapshot#lookupRoutine}): built in ones stay as written; a
 *       user-defined function or procedure runs code, is named {@code schema.function}, and its
 *       body (analysed by {@link SqlAnalyzer#analyzeRoutine}) adds what it touches, resolved
 *       under the routine's own {@code SET search_path} if it has one. The analyser's own
 *       reasons about calls (those starting with {@value #CALLS}) are replaced by these; its
 *       {@code runsCode} too when those were its only reasons, else it is kept.</li>
 *   <li><b>Event triggers</b> run their functions for the DDL commands they fire on.</li>
 * </ul>
 */
final class Resolution {
    /** Views, rules, triggers and routines followed at most this deep. */
    static final int MAX_DEPTH = 10;
    /** The prefix of every reason about a function call, the analyser's and ours. */
    static final String CALLS = "calls ";
    static final String NOT_IN_CATALOG = " is not in the target's catalog";

    private static final int INSERT = 1 << 2;
    private static final int DELETE = 1 << 3;
    private static final int UPDATE = 1 << 4;
    private static final int TRUNCATE = 1 << 5;
    private static final int INSTEAD = 1 << 6;
    private static final int ROWS = INSERT | DELETE | UPDATE;
    /** The events of a routine's visit (routines and relations have OIDs of different catalogs). */
    private static final int RUN = Integer.MIN_VALUE;

    /** Where a relation or routine was expanded, and under which path (a body's names depend on it). */
    private record Visit(int oid, int events, SearchPath path) {
    }

    private final Snapshot snapshot;
    private final SearchPath sessionPath;
    private final SqlAnalyzer analyzer;
    private final Set<String> read = new LinkedHashSet<>();
    private final Set<String> written = new LinkedHashSet<>();
    private final Set<String> functions = new LinkedHashSet<>();
    private final Set<String> settings = new LinkedHashSet<>();
    private final Set<String> reasons = new LinkedHashSet<>();
    private final Set<Visit> visited = new HashSet<>();
    private boolean runsCode;
    /** Whether a routine that runs has an UPDATE or DELETE without WHERE. */
    private boolean missingWhere;
    private boolean missing;

    Resolution(Snapshot snapshot, SearchPath sessionPath, SqlAnalyzer analyzer) {
        this.snapshot = snapshot;
        this.sessionPath = sessionPath;
        this.analyzer = analyzer;
    }

    /** Whether a relation was found nowhere (a fresher snapshot might know it). */
    boolean missing() {
        return missing;
    }

    StatementAnalysis resolve(StatementAnalysis raw) {
        List<String> kept = new ArrayList<>();
        for (String reason : raw.uncertainty()) if (!reason.startsWith(CALLS)) kept.add(reason);
        // runsCode set only for calls (each with its reason) is decided again below
        boolean callsOnly = !raw.uncertainty().isEmpty() && kept.isEmpty();
        boolean rawRunsCode = raw.runsCode() && !callsOnly;
        boolean rawUncertain = raw.uncertain() && (raw.uncertainty().isEmpty() || !kept.isEmpty());
        settings.addAll(raw.settings());

        int events = events(raw);
        boolean creating = creates(String.valueOf(raw.tag()));
        for (String name : raw.tablesWritten()) relation(name, sessionPath, events, creating, 0);
        for (String name : raw.tablesRead()) relation(name, sessionPath, -1, false, 0);
        for (String name : raw.functions()) call(name, sessionPath, 0, true);
        String tag = raw.tag() == null ? "" : raw.tag();
        if (raw.kind() == StatementKind.DDL || raw.kind() == StatementKind.DCL || tag.equals("SELECT INTO")) {
            eventTriggers(tag);
        }

        List<String> uncertainty = new ArrayList<>(kept);
        for (String reason : reasons) if (!uncertainty.contains(reason)) uncertainty.add(reason);
        return new StatementAnalysis(raw.kind(), raw.tag(), raw.objectType(), List.copyOf(read), List.copyOf(written),
                List.copyOf(functions), raw.missingWhere() || missingWhere, rawRunsCode || runsCode, rawUncertain || !reasons.isEmpty(),
                uncertainty, List.copyOf(settings), raw.filterColumns());
    }

    /** The trigger events a statement's writes fire: none for DDL and DCL, TRUNCATE for TRUNCATE, else rows. */
    private static int events(StatementAnalysis raw) {
        if (raw.kind() == StatementKind.DDL || raw.kind() == StatementKind.DCL) return 0;
        if (String.valueOf(raw.tag()).startsWith("TRUNCATE")) return TRUNCATE;
        return ROWS;
    }

    /** Statements that create the relation they write (an unqualified name is made in the creation schema). */
    private static boolean creates(String tag) {
        return switch (tag) {
            case "CREATE TABLE", "CREATE TABLE AS", "SELECT INTO", "CREATE VIEW", "CREATE MATERIALIZED VIEW",
                 "CREATE SEQUENCE", "CREATE FOREIGN TABLE" -> true;
            default -> false;
        };
    }

    /** A relation by name: read ({@code events} -1) or written, firing {@code events}. */
    private void relation(String name, SearchPath path, int events, boolean creating, int depth) {
        Lookup lookup = snapshot.lookupRelation(name, path, creating);
        (events < 0 ? read : written).addAll(lookup.names());
        for (Relation r : lookup.found()) {
            if (events < 0) read(r, path, depth);
            else write(r, path, events, depth);
        }
        if (lookup.missing()) {
            missing = true;
            reasons.add("relation " + name + NOT_IN_CATALOG);
        }
        if (lookup.otherDatabase()) reasons.add("relation " + name + " is in another database than the target's");
    }

    private void read(Relation r, SearchPath path, int depth) {
        read.add(r.canonical());
        ancestors(r, read);
        // a materialized view holds what its query read at the last refresh: its rows are its base
        // relations' values (masking follows them), but reading it runs none of its functions
        if ((r.kind() != 'v' && r.kind() != 'm') || !visit(r.oid(), -1, path, depth)) return;
        for (Rule rule : r.rules()) {
            if (rule.event() != '1') continue;
            for (int oid : rule.relations()) {
                Relation base = snapshot.relation(oid);
                if (base != null) read(base, path, depth + 1);
            }
            if (r.kind() == 'v') routines(rule.routines(), path, depth + 1);
        }
    }

    private void write(Relation r, SearchPath path, int events, int depth) {
        written.add(r.canonical());
        ancestors(r, written);
        if (events == 0 || !visit(r.oid(), events, path, depth)) return;
        if ((events & ROWS) != 0) {
            for (Rule rule : r.rules()) {
                if (rule.event() == '1' || (ruleEvent(rule) & events) == 0) continue;
                runsCode = true;
                for (int oid : rule.relations()) {
                    Relation target = snapshot.relation(oid);
                    if (target != null) write(target, path, ROWS, depth + 1);
                }
                routines(rule.routines(), path, depth + 1);
            }
        }
        for (Trigger trigger : r.triggers()) {
            if ((trigger.type() & events) == 0) continue;
            runsCode = true;
            Routine routine = snapshot.routine(trigger.routine());
            String caller = "trigger " + trigger.name() + " on " + r.canonical() + " runs ";
            if (routine == null) {
                reasons.add(caller + "a function that is not in the target's catalog");
            } else {
                routine(routine, caller + routine.canonical(), path, depth + 1);
            }
        }
        if (r.kind() == 'v' || r.kind() == 'm') {
            boolean throughView = r.kind() == 'v' && !handledInstead(r, events & ROWS);
            for (Rule rule : r.rules()) {
                if (rule.event() != '1') continue;
                for (int oid : rule.relations()) {
                    Relation base = snapshot.relation(oid);
                    if (base == null) continue;
                    if (throughView) write(base, path, events, depth + 1);
                    else if (r.kind() == 'm') read(base, path, depth + 1);
                }
                routines(rule.routines(), path, depth + 1);
            }
        }
        for (Reference reference : r.referencedBy()) {
            boolean cascades = (events & TRUNCATE) != 0
                    || ((events & UPDATE) != 0 && changes(reference.onUpdate()))
                    || ((events & DELETE) != 0 && changes(reference.onDelete()));
            Relation referencing = snapshot.relation(reference.relation());
            if (cascades && referencing != null) {
                write(referencing, path, (events & TRUNCATE) != 0 ? TRUNCATE : UPDATE | DELETE, depth + 1);
            }
        }
        for (int oid : r.children()) {
            Relation child = snapshot.relation(oid);
            if (child != null) write(child, path, events, depth + 1);
        }
    }

    /** Whether every row event in {@code events} is handled by an INSTEAD OF trigger or an unconditional INSTEAD rule. */
    private static boolean handledInstead(Relation view, int events) {
        int handled = 0;
        for (Trigger trigger : view.triggers()) if ((trigger.type() & INSTEAD) != 0) handled |= trigger.type() & ROWS;
        for (Rule rule : view.rules()) if (rule.instead() && !rule.conditional()) handled |= ruleEvent(rule);
        return events != 0 && (events & ~handled) == 0;
    }

    private static int ruleEvent(Rule rule) {
        return switch (rule.event()) {
            case '2' -> UPDATE;
            case '3' -> INSERT;
            case '4' -> DELETE;
            default -> 0;
        };
    }

    /** A referential action that changes the referencing rows: CASCADE, SET NULL, SET DEFAULT. */
    private static boolean changes(char action) {
        return action == 'c' || action == 'n' || action == 'd';
    }

    /** Adds the names of {@code r}'s ancestors (a partition's or child's data is theirs too). */
    private void ancestors(Relation r, Set<String> names) {
        for (int oid : r.parents()) {
            Relation parent = snapshot.relation(oid);
            if (parent != null && names.add(parent.canonical())) ancestors(parent, names);
        }
    }

    /** Whether to expand {@code oid} now: not yet expanded for these events and path, and not too deep. */
    private boolean visit(int oid, int events, SearchPath path, int depth) {
        if (depth > MAX_DEPTH) {
            reasons.add("what the statement reaches through views, rules, triggers and functions is deeper than "
                    + MAX_DEPTH + " levels");
            return false;
        }
        return visited.add(new Visit(oid, events, path));
    }

    /** A call of {@code name} as written: built in, user-defined, or unknown. */
    private void call(String name, SearchPath path, int depth, boolean statement) {
        List<Routine> candidates = snapshot.lookupRoutine(name, path);
        if (candidates.isEmpty()) {
            runsCode = true;
            functions.add(name);
            reasons.add(CALLS + name + ", which" + NOT_IN_CATALOG);
            return;
        }
        for (Routine routine : candidates) {
            if (!routine.builtIn()) {
                routine(routine, CALLS + routine.canonical(), path, depth + 1);
            } else if (statement) {
                functions.add(name);
            }
        }
    }

    /** Routines by OID (from a rule or a view's query): the user-defined ones run. */
    private void routines(int[] oids, SearchPath path, int depth) {
        for (int oid : oids) {
            Routine routine = snapshot.routine(oid);
            if (routine != null && !routine.builtIn()) routine(routine, CALLS + routine.canonical(), path, depth);
        }
    }

    /** A user-defined routine runs: its body's effects are added, or the statement is uncertain. */
    private void routine(Routine routine, String caller, SearchPath path, int depth) {
        runsCode = true;
        functions.add(routine.canonical());
        SearchPath own = routine.searchPath() == null ? path : path.withValue(routine.searchPath());
        if (!visit(routine.oid(), RUN, own, depth)) return;
        if (routine.kind() == 'a') {
            routines(routine.support(), own, depth + 1);
            return;
        }
        RoutineAnalysis body = snapshot.analysis(routine, analyzer);
        if (body.opaque()) {
            reasons.add(caller + ", whose body cannot be analysed: " + body.reason());
            return;
        }
        for (String name : body.tablesWritten()) relation(name, own, ROWS | TRUNCATE, false, depth);
        for (String name : body.tablesRead()) relation(name, own, -1, false, depth);
        for (String name : body.functions()) call(name, own, depth, false);
        settings.addAll(body.settings());
        missingWhere |= body.missingWhere();
    }

    /** Event triggers that fire for {@code tag} run their functions. */
    private void eventTriggers(String tag) {
        for (Snapshot.EventTrigger trigger : snapshot.eventTriggers()) {
            if (trigger.tags() != null && !trigger.tags().contains(tag)) continue;
            runsCode = true;
            Routine routine = snapshot.routine(trigger.routine());
            String caller = "event trigger " + trigger.name() + " runs ";
            if (routine == null) {
                reasons.add(caller + "a function that is not in the target's catalog");
            } else {
                routine(routine, caller + routine.canonical(), sessionPath, 1);
            }
        }
    }
}
