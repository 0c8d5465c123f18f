package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.edge.session.Scheduler;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;

import java.nio.charset.StandardCharsets;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.function.Consumer;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A PostgreSQL backend in memory, for fuzzing the session without a database: it answers every
 * message the edge forwards with the messages PostgreSQL answers it with, in their shape, and keeps
 * what PostgreSQL keeps for that (prepared statements, portals with their rows left, the
 * transaction status, skipping to the next Sync after an error in the extended protocol). It
 * runs no SQL: a statement's first words decide its answer (rows for SELECT, SHOW, FETCH and
 * EXECUTE, a transaction status for BEGIN, COMMIT and ROLLBACK), and any text containing
 * {@code fail} is an error, as are the edge's own failing query and portal.
 *
 * <p>Its answers arrive as a socket's reads do: queued, then handed to the adapter by tasks on
 * the session's {@link Scheduler} (all at once or one frame per read), held while paused. Every
 * frame comes from the given allocator.
 */
final class SimulatedPostgres implements PgTarget {

    /** What the target is about to run, for the fuzz target's checks. */
    interface Observer {
        /** A simple Query's text reaches the target. */
        void query(String sql);

        /** An Execute of {@code portal}, whose statement text is {@code sql}, reaches the target. */
        void execute(String portal, String statementName, String sql);
    }

    /** A prepared statement: what it runs, what {@code pg_prepared_statements} shows, its parameter count. */
    private record Statement(String sql, String serverText, int parameters) {
    }

    /** A portal: what it runs, what {@code pg_cursors} shows, whether it outlives its transaction, rows left. */
    private static final class Portal {
        final String statementName;
        final String sql;
        final String serverText;
        final boolean hold;
        int rowsLeft;

        Portal(String statementName, String sql, String serverText, boolean hold, int rowsLeft) {
            this.statementName = statementName;
            this.sql = sql;
            this.serverText = serverText;
            this.hold = hold;
            this.rowsLeft = rowsLeft;
        }
    }

