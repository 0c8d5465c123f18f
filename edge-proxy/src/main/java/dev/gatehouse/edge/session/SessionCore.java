package dev.gatehouse.edge.session;

import dev.gatehouse.edge.Authenticator;
import dev.gatehouse.edge.catalog.TargetConnection;
import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.DecisionUnavailableException;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.revocation.SessionInfo;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * The protocol-neutral part of one client session: who it is, whether it may connect, what each
 * command is decided, and what is recorded, driven by a protocol adapter ({@link SessionProtocol})
 * that owns the bytes. The same core serves every protocol (the pattern of vertx-sql-client's
 * {@code SocketConnectionBase}, shared by its PostgreSQL and MySQL connections).
 *
 * <ul>
 *   <li><b>Connect</b>: token → identity, revocations, the connection attempt decided by
 *       {@code on: connect} rules (observe: recorded), target login, {@code SessionOpened}, then
 *       the session is registered and open. A connection that is not open within the
 *       authentication timeout is closed.</li>
 *   <li><b>Commands</b>, one at a time ({@link SessionState}): each is written to the log before
 *       anything of it is forwarded; enforce mode waits for its decision (the port completes it only
 *       once the write was acknowledged too); observe mode forwards once the write is acknowledged.
 *       Allow and Mask forward, Deny rejects, RequireApproval holds (notices meanwhile) or, deferred,
 *       rejects with the approval's id. No decision in time, or no log: the command fails closed.
 *       The adapter may refuse a command itself (a session invariant): it is recorded with the
 *       reason and rejected, never decided.</li>
 *   <li><b>Completion</b>: the adapter reports what the target answered; the result sample and
 *       {@code CommandCompleted} are written in order.</li>
 *   <li><b>End</b>: kill, revocation, token expiry, client or target gone; a command in flight is
 *       completed with the reason; {@code SessionClosed}.</li>
 * </ul>
 *
 * <p>Not thread-safe: every method runs on the session's thread ({@link Scheduler}); completions
 * of the ports hop back to it.
 */
public final class SessionCore {
    private static final Logger LOGGER = LoggerFactory.getLogger(SessionCore.class);
    /** How long a held command waits beyond its approval's expiry for the outcome before failing closed. */
    public static final Duration APPROVAL_GRACE = Duration.ofSeconds(30);
    /** The wait when a held approval names no expiry. */
    private static final Duration DEFAULT_APPROVAL_WAIT = Duration.ofMinutes(10);
    /** The rule id of the approval service's denial of an expired request. */
    private static final String APPROVAL_EXPIRED_RULE = "approval-expired";

    private final SessionPorts ports;
    private final Scheduler scheduler;
    private final SessionProtocol protocol;
    private final SessionId sessionId;
    private final String clientAddress;
    private final String clientIp;
    private final Instant acceptedAt;

    private SessionState state = new SessionState.Starting();
    /** The edge is draining: the session ends when its command in flight completes. */
    private boolean draining;
    private ConnectRequest request;
    private Identity identity;
    private boolean registered;
    private long sequence;
    private long authenticationTimer = -1;
    private long tokenExpiryTimer = -1;

    /**
     * @param clientAddress the client's address as host:port, as recorded
     * @param clientIp      the client's IP address without the port, for policy conditions; may be null
     */
    public SessionCore(SessionPorts ports, Scheduler scheduler, SessionProtocol protocol, SessionId sessionId,
                       String clientAddress, String clientIp) {
        this.ports = Objects.requireNonNull(ports, "ports");
        this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
        this.protocol = Objects.requireNonNull(protocol, "protocol");
        this.sessionId = Objects.requireNonNull(sessionId, "sessionId");
        this.clientAddress = clientAddress;
        this.clientIp = clientIp;
        this.acceptedAt = scheduler.now();
    }

    // ---------------------------------------------------------------- what the adapter reads

    public SessionId sessionId() {
        return sessionId;
    }

