package dev.gatehouse.edge.postgres;

import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.SessionRegistry;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.edge.postgres.codec.BackendFrame;
import dev.gatehouse.edge.postgres.codec.BackendFrames;
import dev.gatehouse.edge.postgres.codec.BackendMessage;
import dev.gatehouse.edge.postgres.codec.FrontendMessage;
import dev.gatehouse.edge.postgres.codec.PgProtocol;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DecisionUnavailableException;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlCommand;
import io.vertx.core.Context;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.net.NetSocket;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * One client session: the PostgreSQL protocol state machine between a client and its target.
 *
 * <p>Everything here runs on the session's event loop. While a command waits for its decision,
 * or while its answer streams back, the client socket is paused: the edge never buffers client
 * input without bound. Each command is written to the audit log before any of it is forwarded.
 */
final class PgSession implements SessionRegistry.LiveSession {
    private static final Logger LOGGER = LoggerFactory.getLogger(PgSession.class);
    /** How long a held command waits beyond its approval's expiry for the outcome before failing closed. */
    static final Duration APPROVAL_GRACE = Duration.ofSeconds(30);
    /** The wait when a held approval names no expiry. */
    private static final Duration DEFAULT_APPROVAL_WAIT = Duration.ofMinutes(10);
    /** The rule id of the approval service's denial of an expired request. */
    private static final String APPROVAL_EXPIRED_RULE = "approval-expired";

    private enum State { STARTUP, AWAIT_PASSWORD, AUTHENTICATING, CONNECTING, READY, DECIDING, IN_FLIGHT, CLOSED }

    private final PgEdge edge;
    private final NetSocket client;
    private final Context context;
    private final String clientAddress;
    private final SessionId sessionId = SessionId.random();
    private final int processId;
    private final int secretKey;
    private final Instant openedAt = Instant.now();
    private final ArrayDeque<FrontendMessage> queued = new ArrayDeque<>();

    private State state = State.STARTUP;
    private boolean tls;
    private Map<String, String> startupParameters = Map.of();
    private TargetConnection target;
    private Identity identity;
    private Upstream upstream;
    private long sequence;
    private char txStatus = 'I';

    // the extended-protocol messages of the current batch, up to Sync or Flush
    private final ExtendedBatch batch = new ExtendedBatch();
    private boolean discardUntilSync;

    // the command in flight
    private InFlight inFlight;
    // the masker of the masked command whose answer is streaming, until the target's ReadyForQuery
    private ResultMasker activeMasker;
    // Flush-terminated commands forwarded and answered without a ReadyForQuery yet
    private final List<InFlight> flushed = new ArrayList<>();
    // frames relayed to the client and not flushed yet
    private boolean unflushed;
    // reading from the target is paused until the client's outbound buffer drains
    private boolean upstreamPaused;
    // the timer that ends the session when its token expires (plus grace), or -1
    private long tokenExpiryTimer = -1;

    PgSession(PgEdge edge, NetSocket client, Context context) {
        this.edge = edge;
        this.client = client;
        this.context = context;
        this.clientAddress = String.valueOf(client.remoteAddress());
        this.processId = edge.registry().newProcessId();
        this.secretKey = edge.registry().newSecretKey();
    }

    void start() {
        PgSocketBridge.installFrontend(client, edge.config().maxMessageSize(), this::onClientMessage);
        PgSocketBridge.onWritable(client, this::onClientWritable);
        client.exceptionHandler(this::onClientError);
        client.closeHandler(v -> onClientClosed());
    }

    @Override
    public SessionId sessionId() {
        return sessionId;
    }

    @Override
    public int processId() {
        return processId;
    }

    @Override
    public int secretKey() {
        return secretKey;
    }

    /** The authenticated identity (null before authentication). */
    Identity identity() {
        return identity;
    }

    /** This session as the fleet's session directory lists it; only for registered (opened) sessions. */
    dev.gatehouse.platform.revocation.SessionInfo info() {
        var ci = identity.ci();
        return new dev.gatehouse.platform.revocation.SessionInfo(sessionId.value(), identity.subject(), identity.issuer(),
                identity.groups(), ci == null ? null : ci.repository(), ci == null ? null : ci.commitSha(), target.name(),
                clientAddress, openedAt);
    }

    // ---------------------------------------------------------------- client input

    private void onClientMessage(Object msg) {
        if (!(msg instanceof FrontendMessage m)) {
            LOGGER.warn("session={} unexpected object from client pipeline: {}", sessionId, msg.getClass().getName());
            return;
        }
        try {
            switch (state) {
                case STARTUP -> onStartupPhase(m);
                case AWAIT_PASSWORD -> onPassword(m);
                case READY -> onReady(m);
                case IN_FLIGHT -> onWhileInFlight(m);
                case AUTHENTICATING, CONNECTING, DECIDING -> queue(m);
                case CLOSED -> release(m);
            }
        } catch (RuntimeException e) {
            LOGGER.error("session={} internal error handling {}", sessionId, m.getClass().getSimpleName(), e);
            release(m);
            fatal(PgProtocol.INTERNAL_ERROR, "gatehouse internal error; the session is closed", "session-error: " + e);
        }
    }

    private void queue(FrontendMessage m) {
        queued.add(m);
        client.pause();
    }