    private static final int ROWS = 2;
    private static final Pattern PARAMETER = Pattern.compile("\\$(\\d{1,4})");
    private static final Pattern PREPARE = Pattern.compile("^prepare\\s+(\\w+)\\s*(?:\\([^)]*\\))?\\s*as\\s+(.*)$",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern DECLARE = Pattern.compile("^declare\\s+(\\w+)\\s.*?\\bcursor\\b(.*?)\\bfor\\s+(.*)$",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern NAMED = Pattern.compile("^(execute|deallocate(?:\\s+prepare)?|fetch|move|close)\\b.*?(\\w+)\\s*(?:\\(.*)?$",
            Pattern.CASE_INSENSITIVE | Pattern.DOTALL);
    private static final Pattern PINNED_SET = Pattern.compile(
            "^set\\s+(?:session\\s+)?(client_encoding|standard_conforming_strings)\\s*(?:=|to)\\s*'?([\\w-]+)'?",
            Pattern.CASE_INSENSITIVE);

    private final Upstream.Listener listener;
    private final Scheduler scheduler;
    private final ByteBufAllocator alloc;
    private final Observer observer;
    private final boolean framePerRead;
    private final ArrayDeque<ByteBuf> output = new ArrayDeque<>();
    private final Map<String, Statement> statements = new HashMap<>();
    private final Map<String, Portal> portals = new LinkedHashMap<>();
    private byte status = PgProtocol.TX_IDLE;
    private boolean skippingToSync;
    private boolean deliveryScheduled;
    private boolean paused;
    private boolean closed;

    SimulatedPostgres(Upstream.Listener listener, Scheduler scheduler, ByteBufAllocator alloc, Observer observer,
                      boolean framePerRead) {
        this.listener = listener;
        this.scheduler = scheduler;
        this.alloc = alloc;
        this.observer = observer;
        this.framePerRead = framePerRead;
    }

    @Override
    public CompletionStage<Upstream.Ready> connect() {
        Map<String, String> status = new LinkedHashMap<>();
        status.put("server_version", "15.0");
        status.put("client_encoding", "UTF8");
        status.put("standard_conforming_strings", "on");
        return CompletableFuture.completedFuture(new Upstream.Ready(status, 4242, 77));
    }

    @Override
    public void write(FrontendMessage message) {
        if (!closed) answer(message);
        if (message instanceof FrontendMessage.CopyData d) d.release();
        scheduleDelivery();
    }

    @Override
    public void writeAll(List<FrontendMessage> messages) {
        for (FrontendMessage m : messages) {
            if (!closed) answer(m);
            if (m instanceof FrontendMessage.CopyData d) d.release();
        }
        scheduleDelivery();
    }

    @Override
    public void pause() {
        paused = true;
    }

    @Override
    public void resume() {
        paused = false;
        scheduleDelivery();
    }

    @Override
    public void cancel() {
        // every answer is ready at once: there is never anything to cancel
    }

    @Override
    public void close() {
        closed = true;
        output.forEach(ByteBuf::release);
        output.clear();
    }

    boolean paused() {
        return paused;
    }

    boolean closed() {
        return closed;
    }

    /** Whether answers wait to be read. */
    boolean hasOutput() {
        return !output.isEmpty();
    }

    // ---------------------------------------------------------------- delivery

    private void scheduleDelivery() {
        if (deliveryScheduled || closed || paused || output.isEmpty()) return;
        deliveryScheduled = true;
        scheduler.execute(this::deliver);
    }

    /** One read: every queued frame, or the next one. */
    private void deliver() {
        deliveryScheduled = false;
        int n = framePerRead ? 1 : output.size();
        while (n-- > 0 && !output.isEmpty() && !paused && !closed) {
            listener.onUpstreamFrame(new BackendFrame(output.poll()));
        }
        if (!closed) listener.onUpstreamReadComplete();
        scheduleDelivery();
    }

    // ---------------------------------------------------------------- answers

    private void answer(FrontendMessage m) {
        if (skippingToSync && !(m instanceof FrontendMessage.Sync)) return;
        switch (m) {
            case FrontendMessage.Query q -> query(q.sql());
            case FrontendMessage.Parse p -> parse(p);
            case FrontendMessage.Bind b -> bind(b);
            case FrontendMessage.Describe d -> describe(d);
            case FrontendMessage.Execute e -> execute(e);
            case FrontendMessage.Close c -> {
                if (c.kind() == PgProtocol.TARGET_STATEMENT) statements.remove(c.name());
                else portals.remove(c.name());
                emit('3', b -> { });
            }
            case FrontendMessage.Sync s -> {
                skippingToSync = false;
                endOfImplicitTransaction();
                ready();
            }
            case FrontendMessage.FunctionCall f -> {
                if (f.functionOid() == 0) {
                    error("42883", "function with OID 0 does not exist");
                } else {
                    emit('V', b -> b.writeInt(-1));
                }
                endOfImplicitTransaction();
                ready();
            }
            case FrontendMessage.Terminate t -> close();
            // Flush: every answer goes out at once anyway; COPY messages outside COPY are ignored
            default -> { }
        }
    }

    private void query(String sql) {
        observer.query(sql);
        statements.remove("");
        portals.remove("");
        if (sql.equals(PgAdapter.FAILING_QUERY)) {
            error("42601", "syntax error at or near \"gatehouse\"");
        } else {
            List<String> parts = split(sql);
            if (parts.isEmpty()) emit('I', b -> { });
            for (String statement : parts) {
                if (!run(statement, sql, 0, true)) break;
            }
        }
        endOfImplicitTransaction();
        ready();
    }

    private void parse(FrontendMessage.Parse p) {
        if (!p.statement().isEmpty() && statements.containsKey(p.statement())) {
            extendedError("42P05", "prepared statement \"" + p.statement() + "\" already exists");
            return;
        }
        if (split(p.query()).size() > 1) {
            extendedError("42601", "cannot insert multiple commands into a prepared statement");
            return;
        }
        int needed = p.parameterTypes().length;
        Matcher m = PARAMETER.matcher(p.query());
        while (m.find()) needed = Math.max(needed, Integer.parseInt(m.group(1)));
        statements.put(p.statement(), new Statement(p.query(), p.query(), needed));
        emit('1', b -> { });
    }

    private void bind(FrontendMessage.Bind b) {
        Statement st = statements.get(b.statement());
        if (st == null) {
            extendedError("26000", "prepared statement \"" + b.statement() + "\" does not exist");
            return;
        }
        if (b.parameters().size() != st.parameters()) {
            extendedError("08P01", "bind message supplies " + b.parameters().size() + " parameters, but prepared statement \""
                    + b.statement() + "\" requires " + st.parameters());
            return;
        }
        if (!b.portal().isEmpty() && portals.containsKey(b.portal())) {
            extendedError("42P03", "portal \"" + b.portal() + "\" already exists");
            return;
        }
        portals.put(b.portal(), new Portal(b.statement(), st.sql(), st.sql(), false, returnsRows(st.sql()) ? ROWS : 0));
        emit('2', x -> { });
    }

    private void describe(FrontendMessage.Describe d) {
        String sql;
        if (d.kind() == PgProtocol.TARGET_STATEMENT) {
            Statement st = statements.get(d.name());
            if (st == null) {
                extendedError("26000", "prepared statement \"" + d.name() + "\" does not exist");
                return;
            }
            emit('t', b -> {
                b.writeShort(st.parameters());
                for (int i = 0; i < st.parameters(); i++) b.writeInt(23);
            });
            sql = st.sql();
        } else {
            Portal portal = portals.get(d.name());
            if (portal == null) {
                extendedError("34000", "portal \"" + d.name() + "\" does not exist");
                return;
            }
            sql = portal.sql;
        }
        if (sql.equals(PgAdapter.VERIFY_QUERY)) {
            rowDescription("?column?", "name", "statement");
        } else if (returnsRows(sql)) {
            rowDescription("?column?");
        } else {
            emit('n', b -> { });
        }
    }

    private void execute(FrontendMessage.Execute e) {
        Portal portal = portals.get(e.portal());
        if (portal == null) {
            extendedError("34000", "portal \"" + e.portal() + "\" does not exist");
            return;
        }
        observer.execute(e.portal(), portal.statementName, portal.sql);
        if (portal.sql.equals(PgAdapter.VERIFY_QUERY)) {
            int rows = 0;
            for (Map.Entry<String, Statement> s : statements.entrySet()) {
                if (s.getKey().isEmpty()) continue;
                dataRow("S", s.getKey(), s.getValue().serverText());
                rows++;
            }
            for (Map.Entry<String, Portal> p : portals.entrySet()) {
                if (p.getKey().isEmpty()) continue;
                dataRow("P", p.getKey(), p.getValue().serverText);
                rows++;
            }
            commandComplete("SELECT " + rows);
            return;
        }
        if (split(portal.sql).isEmpty()) {
            emit('I', b -> { });
            return;
        }
        if (portal.rowsLeft > 0 || !returnsRows(portal.sql)) {
            int rows = e.maxRows() > 0 ? Math.min(e.maxRows(), portal.rowsLeft) : portal.rowsLeft;
            if (!run(portal.sql, portal.sql, rows, false)) {
                skippingToSync = true;
                return;
            }
            portal.rowsLeft -= rows;
            if (e.maxRows() > 0 && portal.rowsLeft > 0) {
                emit('s', b -> { });
            } else {
                commandComplete(tag(portal.sql, rows));
            }
        } else {
            commandComplete(tag(portal.sql, 0));
        }
    }

    /**
     * Runs one statement: its rows (a simple Query's with their RowDescription and its
     * CommandComplete), its effect on the transaction status; false after an error.
     */
    private boolean run(String sql, String source, int rows, boolean simple) {
        String lower = sql.toLowerCase(Locale.ROOT);
        String verb = firstWords(lower);
        if (status == PgProtocol.TX_FAILED && !List.of("rollback", "abort", "commit", "end").contains(verb.split(" ")[0])) {
            error("25P02", "current transaction is aborted, commands ignored until end of transaction block");
            return false;
        }
        if (lower.contains("fail") || verb.startsWith("copy")) {
            error(verb.startsWith("copy") ? "0A000" : "P0001", verb.startsWith("copy")
                    ? "the simulated target does not run COPY" : "the statement failed");
            return false;
        }
        switch (verb.split(" ")[0]) {
            case "begin", "start" -> status = PgProtocol.TX_IN_TRANSACTION;
            case "commit", "end", "abort" -> status = PgProtocol.TX_IDLE;
            case "rollback" -> {
                if (!verb.startsWith("rollback to")) status = PgProtocol.TX_IDLE;
                else if (status == PgProtocol.TX_FAILED) status = PgProtocol.TX_IN_TRANSACTION;
            }
            default -> { }
        }
        if (!names(sql.strip(), source)) return false;
        Matcher pinned = PINNED_SET.matcher(sql.strip());
        if (pinned.find()) parameterStatus(pinned.group(1).toLowerCase(Locale.ROOT), pinned.group(2));
        if (simple) {
            int n = returnsRows(sql) ? ROWS : 0;
            if (n > 0) rowDescription("?column?");
            for (int i = 0; i < n; i++) dataRow("1");
            commandComplete(tag(sql, n));
        } else {
            for (int i = 0; i < rows; i++) dataRow("1");
        }
        return true;
    }

    /**
     * What a statement does to the session's names: PREPARE, DEALLOCATE, DECLARE, CLOSE, and
     * EXECUTE or FETCH of a name that must exist; false after an error. {@code source}: the
     * whole text the statement came in, which the catalog views show.
     */
    private boolean names(String sql, String source) {
        Matcher m;
        if ((m = PREPARE.matcher(sql)).find()) {
            String name = m.group(1).toLowerCase(Locale.ROOT);
            if (statements.containsKey(name)) {
                error("42P05", "prepared statement \"" + name + "\" already exists");
                return false;
            }
            int needed = 0;
            Matcher p = PARAMETER.matcher(m.group(2));
            while (p.find()) needed = Math.max(needed, Integer.parseInt(p.group(1)));
            statements.put(name, new Statement(m.group(2), source, needed));
            return true;
        }
        if ((m = DECLARE.matcher(sql)).find()) {
            String name = m.group(1).toLowerCase(Locale.ROOT);
            if (portals.containsKey(name)) {
                error("42P03", "cursor \"" + name + "\" already exists");
                return false;
            }
            boolean hold = m.group(2).toLowerCase(Locale.ROOT).contains("with hold");
            portals.put(name, new Portal(null, m.group(3), source, hold, ROWS));
            return true;
        }
        if (sql.toLowerCase(Locale.ROOT).startsWith("discard all")) {
            statements.clear();
            portals.clear();
            return true;
        }
        if (!(m = NAMED.matcher(sql)).find()) return true;
        String verb = m.group(1).toLowerCase(Locale.ROOT);
        String name = m.group(2).toLowerCase(Locale.ROOT);
        boolean all = name.equals("all");
        if (verb.startsWith("deallocate")) {
            if (all) statements.keySet().removeIf(n -> !n.isEmpty());
            else if (statements.remove(name) == null) {
                error("26000", "prepared statement \"" + name + "\" does not exist");
                return false;
            }
        } else if (verb.equals("execute")) {
            if (!statements.containsKey(name)) {
                error("26000", "prepared statement \"" + name + "\" does not exist");
                return false;
            }
        } else if (verb.equals("close") && all) {
            portals.keySet().removeIf(n -> !n.isEmpty());
        } else if (!portals.containsKey(name)) {
            error("34000", "cursor \"" + name + "\" does not exist");
            return false;
        } else if (verb.equals("close")) {
            portals.remove(name);
        }
        return true;
    }

    /** The transaction status after an error: a transaction block fails, an implicit one ends at the next Sync. */
    private void error(String code, String message) {
        if (status == PgProtocol.TX_IN_TRANSACTION) status = PgProtocol.TX_FAILED;
        emit('E', b -> {
            field(b, 'S', "ERROR");
            field(b, 'V', "ERROR");
            field(b, 'C', code);
            field(b, 'M', message);
            b.writeByte(0);
        });
    }

    private void extendedError(String code, String message) {
        error(code, message);
        skippingToSync = true;
    }

    /** The end of an implicit transaction (a Sync, a simple Query, a FunctionCall outside a block) drops its portals. */
    private void endOfImplicitTransaction() {
        if (status == PgProtocol.TX_IDLE) portals.values().removeIf(p -> !p.hold);
    }

    private void ready() {
        byte s = status;
        emit('Z', b -> b.writeByte(s));
    }

    // ---------------------------------------------------------------- statements as text

    /** A Query's statements: split at semicolons outside quotes and dollar quotes; blank ones dropped. */
    static List<String> split(String sql) {
        List<String> parts = new ArrayList<>();
        StringBuilder current = new StringBuilder();
        boolean quoted = false;
        boolean dollar = false;
        for (int i = 0; i < sql.length(); i++) {
            char c = sql.charAt(i);
            if (!dollar && c == '\'') quoted = !quoted;
            if (!quoted && c == '$' && i + 1 < sql.length() && sql.charAt(i + 1) == '$') {
                dollar = !dollar;
                current.append("$$");
                i++;
                continue;
            }
            if (c == ';' && !quoted && !dollar) {
                if (!current.toString().isBlank()) parts.add(current.toString().strip());
                current.setLength(0);
            } else {
                current.append(c);
            }
        }
        if (!current.toString().isBlank()) parts.add(current.toString().strip());
        return parts;
    }

    private static String firstWords(String lower) {
        String[] words = lower.strip().split("\\s+", 3);
        return words.length >= 2 ? words[0] + " " + words[1] : words[0];
    }

    private static boolean returnsRows(String sql) {
        String verb = firstWords(sql.toLowerCase(Locale.ROOT)).split(" ")[0];
        return List.of("select", "show", "fetch", "execute", "values", "with", "table", "explain").contains(verb);
    }

    private static String tag(String sql, int rows) {
        String[] words = sql.strip().toUpperCase(Locale.ROOT).split("\\s+");
        String verb = words[0];
        return switch (verb) {
            case "SELECT", "SHOW", "VALUES", "WITH", "TABLE", "EXECUTE", "EXPLAIN" -> "SELECT " + rows;
            case "FETCH", "MOVE" -> verb + " " + rows;
            case "INSERT" -> "INSERT 0 1";
            case "UPDATE", "DELETE", "MERGE" -> verb + " 1";
            case "START" -> "START TRANSACTION";
            case "END" -> "COMMIT";
            case "ABORT" -> "ROLLBACK";
            case "DECLARE" -> "DECLARE CURSOR";
            case "CLOSE" -> "CLOSE CURSOR";
            case "CREATE", "DROP", "ALTER" -> words.length > 1 ? verb + " " + words[1].replaceAll("[^A-Z]", "") : verb;
            default -> verb.replaceAll("[^A-Z]", "").isEmpty() ? "UNKNOWN" : verb.replaceAll("[^A-Z]", "");
        };
    }

    // ---------------------------------------------------------------- frames

    private void emit(char type, Consumer<ByteBuf> body) {
        ByteBuf b = alloc.buffer(64);
        b.writeByte(type);
        b.writeInt(0);
        body.accept(b);
        b.setInt(1, b.readableBytes() - 1);
        output.add(b);
    }

    private void commandComplete(String tag) {
        emit('C', b -> cstring(b, tag));
    }

    private void rowDescription(String... names) {
        emit('T', b -> {
            b.writeShort(names.length);
            for (String name : names) {
                cstring(b, name);
                b.writeInt(0);
                b.writeShort(0);
                b.writeInt(25);
                b.writeShort(-1);
                b.writeInt(-1);
                b.writeShort(0);
            }
        });
    }

    private void dataRow(String... values) {
        emit('D', b -> {
            b.writeShort(values.length);
            for (String v : values) {
                byte[] bytes = v.getBytes(StandardCharsets.UTF_8);
                b.writeInt(bytes.length);
                b.writeBytes(bytes);
            }
        });
    }

    private void parameterStatus(String name, String value) {
        emit('S', b -> {
            cstring(b, name);
            cstring(b, value);
        });
    }

    private static void field(ByteBuf b, char code, String value) {
        b.writeByte(code);
        cstring(b, value);
    }

    private static void cstring(ByteBuf b, String s) {
        b.writeBytes(s.replace('\0', ' ').getBytes(StandardCharsets.UTF_8));
        b.writeByte(0);
    }
}