    public SessionState state() {
        return state;
    }

    /** The authenticated identity, or null before authentication. */
    public Identity identity() {
        return identity;
    }

    /** The connection the client selected, or null before it asked. */
    public TargetConnection target() {
        return request == null ? null : request.target();
    }

    public boolean isClosed() {
        return state instanceof SessionState.Closed;
    }

    /** A header for an event of this session, produced by this edge. */
    public EventHeader header() {
        return EventHeader.at(sessionId, scheduler.now(), "edge", ports.edgeId());
    }

    /** This session as the fleet's session directory lists it; only once open. */
    public SessionInfo info() {
        var ci = identity.ci();
        var delegation = identity.delegation();
        return new SessionInfo(sessionId.value(), identity.subject(), identity.issuer(), identity.groups(),
                ci == null ? null : ci.repository(), ci == null ? null : ci.commitSha(), request.target().name(),
                clientAddress, acceptedAt, delegation == null ? null : delegation.originator(),
                delegation == null ? List.of() : delegation.earlierActors());
    }

    // ---------------------------------------------------------------- connect

    /** The connection was accepted: it must open its session within the authentication timeout. */
    public void start() {
        authenticationTimer = scheduler.setTimer(ports.authenticationTimeout(), () -> {
            authenticationTimer = -1;
            if (!state.beforeOpen()) return;
            ports.metrics().authenticationTimeout();
            LOGGER.info("session={} client={} did not authenticate within {}; closing", sessionId, clientAddress,
                    ports.authenticationTimeout());
            refuseConnection(Refusal.of(Refusal.Kind.AUTHENTICATION_TIMEOUT, "canceling authentication due to timeout"
                    + " (Gatehouse closes connections that do not log in within " + human(ports.authenticationTimeout())
                    + ")"));
        });
    }

    /** The client presented its credential: validate it, ask whether it may connect, log in to the target. */
    public void connect(ConnectRequest connect) {
        require(state instanceof SessionState.Starting, "connect");
        this.request = connect;
        state = new SessionState.Authenticating();
        ports.authenticator().authenticate(connect.token()).whenComplete((id, err) -> scheduler.execute(() -> {
            if (!(state instanceof SessionState.Authenticating)) return;
            if (err != null) {
                Throwable cause = unwrap(err);
                boolean known = cause instanceof Authenticator.AuthenticationFailure;
                if (!known) LOGGER.warn("session={} token validation error: {}", sessionId, cause.toString());
                String reason = known ? cause.getMessage() : "token could not be validated";
                boolean bad = cause instanceof Authenticator.AuthenticationFailure f && f.badPassword();
                refuseConnection(Refusal.of(bad ? Refusal.Kind.BAD_CREDENTIAL : Refusal.Kind.AUTHENTICATION,
                        "Gatehouse authentication failed: " + reason));
                return;
            }
            // an intent the issuer signed wins over the one the client declares itself
            identity = id.intent() == null && connect.declaredIntent() != null ? id.withIntent(connect.declaredIntent()) : id;
            var revoked = ports.revocations().get().matching(id);
            if (revoked.isPresent()) {
                refuseConnection(Refusal.of(Refusal.Kind.AUTHENTICATION, "gatehouse: " + revoked.get().message()));
                return;
            }
            requestSession();
        }));
    }