    private void onStartupPhase(FrontendMessage m) {
        switch (m) {
            case FrontendMessage.SslRequest r -> {
                if (edge.config().tlsEnabled() && !tls) {
                    // the 'S' goes out through upgradeToSsl, which installs the TLS handler as soon as
                    // it is written: written first, the client's ClientHello could reach the
                    // PostgreSQL decoder while the TLS context is still being resolved
                    Buffer accept = encode(new BackendMessage.SslResponse((byte) 'S'));
                    client.upgradeToSsl(edge.serverSslOptions(), accept).onComplete(ar -> {
                        if (ar.succeeded()) {
                            tls = true;
                        } else {
                            LOGGER.info("session={} client={} TLS handshake failed: {}", sessionId, clientAddress,
                                    ar.cause().getMessage());
                            violation("TLS handshake failed: " + ar.cause().getMessage());
                            close("tls handshake failed");
                        }
                    });
                } else {
                    client.write(encode(new BackendMessage.SslResponse((byte) 'N')));
                }
            }
            case FrontendMessage.GssEncRequest r -> client.write(encode(new BackendMessage.SslResponse((byte) 'N')));
            case FrontendMessage.CancelRequest c -> {
                edge.cancel(c.processId(), c.secretKey(), clientAddress);
                close(null);
            }
            case FrontendMessage.StartupMessage s -> onStartup(s);
            default -> {
                release(m);
                protocolViolation("expected a startup message, got " + m.getClass().getSimpleName());
            }
        }
    }

    private void onStartup(FrontendMessage.StartupMessage s) {
        startupParameters = new LinkedHashMap<>(s.parameters());
        String database = startupParameters.getOrDefault("database", startupParameters.get("user"));
        String user = startupParameters.get("user");
        if (!tls && !edge.config().allowPlaintext()) {
            reject(PgProtocol.INVALID_AUTHORIZATION, "Gatehouse requires TLS: connect with sslmode=require", database, user);
            return;
        }
        String replication = startupParameters.get("replication");
        if (replication != null && !replication.equalsIgnoreCase("false") && !replication.equals("0")
                && !replication.equalsIgnoreCase("off") && !replication.equalsIgnoreCase("no")) {
            reject(PgProtocol.FEATURE_NOT_SUPPORTED,
                    "replication connections are not supported through Gatehouse; connect to the target directly", database, user);
            return;
        }
        if (user == null || user.isBlank()) {
            reject(PgProtocol.INVALID_AUTHORIZATION, "no PostgreSQL user name specified in startup packet", database, null);
            return;
        }
        Optional<TargetConnection> found = edge.catalog().find(database);
        if (found.isEmpty()) {
            reject(PgProtocol.INVALID_CATALOG_NAME, "connection \"" + database + "\" is not configured in Gatehouse"
                    + " (dbname selects one of: " + String.join(", ", edge.catalog().all().stream().map(TargetConnection::name).toList()) + ")",
                    database, user);
            return;
        }
        target = found.get();
        state = State.AWAIT_PASSWORD;
        client.write(encode(new BackendMessage.AuthenticationCleartextPassword()));
    }

    private void onPassword(FrontendMessage m) {
        if (!(m instanceof FrontendMessage.PasswordMessage p)) {
            release(m);
            protocolViolation("expected a password message, got " + m.getClass().getSimpleName());
            return;
        }
        String token = p.asCleartext();
        state = State.AUTHENTICATING;
        client.pause();
        edge.authenticator().authenticate(token).whenComplete((id, err) -> context.runOnContext(v -> {
            if (state != State.AUTHENTICATING) return;
            if (err != null) {
                Throwable cause = unwrap(err);
                String reason = cause instanceof Authenticator.AuthenticationFailure f ? f.getMessage()
                        : "token could not be validated";
                String code = cause instanceof Authenticator.AuthenticationFailure f && f.badPassword()
                        ? PgProtocol.INVALID_PASSWORD : PgProtocol.INVALID_AUTHORIZATION;
                if (!(cause instanceof Authenticator.AuthenticationFailure)) {
                    LOGGER.warn("session={} token validation error: {}", sessionId, cause.toString());
                }
                reject(code, "Gatehouse authentication failed: " + reason, target.name(), startupParameters.get("user"));
                return;
            }
            identity = id;
            var revoked = edge.revocations().matching(id);
            if (revoked.isPresent()) {
                reject(PgProtocol.INVALID_AUTHORIZATION, "gatehouse: " + revoked.get().message(), target.name(),
                        startupParameters.get("user"));
                return;
            }
            requestSession();
        }));
    }

    /**
     * Asks the policy whether this identity may connect to the target (its {@code on: connect}
     * rules), before anything reaches the target: SessionRequested is written to the log and its
     * decision awaited within the decision deadline, failing closed as commands do. An observe-mode
     * connection only records the request. The client stays paused meanwhile.
     */
    private void requestSession() {
        var remote = client.remoteAddress();
        String user = startupParameters.get("user");
        var request = new AuditEvent.SessionRequested(header(), CommandId.random(), identity, target.ref(),
                remote == null ? null : remote.hostAddress(), user, startupParameters.get("application_name"),
                edge.config().edgeId(), edge.decisions().replyPartition(), target.mode().label());
        if (target.mode() == TargetConnection.Mode.OBSERVE) {
            edge.decisions().record(request).whenComplete((ok, err) -> context.runOnContext(v -> {
                if (state != State.AUTHENTICATING) return;
                if (err != null) {
                    refuseSessionFailClosed(request, unwrap(err));
                } else {
                    connectUpstream();
                }
            }));
            return;
        }
        edge.decisions().decide(request, edge.config().decisionDeadline()).whenComplete((decision, err) ->
                context.runOnContext(v -> {
                    if (state != State.AUTHENTICATING) return;
                    if (err != null) {
                        refuseSessionFailClosed(request, unwrap(err));
                        return;
                    }
                    String by = " (rule " + decision.ruleId() + ", policy version " + decision.policyVersion() + ")";
                    switch (decision) {
                        case Decision.Allow a -> connectUpstream();
                        case Decision.Deny d -> {
                            LOGGER.info("session={} request={} subject={} connection={} refused rule={} policy={}", sessionId,
                                    request.requestId(), identity.subject(), target.name(), d.ruleId(), d.policyVersion());
                            reject(PgProtocol.INVALID_AUTHORIZATION, "gatehouse: connection to " + target.name()
                                    + " refused by policy: " + d.reason() + by, target.name(), user);
                        }
                        case Decision.Mask mk -> reject(PgProtocol.INVALID_AUTHORIZATION, "gatehouse: connection to "
                                + target.name() + " refused: the policy answered mask" + by
                                + ", which applies to commands only; a connect rule may allow or deny", target.name(), user);
                        case Decision.RequireApproval ra -> reject(PgProtocol.INVALID_AUTHORIZATION,
                                "gatehouse: connection to " + target.name() + " refused: the policy requires approval" + by
                                        + ", which applies to commands only; a connect rule may allow or deny",
                                target.name(), user);
                    }
                }));
    }

