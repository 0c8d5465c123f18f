package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.edge.catalog.ConnectionCatalog;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.masking.MaskingProfile;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.BackendMessage;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.edge.postgres.catalog.SearchPath;
import dev.gatehouse.edge.postgres.catalog.Snapshot;
import dev.gatehouse.edge.postgres.catalog.TargetCatalog;
import dev.gatehouse.edge.session.CommandDraft;
import dev.gatehouse.edge.session.CommandResult;
import dev.gatehouse.edge.session.ClientIntent;
import dev.gatehouse.edge.session.ConnectRequest;
import dev.gatehouse.edge.session.PendingCommand;
import dev.gatehouse.edge.session.Refusal;
import dev.gatehouse.edge.session.Scheduler;
import dev.gatehouse.edge.session.SessionCore;
import dev.gatehouse.edge.session.SessionProtocol;
import dev.gatehouse.edge.session.SessionState;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import io.vertx.core.net.NetClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;

/**
 * The PostgreSQL adapter of the session core: startup and login on both sides, the session's
 * protocol state exactly as the target keeps it ({@link PgSessionModel}, confirmed message by
 * message by {@link PgResponseTracker}), each unit of client input turned into one command
 * ({@link PgCommandBuilder}), and the target's answers relayed, masked and sampled.
 *
 * <p>One unit at a time: a simple Query, a FunctionCall, or an extended-protocol batch up to Sync
 * or Flush is built against what the target has confirmed, decided, forwarded, and answered in
 * full (every message of it answered or skipped after an error) before the next unit is read. So
 * every Execute is decided as the text its portal really runs. While a unit is in flight the
 * client is paused: the edge never buffers client input without bound.
 *
 * <p>Startup pins what decides how the target lexes SQL ({@code standard_conforming_strings=on},
 * {@code client_encoding=UTF8}) in the upstream startup packet, which overrides role and database
 * settings; a client that asks for other values, by parameter or in {@code options}, is refused,
 * and a ParameterStatus from the target reporting another value ends the session.
 *
 * <p>Everything runs on the session's event loop.
 */
final class PgAdapter implements SessionProtocol {
    private static final Logger LOGGER = LoggerFactory.getLogger(PgAdapter.class);
    /** The most extended-protocol messages one batch may hold before its Sync or Flush. */
    static final int MAX_BATCH_MESSAGES = 10_000;
    /** The text the edge sends the target in place of a rejected simple Query: it fails at once, as the rejection did. */
    static final String FAILING_QUERY = "gatehouse: statement rejected";
    /** The prefix of the portal the edge executes in place of a rejected batch (it never exists). */
    static final String FAILING_PORTAL_PREFIX = "gatehouse rejected ";

    /** What the adapter needs of its edge. */
    interface Edge {
        PgEdgeConfig config();

        ConnectionCatalog catalog();

        SqlAnalyzer analyzer();

        MaskingProfiles maskingProfiles();

        TargetCatalog targetCatalog();

        NetClient netClient();

        /**
         * The target's catalog snapshot (read once and cached), with its routines' bodies analysed
         * off the event loop, so that resolving a statement never waits.
         */
        default CompletionStage<Snapshot> targetSnapshot(TargetConnection target) {
            return targetCatalog().analysedSnapshot(target, analyzer());
        }

        /** The session's connection to its target (not yet logged in); its answers go to {@code listener}. */
        default PgTarget openTarget(TargetConnection target, Map<String, String> parameters, Upstream.Listener listener) {
            return new Upstream(listener, target, parameters, netClient());
        }
    }

    private enum Phase { STARTUP, PASSWORD, CONNECTING, OPEN, CLOSED }

    private final Edge edge;
    private final PgClient client;
    private final Scheduler scheduler;
    private final PgSessionModel model = new PgSessionModel();
    private final PgResponseTracker tracker = new PgResponseTracker(model);
    private final PgCommandBuilder builder;
    private final ArrayDeque<FrontendMessage> queued = new ArrayDeque<>();
    private final List<FrontendMessage> batch = new ArrayList<>();
    private SessionCore core;
    private Phase phase = Phase.STARTUP;
    private Map<String, String> startupParameters = Map.of();
    /** What the client declared it is doing ({@link ClientIntent}), read once when its startup is checked; null: nothing. */
    private DeclaredIntent declaredIntent;
    private TargetConnection target;
    private PgTarget upstream;
    private Map<String, String> targetParameterStatus = Map.of();
    private Unit unit;
    /** A unit is being analysed, decided or answered: client input waits. */
    private boolean busy;
    private boolean unflushed;
    private boolean upstreamPaused;
    private CompletableFuture<TargetLogin> login;
    private int targetProcessId;

    PgAdapter(Edge edge, PgClient client, Scheduler scheduler) {
        this.edge = edge;
        this.client = client;
        this.scheduler = scheduler;
        this.builder = new PgCommandBuilder(edge.config().maxParameterBytes());
    }

    /** The core this adapter serves; set once, before any input. */
    void attach(SessionCore core) {
        this.core = core;
    }

    SessionCore core() {
        return core;
    }

    /** The session model, for tests. */
    PgSessionModel model() {
        return model;
    }

    @Override
    public String name() {
        return "postgres";
    }

    // ---------------------------------------------------------------- client input

    /** One decoded message from the client (SSLRequest, GSSENCRequest and CancelRequest are the socket's). */
    void onClientMessage(FrontendMessage m) {
        try {
            switch (phase) {
                case STARTUP -> onStartup(m);
                case PASSWORD -> onPassword(m);
                case CONNECTING -> queue(m);
                case OPEN -> {
                    if (busy) onWhileBusy(m);
                    else onMessage(m);
                }
                case CLOSED -> release(m);
            }
        } catch (RuntimeException e) {
            LOGGER.error("session={} internal error handling {}", core.sessionId(), m.getClass().getSimpleName(), e);
            release(m);
            core.fatal(new Refusal(Refusal.Kind.INTERNAL, "gatehouse internal error; the session is closed", null, null),
                    "session-error: " + e);
        }
    }

    private void queue(FrontendMessage m) {
        queued.add(m);
        client.pause();
    }