    /**
     * Asks the policy whether this identity may connect to the target ({@code on: connect} rules),
     * before anything reaches the target; observe mode only records the attempt.
     */
    private void requestSession() {
        TargetConnection target = request.target();
        var attempt = new AuditEvent.SessionRequested(header(), CommandId.random(), identity, target.ref(), clientIp,
                request.databaseUser(), request.applicationName(), ports.edgeId(), ports.decisions().replyPartition(),
                target.mode().label());
        state = new SessionState.Requesting();
        if (target.mode() == TargetConnection.Mode.OBSERVE) {
            ports.decisions().record(attempt).whenComplete((ok, err) -> scheduler.execute(() -> {
                if (!(state instanceof SessionState.Requesting)) return;
                if (err != null) refuseSessionFailClosed(attempt, unwrap(err));
                else connectTarget();
            }));
            return;
        }
        ports.decisions().decide(attempt, ports.decisionDeadline()).whenComplete((decision, err) -> scheduler.execute(() -> {
            if (!(state instanceof SessionState.Requesting)) return;
            if (err != null) {
                refuseSessionFailClosed(attempt, unwrap(err));
                return;
            }
            String by = " (rule " + decision.ruleId() + ", policy version " + decision.policyVersion() + ")";
            String name = target.name();
            switch (decision) {
                case Decision.Allow a -> connectTarget();
                case Decision.Deny d -> {
                    LOGGER.info("session={} request={} subject={} connection={} refused rule={} policy={}", sessionId,
                            attempt.requestId(), identity.subject(), name, d.ruleId(), d.policyVersion());
                    refuseConnection(Refusal.of(Refusal.Kind.AUTHENTICATION, "gatehouse: connection to " + name
                            + " refused by policy: " + d.reason() + by));
                }
                case Decision.Mask mk -> refuseConnection(Refusal.of(Refusal.Kind.AUTHENTICATION, "gatehouse: connection to "
                        + name + " refused: the policy answered mask" + by
                        + ", which applies to commands only; a connect rule may allow or deny"));
                case Decision.RequireApproval ra -> refuseConnection(Refusal.of(Refusal.Kind.AUTHENTICATION,
                        "gatehouse: connection to " + name + " refused: the policy requires approval" + by
                                + ", which applies to commands only; a connect rule may allow or deny"));
            }
        }));
    }

    private void refuseSessionFailClosed(AuditEvent.SessionRequested attempt, Throwable cause) {
        ports.metrics().failedClosed();
        String why = cause instanceof DecisionUnavailableException ? cause.getMessage() : "decision failed: " + cause;
        String name = request.target().name();
        LOGGER.warn("session={} request={} connection={} failed closed: {}", sessionId, attempt.requestId(), name, why);
        refuseConnection(Refusal.of(Refusal.Kind.FAILED_CLOSED, "gatehouse: connection to " + name + " refused: " + why
                + " (Gatehouse fails closed when the audit log cannot record a connection or no policy decides it; retry later)"));
    }

    private void connectTarget() {
        state = new SessionState.Connecting();
        TargetConnection target = request.target();
        protocol.connectTarget(target).whenComplete((login, err) -> scheduler.execute(() -> {
            if (!(state instanceof SessionState.Connecting)) return;
            if (err != null) {
                String why = unwrap(err).getMessage();
                LOGGER.info("session={} connection={} target unreachable: {}", sessionId, target.name(), why);
                refuseConnection(Refusal.of(Refusal.Kind.TARGET_UNAVAILABLE, "Gatehouse could not connect to the target of \""
                        + target.name() + "\": " + why));
                return;
            }
            openSession(login);
        }));
    }

    private void openSession(SessionProtocol.TargetLogin login) {
        TargetConnection target = request.target();
        var opened = new AuditEvent.SessionOpened(header(), identity, target.ref(), clientAddress, request.databaseUser(),
                request.applicationName(), target.mode().label(), request.tls(), request.startupParameters(),
                login.targetParameters(), login.targetProcessId());
        ports.audit().append(opened).whenComplete((ok, err) -> scheduler.execute(() -> {
            if (!(state instanceof SessionState.Connecting)) return;
            if (err != null) {
                fatal(Refusal.of(Refusal.Kind.LOG_UNAVAILABLE, "Gatehouse cannot record this session: the audit log is"
                        + " unavailable; no session is opened (fail closed)"), "session not opened: audit log unavailable");
                return;
            }
            registered = true;
            protocol.register();
            // a revocation that arrived while this session was connecting found it not yet registered
            var revoked = ports.revocations().get().matching(identity);
            if (revoked.isPresent()) {
                kill(revoked.get().message());
                return;
            }
            cancelTimer(authenticationTimer);
            authenticationTimer = -1;
            state = new SessionState.Open();
            LOGGER.info("session={} opened subject={} connection={} client={} mode={} target-pid={}", sessionId,
                    identity.subject(), target.name(), clientAddress, target.mode().label(), login.targetProcessId());
            scheduleTokenExpiry();
            protocol.opened();
        }));
    }