    /** No decision about the connection (log unreachable, deadline passed): the session is refused. */
    private void refuseSessionFailClosed(AuditEvent.SessionRequested request, Throwable cause) {
        edge.metrics().failedClosed();
        String why = cause instanceof DecisionUnavailableException ? cause.getMessage() : "decision failed: " + cause;
        LOGGER.warn("session={} request={} connection={} failed closed: {}", sessionId, request.requestId(), target.name(), why);
        reject(PgProtocol.SYSTEM_ERROR, "gatehouse: connection to " + target.name() + " refused: " + why
                + " (Gatehouse fails closed when the audit log cannot record a connection or no policy decides it; retry later)",
                target.name(),
                startupParameters.get("user"));
    }

    private void connectUpstream() {
        state = State.CONNECTING;
        Map<String, String> upstreamParams = new LinkedHashMap<>();
        startupParameters.forEach((k, v) -> {
            if (!k.equals("user") && !k.equals("database") && !k.equals("replication")) upstreamParams.put(k, v);
        });
        upstream = new Upstream(this, target, upstreamParams);
        upstream.connect(edge.netClient()).whenComplete((ready, err) -> context.runOnContext(v -> {
            if (state != State.CONNECTING) {
                if (err == null) upstream.close();
                return;
            }
            if (err != null) {
                LOGGER.info("session={} connection={} target unreachable: {}", sessionId, target.name(), err.getMessage());
                reject(PgProtocol.CONNECTION_FAILURE, "Gatehouse could not connect to the target of \"" + target.name()
                        + "\": " + unwrap(err).getMessage(), target.name(), startupParameters.get("user"));
                return;
            }
            openSession(ready);
        }));
    }

    private void openSession(Upstream.Ready ready) {
        var opened = new AuditEvent.SessionOpened(header(), identity, target.ref(), clientAddress,
                startupParameters.get("user"), startupParameters.get("application_name"), target.mode().label(), tls);
        edge.audit().append(opened).whenComplete((ok, err) -> context.runOnContext(v -> {
            if (state != State.CONNECTING) return;
            if (err != null) {
                upstream.close();
                fatal(PgProtocol.CANNOT_CONNECT_NOW,
                        "Gatehouse cannot record this session: the audit log is unavailable; no session is opened (fail closed)",
                        "session not opened: audit log unavailable");
                return;
            }
            edge.registry().add(this);
            // a revocation that arrived while this session was connecting found it not yet registered
            edge.revocations().matching(identity).ifPresent(r -> kill(r.message()));
            Buffer out = Buffer.buffer();
            out.appendBuffer(encode(new BackendMessage.AuthenticationOk()));
            ready.parameterStatus().forEach((k, val) -> out.appendBuffer(encode(new BackendMessage.ParameterStatus(k, val))));
            out.appendBuffer(encode(new BackendMessage.BackendKeyData(processId, secretKey)));
            out.appendBuffer(encode(new BackendMessage.ReadyForQuery((byte) 'I')));
            client.write(out);
            state = State.READY;
            LOGGER.info("session={} opened subject={} connection={} client={} mode={}", sessionId, identity.subject(),
                    target.name(), clientAddress, target.mode().label());
            scheduleTokenExpiry();
            drainQueue();
        }));
    }

    /** Ends the session when its token expires, plus the configured grace: a session never outlives its credential. */
    private void scheduleTokenExpiry() {
        edge.authenticator().sessionDeadline(identity).ifPresent(deadline -> {
            long delay = Math.max(1, Duration.between(Instant.now(), deadline).toMillis());
            tokenExpiryTimer = context.owner().setTimer(delay, id -> context.runOnContext(v -> {
                tokenExpiryTimer = -1;
                if (state == State.CLOSED) return;
                Object exp = identity.claims().get("exp");
                String expiredAt = exp instanceof Number n ? Instant.ofEpochSecond(n.longValue()).toString() : "(unknown)";
                LOGGER.info("session={} subject={} token expired at {}; ending the session", sessionId, identity.subject(), expiredAt);
                fatal(PgProtocol.ADMIN_SHUTDOWN, "gatehouse: session ended: your token expired at " + expiredAt
                        + "; reconnect with a fresh token", "token expired at " + expiredAt);
            }));
        });
    }

