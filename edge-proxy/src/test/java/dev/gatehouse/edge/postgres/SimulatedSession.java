package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.EdgeMetrics;
import dev.gatehouse.edge.PgEdgeConfig;
import dev.gatehouse.edge.RevocationCheck;
import dev.gatehouse.edge.catalog.ConnectionCatalog;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.masking.MaskingProfiles;
import dev.gatehouse.edge.postgres.catalog.Snapshot;
import dev.gatehouse.edge.postgres.catalog.TargetCatalog;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.edge.session.ManualScheduler;
import dev.gatehouse.edge.session.SessionCore;
import dev.gatehouse.edge.session.SessionPorts;
import dev.gatehouse.edge.session.SessionState;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.ParsedSql;
import dev.gatehouse.platform.core.RoutineAnalysis;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlAnalyzer;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.testsupport.InMemoryDecisionPort;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.vertx.core.net.NetClient;

import java.time.Duration;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.regex.Pattern;

/**
 * A PostgreSQL session through the session core and its adapter, entirely on the calling thread:
 * client messages are handed in one by one, the target is a {@link SimulatedPostgres}, decisions
 * come at once from an {@link InMemoryDecisionPort}, the catalog is empty and every task and timer
 * runs on a {@link ManualScheduler}. For the session's fuzz target, which is why it is public;
 * it checks as it runs what the edge promises whatever the client sends:
 * <ul>
 *   <li>no internal error: the edge answers any input with protocol errors, never by failing
 *       itself (an {@code XX000} FATAL, which the adapter sends for an exception it caught or an
 *       answer of the target it cannot place);
 *   <li>every simple Query and every Execute the target receives is the edge's own (its failing
 *       query, its failing portal, its reading of the session's names) or a statement of a
 *       command that was recorded and allowed before it reached the target;
 *   <li>nothing the policy denies reaches the target: it denies any command whose text mentions
 *       {@code delete}, {@code drop} or {@code secret}, and the target checks every text it runs
 *       for those words itself;
 *   <li>{@link #assertSettled()}: with nothing left to run, the session is open and idle (the
 *       client is read again, the target said all it had to) or closed;
 *   <li>{@link #end}: it closes cleanly, the target connection included, and no timer of it is left.
 * </ul>
 * A command mentioning {@code masked} is masked with a profile the edge does not have (refused); one
 * mentioning {@code approve} is held for an approval, which {@link #answerApproval} gives or refuses
 * (recorded as the approval service records it).
 */
public final class SimulatedSession {

    /** What the policy denies: judged on the text, so that the target can check what it runs. */
    private static final Pattern DENIED = Pattern.compile("delete|drop|secret", Pattern.CASE_INSENSITIVE);
    private static final Identity IDENTITY = new Identity("fuzz", "https://issuer.test", List.of("dba"), List.of(), Map.of(), null);
    private static final TargetConnection TARGET = new TargetConnection("target", "127.0.0.1", 5432, "fuzz", "fuzz", "",
            false, null, TargetConnection.Mode.ENFORCE, Map.of("env", "fuzz"));
    private static final PgEdgeConfig CONFIG = new PgEdgeConfig("127.0.0.1", 0, null, null, true, Duration.ofSeconds(5),
            1 << 20, 1024, "edge-fuzz");
    private static final EdgeMetrics METRICS = new EdgeMetrics(new SimpleMeterRegistry(), "postgres", () -> 0, () -> 0);

    /**
     * How the session's surroundings behave, chosen by the fuzzer.
     *
     * @param framePerRead the target's answers arrive one frame per read
     * @param slowClient   every third write finds the client's queue full (the edge pauses the target)
     * @param logDown      once the session is open the audit log is unreachable: every command fails closed
     */
    public record Options(boolean framePerRead, boolean slowClient, boolean logDown) {
    }

    private final ManualScheduler scheduler = new ManualScheduler();
    private final InMemoryDecisionPort log = new InMemoryDecisionPort(SimulatedSession::decide);
    private final ByteBufAllocator alloc;
    private final Options options;
    private final Client client;
    private final PgAdapter adapter;
    private final SessionCore core;
    private SimulatedPostgres target;