    /** Ends the session when its token expires, plus the configured grace: a session never outlives its credential. */
    private void scheduleTokenExpiry() {
        ports.authenticator().sessionDeadline(identity).ifPresent(deadline -> {
            Duration delay = Duration.between(scheduler.now(), deadline);
            tokenExpiryTimer = scheduler.setTimer(delay.isNegative() || delay.isZero() ? Duration.ofMillis(1) : delay, () -> {
                tokenExpiryTimer = -1;
                if (isClosed()) return;
                Object exp = identity.claims().get("exp");
                String expiredAt = exp instanceof Number n ? Instant.ofEpochSecond(n.longValue()).toString() : "(unknown)";
                LOGGER.info("session={} subject={} token expired at {}; ending the session", sessionId, identity.subject(), expiredAt);
                fatal(Refusal.of(Refusal.Kind.SHUTDOWN, "gatehouse: session ended: your token expired at " + expiredAt
                        + "; reconnect with a fresh token"), "token expired at " + expiredAt);
            });
        });
    }

    /**
     * Refuses the connection before a session opened and records why ({@code SessionRejected}).
     * Also what the adapter calls for its own refusals (no TLS, unknown connection, a startup
     * setting it does not accept); {@code connection} and {@code databaseUser} name what the client
     * asked for, when known.
     */
    public void refuseConnection(Refusal refusal, String connection, String databaseUser) {
        if (isClosed()) return;
        ports.audit().append(new AuditEvent.SessionRejected(header(), clientAddress, connection, databaseUser,
                identity == null ? null : identity.subject(), protocol.errorCode(refusal), refusal.message()));
        LOGGER.info("session={} client={} rejected: {}", sessionId, clientAddress, refusal.message());
        fatal(refusal, null);
    }

    private void refuseConnection(Refusal refusal) {
        refuseConnection(refusal, request == null ? null : request.target().name(),
                request == null ? null : request.databaseUser());
    }

    // ---------------------------------------------------------------- commands