    private void onReady(FrontendMessage m) {
        if (discardUntilSync) {
            if (m instanceof FrontendMessage.Sync) {
                discardUntilSync = false;
                finishRejected(null);
            } else {
                release(m);
            }
            return;
        }
        switch (m) {
            case FrontendMessage.Query q -> submit(SqlCommand.Form.SIMPLE_QUERY, q.sql(), List.of(), List.of(m), true);
            case FrontendMessage.Parse p -> batch.add(p);
            case FrontendMessage.Bind b -> batch.add(b);
            case FrontendMessage.Describe d -> batch.add(d);
            case FrontendMessage.Execute e -> batch.add(e);
            case FrontendMessage.Close c -> batch.add(c);
            case FrontendMessage.Sync s -> endBatch(s, true);
            case FrontendMessage.Flush f -> endBatch(f, false);
            case FrontendMessage.FunctionCall f -> submit(SqlCommand.Form.FUNCTION_CALL,
                    "-- FunctionCall oid=" + f.functionOid(), ExtendedBatch.renderParameters(f.argumentFormats(), f.arguments(),
                            edge.config().maxParameterBytes()), List.of(m), true);
            case FrontendMessage.Terminate t -> terminate();
            case FrontendMessage.CopyData d -> release(m); // stray copy data outside COPY: PostgreSQL ignores it too
            case FrontendMessage.CopyDone d -> { }
            case FrontendMessage.CopyFail f -> { }
            default -> {
                release(m);
                protocolViolation("unexpected " + m.getClass().getSimpleName() + " in an established session");
            }
        }
    }

    /** Ends an extended-protocol batch at Sync or Flush: decided as a unit when it runs SQL. */
    private void endBatch(FrontendMessage terminator, boolean sync) {
        List<FrontendMessage> messages = batch.drain();
        messages.add(terminator);
        ExtendedBatch.Sql sql = batch.sqlOf(messages, edge.config().maxParameterBytes());
        if (sql.statements().isEmpty()) {
            // nothing runs: Describe/Close/Sync only; forwarded as is
            forwardUnrecorded(messages, sync);
            return;
        }
        submit(SqlCommand.Form.EXTENDED, sql.text(), sql.parameters(), messages, sync);
    }

    private void onWhileInFlight(FrontendMessage m) {
        if (inFlight != null && inFlight.copyIn) {
            switch (m) {
                case FrontendMessage.CopyData d -> upstream.write(m);
                case FrontendMessage.CopyDone d -> {
                    inFlight.copyIn = false;
                    upstream.write(m);
                    client.pause();
                }
                case FrontendMessage.CopyFail f -> {
                    inFlight.copyIn = false;
                    upstream.write(m);
                    client.pause();
                }
                case FrontendMessage.Flush f -> upstream.write(m);
                case FrontendMessage.Sync s -> upstream.write(m);
                default -> queue(m);
            }
            return;
        }
        queue(m);
    }

    // ---------------------------------------------------------------- decisions

    private void submit(SqlCommand.Form form, String sql, List<String> parameters, List<FrontendMessage> messages,
                        boolean sync) {
        state = State.DECIDING;
        client.pause();
        long seq = ++sequence;
        Instant received = Instant.now();
        long startNanos = System.nanoTime();
        // libpg_query runs on its own threads: the event loop is not held while it parses
        edge.analyzer().analyzeAsync(sql).whenComplete((analysis, err) -> context.runOnContext(v -> {
            if (state != State.DECIDING) {
                messages.forEach(PgSession::release);
                return;
            }
            SqlCommand command = new SqlCommand(CommandId.random(), sessionId, seq, received, form, sql, parameters,
                    analysis != null ? analysis : dev.gatehouse.platform.core.SqlAnalysis.unparseable("SQL analysis failed"));
            decide(command, messages, sync, startNanos);
        }));
    }

    private void decide(SqlCommand command, List<FrontendMessage> messages, boolean sync, long startNanos) {
        var remote = client.remoteAddress();
        var event = new AuditEvent.CommandReceived(header(), command, identity, target.ref(), edge.config().edgeId(),
                edge.decisions().replyPartition(), target.mode().label(), openedAt,
                remote == null ? null : remote.hostAddress());
        InFlight flight = new InFlight(command, messages, sync, startNanos);
        inFlight = flight;
        if (target.mode() == TargetConnection.Mode.OBSERVE) {
            edge.decisions().record(event).whenComplete((ok, err) -> context.runOnContext(v -> {
                if (inFlight != flight || state == State.CLOSED) return;
                if (err != null) {
                    failClosed(flight, "the audit log is unavailable (" + unwrap(err).getMessage() + ")");
                } else {
                    edge.metrics().observed();
                    forward(flight);
                }
            }));
            return;
        }
        edge.decisions().decide(event, edge.config().decisionDeadline()).whenComplete((decision, err) ->
                context.runOnContext(v -> {
                    if (inFlight != flight || state == State.CLOSED) return;
                    if (err != null) {
                        Throwable cause = unwrap(err);
                        failClosed(flight, cause instanceof DecisionUnavailableException ? cause.getMessage()
                                : "decision failed: " + cause);
                        return;
                    }
                    edge.metrics().decided(decision.verdict(), Duration.ofNanos(System.nanoTime() - flight.startNanos));
                    switch (decision) {
                        case Decision.Allow a -> forward(flight);
                        case Decision.Deny d -> deny(flight, d);
                        case Decision.Mask mk -> mask(flight, mk);
                        case Decision.RequireApproval ra -> approval(flight, ra);
                    }
                }));
    }

    private void forward(InFlight flight) {
        state = State.IN_FLIGHT;
        flight.forwarded = true;
        if (target.resultCapture().enabled()) {
            flight.sampler = new ResultSampler(target.resultCapture(), ResultSampler.resultFormatsOf(flight.messages));
        }
        flight.expectedReadyForQuery = flight.sync ? 1 : 0;
        upstream.writeAll(flight.messages);
        if (!flight.sync) {
            // Flush-terminated: results stream back without a ReadyForQuery; the command is
            // completed by the ReadyForQuery that answers the client's next Sync.
            flushed.add(flight);
            inFlight = null;
            state = State.READY;
            drainQueue();
        }
    }