    private void onStartup(FrontendMessage m) {
        if (!(m instanceof FrontendMessage.StartupMessage s)) {
            release(m);
            core.violation(name(), "expected a startup message, got " + m.getClass().getSimpleName());
            return;
        }
        startupParameters = new LinkedHashMap<>(s.parameters());
        String user = startupParameters.get("user");
        String database = s.database();
        Refusal refusal = startupRefusal(database);
        if (refusal != null) {
            core.refuseConnection(refusal, database, user);
            return;
        }
        target = edge.catalog().find(database, TargetConnection.POSTGRES).orElseThrow();
        phase = Phase.PASSWORD;
        client.write(new BackendMessage.AuthenticationCleartextPassword());
    }

    /** Why a startup message is refused, or null. */
    private Refusal startupRefusal(String database) {
        String user = startupParameters.get("user");
        if (!client.tls() && !edge.config().allowPlaintext()) {
            return code(Refusal.Kind.AUTHENTICATION, "Gatehouse requires TLS: connect with sslmode=require", PgProtocol.INVALID_AUTHORIZATION);
        }
        String replication = startupParameters.get("replication");
        if (replication != null && !List.of("false", "0", "off", "no").contains(replication.toLowerCase(Locale.ROOT))) {
            return code(Refusal.Kind.EDGE, "replication connections are not supported through Gatehouse; connect to the"
                    + " target directly", PgProtocol.FEATURE_NOT_SUPPORTED);
        }
        if (user == null || user.isBlank()) {
            return code(Refusal.Kind.AUTHENTICATION, "no PostgreSQL user name specified in startup packet",
                    PgProtocol.INVALID_AUTHORIZATION);
        }
        if (edge.catalog().find(database, TargetConnection.POSTGRES).isEmpty()) {
            boolean mysql = edge.catalog().find(database).isPresent();
            return code(Refusal.Kind.EDGE, "connection \"" + database + "\" is " + (mysql ? "a MySQL connection: reach it"
                    + " through the edge's MySQL listener" : "not configured in Gatehouse") + " (dbname selects one of: "
                    + String.join(", ", edge.catalog().names(TargetConnection.POSTGRES)) + ")",
                    PgProtocol.INVALID_CATALOG_NAME);
        }
        for (Map.Entry<String, String> p : startupParameters.entrySet()) {
            String name = p.getKey().toLowerCase(Locale.ROOT);
            if (PgCommandBuilder.PINNED.containsKey(name) && !PgCommandBuilder.pinnedValue(name, p.getValue())) {
                return pinnedRefusal(name, p.getValue());
            }
        }
        String options = startupParameters.get("options");
        if (options != null) {
            List<String[]> settings = PgStartupOptions.settings(options);
            if (settings == null) {
                return code(Refusal.Kind.EDGE, "Gatehouse passes only \"-c name=value\" settings in the options startup"
                        + " parameter; options was: " + options, PgProtocol.FEATURE_NOT_SUPPORTED);
            }
            for (String[] setting : settings) {
                if (PgCommandBuilder.PINNED.containsKey(setting[0]) && !PgCommandBuilder.pinnedValue(setting[0], setting[1])) {
                    return pinnedRefusal(setting[0], setting[1]);
                }
            }
        }
        try {
            declaredIntent = readDeclaredIntent();
        } catch (IllegalArgumentException e) {
            return code(Refusal.Kind.EDGE, e.getMessage(), PgProtocol.INVALID_PARAMETER_VALUE);
        }
        return null;
    }

    /**
     * The run and step the client declared ({@link ClientIntent}): the settings gatehouse.run_id and
     * gatehouse.step_id, as startup parameters or {@code -c} in options (a startup parameter wins, as at
     * the target). The target receives them too, as custom settings of the session.
     */
    private DeclaredIntent readDeclaredIntent() {
        Map<String, String> values = new java.util.HashMap<>();
        String options = startupParameters.get("options");
        if (options != null) {
            List<String[]> settings = PgStartupOptions.settings(options);
            if (settings != null) for (String[] setting : settings) values.put(setting[0], setting[1]);
        }
        startupParameters.forEach((k, v) -> values.put(k.toLowerCase(Locale.ROOT), v));
        return ClientIntent.of(ClientIntent.PG_RUN, values.get(ClientIntent.PG_RUN), ClientIntent.PG_STEP,
                values.get(ClientIntent.PG_STEP));
    }

    private static Refusal pinnedRefusal(String name, String value) {
        return code(Refusal.Kind.EDGE, "Gatehouse sessions use " + name + "=" + PgCommandBuilder.PINNED.get(name)
                + "; the client asked for " + name + "=" + value + " (Gatehouse reads SQL exactly as the target does only"
                + " with this setting)", PgProtocol.FEATURE_NOT_SUPPORTED);
    }

    private static Refusal code(Refusal.Kind kind, String message, String sqlState) {
        return new Refusal(kind, message, null, sqlState);
    }

    private void onPassword(FrontendMessage m) {
        if (!(m instanceof FrontendMessage.PasswordMessage p)) {
            release(m);
            core.violation(name(), "expected a password message, got " + m.getClass().getSimpleName());
            return;
        }
        String token = p.asCleartext();
        phase = Phase.CONNECTING;
        client.pause();
        core.connect(new ConnectRequest(token, target, startupParameters.get("user"),
                startupParameters.get("application_name"), startupParameters, client.tls(), declaredIntent));
    }

    /** The client's input while a unit is in flight: COPY data flows; everything else waits its turn. */
    private void onWhileBusy(FrontendMessage m) {
        if (unit != null && unit.copyIn) {
            switch (m) {
                case FrontendMessage.CopyData d -> upstream.write(m);
                case FrontendMessage.CopyDone d -> {
                    unit.copyIn = false;
                    upstream.write(m);
                    client.pause();
                }
                case FrontendMessage.CopyFail f -> {
                    unit.copyIn = false;
                    upstream.write(m);
                    client.pause();
                }
                // the target ignores Flush and Sync during COPY FROM STDIN
                case FrontendMessage.Flush f -> upstream.write(m);
                case FrontendMessage.Sync s -> upstream.write(m);
                default -> queue(m);
            }
            return;
        }
        queue(m);
    }