    /**
     * Submits the next command: recorded, then decided (or refused, when the draft carries the
     * adapter's refusal). Only when the session is {@link SessionState.Open}.
     */
    public PendingCommand submit(CommandDraft draft) {
        require(state instanceof SessionState.Open, "submit");
        long seq = ++sequence;
        Instant received = scheduler.now();
        TargetConnection target = request.target();
        SqlCommand command = SqlCommand.of(CommandId.random(), sessionId, seq, received, draft.form(), protocol.name(),
                draft.statements(), draft.queryText(), draft.parseable(), draft.parseError(), draft.fingerprint());
        PendingCommand pending = new PendingCommand(draft, command, System.nanoTime());
        var event = new AuditEvent.CommandReceived(header(), command, identity, target.ref(), ports.edgeId(),
                ports.decisions().replyPartition(), target.mode().label(), acceptedAt, clientIp,
                draft.refusal() == null ? null : draft.refusal().message());
        if (draft.refusal() != null) {
            // a session invariant: recorded, never decided; nothing of it reaches the target
            ports.metrics().refused();
            LOGGER.info("session={} command={} refused by the edge: {}", sessionId, command.id(), draft.refusal().message());
            ports.audit().append(event).whenComplete((ok, err) -> {
                if (err != null) LOGGER.error("session={} command={} refused command could not be recorded: {}", sessionId,
                        command.id(), err.toString());
            });
            state = new SessionState.Running(pending);
            protocol.reject(pending, draft.refusal());
            return pending;
        }
        state = new SessionState.Deciding(pending);
        if (target.mode() == TargetConnection.Mode.OBSERVE) {
            ports.decisions().record(event).whenComplete((ok, err) -> onDecisionThread(pending, () -> {
                if (err != null) {
                    failClosed(pending, "the audit log is unavailable (" + unwrap(err).getMessage() + ")");
                } else {
                    ports.metrics().observed();
                    forward(pending, new Decision.Allow(command.id(), "observe", "observe mode", null));
                }
            }));
            return pending;
        }
        ports.decisions().decide(event, ports.decisionDeadline()).whenComplete((decision, err) -> onDecisionThread(pending, () -> {
            if (err != null) {
                Throwable cause = unwrap(err);
                failClosed(pending, cause instanceof DecisionUnavailableException ? cause.getMessage()
                        : "decision failed: " + cause);
                return;
            }
            pending.decided(decision);
            ports.metrics().decided(decision.verdict(), Duration.ofNanos(System.nanoTime() - pending.startNanos()));
            switch (decision) {
                case Decision.Allow a -> forward(pending, a);
                case Decision.Mask mk -> forward(pending, mk);
                case Decision.Deny d -> deny(pending, d);
                case Decision.RequireApproval ra -> approval(pending, ra);
            }
        }));
        return pending;
    }

    /** Runs {@code then} on the session's thread if the command is still the one being decided. */
    private void onDecisionThread(PendingCommand pending, Runnable then) {
        scheduler.execute(() -> {
            if (state instanceof SessionState.Deciding d && d.command() == pending) then.run();
        });
    }

    private void forward(PendingCommand pending, Decision decision) {
        state = new SessionState.Running(pending);
        pending.markForwarded();
        protocol.forward(pending, decision);
    }

    private void reject(PendingCommand pending, Refusal refusal) {
        state = new SessionState.Running(pending);
        protocol.reject(pending, refusal);
    }

    private void deny(PendingCommand pending, Decision.Deny d) {
        LOGGER.info("session={} command={} denied rule={} policy={}", sessionId, pending.command().id(), d.ruleId(),
                d.policyVersion());
        reject(pending, Refusal.of(Refusal.Kind.DENIED, "gatehouse: denied by rule \"" + d.ruleId() + "\": " + d.reason(),
                "policy version " + d.policyVersion() + ", command " + pending.command().id()));
    }

    private void failClosed(PendingCommand pending, String why) {
        ports.metrics().failedClosed();
        LOGGER.warn("session={} command={} failed closed: {}", sessionId, pending.command().id(), why);
        reject(pending, Refusal.of(Refusal.Kind.FAILED_CLOSED, "gatehouse: the command was not executed: " + why,
                "Gatehouse fails closed when it cannot record or decide a command; retry later"));
    }

    /**
     * The adapter finished a command: the target answered all of it, or the client was given its
     * error. Writes CommandCompleted with the result sample inside when it is one chunk (almost
     * always), else the sample's chunks and then CommandCompleted (in order: one producer keeps a
     * session's events in order; never waited for), and opens the session for the next command.
     */
    public void completed(PendingCommand pending, CommandResult result) {
        if (pending.completed()) return;
        record(pending, result);
        if (state.command() == pending) {
            state = new SessionState.Open();
            if (draining) endForDrain();
        }
    }