    private void forwardUnrecorded(List<FrontendMessage> messages, boolean sync) {
        if (!sync) {
            upstream.writeAll(messages);
            return;
        }
        state = State.IN_FLIGHT;
        InFlight flight = new InFlight(null, messages, true, System.nanoTime());
        flight.forwarded = true;
        flight.expectedReadyForQuery = 1;
        inFlight = flight;
        client.pause();
        upstream.writeAll(messages);
    }

    /**
     * A Mask decision: the command runs and its result is rewritten as it streams back
     * ({@link ResultMasker}). Table columns are named from a cached snapshot of the target's
     * catalog; anything the edge cannot mask is refused before it reaches the target.
     */
    private void mask(InFlight flight, Decision.Mask mk) {
        var profile = edge.maskingProfiles().find(mk.profile());
        String refusal = profile.isEmpty()
                ? "masking profile \"" + mk.profile() + "\" is not configured on this edge; the command was not executed"
                : flight.command.form() == SqlCommand.Form.FUNCTION_CALL
                ? "a function call result cannot be masked; the command was not executed"
                : activeMasker != null && activeMasker.profile() != profile.get()
                ? "commands pipelined before a Sync need the same masking profile; the command was not executed"
                : flight.command.analysis().statements().stream().anyMatch(st -> "COPY".equals(st.tag()) && st.tablesWritten().isEmpty())
                ? profile.get().copyRefusal().map(r -> "COPY TO is refused: " + r).orElse(null)
                : null;
        if (refusal != null) {
            deny(flight, new Decision.Deny(mk.commandId(), mk.ruleId(), refusal, mk.policyVersion()));
            return;
        }
        var resolved = profile.get().columns().isEmpty()
                ? java.util.concurrent.CompletableFuture.<ResultMasker.Columns>completedFuture((oid, attnum) -> Optional.empty())
                : edge.maskingCatalog().columns(target);
        resolved.whenComplete((columns, err) -> context.runOnContext(v -> {
            if (inFlight != flight || state == State.CLOSED) return;
            if (err != null) {
                failClosed(flight, "the target's catalog could not be read to mask the result (" + unwrap(err).getMessage() + ")");
                return;
            }
            ResultMasker masker = activeMasker != null ? activeMasker : new ResultMasker(profile.get(), columns);
            if (flight.command.form() == SqlCommand.Form.EXTENDED) {
                List<FrontendMessage> prepared = masker.prepare(flight.messages);
                flight.messages.clear();
                flight.messages.addAll(prepared);
            }
            flight.masker = masker;
            activeMasker = masker;
            LOGGER.info("session={} command={} masked rule={} profile={}", sessionId, flight.command.id(), mk.ruleId(), mk.profile());
            forward(flight);
        }));
    }

    private void deny(InFlight flight, Decision.Deny d) {
        LOGGER.info("session={} command={} denied rule={} policy={}", sessionId, flight.command.id(), d.ruleId(), d.policyVersion());
        reject(flight, PgProtocol.INSUFFICIENT_PRIVILEGE,
                "gatehouse: denied by rule \"" + d.ruleId() + "\": " + d.reason(),
                "policy version " + d.policyVersion() + ", command " + flight.command.id());
    }

    // ---------------------------------------------------------------- approvals

    /**
     * A RequireApproval decision. Hold mode: the command waits (the client is told at once and
     * every approval-notice-interval) for the approval service's outcome, then runs or is refused.
     * Deferred mode: refused at once with the approval id; the same statement runs once when re-sent
     * after the approval. Without an approval id no approval service took the request: refused.
     */
    private void approval(InFlight flight, Decision.RequireApproval ra) {
        if (ra.approvalId() == null) {
            deny(flight, new Decision.Deny(ra.commandId(), ra.ruleId(), "approval is required (" + ra.reason()
                    + ") but no approval service is deployed; the command was not executed", ra.policyVersion()));
            return;
        }
        if (ra.deferred()) {
            LOGGER.info("session={} command={} approval={} requested, deferred rule={}", sessionId, flight.command.id(),
                    ra.approvalId(), ra.ruleId());
            reject(flight, PgProtocol.INSUFFICIENT_PRIVILEGE, "gatehouse: approval required: request " + ra.approvalId()
                            + " sent to " + channelOf(ra) + "; run the same statement again once it is approved (rule "
                            + ra.ruleId() + ": " + ra.reason() + ")",
                    "approval " + ra.approvalId() + " is deferred: once granted, the same statement from the same identity runs"
                            + " once, for a limited time; policy version " + ra.policyVersion() + ", command " + flight.command.id());
            return;
        }
        hold(flight, ra);
    }