    /** The next message in an open, idle session. */
    private void onMessage(FrontendMessage m) {
        if (model.targetIgnoringUntilSync) {
            // the target skips everything up to the next Sync after an error in a batch: so does the edge
            switch (m) {
                case FrontendMessage.Sync s -> startBatch(List.of(m));
                case FrontendMessage.Terminate t -> terminate();
                default -> release(m);
            }
            return;
        }
        switch (m) {
            case FrontendMessage.Query q -> startQuery(q);
            case FrontendMessage.FunctionCall f -> startFunctionCall(f);
            case FrontendMessage.Parse p -> addToBatch(m);
            case FrontendMessage.Bind b -> addToBatch(m);
            case FrontendMessage.Describe d -> addToBatch(m);
            case FrontendMessage.Execute e -> addToBatch(m);
            case FrontendMessage.Close c -> addToBatch(m);
            case FrontendMessage.Sync s -> {
                batch.add(m);
                startBatch(drainBatch());
            }
            case FrontendMessage.Flush f -> {
                batch.add(m);
                startBatch(drainBatch());
            }
            case FrontendMessage.Terminate t -> terminate();
            // outside COPY the target ignores COPY messages (a COPY that failed while the client still sends)
            case FrontendMessage.CopyData d -> release(m);
            case FrontendMessage.CopyDone d -> { }
            case FrontendMessage.CopyFail f -> { }
            default -> {
                release(m);
                core.violation(name(), "unexpected " + m.getClass().getSimpleName() + " in an established session");
            }
        }
    }

    private void addToBatch(FrontendMessage m) {
        if (batch.size() >= MAX_BATCH_MESSAGES) {
            release(m);
            drainBatch();
            core.violation(name(), "more than " + MAX_BATCH_MESSAGES + " extended-protocol messages without a Sync or Flush");
            return;
        }
        batch.add(m);
    }

    private List<FrontendMessage> drainBatch() {
        List<FrontendMessage> out = new ArrayList<>(batch);
        batch.clear();
        return out;
    }

    // ---------------------------------------------------------------- building a unit

    /** One unit of client input between its arrival and its completion. */
    private final class Unit {
        final SqlCommand.Form form;
        final List<FrontendMessage> messages;
        final boolean sync;
        PgCommandBuilder.Plan plan;
        PendingCommand pending;
        List<FrontendMessage> forwarded;
        ResultMasker masker;
        ResultSampler sampler;
        final List<String> tags = new ArrayList<>();
        long rows;
        String sqlState;
        String errorMessage;
        long bytesToClient;
        int statementsRun;
        String txStatus;
        boolean rejected;
        boolean copyIn;
        boolean sent;
        /** Built as if the session had no named statements or portals (their texts cannot be read now). */
        boolean withoutNames;

        Unit(SqlCommand.Form form, List<FrontendMessage> messages, boolean sync) {
            this.form = form;
            this.messages = messages;
            this.sync = sync;
        }

        boolean extended() {
            return form == SqlCommand.Form.EXTENDED;
        }
    }

    private void startQuery(FrontendMessage.Query q) {
        Unit u = begin(new Unit(SqlCommand.Form.SIMPLE_QUERY, List.of(q), true));
        edge.analyzer().parseAsync(q.sql()).whenComplete((parsed, err) -> scheduler.execute(() -> {
            if (unit != u || phase != Phase.OPEN) return;
            if (err != null) {
                failBuild(u, err);
                return;
            }
            Runnable build = () -> buildResolved(u, r -> builder.query(q.sql(), parsed, modelFor(u), r), q.sql());
            if (usesNames(List.of(parsed), u.messages)) afterNamesVerified(u, build);
            else build.run();
        }));
    }

    private void startFunctionCall(FrontendMessage.FunctionCall f) {
        Unit u = begin(new Unit(SqlCommand.Form.FUNCTION_CALL, List.of(f), true));
        build(u, builder.functionCall(f, model), null);
    }

    private void startBatch(List<FrontendMessage> messages) {
        boolean sync = messages.getLast() instanceof FrontendMessage.Sync;
        Unit u = begin(new Unit(SqlCommand.Form.EXTENDED, messages, sync));
        Map<String, CompletableFuture<ParsedSql>> parses = new LinkedHashMap<>();
        for (FrontendMessage m : messages) {
            if (m instanceof FrontendMessage.Parse p) {
                parses.computeIfAbsent(p.query(), text -> edge.analyzer().parseAsync(text).toCompletableFuture());
            }
        }
        if (parses.isEmpty() && !binds(messages)) {
            // Describe, Close, Sync, Flush: nothing to parse or resolve
            build(u, builder.batch(messages, Map.of(), model, PgCommandBuilder.Resolver.AS_WRITTEN), null);
            return;
        }
        CompletableFuture.allOf(parses.values().toArray(CompletableFuture[]::new)).whenComplete((v, err) -> scheduler.execute(() -> {
            if (unit != u || phase != Phase.OPEN) return;
            if (err != null) {
                failBuild(u, err);
                return;
            }
            Map<String, ParsedSql> parsed = new HashMap<>();
            parses.forEach((text, future) -> parsed.put(text, future.join()));
            Runnable build = () -> buildResolved(u, r -> builder.batch(messages, parsed, modelFor(u), r), null);
            if (usesNames(parsed.values(), messages)) afterNamesVerified(u, build);
            else build.run();
        }));
    }

    /**
     * Builds a unit on the target's catalog snapshot; when the plan names relations the snapshot
     * did not know and the snapshot is older than a second, once more on a fresh one (they may have
     * been created since it was read).
     */
    private void buildResolved(Unit u, java.util.function.Function<PgCommandBuilder.Resolver, PgCommandBuilder.Plan> planner,
                               String queryText) {
        edge.targetSnapshot(target).whenComplete((snapshot, err) -> scheduler.execute(() -> {
            if (unit != u || phase != Phase.OPEN) return;
            if (err != null) {
                failBuild(u, err);
                return;
            }
            PgCommandBuilder.Plan plan = planner.apply(resolverOf(snapshot));
            if (!staleFor(plan, snapshot)) {
                build(u, plan, queryText);
                return;
            }
            edge.targetCatalog().invalidate(target);
            edge.targetSnapshot(target).whenComplete((fresh, again) -> scheduler.execute(() -> {
                if (unit != u || phase != Phase.OPEN) return;
                if (again != null) failBuild(u, again);
                else build(u, planner.apply(resolverOf(fresh)), queryText);
            }));
        }));
    }