    private SimulatedSession(ByteBufAllocator alloc, SqlAnalyzer analyzer, Options options) {
        this.alloc = alloc;
        this.options = options;
        this.client = new Client();
        Authenticator authenticator = token -> CompletableFuture.completedFuture(IDENTITY);
        SessionPorts ports = new SessionPorts(authenticator, log, log, () -> RevocationCheck.NONE, METRICS, "edge-fuzz",
                Duration.ofSeconds(5), () -> Duration.ofSeconds(30), Duration.ofSeconds(60));
        this.adapter = new PgAdapter(new Edge(new OnThisThread(analyzer), Snapshot.empty("fuzz", "\"$user\", public")), client,
                scheduler);
        this.core = new SessionCore(ports, scheduler, adapter, SessionId.random(), "127.0.0.1:1", "127.0.0.1");
        adapter.attach(core);
    }

    /**
     * A session logged in as {@code fuzz} to the connection {@code target}, after its first
     * ReadyForQuery; its buffers come from {@code alloc}.
     */
    public static SimulatedSession open(ByteBufAllocator alloc, SqlAnalyzer analyzer, Options options) {
        SimulatedSession s = new SimulatedSession(alloc, analyzer, options);
        s.core.start();
        LinkedHashMap<String, String> startup = new LinkedHashMap<>();
        startup.put("user", "fuzz");
        startup.put("database", "target");
        startup.put("application_name", "fuzz");
        s.adapter.onClientMessage(new FrontendMessage.StartupMessage(PgProtocol.PROTOCOL_VERSION_3_0, startup));
        s.adapter.onClientMessage(FrontendMessage.PasswordMessage.cleartext("token"));
        s.settle();
        if (!(s.core.state() instanceof SessionState.Open) || s.client.readyForQuery == 0) {
            throw new AssertionError("the session did not open: " + s.core.state());
        }
        if (options.logDown()) s.log.failAppends(true);
        return s;
    }

    /** One message from the client, as its socket decoded it. */
    public void send(FrontendMessage m) {
        adapter.onClientMessage(m);
        client.check();
    }

    /** Whether the edge has stopped reading from the client (a unit is in flight). */
    public boolean clientPaused() {
        return client.paused;
    }

    public boolean closed() {
        return core.isClosed();
    }

    /** The client's CancelRequest, routed to this session. */
    public void cancel() {
        core.cancel();
        client.check();
    }

    /** The approval service's answer to the command held for approval, if one is held. */
    public void answerApproval(boolean allow) {
        if (!(core.state() instanceof SessionState.Holding h)) return;
        var id = h.command().command().id();
        Decision outcome = allow ? new Decision.Allow(id, "approved", "approved", "fuzz")
                : new Decision.Deny(id, "refused", "refused", "fuzz");
        if (allow) {
            log.append(new AuditEvent.DecisionMade(dev.gatehouse.platform.core.EventHeader.now(core.sessionId(), "approvals", "fuzz"),
                    id, h.command().command().sequence(), outcome, "edge-fuzz", 0, "enforce", Duration.ZERO));
        }
        log.outcome(id, outcome);
        client.check();
    }

    /** Runs everything queued (the target's answers, decisions, what they start) until nothing is left. */
    public void settle() {
        for (int round = 0; round < 1000; round++) {
            scheduler.runAll();
            client.check();
            if (target == null || !target.paused() || core.isClosed()) return;
            adapter.onClientWritable(); // the slow client has read what was queued
        }
        throw new AssertionError("the target's answers are still held back after 1000 rounds of the client reading them");
    }

    /** With nothing left to run: the session is open and idle, holds a command for a person to approve, or is closed. */
    public void assertSettled() {
        settle();
        if (core.isClosed() || core.state() instanceof SessionState.Holding) return;
        if (!(core.state() instanceof SessionState.Open)) {
            throw new AssertionError("nothing is left to run, yet the session is " + core.state());
        }
        if (client.paused) throw new AssertionError("nothing is left to run, yet the edge no longer reads the client");
        if (target.hasOutput()) throw new AssertionError("nothing is left to run, yet the target's answers are not read");
    }

    /**
     * The client leaves: its connection drops, after a Terminate if {@code terminate} (which waits
     * its turn behind a command in flight, as in PostgreSQL); all is closed after.
     */
    public void end(boolean terminate) {
        if (terminate) {
            send(new FrontendMessage.Terminate());
            settle();
        }
        adapter.onClientClosed();
        settle();
        if (!core.isClosed() || !client.closed || (target != null && !target.closed())) {
            throw new AssertionError("the session did not close: " + core.state() + ", client closed " + client.closed
                    + ", target closed " + (target == null || target.closed()));
        }
        if (scheduler.pendingTimers() > 0) {
            throw new AssertionError(scheduler.pendingTimers() + " timer(s) outlive the closed session");
        }
    }