    private void hold(InFlight flight, Decision.RequireApproval ra) {
        flight.held = ra;
        Instant now = Instant.now();
        Instant expiresAt = ra.expiresAt() != null ? ra.expiresAt() : now.plus(DEFAULT_APPROVAL_WAIT);
        LOGGER.info("session={} command={} held for approval={} rule={} expiresAt={}", sessionId, flight.command.id(),
                ra.approvalId(), ra.ruleId(), expiresAt);
        notice("approval required: request " + ra.approvalId() + " sent to " + channelOf(ra) + ", waiting up to "
                + humanDuration(Duration.between(now, expiresAt)) + " (rule " + ra.ruleId() + ": " + ra.reason() + ")");
        long every = Math.max(1, edge.approvalNoticeInterval().toMillis());
        flight.noticeTimer = context.owner().setPeriodic(every, every, timer -> {
            if (inFlight != flight || flight.held == null || state == State.CLOSED) {
                context.owner().cancelTimer(timer);
                return;
            }
            notice("still waiting for approval " + ra.approvalId() + ": "
                    + humanDuration(Duration.between(Instant.now(), expiresAt)) + " left");
        });
        Duration wait = Duration.between(now, expiresAt).plus(APPROVAL_GRACE);
        edge.decisions().awaitOutcome(flight.command.id(), wait.isNegative() ? APPROVAL_GRACE : wait)
                .whenComplete((outcome, err) -> context.runOnContext(v -> {
                    if (inFlight != flight || flight.held == null || state == State.CLOSED) return;
                    stopHolding(flight);
                    if (err != null) {
                        failClosed(flight, "no answer to approval " + ra.approvalId() + " by its expiry ("
                                + unwrap(err).getMessage() + ")");
                        return;
                    }
                    switch (outcome) {
                        case Decision.Allow a -> runApproved(flight, ra, a);
                        case Decision.Deny d -> {
                            LOGGER.info("session={} command={} approval={} refused rule={}", sessionId, flight.command.id(),
                                    ra.approvalId(), d.ruleId());
                            boolean expired = APPROVAL_EXPIRED_RULE.equals(d.ruleId());
                            reject(flight, PgProtocol.INSUFFICIENT_PRIVILEGE, "gatehouse: approval " + ra.approvalId()
                                            + (expired ? " expired: " : " denied: ") + d.reason(),
                                    "rule " + ra.ruleId() + " (" + ra.reason() + "), command " + flight.command.id()
                                            + "; the statement was not executed");
                        }
                        case Decision.Mask mk -> mask(flight, mk);
                        case Decision.RequireApproval again -> failClosed(flight, "approval " + ra.approvalId()
                                + " ended without an outcome");
                    }
                }));
    }

    /** Granted: records that the approval was executed (acknowledged) and forwards the held command. */
    private void runApproved(InFlight flight, Decision.RequireApproval ra, Decision.Allow granted) {
        LOGGER.info("session={} command={} approval={} granted: {}", sessionId, flight.command.id(), ra.approvalId(),
                granted.reason());
        notice("approval " + ra.approvalId() + " granted: " + granted.reason() + "; running the statement");
        edge.audit().append(new AuditEvent.ApprovalExecuted(header(), ra.approvalId(), flight.command.id()))
                .whenComplete((ok, err) -> context.runOnContext(v -> {
                    if (inFlight != flight || state == State.CLOSED) return;
                    if (err != null) {
                        failClosed(flight, "the audit log is unavailable (" + unwrap(err).getMessage() + ")");
                    } else {
                        forward(flight);
                    }
                }));
    }

    /** The client cancelled a held command: PostgreSQL's own answer to a cancelled statement. */
    private void abandonHeld(InFlight flight) {
        Decision.RequireApproval ra = flight.held;
        stopHolding(flight);
        LOGGER.info("session={} command={} approval={} abandoned: cancelled by the client", sessionId, flight.command.id(),
                ra.approvalId());
        reject(flight, PgProtocol.QUERY_CANCELED, "canceling statement due to user request",
                "gatehouse: the statement was waiting for approval " + ra.approvalId() + " and was not executed");
    }

    private void stopHolding(InFlight flight) {
        flight.held = null;
        if (flight.noticeTimer >= 0) {
            context.owner().cancelTimer(flight.noticeTimer);
            flight.noticeTimer = -1;
        }
    }

    private void notice(String message) {
        client.write(encode(new BackendMessage.NoticeResponse(PgProtocol.SEVERITY_NOTICE, "00000", message, null, null)));
    }

    private static String channelOf(Decision.RequireApproval ra) {
        return ra.channel() == null || ra.channel().isBlank() ? "the approvers" : ra.channel();
    }

    /** "10m", "1h5m", "45s", "9m30s". */
    static String humanDuration(Duration d) {
        long seconds = Math.max(0, (d.toMillis() + 999) / 1000);
        long h = seconds / 3600;
        long m = (seconds % 3600) / 60;
        long s = seconds % 60;
        StringBuilder out = new StringBuilder();
        if (h > 0) out.append(h).append('h');
        if (m > 0) out.append(m).append('m');
        if (s > 0 || out.isEmpty()) out.append(s).append('s');
        return out.toString();
    }

    private void failClosed(InFlight flight, String why) {
        edge.metrics().failedClosed();
        LOGGER.warn("session={} command={} failed closed: {}", sessionId, flight.command.id(), why);
        reject(flight, PgProtocol.SYSTEM_ERROR,
                "gatehouse: the command was not executed: " + why,
                "Gatehouse fails closed when it cannot record or decide a command; retry later");
    }

    /** Answers a rejected command the way PostgreSQL answers a failed one. */
    private void reject(InFlight flight, String sqlState, String message, String detail) {
        for (FrontendMessage m : flight.messages) release(m);
        flight.rejected = true;
        flight.sqlState = sqlState;
        flight.errorMessage = message;
        client.write(encode(BackendMessage.ErrorResponse.error(sqlState, message, detail)));
        if (!flight.sync) {
            // PostgreSQL discards extended-protocol messages up to the next Sync after an error
            discardUntilSync = true;
            state = State.READY;
            drainQueue();
            return;
        }
        finishRejected(flight);
    }

    /**
     * Sends the ReadyForQuery that follows a rejection. Inside a transaction block the target
     * must fail too, or a later COMMIT would commit the statements before the rejected one: the
     * edge sends the target a statement that cannot parse, swallows its error and relays the
     * target's own ReadyForQuery ('E').
     */
    private void finishRejected(InFlight flight) {
        InFlight f = flight != null ? flight : inFlight;
        if (txStatus == 'T') {
            state = State.IN_FLIGHT;
            if (f != null) {
                f.swallowTargetError = true;
                f.expectedReadyForQuery = 1;
            }
            upstream.write(new FrontendMessage.Query("gatehouse: statement rejected; this transaction is aborted"));
            client.pause();
            return;
        }
        client.write(encode(new BackendMessage.ReadyForQuery((byte) txStatus)));
        if (f != null) complete(f);
        state = State.READY;
        drainQueue();
    }