    private void record(PendingCommand pending, CommandResult result) {
        pending.markCompleted();
        SqlCommand command = pending.command();
        EventHeader completedHeader = header();
        AuditEvent.ResultSampled inside = null;
        if (result.samples().size() == 1) {
            // one chunk: inside CommandCompleted, under its header (one audit record fewer per command)
            var only = result.samples().getFirst();
            inside = new AuditEvent.ResultSampled(completedHeader, only.commandId(), only.sequence(), only.chunk(), only.last(),
                    only.columns(), only.rows(), only.truncated(), only.rowsCaptured(), only.bytesCaptured(), only.masked());
        } else {
            for (AuditEvent.ResultSampled chunk : result.samples()) {
                ports.audit().append(chunk).whenComplete((ok, err) -> {
                    if (err != null) LOGGER.error("session={} command={} result sample chunk {} could not be recorded: {}",
                            sessionId, command.id(), chunk.chunk(), err.toString());
                });
            }
        }
        if (!result.samples().isEmpty()) {
            var first = result.samples().getFirst();
            ports.metrics().sampled(first.bytesCaptured(), first.truncated());
        }
        var outcome = new AuditEvent.Outcome(result.forwarded(), result.tags(), result.rows(), result.errorCode(),
                result.errorMessage(), Duration.ofNanos(System.nanoTime() - pending.startNanos()), result.bytesToClient(),
                result.txStatus(), result.masking(), result.statementsRun());
        ports.audit().append(new AuditEvent.CommandCompleted(completedHeader, command.id(), command.sequence(), outcome, inside))
                .whenComplete((ok, err) -> {
                    if (err != null) LOGGER.error("session={} command={} CommandCompleted could not be recorded: {}",
                            sessionId, command.id(), err.toString());
                });
    }

    // ---------------------------------------------------------------- approvals

    /**
     * A RequireApproval decision. Hold mode: the command waits (the client is told at once and every
     * approval-notice-interval) for the approval service's outcome, then runs or is refused.
     * Deferred mode: refused at once with the approval id; the same statement runs once when re-sent
     * after the approval. Without an approval id no approval service took the request: refused.
     */
    private void approval(PendingCommand pending, Decision.RequireApproval ra) {
        CommandId id = pending.command().id();
        if (ra.approvalId() == null) {
            deny(pending, new Decision.Deny(ra.commandId(), ra.ruleId(), "approval is required (" + ra.reason()
                    + ") but no approval service is deployed; the command was not executed", ra.policyVersion()));
            return;
        }
        if (ra.deferred()) {
            LOGGER.info("session={} command={} approval={} requested, deferred rule={}", sessionId, id, ra.approvalId(), ra.ruleId());
            reject(pending, Refusal.of(Refusal.Kind.DENIED, "gatehouse: approval required: request " + ra.approvalId()
                            + " sent to " + channelOf(ra) + "; run the same statement again once it is approved (rule "
                            + ra.ruleId() + ": " + ra.reason() + ")",
                    "approval " + ra.approvalId() + " is deferred: once granted, the same statement with the same arguments"
                            + " from the same identity runs once, for a limited time; policy version " + ra.policyVersion()
                            + ", command " + id));
            return;
        }
        hold(pending, ra);
    }