    // ---------------------------------------------------------------- the policy and the checks

    private static Decision decide(AuditEvent.DecisionRequest request) {
        if (!(request instanceof AuditEvent.CommandReceived c)) {
            return new Decision.Allow(request.requestId(), "connect", "allowed", "fuzz");
        }
        String text = textOf(c.command());
        if (DENIED.matcher(text).find()) return new Decision.Deny(request.requestId(), "deny-words", "denied", "fuzz");
        if (text.toLowerCase(Locale.ROOT).contains("approve")) {
            return new Decision.RequireApproval(request.requestId(), "approve-words", "approval", "fuzz", "dba", 1,
                    "approval-" + request.requestId(), Decision.RequireApproval.HOLD, null, "#fuzz");
        }
        if (text.toLowerCase(Locale.ROOT).contains("masked")) {
            return new Decision.Mask(request.requestId(), "mask-words", "masked", "fuzz", "fuzz");
        }
        return new Decision.Allow(request.requestId(), "allow", "allowed", "fuzz");
    }

    private static String textOf(SqlCommand command) {
        StringBuilder b = new StringBuilder(command.sql() == null ? "" : command.sql());
        for (CommandStatement st : command.statements()) {
            b.append('\n').append(st.sql());
            if (st.via() != null) b.append('\n').append(st.via());
        }
        return b.toString();
    }

    /** The commands recorded so far whose decision let them run (allowed or masked). */
    private List<SqlCommand> allowedCommands() {
        Set<Object> allowed = new HashSet<>();
        for (AuditEvent.DecisionMade d : log.events(AuditEvent.DecisionMade.class)) {
            if (d.decision() instanceof Decision.Allow || d.decision() instanceof Decision.Mask) allowed.add(d.commandId());
        }
        return log.events(AuditEvent.CommandReceived.class).stream()
                .filter(c -> c.refusal() == null && allowed.contains(c.requestId()))
                .map(AuditEvent.CommandReceived::command)
                .toList();
    }

    private final SimulatedPostgres.Observer observer = new SimulatedPostgres.Observer() {
        @Override
        public void query(String sql) {
            if (sql.equals(PgAdapter.FAILING_QUERY)) return;
            notDenied(sql);
            if (allowedCommands().stream().noneMatch(c -> c.form() == SqlCommand.Form.SIMPLE_QUERY && sql.equals(c.sql()))) {
                throw new AssertionError("the target received a Query no allowed, recorded command holds: " + sql);
            }
        }

        @Override
        public void execute(String portal, String statementName, String sql) {
            if (portal.equals(PgAdapter.VERIFY_NAME) && PgAdapter.VERIFY_NAME.equals(statementName)
                    && sql.equals(PgAdapter.VERIFY_QUERY)) {
                return;
            }
            notDenied(sql);
            String text = normalized(sql);
            boolean recorded = allowedCommands().stream().flatMap(c -> c.statements().stream())
                    .anyMatch(st -> st.step() == CommandStatement.Step.EXECUTE
                            && ((portal.equals(st.portalName()) && matches(text, st.sql()))
                            || (st.via() != null && matches(text, st.via()))));
            if (!recorded) {
                throw new AssertionError("the target received an Execute of portal \"" + portal + "\" (" + sql
                        + ") that no allowed, recorded command holds; the allowed statements: " + allowedCommands().stream()
                        .flatMap(c -> c.statements().stream())
                        .map(st -> st.step() + " portal=" + st.portalName() + " sql=" + st.sql() + " via=" + st.via()).toList());
            }
        }

        private void notDenied(String sql) {
            if (DENIED.matcher(sql).find()) throw new AssertionError("a statement the policy denies reached the target: " + sql);
        }
    };

    /**
     * Whether the target's text of a portal is a recorded statement's text (of that portal), or the
     * text it was reached through ({@code via}: an SQL-level EXECUTE or FETCH, recorded as what the
     * prepared statement or cursor runs), or holds it (the edge records a statement's span).
     */
    private static boolean matches(String portalText, String recorded) {
        String r = normalized(recorded);
        return portalText.equals(r) || (!r.isEmpty() && portalText.contains(r));
    }

    private static String normalized(String sql) {
        String s = sql.strip();
        while (s.endsWith(";")) s = s.substring(0, s.length() - 1).strip();
        return s;
    }