    /**
     * Whether a unit runs what a name stands for: a Bind of a named statement, an Execute of a named
     * portal, an SQL-level EXECUTE, FETCH or MOVE.
     */
    private static boolean usesNames(java.util.Collection<ParsedSql> texts, List<FrontendMessage> messages) {
        for (FrontendMessage m : messages) {
            if (m instanceof FrontendMessage.Bind b && !b.statement().isEmpty()) return true;
            if (m instanceof FrontendMessage.Execute e && !e.portal().isEmpty()) return true;
        }
        for (ParsedSql parsed : texts) {
            for (var st : parsed.statements()) {
                if (st.effect() instanceof dev.gatehouse.platform.core.SessionEffect.Execute
                        || st.effect() instanceof dev.gatehouse.platform.core.SessionEffect.Fetch) {
                    return true;
                }
            }
        }
        return false;
    }

    // ---------------------------------------------------------------- names after server-side code

    /** The edge's own statement and portal for reading the session's names (never a client's). */
    static final String VERIFY_NAME = "gatehouse verify names";
    static final String VERIFY_QUERY = "SELECT 'S', name, statement FROM pg_catalog.pg_prepared_statements"
            + " UNION ALL SELECT 'P', name, statement FROM pg_catalog.pg_cursors";

    /** Reading the session's names from the target: the rows so far and what to do after. */
    private final class Verification {
        final Unit unit;
        final Runnable then;
        final boolean sync;
        final Map<String, String> statements = new HashMap<>();
        final Map<String, String> portals = new HashMap<>();
        int answers;

        Verification(Unit unit, Runnable then, boolean sync) {
            this.unit = unit;
            this.then = then;
            this.sync = sync;
        }
    }

    private Verification verification;

    /**
     * Server-side code (a function, procedure, DO block, trigger) can PREPARE, DEALLOCATE, open
     * and close cursors under any name, so after it ran the session's names may run something
     * other than what the edge recorded for them. Before a unit binds or executes, the edge reads
     * the session's prepared statements and cursors from the target itself
     * ({@code pg_prepared_statements}, {@code pg_cursors}, on its own statement and portal, in the
     * open transaction if there is one) and forgets every name whose text is not what it
     * recorded: using such a name is then refused, never run as something else. In a failed
     * transaction nothing can be read: the unit is built as if the session had no names.
     */
    private void afterNamesVerified(Unit u, Runnable then) {
        boolean named = model.statements.keySet().stream().anyMatch(n -> !n.isEmpty())
                || model.portals.keySet().stream().anyMatch(n -> !n.isEmpty());
        if (!model.namesUncertain || !named) {
            model.namesUncertain = false;
            then.run();
            return;
        }
        if (model.txStatus == 'E' || model.targetIgnoringUntilSync) {
            u.withoutNames = true;
            then.run();
            return;
        }
        boolean clean = model.txStatus == 'I' && !model.forwardedSinceReady;
        verification = new Verification(u, then, clean);
        List<FrontendMessage> read = new ArrayList<>(List.of(
                new FrontendMessage.Parse(VERIFY_NAME, VERIFY_QUERY, new int[0]),
                new FrontendMessage.Bind(VERIFY_NAME, VERIFY_NAME, new short[0], List.of(), new short[0]),
                new FrontendMessage.Execute(VERIFY_NAME, 0),
                new FrontendMessage.Close(PgProtocol.TARGET_PORTAL, VERIFY_NAME),
                new FrontendMessage.Close(PgProtocol.TARGET_STATEMENT, VERIFY_NAME)));
        // idle: in a transaction of its own; in a transaction: inside it, without ending it
        read.add(clean ? new FrontendMessage.Sync() : new FrontendMessage.Flush());
        upstream.writeAll(read);
    }