    private void hold(PendingCommand pending, Decision.RequireApproval ra) {
        state = new SessionState.Holding(pending, ra);
        Instant now = scheduler.now();
        Instant expiresAt = ra.expiresAt() != null ? ra.expiresAt() : now.plus(DEFAULT_APPROVAL_WAIT);
        LOGGER.info("session={} command={} held for approval={} rule={} expiresAt={}", sessionId, pending.command().id(),
                ra.approvalId(), ra.ruleId(), expiresAt);
        protocol.notice("approval required: request " + ra.approvalId() + " sent to " + channelOf(ra) + ", waiting up to "
                + humanDuration(Duration.between(now, expiresAt)) + " (rule " + ra.ruleId() + ": " + ra.reason() + ")");
        Duration every = ports.approvalNoticeInterval().get();
        pending.noticeTimer(scheduler.setPeriodic(every.toMillis() < 1 ? Duration.ofMillis(1) : every, () -> {
            if (!(state instanceof SessionState.Holding h && h.command() == pending)) return;
            protocol.notice("still waiting for approval " + ra.approvalId() + ": "
                    + humanDuration(Duration.between(scheduler.now(), expiresAt)) + " left");
        }));
        Duration wait = Duration.between(now, expiresAt).plus(APPROVAL_GRACE);
        ports.decisions().awaitOutcome(pending.command().id(), wait.isNegative() ? APPROVAL_GRACE : wait)
                .whenComplete((outcome, err) -> scheduler.execute(() -> {
                    if (!(state instanceof SessionState.Holding h && h.command() == pending)) return;
                    stopHolding(pending);
                    if (err != null) {
                        failClosed(pending, "no answer to approval " + ra.approvalId() + " by its expiry ("
                                + unwrap(err).getMessage() + ")");
                        return;
                    }
                    switch (outcome) {
                        case Decision.Allow a -> runApproved(pending, ra, a);
                        case Decision.Deny d -> {
                            LOGGER.info("session={} command={} approval={} refused rule={}", sessionId,
                                    pending.command().id(), ra.approvalId(), d.ruleId());
                            boolean expired = APPROVAL_EXPIRED_RULE.equals(d.ruleId());
                            reject(pending, Refusal.of(Refusal.Kind.DENIED, "gatehouse: approval " + ra.approvalId()
                                            + (expired ? " expired: " : " denied: ") + d.reason(),
                                    "rule " + ra.ruleId() + " (" + ra.reason() + "), command " + pending.command().id()
                                            + "; the statement was not executed"));
                        }
                        case Decision.Mask mk -> {
                            pending.decided(mk);
                            forward(pending, mk);
                        }
                        case Decision.RequireApproval again -> failClosed(pending, "approval " + ra.approvalId()
                                + " ended without an outcome");
                    }
                }));
    }

    /** Granted: records that the approval was executed (acknowledged) and forwards the held command. */
    private void runApproved(PendingCommand pending, Decision.RequireApproval ra, Decision.Allow granted) {
        LOGGER.info("session={} command={} approval={} granted: {}", sessionId, pending.command().id(), ra.approvalId(),
                granted.reason());
        pending.decided(granted);
        protocol.notice("approval " + ra.approvalId() + " granted: " + granted.reason() + "; running the statement");
        state = new SessionState.Deciding(pending);
        ports.audit().append(new AuditEvent.ApprovalExecuted(header(), ra.approvalId(), pending.command().id()))
                .whenComplete((ok, err) -> onDecisionThread(pending, () -> {
                    if (err != null) failClosed(pending, "the audit log is unavailable (" + unwrap(err).getMessage() + ")");
                    else forward(pending, granted);
                }));
    }

    private void stopHolding(PendingCommand pending) {
        if (pending.noticeTimer() >= 0) {
            cancelTimer(pending.noticeTimer());
            pending.noticeTimer(-1);
        }
    }

    private static String channelOf(Decision.RequireApproval ra) {
        return ra.channel() == null || ra.channel().isBlank() ? "the approvers" : ra.channel();
    }

    // ---------------------------------------------------------------- cancel, kill, close

    /**
     * The client asked to cancel (a CancelRequest routed here): a held command is abandoned with
     * the target's own answer to a cancelled statement; a running one is cancelled at the target.
     */
    public void cancel() {
        if (state instanceof SessionState.Holding h) {
            PendingCommand pending = h.command();
            stopHolding(pending);
            LOGGER.info("session={} command={} approval={} abandoned: cancelled by the client", sessionId,
                    pending.command().id(), h.approval().approvalId());
            reject(pending, Refusal.of(Refusal.Kind.CANCELED, "canceling statement due to user request",
                    "gatehouse: the statement was waiting for approval " + h.approval().approvalId() + " and was not executed"));
        } else if (!state.beforeOpen() && !isClosed()) {
            LOGGER.info("session={} cancel requested in state {}: forwarded to the target", sessionId,
                    state.getClass().getSimpleName());
            protocol.cancelAtTarget();
        }
    }