    // ---------------------------------------------------------------- the edge, the client, the analyser

    /** The edge's pieces: the simulated target, an empty catalog, no masking profiles. */
    private final class Edge implements PgAdapter.Edge {
        private final SqlAnalyzer analyzer;
        private final Snapshot snapshot;
        private final TargetCatalog targetCatalog = new TargetCatalog(null, Duration.ofMinutes(1), Duration.ofSeconds(1));

        Edge(SqlAnalyzer analyzer, Snapshot snapshot) {
            this.analyzer = analyzer;
            this.snapshot = snapshot;
        }

        @Override
        public PgEdgeConfig config() {
            return CONFIG;
        }

        @Override
        public ConnectionCatalog catalog() {
            return new ConnectionCatalog(List.of(TARGET));
        }

        @Override
        public SqlAnalyzer analyzer() {
            return analyzer;
        }

        @Override
        public MaskingProfiles maskingProfiles() {
            return MaskingProfiles.NONE;
        }

        @Override
        public TargetCatalog targetCatalog() {
            return targetCatalog; // only invalidated: the snapshot below is the catalog
        }

        @Override
        public NetClient netClient() {
            throw new UnsupportedOperationException("the simulated session has no network");
        }

        @Override
        public CompletionStage<Snapshot> targetSnapshot(TargetConnection connection) {
            return CompletableFuture.completedFuture(snapshot);
        }

        @Override
        public PgTarget openTarget(TargetConnection connection, Map<String, String> parameters, Upstream.Listener listener) {
            target = new SimulatedPostgres(listener, scheduler, alloc, observer, options.framePerRead());
            return target;
        }
    }

    /** The client side, in memory: what it receives is checked and released at once. */
    private final class Client extends InMemoryPgClient {
        int readyForQuery;
        int writes;
        String internalError;

        Client() {
            super(alloc);
        }

        @Override
        void receive(ByteBuf frame) {
            try {
                byte type = frame.getByte(frame.readerIndex());
                if (type == PgProtocol.BE_READY_FOR_QUERY) readyForQuery++;
                if (type == PgProtocol.BE_ERROR_RESPONSE) {
                    Map<Character, String> fields = BackendFrames.parseErrorOrNotice(frame.slice(frame.readerIndex() + 5,
                            frame.readableBytes() - 5));
                    if (PgProtocol.INTERNAL_ERROR.equals(fields.get(PgProtocol.FIELD_CODE)) && internalError == null) {
                        internalError = fields.get(PgProtocol.FIELD_MESSAGE);
                    }
                }
            } finally {
                frame.release();
            }
        }

        /** Fails on an internal error the edge reported to the client. */
        void check() {
            if (internalError != null) throw new AssertionError("the edge failed internally: " + internalError);
        }

        @Override
        public boolean writeQueueFull() {
            return options.slowClient() && ++writes % 3 == 0;
        }
    }

    /** The texts parsed lately: parsing is a pure function of the text, and most inputs repeat a few texts. */
    private static final Map<String, ParsedSql> PARSED = java.util.Collections.synchronizedMap(
            new LinkedHashMap<>(256, 0.75f, true) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<String, ParsedSql> eldest) {
                    return size() > 4096;
                }
            });

    /**
     * An analyser whose asynchronous parse completes on the calling thread: the session's tasks then
     * all run on the fuzzing thread, in an order that depends on the input alone. Parses are
     * remembered ({@link #PARSED}), which makes a session several times faster.
     */
    private record OnThisThread(SqlAnalyzer analyzer) implements SqlAnalyzer {
        @Override
        public SqlAnalysis analyze(String sql) {
            return analyzer.analyze(sql);
        }

        @Override
        public ParsedSql parse(String sql) {
            ParsedSql parsed = PARSED.get(sql);
            if (parsed == null) {
                parsed = analyzer.parse(sql);
                PARSED.put(sql, parsed);
            }
            return parsed;
        }

        @Override
        public CompletionStage<ParsedSql> parseAsync(String sql) {
            return CompletableFuture.completedFuture(parse(sql));
        }

        @Override
        public CompletionStage<SqlAnalysis> analyzeAsync(String sql) {
            return CompletableFuture.completedFuture(analyzer.analyze(sql));
        }

        @Override
        public RoutineAnalysis analyzeRoutine(String language, String definition) {
            return analyzer.analyzeRoutine(language, definition);
        }
    }
}