    // ---------------------------------------------------------------- target output

    void onUpstreamFrame(BackendFrame frame) {
        InFlight f = inFlight != null ? inFlight : flushed.isEmpty() ? null : flushed.getLast();
        if (activeMasker != null && (f == null || !f.swallowTargetError)) {
            // a masked command's answer, up to the target's next ReadyForQuery
            ResultMasker masker = activeMasker;
            if (frame.type() == 'Z') {
                activeMasker = null;
                if (masker.unknownTables() > 0) edge.maskingCatalog().invalidate(target);
            }
            ResultMasker.Rewrite rewrite;
            try {
                rewrite = masker.onFrame(frame);
            } catch (ResultMasker.MaskingFailure e) {
                LOGGER.warn("session={} masked result refused: {}", sessionId, e.getMessage());
                if (f != null) f.errorMessage = "result not masked: " + e.getMessage();
                fatal(PgProtocol.INSUFFICIENT_PRIVILEGE, "gatehouse: the result cannot be masked, so it is not relayed and"
                        + " the session is closed: " + e.getMessage(), "masking failed: " + e.getMessage());
                return;
            }
            if (rewrite.dropped()) return;
            if (rewrite.frame() != frame.frame()) frame = new BackendFrame(rewrite.frame());
        }
        byte type = frame.type();
        if (f != null && f.swallowTargetError) {
            if (type == 'Z') {
                txStatus = (char) BackendFrames.parseReadyForQuery(frame.payload());
                client.write(encode(new BackendMessage.ReadyForQuery((byte) txStatus)));
                frame.release();
                f.swallowTargetError = false;
                complete(f);
                state = State.READY;
                drainQueue();
            } else {
                frame.release();
            }
            return;
        }
        if (f != null) {
            switch (type) {
                case 'C' -> {
                    String tag = BackendFrames.parseCommandComplete(frame.payload());
                    f.tags.add(tag);
                    f.rows += BackendFrames.rowsOf(tag);
                }
                case 'E' -> {
                    if (f.sqlState == null) {
                        Map<Character, String> fields = BackendFrames.parseErrorOrNotice(frame.payload());
                        f.sqlState = fields.get('C');
                        f.errorMessage = fields.get('M');
                    }
                }
                case 'G' -> {
                    f.copyIn = true;
                    client.resume();
                }
                case 'Z' -> txStatus = (char) BackendFrames.parseReadyForQuery(frame.payload());
                default -> { }
            }
            f.bytesToClient += frame.size();
            if (f.sampler != null) f.sampler.onFrame(frame); // after masking: only masked values are sampled
        }
        boolean endOfCommand = type == 'Z';
        PgSocketBridge.writeNoFlush(client, frame.frame()); // hands the frame over: released once written
        unflushed = true;
        if (endOfCommand) {
            flushClient(); // the answer is complete: do not wait for the rest of the read batch
        } else if (PgSocketBridge.writeQueueFull(client)) {
            // the client reads slower than the target answers: stop reading from the target
            // until the client has taken what is queued (bounded memory for any result size)
            flushClient();
            // the flush may have drained the queue at once (a fast reader on a plaintext socket),
            // firing the writability event before the pause: pause only if it is still full, or
            // nothing would ever resume the target
            if (!upstreamPaused && PgSocketBridge.writeQueueFull(client)) {
                upstreamPaused = true;
                upstream.pause();
            }
        }
        if (endOfCommand && !flushed.isEmpty()) {
            flushed.forEach(this::complete);
            flushed.clear();
        }
        if (endOfCommand && inFlight != null && --inFlight.expectedReadyForQuery <= 0) {
            complete(inFlight);
            inFlight = null;
            if (state == State.IN_FLIGHT) {
                state = State.READY;
                drainQueue();
            }
        }
    }

    private void onClientWritable() {
        if (upstreamPaused && upstream != null) {
            upstreamPaused = false;
            upstream.resume();
        }
    }

    /** End of a batch of reads from the target: what was relayed goes out in one flush. */
    void onUpstreamReadComplete() {
        if (unflushed) flushClient();
    }

    private void flushClient() {
        unflushed = false;
        PgSocketBridge.flush(client);
    }

    void onUpstreamClosed(Throwable cause) {
        if (state == State.CLOSED) return;
        String why = cause == null ? "the target closed the connection" : "the target connection failed: " + cause.getMessage();
        LOGGER.info("session={} {}", sessionId, why);
        fatal(PgProtocol.CONNECTION_FAILURE, "gatehouse: " + why, why);
    }

    private void complete(InFlight f) {
        if (f.command == null || f.completed) return;
        f.completed = true;
        if (f.sampler != null) recordSample(f);
        var outcome = new AuditEvent.Outcome(f.forwarded && !f.rejected, f.tags, f.rows, f.sqlState, f.errorMessage,
                Duration.ofNanos(System.nanoTime() - f.startNanos), f.bytesToClient, String.valueOf(txStatus),
                f.masker == null ? null : new AuditEvent.Masking(f.masker.profile().name(), f.masker.stats().values(),
                        f.masker.stats().columns(), f.masker.stats().detectors()));
        edge.audit().append(new AuditEvent.CommandCompleted(header(), f.command.id(), f.command.sequence(), outcome))
                .whenComplete((ok, err) -> {
                    if (err != null) {
                        LOGGER.error("session={} command={} CommandCompleted could not be recorded: {}", sessionId,
                                f.command.id(), err.toString());
                    }
                });
        if (inFlight == f) inFlight = null;
    }