    /**
     * The edge is shutting down: ends the session with the target's own shutdown error (PostgreSQL
     * 57P01, MySQL 1053) now when no command is in flight or {@code now}, else as soon as the command
     * in flight completes; a command cut off by {@code now} is recorded as not completed.
     */
    public void drain(boolean now) {
        if (isClosed()) return;
        draining = true;
        if (now || state.command() == null) endForDrain();
    }

    private void endForDrain() {
        fatal(Refusal.of(Refusal.Kind.EDGE_SHUTDOWN, "gatehouse: the edge is shutting down; reconnect to continue"
                + " through another edge"), "the edge is shutting down");
    }

    /** Ends the session with a fatal error naming {@code reason} (kill, revocation, shutdown). */
    public void kill(String reason) {
        fatal(Refusal.of(Refusal.Kind.SHUTDOWN, "gatehouse: session terminated: " + reason), reason);
    }

    /** Malformed input from the client: recorded, answered with a fatal protocol error, closed. */
    public void violation(String protocolName, String detail) {
        if (isClosed()) return;
        ports.metrics().violation();
        LOGGER.info("session={} client={} protocol violation: {}", sessionId, clientAddress, detail);
        ports.audit().append(new AuditEvent.ProtocolViolation(header(), protocolName, clientAddress, detail));
        fatal(Refusal.of(Refusal.Kind.PROTOCOL, "gatehouse: protocol violation: " + detail), "protocol violation");
    }

    /** Sends a fatal error and closes. */
    public void fatal(Refusal refusal, String closeReason) {
        if (isClosed()) return;
        protocol.fatal(refusal);
        close(closeReason);
    }

    /**
     * Closes the session ({@code reason} null: closed before it opened, nothing to record). A
     * command in flight is completed with the reason; an open session gets its SessionClosed.
     */
    public void close(String reason) {
        if (isClosed()) return;
        SessionState before = state;
        state = new SessionState.Closed(reason);
        cancelTimer(authenticationTimer);
        cancelTimer(tokenExpiryTimer);
        PendingCommand pending = before.command();
        if (pending != null) {
            stopHolding(pending);
            if (!pending.completed()) {
                String why = before instanceof SessionState.Holding h
                        ? "session ended while waiting for approval " + h.approval().approvalId() + ": " + reason
                        : "session ended before the command completed: " + reason;
                record(pending, new CommandResult(pending.forwarded(), java.util.List.of(), 0, null, why, 0, null, null,
                        -1, java.util.List.of()));
            }
        }
        if (registered) {
            registered = false;
            protocol.unregister();
        }
        protocol.close();
        if (!before.beforeOpen()) {
            ports.audit().append(new AuditEvent.SessionClosed(header(), reason == null ? "closed" : reason, sequence,
                    Duration.between(acceptedAt, scheduler.now())));
            LOGGER.info("session={} closed: {} commands={}", sessionId, reason, sequence);
        }
    }

    // ---------------------------------------------------------------- helpers

    private void cancelTimer(long id) {
        if (id >= 0) scheduler.cancelTimer(id);
    }

    private void require(boolean ok, String what) {
        if (!ok) throw new IllegalStateException(what + " in state " + state.getClass().getSimpleName());
    }

    static Throwable unwrap(Throwable t) {
        while ((t instanceof java.util.concurrent.CompletionException || t instanceof java.util.concurrent.ExecutionException)
                && t.getCause() != null) {
            t = t.getCause();
        }
        return t;
    }

    /** "10m", "1h5m", "45s", "9m30s". */
    public static String humanDuration(Duration d) {
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

    private static String human(Duration d) {
        return d.toMillis() % 1000 == 0 ? humanDuration(d) : d.toMillis() + "ms";
    }

    /** For tests and logs: the startup parameters the client sent. */
    Map<String, String> startupParameters() {
        return request == null ? Map.of() : request.startupParameters();
    }
}
