package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.testsupport.LoggingPostgres;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.Tuple;

import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The session's differential test, shared by the run through the session core
 * ({@code SessionDifferentialTest}, in-memory decisions) and the run end to end through a client
 * socket, an edge, Kafka and the policy service ({@code SessionDifferentialIT} in {@code deploy}):
 * <ul>
 *   <li>the target: the tables and the server-side code the sequences use ({@link #createSchema});</li>
 *   <li>the generator: sequences of protocol messages and settings (simple and extended protocol,
 *       Flush and Sync, Close, Describe, portal suspension, SQL PREPARE and EXECUTE, cursors,
 *       transactions and savepoints, SET, allowed and denied statements, errors), built so that
 *       denied statements hide behind every kind of indirection the protocol offers
 *       ({@link #sequences()});</li>
 *   <li>the oracle: the target's statement log compared with the edge's audit events
 *       ({@link #compare}), and the policy judged on what the target says it ran
 *       ({@link #deniedText}).</li>
 * </ul>
 * The policy both runs use denies writes to {@code secret}, reads of {@code hidden} and DROP, and
 * nothing else the generator produces.
 */
public final class ProtocolSequences {

    private ProtocolSequences() {
    }

    // ---------------------------------------------------------------- the target

    /** Creates what the sequences use, as the target's owning role: tables t, secret, hidden; functions rebind(), reopen(). */
    public static void createSchema(Connection owner) throws SQLException {
        try (Statement s = owner.createStatement()) {
            s.execute("CREATE TABLE t (id int PRIMARY KEY, v text)");
            s.execute("CREATE TABLE secret (id int, s text)");
            s.execute("CREATE TABLE hidden (id int, s text)");
            s.execute("INSERT INTO t SELECT g, 'v' || g FROM generate_series(1, 5) g");
            s.execute("INSERT INTO hidden VALUES (1, 'h')");
            // server-side code that rebinds the session's names behind the edge's back
            s.execute("""
                    CREATE FUNCTION rebind() RETURNS int LANGUAGE plpgsql AS $$
                    BEGIN
                      BEGIN EXECUTE 'DEALLOCATE p1'; EXCEPTION WHEN OTHERS THEN NULL; END;
                      EXECUTE 'PREPARE p1 AS DELETE FROM secret WHERE id = $1';
                      RETURN 1;
                    END $$""");
            s.execute("""
                    CREATE FUNCTION reopen() RETURNS int LANGUAGE plpgsql AS $$
                    DECLARE c refcursor := 'c1';
                    BEGIN
                      BEGIN CLOSE c; EXCEPTION WHEN OTHERS THEN NULL; END;
                      OPEN c FOR SELECT s FROM hidden;
                      RETURN 1;
                    END $$""");
        }
    }

    /** The target's own transaction status of backend {@code pid} ({@code pg_stat_activity}): I, T, E, or ? when idle it is not. */
    public static char targetStatus(Connection observer, int pid) throws SQLException {
        try (PreparedStatement ps = observer.prepareStatement("SELECT state FROM pg_stat_activity WHERE pid = ?")) {
            ps.setInt(1, pid);
            try (ResultSet rs = ps.executeQuery()) {
                if (!rs.next()) return '?';
                return switch (rs.getString(1)) {
                    case "idle" -> 'I';
                    case "idle in transaction" -> 'T';
                    case "idle in transaction (aborted)" -> 'E';
                    default -> '?';
                };
            }
        }
    }

    /** A statement that ends a sequence: once the target logged it, the log holds everything before it. */
    public static String markerQuery(String marker) {
        return "SELECT '" + marker + "'";
    }

    /** The target's log for backend {@code pid} up to the marker statement, once that reached it. */
    public static List<LoggingPostgres.Entry> awaitLogged(LoggingPostgres postgres, int pid, String marker)
            throws InterruptedException {
        for (int i = 0; i < 400; i++) {
            List<LoggingPostgres.Entry> entries = postgres.entries(pid);
            if (!entries.isEmpty() && entries.getLast().sql().contains(marker)) return entries.subList(0, entries.size() - 1);
            Thread.sleep(25);
        }
        throw new AssertionError("the target did not log the marker statement of backend " + pid);
    }

    // ---------------------------------------------------------------- the generator

    /** One unit a client sends: a simple Query, or an extended-protocol batch ending in Sync or Flush. */
    public record Unit(List<FrontendMessage> messages, boolean awaitsReady) {
        @Override
        public String toString() {
            return messages.toString();
        }
    }

    private static final List<String> QUERIES = List.of(
            "SELECT id, v FROM t ORDER BY id",
            "INSERT INTO t VALUES (%d, 'q') ON CONFLICT (id) DO UPDATE SET v = excluded.v",
            "UPDATE t SET v = 'u' WHERE id = %d",
            "DELETE FROM secret WHERE id = %d",
            "INSERT INTO secret VALUES (%d, 'x')",
            "SELECT s FROM hidden",
            "BEGIN", "COMMIT", "ROLLBACK", "SAVEPOINT sp", "ROLLBACK TO SAVEPOINT sp", "RELEASE SAVEPOINT sp",
            "PREPARE p%d AS SELECT v FROM t WHERE id = $1",
            "PREPARE p%d AS DELETE FROM secret WHERE id = $1",
            "PREPARE p%d AS SELECT s FROM hidden WHERE id = $1",
            "EXECUTE p%d(1)", "EXECUTE p%d(2)", "DEALLOCATE p%d", "DEALLOCATE ALL",
            "DECLARE c%d CURSOR FOR SELECT id FROM t",
            "DECLARE c%d CURSOR WITH HOLD FOR SELECT s FROM hidden",
            "DECLARE c%d SCROLL CURSOR FOR SELECT id, v FROM t",
            "FETCH 1 FROM c%d", "FETCH ALL FROM c%d", "MOVE 1 IN c%d", "CLOSE c%d", "CLOSE ALL",
            "SELECT 1; INSERT INTO t VALUES (%d, 'm') ON CONFLICT DO NOTHING",
            "SELECT 1; DELETE FROM secret WHERE id = %d",
            "BEGIN; UPDATE t SET v = 'b' WHERE id = %d; COMMIT",
            "SELECT 1/0", "SELECT * FROM nonexistent",
            "SET search_path = public", "SET standard_conforming_strings = off", "SET client_encoding = 'UTF8'",
            "SELECT rebind()", "SELECT reopen()",
            "DROP TABLE t");

    private static final List<String> PARSE_TEXTS = List.of(
            "SELECT $1::int AS x",
            "SELECT v FROM t WHERE id = $1::int",
            "INSERT INTO t VALUES ($1::int, 'e') ON CONFLICT (id) DO NOTHING",
            "DELETE FROM secret WHERE id = $1::int",
            "SELECT s FROM hidden",
            "SELECT id FROM t",
            "EXECUTE p1(1)", "EXECUTE p2(1)",
            "FETCH 1 FROM c1", "FETCH ALL FROM c2",
            "DECLARE c1 CURSOR FOR SELECT id FROM t",
            "DECLARE c2 CURSOR WITH HOLD FOR SELECT s FROM hidden",
            "BEGIN", "COMMIT", "ROLLBACK",
            "SELECT 1/0");

    private static final List<String> STATEMENT_NAMES = List.of("", "s1", "s2");
    private static final List<String> PORTAL_NAMES = List.of("", "q1", "c1");

    private static Arbitrary<String> query() {
        return Combinators.combine(Arbitraries.of(QUERIES), Arbitraries.integers().between(1, 2))
                .as((text, n) -> text.contains("%d") ? String.format(Locale.ROOT, text, n) : text);
        // p1, p2, c1, c2: few names, so that later statements meet earlier ones
    }

    private static Arbitrary<FrontendMessage> extendedMessage() {
        Arbitrary<FrontendMessage> parse = Combinators.combine(Arbitraries.of(STATEMENT_NAMES), Arbitraries.of(PARSE_TEXTS))
                .as((name, text) -> new FrontendMessage.Parse(name, text, new int[0]));
        Arbitrary<FrontendMessage> bind = Combinators.combine(Arbitraries.of(PORTAL_NAMES), Arbitraries.of(STATEMENT_NAMES),
                        Arbitraries.integers().between(0, 1), Arbitraries.integers().between(1, 3))
                .as((portal, statement, count, value) -> new FrontendMessage.Bind(portal, statement, new short[0],
                        count == 0 ? List.of() : List.of(String.valueOf(value).getBytes(StandardCharsets.UTF_8)), new short[0]));
        Arbitrary<FrontendMessage> execute = Combinators.combine(Arbitraries.of(PORTAL_NAMES), Arbitraries.of(0, 1))
                .as(FrontendMessage.Execute::new);
        Arbitrary<FrontendMessage> describe = Combinators.combine(Arbitraries.of((byte) 'S', (byte) 'P'),
                Arbitraries.of(List.of("", "s1", "q1"))).as(FrontendMessage.Describe::new);
        Arbitrary<FrontendMessage> close = Combinators.combine(Arbitraries.of((byte) 'S', (byte) 'P'),
                Arbitraries.of(List.of("", "s1", "q1", "c1"))).as(FrontendMessage.Close::new);
        return Arbitraries.frequencyOf(
                Tuple.of(4, parse), Tuple.of(4, bind), Tuple.of(4, execute),
                Tuple.of(1, describe), Tuple.of(1, close));
    }

    private static Arbitrary<Unit> unit() {
        Arbitrary<Unit> simple = query().map(q -> new Unit(List.of(new FrontendMessage.Query(q)), true));
        Arbitrary<Unit> batch = Combinators.combine(extendedMessage().list().ofMinSize(0).ofMaxSize(6),
                        Arbitraries.frequency(Tuple.of(3, true), Tuple.of(1, false)))
                .as((messages, sync) -> {
                    List<FrontendMessage> all = new ArrayList<>(messages);
                    all.add(sync ? new FrontendMessage.Sync() : new FrontendMessage.Flush());
                    return new Unit(all, sync);
                });
        return Arbitraries.oneOf(simple, batch);
    }

    private static Unit q(String sql) {
        return new Unit(List.of(new FrontendMessage.Query(sql)), true);
    }

    /**
     * Units that set up a name and use it, so that indirection is exercised often: a prepared
     * statement then its EXECUTE, a cursor then FETCH from it, a portal bound in one batch and
     * executed in the next inside a transaction, an unnamed statement parsed again after its Bind.
     */
    private static Arbitrary<List<Unit>> scenario() {
        Arbitrary<String> target = Arbitraries.of("SELECT v FROM t WHERE id = $1", "DELETE FROM secret WHERE id = $1",
                "SELECT s FROM hidden WHERE id = $1", "UPDATE t SET v = 'x' WHERE id = $1");
        Arbitrary<String> query = Arbitraries.of("SELECT id FROM t", "SELECT s FROM hidden");
        Arbitrary<List<Unit>> prepared = target.map(sql -> List.of(q("PREPARE p1 AS " + sql), q("EXECUTE p1(1)")));
        Arbitrary<List<Unit>> preparedExtended = target.map(sql -> List.of(q("PREPARE p2 AS " + sql),
                new Unit(List.of(new FrontendMessage.Parse("", "EXECUTE p2(1)", new int[0]),
                        new FrontendMessage.Bind("", "", new short[0], List.of(), new short[0]),
                        new FrontendMessage.Execute("", 0), new FrontendMessage.Sync()), true)));
        Arbitrary<List<Unit>> cursor = Combinators.combine(query, Arbitraries.of(true, false)).as((sql, hold) -> List.of(
                q("BEGIN"), q("DECLARE c1 CURSOR" + (hold ? " WITH HOLD" : "") + " FOR " + sql), q("COMMIT"),
                q("FETCH 1 FROM c1")));
        Arbitrary<List<Unit>> rebound = Combinators.combine(Arbitraries.of(PARSE_TEXTS), Arbitraries.of(PARSE_TEXTS))
                .as((first, second) -> List.of(q("BEGIN"),
                        new Unit(List.of(new FrontendMessage.Parse("", first, new int[0]),
                                new FrontendMessage.Bind("q1", "", new short[0], List.of(), new short[0]),
                                new FrontendMessage.Parse("", second, new int[0]),
                                new FrontendMessage.Sync()), true),
                        new Unit(List.of(new FrontendMessage.Execute("q1", 1), new FrontendMessage.Flush()), false),
                        new Unit(List.of(new FrontendMessage.Execute("q1", 0), new FrontendMessage.Sync()), true)));
        Arbitrary<List<Unit>> rebindByCode = target.map(sql -> List.of(q("PREPARE p1 AS " + sql), q("SELECT rebind()"),
                q("EXECUTE p1(1)")));
        Arbitrary<List<Unit>> reopenByCode = query.map(sql -> List.of(q("BEGIN"), q("DECLARE c1 CURSOR FOR " + sql),
                q("SELECT reopen()"), q("FETCH 1 FROM c1"), q("COMMIT")));
        return Arbitraries.oneOf(prepared, preparedExtended, cursor, rebound, rebindByCode, reopenByCode);
    }

    /** Sequences of one to eight chunks, each a single unit or a {@link #scenario()}; well formed. */
    public static Arbitrary<List<Unit>> sequences() {
        Arbitrary<List<Unit>> chunk = Arbitraries.frequencyOf(Tuple.of(3, unit().map(List::of)), Tuple.of(1, scenario()));
        return chunk.list().ofMinSize(1).ofMaxSize(8)
                .map(chunks -> chunks.stream().flatMap(List::stream).toList())
                .map(ProtocolSequences::wellFormed);
    }

    /**
     * A client that ends a pipeline with Flush sends Sync before its next simple Query (the target
     * ignores a Query while it skips to Sync after an error); and every sequence ends with a Sync.
     */
    static List<Unit> wellFormed(List<Unit> units) {
        List<Unit> out = new ArrayList<>();
        boolean open = false;
        for (Unit u : units) {
            boolean simple = u.messages().getFirst() instanceof FrontendMessage.Query;
            if (simple && open) {
                out.add(new Unit(List.of(new FrontendMessage.Sync()), true));
                open = false;
            }
            out.add(u);
            if (!simple) open = !u.awaitsReady();
        }
        if (open) out.add(new Unit(List.of(new FrontendMessage.Sync()), true));
        return out;
    }

    // ---------------------------------------------------------------- the oracle

    private static final Pattern DENIED_TEXT = Pattern.compile(
            "(?is).*\\b(insert\\s+into|delete\\s+from|update)\\s+secret\\b.*|.*\\bfrom\\s+hidden\\b.*|\\s*drop\\b.*");

    /** The policy, judged on a text the target ran. */
    public static boolean deniedText(String sql) {
        return DENIED_TEXT.matcher(sql).matches();
    }

    /** An execution the edge let through: its text as the target will log it, and the alternatives. */
    private record Allowed(long sequence, String kind, List<String> texts) {
    }

    /**
     * Compares the target's log of a session with the session's audit events (its CommandReceived
     * and DecisionMade, in log order) and returns what does not hold: (1) every statement the target
     * logged is an allowed, recorded execution, in order; (2) none is one the policy denies, judged
     * on what the target says it ran.
     */
    public static List<String> compare(List<LoggingPostgres.Entry> entries, List<AuditEvent> events) {
        Map<String, Decision> decisions = new HashMap<>();
        events.stream().filter(AuditEvent.DecisionMade.class::isInstance).map(AuditEvent.DecisionMade.class::cast)
                .forEach(d -> decisions.put(d.commandId().value(), d.decision()));
        List<Allowed> allowed = new ArrayList<>();
        for (AuditEvent event : events) {
            if (!(event instanceof AuditEvent.CommandReceived received)) continue;
            SqlCommand c = received.command();
            Decision d = decisions.get(c.id().value());
            if (received.refusal() != null || !(d instanceof Decision.Allow)) continue;
            if (c.form() == SqlCommand.Form.SIMPLE_QUERY) {
                allowed.add(new Allowed(c.sequence(), "statement", List.of(c.sql())));
            } else {
                for (CommandStatement s : c.statements()) {
                    if (s.step() != CommandStatement.Step.EXECUTE) continue;
                    List<String> texts = new ArrayList<>();
                    texts.add(s.sql());
                    if (s.via() != null) texts.add(s.via());
                    allowed.add(new Allowed(c.sequence(), "execute", texts));
                }
            }
        }
        List<String> problems = new ArrayList<>();
        Map<String, String> cursors = new HashMap<>();
        int next = 0;
        for (LoggingPostgres.Entry e : entries) {
            // the edge's own reading of the session's names after server-side code (its reserved name)
            if (PgAdapter.VERIFY_NAME.equals(e.statementName())) continue;
            // (1) an allowed, recorded execution, in order
            String kind = e.kind().equals("statement") ? "statement" : "execute";
            String cursor = cursorQuery(e);
            int found = -1;
            for (int i = next; i < allowed.size(); i++) {
                Allowed a = allowed.get(i);
                if (a.kind().equals(kind) && (a.texts().contains(e.sql()) || cursor != null && a.texts().contains(cursor))) {
                    found = i;
                    break;
                }
            }
            if (found < 0) problems.add("the target ran what the edge did not allow and record: " + e);
            else next = kind.equals("statement") ? found + 1 : found;
            // (2) judged on what the target says it ran (a statement that failed ran nothing that stayed)
            List<String> ran = effectiveTexts(e, cursors);
            if (e.failed()) continue;
            for (String text : ran) {
                if (deniedText(text)) problems.add("the target ran a denied statement: " + text + " (" + e + ")");
            }
        }
        return problems;
    }

    private static final Pattern DECLARE = Pattern.compile("(?is)\\s*declare\\s+(\\w+)\\b.*?\\bfor\\s+(.*)");
    private static final Pattern FETCH = Pattern.compile("(?is)\\s*(?:fetch|move)\\b.*?\\b(?:from|in)\\s+(\\w+)\\s*");

    /**
     * The query an extended-protocol Execute read when its portal is a cursor declared in SQL: the
     * target logs such an Execute with the cursor's whole DECLARE statement as its text (the
     * portal's source); null for any other entry, an Execute of a DECLARE that declares the cursor
     * included (its portal is another one).
     */
    static String cursorQuery(LoggingPostgres.Entry e) {
        if (e.kind().equals("statement") || e.portalName() == null || e.portalName().isEmpty()) return null;
        var declare = DECLARE.matcher(e.sql());
        return declare.matches() && declare.group(1).equalsIgnoreCase(e.portalName()) ? declare.group(2) : null;
    }

    /**
     * What a logged entry ran, as the target says: the statements of its text, for an EXECUTE its
     * prepared statement's source (the target logs it as the entry's detail), for a FETCH or MOVE
     * the query of the cursor the session declared last under that name, for an Execute of a
     * cursor's portal the cursor's query.
     */
    static List<String> effectiveTexts(LoggingPostgres.Entry e, Map<String, String> cursors) {
        String cursor = cursorQuery(e);
        if (cursor != null) return List.of(cursor);
        List<String> out = new ArrayList<>();
        for (String statement : e.sql().split(";")) {
            if (statement.contains("reopen()") && !e.failed()) cursors.put("c1", "SELECT s FROM hidden");
            var declare = DECLARE.matcher(statement);
            if (declare.matches()) {
                // a DECLARE the target refused (the name was taken) declared nothing
                if (e.failed()) continue;
                cursors.put(declare.group(1).toLowerCase(Locale.ROOT), declare.group(2));
                continue;
            }
            var fetch = FETCH.matcher(statement);
            if (fetch.matches()) {
                String query = cursors.get(fetch.group(1).toLowerCase(Locale.ROOT));
                if (query != null) out.add(query);
                continue;
            }
            if (statement.trim().toLowerCase(Locale.ROOT).startsWith("prepare")) continue;
            out.add(statement);
        }
        if (e.detail() != null && e.detail().startsWith("prepare: ")) {
            String prepared = e.detail().substring("prepare: ".length());
            int as = prepared.toLowerCase(Locale.ROOT).indexOf(" as ");
            out.add(as >= 0 ? prepared.substring(as + 4) : prepared);
        }
        return out;
    }
}