    /**
     * Writes the command's result sample, in chunks, before its CommandCompleted: the one producer
     * keeps a session's events in order. Never waited for: the rows have long reached the client.
     */
    private void recordSample(InFlight f) {
        var events = f.sampler.events(this::header, f.command.id(), f.command.sequence(), f.masker != null);
        if (events.isEmpty()) return;
        var first = events.getFirst();
        edge.metrics().sampled(first.bytesCaptured(), first.truncated());
        for (AuditEvent.ResultSampled chunk : events) {
            edge.audit().append(chunk).whenComplete((ok, err) -> {
                if (err != null) {
                    LOGGER.error("session={} command={} result sample chunk {} could not be recorded: {}", sessionId,
                            f.command.id(), chunk.chunk(), err.toString());
                }
            });
        }
    }

    private void drainQueue() {
        while (state == State.READY && !queued.isEmpty()) {
            onReady(queued.poll());
        }
        if (state == State.READY) client.resume();
    }

    // ---------------------------------------------------------------- cancel, kill, close

    @Override
    public void cancel() {
        context.runOnContext(v -> {
            if (inFlight != null && inFlight.held != null) {
                abandonHeld(inFlight);
                return;
            }
            if (upstream != null) upstream.cancel(edge.netClient());
        });
    }

    @Override
    public void kill(String reason) {
        context.runOnContext(v -> fatal(PgProtocol.ADMIN_SHUTDOWN, "gatehouse: session terminated: " + reason, reason));
    }

    private void terminate() {
        if (upstream != null) upstream.write(new FrontendMessage.Terminate());
        close("client terminated");
    }

    private void onClientError(Throwable t) {
        Throwable cause = unwrap(t);
        if (cause instanceof io.netty.handler.codec.DecoderException) {
            String detail = cause.getMessage() == null ? cause.toString() : cause.getMessage();
            protocolViolation(detail);
        } else {
            LOGGER.debug("session={} client error: {}", sessionId, cause.toString());
            close("client connection error: " + cause.getMessage());
        }
    }

    private void onClientClosed() {
        if (state != State.CLOSED) close(state == State.STARTUP ? null : "client disconnected");
    }

    private void protocolViolation(String detail) {
        violation(detail);
        fatal(PgProtocol.PROTOCOL_VIOLATION, "gatehouse: protocol violation: " + detail, "protocol violation");
    }

    private void violation(String detail) {
        edge.metrics().violation();
        LOGGER.info("session={} client={} protocol violation: {}", sessionId, clientAddress, detail);
        edge.audit().append(new AuditEvent.ProtocolViolation(header(), "postgres", clientAddress, detail));
    }

    /** Refuses a connection attempt before the session opened, and records why. */
    private void reject(String sqlState, String message, String connection, String user) {
        edge.audit().append(new AuditEvent.SessionRejected(header(), clientAddress, connection, user,
                identity == null ? null : identity.subject(), sqlState, message));
        LOGGER.info("session={} client={} rejected: {}", sessionId, clientAddress, message);
        fatal(sqlState, message, null);
    }

    private void fatal(String sqlState, String message, String closeReason) {
        if (state == State.CLOSED) return;
        client.write(encode(BackendMessage.ErrorResponse.fatal(sqlState, message, null)));
        close(closeReason);
    }


    private void close(String reason) {
        if (state == State.CLOSED) return;
        boolean opened = edge.registry().find(sessionId).isPresent();
        state = State.CLOSED;
        queued.forEach(PgSession::release);
        queued.clear();
        batch.drain().forEach(PgSession::release);
        if (inFlight != null && inFlight.held != null) {
            inFlight.errorMessage = "session ended while waiting for approval " + inFlight.held.approvalId() + ": " + reason;
            stopHolding(inFlight);
        }
        if (inFlight != null && !inFlight.completed && inFlight.command != null) {
            inFlight.errorMessage = inFlight.errorMessage == null ? "session ended before the command completed: " + reason : inFlight.errorMessage;
            complete(inFlight);
        }
        edge.registry().remove(this);
        if (tokenExpiryTimer >= 0) context.owner().cancelTimer(tokenExpiryTimer);
        if (upstream != null) upstream.close();
        client.close();
        if (opened) {
            edge.audit().append(new AuditEvent.SessionClosed(header(), reason == null ? "closed" : reason, sequence,
                    Duration.between(openedAt, Instant.now())));
            LOGGER.info("session={} closed: {} commands={}", sessionId, reason, sequence);
        }
    }

    // ---------------------------------------------------------------- helpers

    private EventHeader header() {
        return EventHeader.now(sessionId, "edge", edge.config().edgeId());
    }

    private Buffer encode(BackendMessage m) {
        return PgSocketBridge.buffer(m.encode(io.netty.buffer.ByteBufAllocator.DEFAULT));
    }

    private static void release(FrontendMessage m) {
        if (m instanceof FrontendMessage.CopyData d) d.data().release();
    }

    private static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** A command between its arrival and its completion. */
    private static final class InFlight {
        final SqlCommand command; // null for unrecorded Describe/Close-only batches
        final List<FrontendMessage> messages;
        final boolean sync;
        final long startNanos;
        final List<String> tags = new ArrayList<>();
        long rows;
        long bytesToClient;
        String sqlState;
        String errorMessage;
        int expectedReadyForQuery;
        boolean forwarded;
        boolean rejected;
        boolean copyIn;
        ResultMasker masker;
        ResultSampler sampler;
        boolean swallowTargetError;
        boolean completed;
        // held for approval: the RequireApproval, and the timer of the reminders (-1: none)
        Decision.RequireApproval held;
        long noticeTimer = -1;

        InFlight(SqlCommand command, List<FrontendMessage> messages, boolean sync, long startNanos) {
            this.command = command;
            this.messages = messages;
            this.sync = sync;
            this.startNanos = startNanos;
        }
    }

}