    /** One answer to the edge's own reading of the names; nothing of it reaches the client. */
    private void onVerificationFrame(BackendFrame frame) {
        Verification v = verification;
        try {
            switch (frame.type()) {
                case PgProtocol.BE_PARSE_COMPLETE, PgProtocol.BE_BIND_COMPLETE, PgProtocol.BE_CLOSE_COMPLETE,
                     PgProtocol.BE_COMMAND_COMPLETE -> v.answers++;
                case PgProtocol.BE_DATA_ROW -> {
                    List<byte[]> row = BackendFrames.parseDataRow(frame);
                    String name = text(row.get(1));
                    (text(row.get(0)).equals("S") ? v.statements : v.portals).put(name, text(row.get(2)));
                }
                case PgProtocol.BE_ERROR_RESPONSE -> {
                    String message = BackendFrames.parseErrorOrNotice(frame.payload()).getOrDefault(PgProtocol.FIELD_MESSAGE, "?");
                    verification = null;
                    core.fatal(new Refusal(Refusal.Kind.FAILED_CLOSED, "gatehouse: the session's prepared statements and"
                            + " cursors could not be read after server-side code ran (" + message + "); the session is closed",
                            null, null), "names could not be verified: " + message);
                    return;
                }
                case PgProtocol.BE_READY_FOR_QUERY -> v.answers++;
                default -> { }
            }
        } finally {
            frame.release();
        }
        if (v.answers < (v.sync ? 6 : 5)) return;
        verification = null;
        int forgotten = 0;
        for (var it = model.statements.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().isEmpty()) continue;
            if (!e.getValue().serverText().equals(v.statements.get(e.getKey()))) {
                it.remove();
                forgotten++;
            }
        }
        for (var it = model.portals.entrySet().iterator(); it.hasNext(); ) {
            var e = it.next();
            if (e.getKey().isEmpty()) continue;
            if (!e.getValue().serverText().equals(v.portals.get(e.getKey()))) {
                it.remove();
                forgotten++;
            }
        }
        model.namesUncertain = false;
        if (forgotten > 0) {
            LOGGER.warn("session={} {} prepared statement(s) or cursor(s) changed under server-side code; the edge no"
                    + " longer runs them", core.sessionId(), forgotten);
        }
        if (unit == v.unit && phase == Phase.OPEN) v.then.run();
    }

    /** The model a unit is built against: without named statements and portals when their texts cannot be read. */
    private PgSessionModel modelFor(Unit u) {
        if (!u.withoutNames) return model;
        PgSessionModel view = model.copy();
        view.statements.keySet().removeIf(name -> !name.isEmpty());
        view.portals.keySet().removeIf(name -> !name.isEmpty());
        return view;
    }

    private static String text(byte[] value) {
        return value == null ? "" : new String(value, java.nio.charset.StandardCharsets.UTF_8);
    }

    /** Resolves statements on a catalog snapshot, with the session's search_path as the edge tracks it. */
    private PgCommandBuilder.Resolver resolverOf(Snapshot snapshot) {
        String role = target.user();
        return (raw, path, temp) -> snapshot.resolve(raw,
                path == null ? SearchPath.unknown(role, temp) : new SearchPath(path, true, role, temp), edge.analyzer());
    }

    /**
     * Whether a plan names relations the snapshot did not know while the snapshot is older than a
     * second: they may have been created since it was read, so the unit is built again on a fresh one.
     */
    private static boolean staleFor(PgCommandBuilder.Plan plan, Snapshot snapshot) {
        if (System.nanoTime() - snapshot.readNanos() < java.util.concurrent.TimeUnit.SECONDS.toNanos(1)) return false;
        return plan.statements().stream().anyMatch(st -> st.analysis().uncertainty().stream()
                .anyMatch(u -> u.startsWith("relation ") && u.endsWith(PgCommandBuilder.MISSING_RELATION)));
    }

    private static boolean binds(List<FrontendMessage> messages) {
        return messages.stream().anyMatch(m -> m instanceof FrontendMessage.Bind || m instanceof FrontendMessage.Execute);
    }

    private Unit begin(Unit u) {
        busy = true;
        client.pause();
        unit = u;
        return u;
    }

    /** Analysis or catalog resolution failed: the unit is refused (recorded), never forwarded unanalysed. */
    private Void failBuild(Unit u, Throwable err) {
        scheduler.execute(() -> {
            if (unit != u || phase != Phase.OPEN) return;
            Throwable cause = err instanceof java.util.concurrent.CompletionException && err.getCause() != null ? err.getCause() : err;
            LOGGER.warn("session={} command could not be analysed: {}", core.sessionId(), cause.toString());
            u.plan = new PgCommandBuilder.Plan(List.of(), List.of(), new Refusal(Refusal.Kind.FAILED_CLOSED,
                    "gatehouse: the command was not executed: it could not be analysed (" + cause.getMessage() + ")",
                    "Gatehouse fails closed when it cannot tell what a command does", PgProtocol.SYSTEM_ERROR), true, false,
                    cause.getMessage(), null, java.util.Set.of(), false, false);
            submit(u, null);
        });
        return null;
    }

    private void build(Unit u, PgCommandBuilder.Plan plan, String queryText) {
        u.plan = plan;
        if (!plan.executes() && plan.refusal() == null) {
            // Parse, Describe, Close, Sync, Flush: nothing runs, nothing to decide
            send(u, u.messages);
            return;
        }
        submit(u, queryText);
    }

    private void submit(Unit u, String queryText) {
        PgCommandBuilder.Plan plan = u.plan;
        CommandDraft draft = new CommandDraft(u.form, plan.statements(), queryText, plan.parseable(), plan.parseError(),
                plan.fingerprint(), plan.refusal(), u);
        u.pending = core.submit(draft);
    }

    // ---------------------------------------------------------------- forward, reject

    @Override
    public void forward(PendingCommand pending, Decision decision) {
        Unit u = pending.payload();
        if (decision instanceof Decision.Mask mk) {
            mask(u, mk);
        } else {
            send(u, u.messages);
        }
    }

    /**
     * A Mask decision: the command runs and its result is rewritten as it streams back
     * ({@link ResultMasker}). Anything the edge cannot mask is refused before it reaches the target.
     */
    private void mask(Unit u, Decision.Mask mk) {
        Optional<MaskingProfile> profile = edge.maskingProfiles().find(mk.profile());
        String refusal = profile.isEmpty()
                ? "masking profile \"" + mk.profile() + "\" is not configured on this edge; the command was not executed"
                : u.form == SqlCommand.Form.FUNCTION_CALL
                ? "a function call result cannot be masked; the command was not executed"
                : u.plan.copyTo()
                ? profile.get().copyRefusal().map(r -> "COPY TO is refused: " + r).orElse(null)
                : notOnlyReading(u.plan.statements());
        if (refusal != null) {
            reject(u.pending, new Refusal(Refusal.Kind.DENIED, "gatehouse: denied by rule \"" + mk.ruleId() + "\": " + refusal,
                    "policy version " + mk.policyVersion() + ", command " + u.pending.command().id(), null));
            return;
        }
        edge.targetSnapshot(target).whenComplete((cols, err) -> scheduler.execute(() -> {
            if (unit != u || phase != Phase.OPEN) return;
            if (err != null) {
                reject(u.pending, new Refusal(Refusal.Kind.FAILED_CLOSED, "gatehouse: the command was not executed: the"
                        + " target's catalog could not be read to mask the result (" + unwrap(err).getMessage() + ")",
                        "Gatehouse fails closed when it cannot record or decide a command; retry later", null));
                return;
            }
            boolean derived = readsMaskedRelation(profile.get(), u.plan.tablesRead(), cols);
            ResultMasker masker = new ResultMasker(profile.get(), cols, derived);
            u.masker = masker;
            LOGGER.info("session={} command={} masked rule={} profile={}", core.sessionId(), u.pending.command().id(),
                    mk.ruleId(), mk.profile());
            send(u, u.extended() ? masker.prepare(u.messages) : u.messages);
        }));
    }

    /**
     * Functions with an effect outside the result that a masked value could ride on: a
     * notification to any listening session, a sequence's value, a large object, another
     * connection, an advisory lock's key.
     */
    private static final java.util.regex.Pattern EFFECT_FUNCTIONS = java.util.regex.Pattern.compile(
            "(pg_catalog\\.)?(pg_notify|setval|nextval|lo_\\w+|dblink\\w*|pg_advisory\\w*|pg_try_advisory\\w*)",
            java.util.regex.Pattern.CASE_INSENSITIVE);

    /** Why a command cannot be masked because it does more than read (null: it only reads). */
    static String notOnlyReading(List<CommandStatement> statements) {
        return dev.gatehouse.edge.masking.MaskedCommands.notOnlyReading(statements, EFFECT_FUNCTIONS);
    }

    /**
     * Whether the command reads a relation with a column the profile masks: then every result
     * column not provably from an unmasked table column is masked as a whole (masking by
     * derivation). A name the edge could not qualify with its schema counts for every schema.
     */
    static boolean readsMaskedRelation(MaskingProfile profile, java.util.Set<String> tablesRead, Snapshot catalog) {
        for (String name : tablesRead) {
            String[] parts = name.split("\\.");
            String relation = parts[parts.length - 1];
            if (parts.length >= 2) {
                String schema = parts[parts.length - 2];
                if (profile.masksAnyColumnOf(schema, relation, catalog.columnsOf(schema, relation))) return true;
            } else if (profile.columns().stream().anyMatch(rule -> rule.pattern().table().matcher(relation).matches())) {
                return true;
            }
        }
        return false;
    }

    /** Forwards a unit's messages and expects the target's answers to each. */
    private void send(Unit u, List<FrontendMessage> messages) {
        u.forwarded = messages;
        u.sent = true;
        expectAnswers(u, messages);
        if (target.resultCapture().enabled() && u.pending != null) {
            u.sampler = new ResultSampler(target.resultCapture(), ResultSampler.resultFormatsOf(messages));
        }
        if (u.form == SqlCommand.Form.SIMPLE_QUERY) model.simpleQueryStarts();
        model.forwardedSinceReady = true;
        upstream.writeAll(messages);
        finishIfAnswered(); // a lone Flush has nothing to answer
    }

    /**
     * Queues what the target will answer: the plan's expectations, in message order, with the
     * masker's own Describes (answered, then dropped by the masker) where it inserted them.
     */
    private void expectAnswers(Unit u, List<FrontendMessage> messages) {
        var planned = u.plan.expected().iterator();
        if (!u.extended()) {
            planned.forEachRemaining(tracker::expect);
            return;
        }
        java.util.Set<FrontendMessage> original = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        original.addAll(u.messages);
        for (FrontendMessage m : messages) {
            if (m instanceof FrontendMessage.Flush) continue;
            if (!original.contains(m)) {
                tracker.expect(new PgExpected.Describe(((FrontendMessage.Describe) m).kind() == PgProtocol.TARGET_STATEMENT));
            } else if (planned.hasNext()) {
                tracker.expect(planned.next());
            }
        }
    }

    /**
     * Answers the unit with an error, as the target answers a failed command, and makes the target
     * fail in its place: a simple Query that cannot parse, an Execute of a portal that does not
     * exist (then the batch's Sync), a FunctionCall of no function. So the target aborts an open
     * transaction block, rolls back an implicit transaction that earlier Flush-terminated batches
     * began, and skips to the next Sync exactly as if the command had failed there; client and
     * target agree on the transaction state, and a later COMMIT commits nothing from before.
     */
    @Override
    public void reject(PendingCommand pending, Refusal refusal) {
        Unit u = pending.payload();
        u.rejected = true;
        u.sqlState = sqlState(refusal);
        u.errorMessage = refusal.message();
        u.messages.forEach(PgAdapter::release);
        client.write(BackendMessage.ErrorResponse.error(u.sqlState, refusal.message(), refusal.detail()));
        u.sent = true;
        model.forwardedSinceReady = true;
        switch (u.form) {
            case SIMPLE_QUERY, COPY -> {
                model.simpleQueryStarts();
                tracker.expect(new PgExpected.Query(List.of(), -1, true));
                upstream.write(new FrontendMessage.Query(FAILING_QUERY));
            }
            case FUNCTION_CALL -> {
                tracker.expect(new PgExpected.FunctionCall(PgExpected.NOTHING, -1, true));
                upstream.write(new FrontendMessage.FunctionCall(0, new short[0], List.of(), (short) 0));
            }
            case EXTENDED -> {
                List<FrontendMessage> failing = new ArrayList<>();
                failing.add(new FrontendMessage.Execute(failingPortal(), 0));
                tracker.expect(new PgExpected.Failure());
                if (u.sync) {
                    failing.add(new FrontendMessage.Sync());
                    tracker.expect(new PgExpected.Sync());
                } else {
                    failing.add(new FrontendMessage.Flush());
                }
                upstream.writeAll(failing);
            }
        }
    }

    /** A portal name the session does not have. */
    private String failingPortal() {
        String name;
        do {
            name = FAILING_PORTAL_PREFIX + Long.toHexString(java.util.concurrent.ThreadLocalRandom.current().nextLong());
        } while (model.portals.containsKey(name));
        return name;
    }

    @Override
    public String errorCode(Refusal refusal) {
        return sqlState(refusal);
    }

    private static String sqlState(Refusal refusal) {
        if (refusal.code() != null) return refusal.code();
        return switch (refusal.kind()) {
            case DENIED -> PgProtocol.INSUFFICIENT_PRIVILEGE;
            case FAILED_CLOSED -> PgProtocol.SYSTEM_ERROR;
            case CANCELED, AUTHENTICATION_TIMEOUT -> PgProtocol.QUERY_CANCELED;
            case EDGE -> PgProtocol.INSUFFICIENT_PRIVILEGE;
            case AUTHENTICATION -> PgProtocol.INVALID_AUTHORIZATION;
            case BAD_CREDENTIAL -> PgProtocol.INVALID_PASSWORD;
            case SHUTDOWN, EDGE_SHUTDOWN -> PgProtocol.ADMIN_SHUTDOWN;
            case TARGET_UNAVAILABLE -> PgProtocol.CONNECTION_FAILURE;
            case LOG_UNAVAILABLE -> PgProtocol.CANNOT_CONNECT_NOW;
            case TOO_MANY_CONNECTIONS -> "53300";
            case PROTOCOL -> PgProtocol.PROTOCOL_VIOLATION;
            case INTERNAL -> PgProtocol.INTERNAL_ERROR;
        };
    }

    @Override
    public void notice(String message) {
        client.write(new BackendMessage.NoticeResponse(PgProtocol.SEVERITY_NOTICE, "00000", message, null, null));
    }

    // ---------------------------------------------------------------- target output

    private final PgResponseTracker.Listener answers = new PgResponseTracker.Listener() {
        @Override
        public void completed(int statement, String tag) {
            if (unit == null) return;
            if (tag != null) {
                unit.tags.add(tag);
                unit.rows += BackendFrames.rowsOf(tag);
            }
            if (statement >= 0) unit.statementsRun = Math.max(unit.statementsRun, statement + 1);
        }

        @Override
        public void error(BackendFrame frame) {
            if (unit == null || unit.sqlState != null) return;
            Map<Character, String> fields = BackendFrames.parseErrorOrNotice(frame.payload());
            unit.sqlState = fields.get(PgProtocol.FIELD_CODE);
            // a masked command's error may echo a value it read: the record keeps what the client saw
            unit.errorMessage = unit.masker == null ? fields.get(PgProtocol.FIELD_MESSAGE)
                    : "the error text is withheld because the command's result is masked (SQLSTATE " + unit.sqlState + ")";
        }

        @Override
        public void copyIn() {
            if (unit == null) return;
            unit.copyIn = true;
            client.resume();
        }

        @Override
        public void ready(char status) {
            if (unit != null) unit.txStatus = String.valueOf(status);
        }
    };

    /** One frame from the target, once logged in. */
    void onTargetFrame(BackendFrame frame) {
        if (phase == Phase.CLOSED) {
            frame.release();
            return;
        }
        byte type = frame.type();
        if (type == PgProtocol.BE_PARAMETER_STATUS && !pinnedStatusHolds(frame)) return;
        if (verification != null && type != PgProtocol.BE_NOTICE_RESPONSE && type != PgProtocol.BE_PARAMETER_STATUS
                && type != PgProtocol.BE_NOTIFICATION_RESPONSE) {
            onVerificationFrame(frame);
            return;
        }
        Unit u = unit;
        boolean relay;
        try {
            relay = tracker.onFrame(frame, answers);
        } catch (PgResponseTracker.TargetProtocolException e) {
            frame.release();
            LOGGER.error("session={} {}", core.sessionId(), e.getMessage());
            core.fatal(new Refusal(Refusal.Kind.INTERNAL, "gatehouse: " + e.getMessage() + "; the session is closed", null, null),
                    "target protocol: " + e.getMessage());
            return;
        }
        if (!relay) {
            frame.release();
            finishIfAnswered();
            return;
        }
        if (u != null && u.masker != null) {
            ResultMasker.Rewrite rewrite;
            try {
                rewrite = u.masker.onFrame(frame);
            } catch (ResultMasker.MaskingFailure e) {
                LOGGER.warn("session={} masked result refused: {}", core.sessionId(), e.getMessage());
                u.errorMessage = "result not masked: " + e.getMessage();
                core.fatal(new Refusal(Refusal.Kind.DENIED, "gatehouse: the result cannot be masked, so it is not relayed and"
                        + " the session is closed: " + e.getMessage(), null, null), "masking failed: " + e.getMessage());
                return;
            }
            if (rewrite.dropped()) {
                finishIfAnswered();
                return;
            }
            if (rewrite.frame() != frame.frame()) frame = new BackendFrame(rewrite.frame());
        }
        if (u != null) {
            u.bytesToClient += frame.size();
            if (u.sampler != null) u.sampler.onFrame(frame); // after masking: only masked values are sampled
        }
        boolean endOfAnswer = type == PgProtocol.BE_READY_FOR_QUERY;
        client.relay(frame.frame());
        unflushed = true;
        if (endOfAnswer || (u != null && u.copyIn)) {
            flushClient();
        } else if (client.writeQueueFull()) {
            // the client reads slower than the target answers: stop reading from the target until it
            // has taken what is queued (bounded memory for any result size)
            flushClient();
            if (!upstreamPaused && client.writeQueueFull()) {
                upstreamPaused = true;
                upstream.pause();
            }
        }
        finishIfAnswered();
    }

    /**
     * A ParameterStatus: when it reports a pinned setting at another value, the target no longer
     * reads SQL as the edge does; the session ends (the frame is not relayed).
     */
    private boolean pinnedStatusHolds(BackendFrame frame) {
        Map.Entry<String, String> kv = BackendFrames.parseParameterStatus(frame.payload());
        String name = kv.getKey().toLowerCase(Locale.ROOT);
        if (!PgCommandBuilder.PINNED.containsKey(name) || PgCommandBuilder.pinnedValue(name, kv.getValue())) return true;
        frame.release();
        LOGGER.warn("session={} the target reports {}={}: ending the session", core.sessionId(), name, kv.getValue());
        core.fatal(new Refusal(Refusal.Kind.EDGE, "gatehouse: the target now reports " + name + "=" + kv.getValue()
                + ", but Gatehouse keeps it at " + PgCommandBuilder.PINNED.get(name) + " to read SQL as the target does;"
                + " the session is closed", null, PgProtocol.ADMIN_SHUTDOWN), "pinned setting changed: " + name);
        return false;
    }

    /** When every message of the unit in flight is answered: record it and take the next input. */
    private void finishIfAnswered() {
        Unit u = unit;
        if (u == null || !u.sent || !tracker.idle() || u.copyIn || phase != Phase.OPEN) return;
        unit = null;
        if (unflushed) flushClient();
        if (u.pending != null) {
            List<AuditEvent.ResultSampled> samples = u.sampler == null || u.pending.completed() ? List.of()
                    : u.sampler.events(core::header, u.pending.command().id(), u.pending.command().sequence(), u.masker != null);
            AuditEvent.Masking masking = u.masker == null ? null : new AuditEvent.Masking(u.masker.profile().name(),
                    u.masker.stats().values(), u.masker.stats().columns(), u.masker.stats().detectors());
            boolean committedChange = model.catalogCommitted;
            model.catalogCommitted = false;
            if ((u.masker != null && u.masker.unknownTables() > 0) || (changesCatalog(u.plan) && u.statementsRun > 0)
                    || committedChange) {
                edge.targetCatalog().invalidate(target);
            }
            core.completed(u.pending, new CommandResult(u.pending.forwarded() && !u.rejected, u.tags, u.rows, u.sqlState,
                    u.errorMessage, u.bytesToClient, u.txStatus, masking, u.rejected ? 0 : u.statementsRun, samples));
        }
        busy = false;
        drainQueue();
    }

    /** Whether a plan may change what the target's catalog says (DDL, DCL, code blocks). */
    private static boolean changesCatalog(PgCommandBuilder.Plan plan) {
        return plan != null && plan.statements().stream().anyMatch(st -> PgCommandBuilder.mayChangeCatalog(st.analysis()));
    }

    private void drainQueue() {
        while (!busy && phase == Phase.OPEN && !queued.isEmpty()) {
            onMessage(queued.poll());
        }
        if (!busy && phase == Phase.OPEN) client.resume();
    }

    void onClientWritable() {
        if (upstreamPaused && upstream != null) {
            upstreamPaused = false;
            upstream.resume();
        }
    }

    /** End of a batch of reads from the target: what was relayed goes out in one flush. */
    void onTargetReadComplete() {
        if (unflushed) flushClient();
    }

    private void flushClient() {
        unflushed = false;
        client.flush();
    }

    void onTargetClosed(Throwable cause) {
        if (phase == Phase.CLOSED) return;
        String why = cause == null ? "the target closed the connection" : "the target connection failed: " + cause.getMessage();
        LOGGER.info("session={} {}", core.sessionId(), why);
        core.fatal(new Refusal(Refusal.Kind.TARGET_UNAVAILABLE, "gatehouse: " + why, null, null), why);
    }

    // ---------------------------------------------------------------- login to the target

    @Override
    public CompletionStage<TargetLogin> connectTarget(TargetConnection connection) {
        Map<String, String> params = upstreamParameters();
        login = new CompletableFuture<>();
        upstream = edge.openTarget(connection, params, new Upstream.Listener() {
            @Override
            public void onUpstreamFrame(BackendFrame frame) {
                PgAdapter.this.onTargetFrame(frame);
            }

            @Override
            public void onUpstreamReadComplete() {
                PgAdapter.this.onTargetReadComplete();
            }

            @Override
            public void onUpstreamClosed(Throwable cause) {
                if (login != null && !login.isDone()) {
                    login.completeExceptionally(new IllegalStateException("the target closed the connection during login"));
                } else {
                    PgAdapter.this.onTargetClosed(cause);
                }
            }
        });
        CompletableFuture<Snapshot> snapshot = edge.targetSnapshot(connection).toCompletableFuture();
        upstream.connect().thenCombine(snapshot, (ready, catalog) -> {
            scheduler.execute(() -> {
                for (Map.Entry<String, String> p : ready.parameterStatus().entrySet()) {
                    String name = p.getKey().toLowerCase(Locale.ROOT);
                    if (PgCommandBuilder.PINNED.containsKey(name) && !PgCommandBuilder.pinnedValue(name, p.getValue())) {
                        login.completeExceptionally(new IllegalStateException("the target reports " + name + "=" + p.getValue()
                                + " after login, not " + PgCommandBuilder.PINNED.get(name)));
                        upstream.close();
                        return;
                    }
                }
                targetParameterStatus = ready.parameterStatus();
                targetProcessId = ready.processId();
                List<String> path = startupSearchPath();
                model.loggedIn(path != null ? path : PgCommandBuilder.searchPathItems(catalog.searchPath()));
                login.complete(new TargetLogin(params, targetProcessId));
            });
            return null;
        }).exceptionally(err -> {
            scheduler.execute(() -> {
                if (upstream != null) upstream.close();
                login.completeExceptionally(unwrap(err));
            });
            return null;
        });
        return login;
    }

    /**
     * The search_path the session starts with when the client set it at startup ({@code search_path}
     * parameter or {@code -c search_path=} in options, the parameter winning); otherwise the role's
     * and database's default, which the edge does not ask the session for (every statement the
     * target logs for a session is one of the client's): the catalog reads it on its own connection.
     */
    private List<String> startupSearchPath() {
        String value = null;
        String options = startupParameters.get("options");
        if (options != null) {
            List<String[]> settings = PgStartupOptions.settings(options);
            if (settings != null) {
                for (String[] setting : settings) if (setting[0].equals("search_path")) value = setting[1];
            }
        }
        for (Map.Entry<String, String> p : startupParameters.entrySet()) {
            if (p.getKey().equalsIgnoreCase("search_path")) value = p.getValue();
        }
        return value == null ? null : PgCommandBuilder.searchPathItems(value);
    }


    /**
     * The startup parameters the edge sends the target: the client's, without user, database,
     * replication and protocol options, with the pinned settings last (explicit startup parameters
     * are applied after {@code options} and override role and database settings).
     */
    private Map<String, String> upstreamParameters() {
        Map<String, String> params = new LinkedHashMap<>();
        startupParameters.forEach((k, v) -> {
            String name = k.toLowerCase(Locale.ROOT);
            if (name.equals("user") || name.equals("database") || name.equals("replication") || name.startsWith("_pq_.")
                    || PgCommandBuilder.PINNED.containsKey(name)) {
                return;
            }
            params.put(k, v);
        });
        params.putAll(PgCommandBuilder.PINNED);
        return params;
    }

    @Override
    public void register() {
        client.register();
    }

    @Override
    public void unregister() {
        client.unregister();
    }

    @Override
    public void opened() {
        phase = Phase.OPEN;
        client.write(new BackendMessage.AuthenticationOk());
        targetParameterStatus.forEach((k, v) -> client.write(new BackendMessage.ParameterStatus(k, v)));
        client.write(new BackendMessage.BackendKeyData(client.processId(), client.secretKey()));
        client.write(new BackendMessage.ReadyForQuery(PgProtocol.TX_IDLE));
        drainQueue();
    }

    // ---------------------------------------------------------------- end

    @Override
    public void fatal(Refusal refusal) {
        client.write(BackendMessage.ErrorResponse.fatal(sqlState(refusal), refusal.message(), refusal.detail()));
    }

    @Override
    public void cancelAtTarget() {
        if (upstream != null) upstream.cancel();
    }

    private void terminate() {
        if (upstream != null) upstream.write(new FrontendMessage.Terminate());
        core.close("client terminated");
    }

    @Override
    public void close() {
        if (phase == Phase.CLOSED) return;
        phase = Phase.CLOSED;
        queued.forEach(PgAdapter::release);
        queued.clear();
        batch.forEach(PgAdapter::release);
        batch.clear();
        if (login != null && !login.isDone()) login.completeExceptionally(new IllegalStateException("session closed"));
        if (upstream != null) upstream.close();
        client.close();
    }

    /** The client or its connection went away. */
    void onClientClosed() {
        if (phase == Phase.CLOSED) return;
        core.close(core.state() instanceof SessionState.Starting ? null : "client disconnected");
    }

    static void release(FrontendMessage m) {
        if (m instanceof FrontendMessage.CopyData d) d.data().release();
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }
}
