package dev.gatehouse.platform.events;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandId;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SessionId;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
import dev.gatehouse.platform.core.StatementKind;
import dev.gatehouse.schemas.v1.AccessRevoked;
import dev.gatehouse.schemas.v1.ApprovalDenied;
import dev.gatehouse.schemas.v1.ApprovalExpired;
import dev.gatehouse.schemas.v1.ApprovalGranted;
import dev.gatehouse.schemas.v1.ApprovalRequested;
import dev.gatehouse.schemas.v1.AuditRecord;
import dev.gatehouse.schemas.v1.CancelQuery;
import dev.gatehouse.schemas.v1.CancelRequested;
import dev.gatehouse.schemas.v1.CommandCompleted;
import dev.gatehouse.schemas.v1.CommandReceived;
import dev.gatehouse.schemas.v1.Connection;
import dev.gatehouse.schemas.v1.ControlRecord;
import dev.gatehouse.schemas.v1.DecisionMade;
import dev.gatehouse.schemas.v1.KillConnection;
import dev.gatehouse.schemas.v1.KillSession;
import dev.gatehouse.schemas.v1.Outcome;
import dev.gatehouse.schemas.v1.PolicyActivated;
import dev.gatehouse.schemas.v1.ProtocolViolation;
import dev.gatehouse.schemas.v1.SessionClosed;
import dev.gatehouse.schemas.v1.SessionOpened;
import dev.gatehouse.schemas.v1.SessionRejected;
import dev.gatehouse.schemas.v1.SessionRequested;
import dev.gatehouse.schemas.v1.SessionSealed;

/**
 * Maps the generated Avro records of {@code schemas/} back to core events and control messages;
 * the inverse of {@link AvroEventWriter}. Throws {@link EventDecodingException} when a record
 * holds something the core model cannot represent.
 */
public final class AvroEventReader {

    private AvroEventReader() {
    }

    /** The core event an Avro envelope carries. */
    public static AuditEvent fromAvro(AuditRecord record) {
        EventHeader h = new EventHeader(record.getEventId(), new SessionId(record.getSessionId()),
                record.getTimestamp(), record.getService(), record.getInstance());
        return switch (record.getPayload()) {
            case SessionOpened p -> new AuditEvent.SessionOpened(h, identity(p.getIdentity()),
                    connection(p.getConnection()), p.getClientAddress(), p.getDatabaseUser(), p.getApplicationName(),
                    p.getMode(), p.getTls(), p.getStartupParameters(), p.getTargetParameters(), p.getTargetProcessId());
            case SessionRejected p -> new AuditEvent.SessionRejected(h, p.getClientAddress(), p.getConnection(),
                    p.getDatabaseUser(), p.getSubject(), p.getSqlState(), p.getReason());
            case SessionRequested p -> new AuditEvent.SessionRequested(h, new CommandId(p.getRequestId()),
                    identity(p.getIdentity()), connection(p.getConnection()), p.getClientAddress(),
                    p.getDatabaseUser(), p.getApplicationName(), p.getEdgeId(), p.getReplyPartition(), p.getMode());
            case CommandReceived p -> new AuditEvent.CommandReceived(h, command(p.getCommand()),
                    identity(p.getIdentity()), connection(p.getConnection()), p.getEdgeId(), p.getReplyPartition(),
                    p.getMode(), p.getSessionStartedAt(), p.getClientAddress(), p.getRefusal());
            case DecisionMade p -> new AuditEvent.DecisionMade(h, new CommandId(p.getCommandId()), p.getSequence(),
                    decision(p.getDecision()), p.getEdgeId(), p.getReplyPartition(), p.getMode(),
                    duration(p.getEvaluationMicros()), p.getDryRun().stream().map(AvroEventReader::dryRun).toList());
            case CommandCompleted p -> new AuditEvent.CommandCompleted(h, new CommandId(p.getCommandId()),
                    p.getSequence(), outcome(p.getOutcome()), p.getSample() == null ? null : sample(h, p.getSample()));
            case SessionClosed p -> new AuditEvent.SessionClosed(h, p.getReason(), p.getCommands(),
                    duration(p.getDurationMicros()));
            case ProtocolViolation p -> new AuditEvent.ProtocolViolation(h, p.getProtocol(), p.getClientAddress(),
                    p.getDetail());
            case CancelRequested p -> new AuditEvent.CancelRequested(h, p.getClientAddress(), p.getMatched());
            case PolicyActivated p -> new AuditEvent.PolicyActivated(h, p.getPolicyId(), p.getVersion(),
                    p.getAppliedBy(), p.getStaged(), p.getAppliedAt(), p.getSha256());
            case ApprovalRequested p -> new AuditEvent.ApprovalRequested(h, new CommandId(p.getCommandId()),
                    p.getApprovalId(), p.getContentFingerprint(), p.getApproverGroup(), p.getApprovalsRequired(),
                    p.getExpiresAt(), p.getRuleId(), p.getReason(), p.getMode(),
                    p.getCommand() == null ? null : command(p.getCommand()), identity(p.getIdentity()),
                    connection(p.getConnection()), p.getEdgeId(), p.getReplyPartition(),
                    duration(p.getValidForMicros()), p.getChannel(), p.getApproverFrom());
            case ApprovalGranted p -> new AuditEvent.ApprovalGranted(h, p.getApprovalId(), List.copyOf(p.getApprovers()),
                    p.getValidUntil());
            case dev.gatehouse.schemas.v1.ApprovalVoted p -> new AuditEvent.ApprovalVoted(h, p.getApprovalId(),
                    p.getApprover(), p.getApproverIssuer(), List.copyOf(p.getApproverGroups()), p.getApprove(),
                    p.getReason(), p.getChannel(), p.getExternalUser());
            case dev.gatehouse.schemas.v1.ApprovalNotified p -> new AuditEvent.ApprovalNotified(h, p.getApprovalId(),
                    p.getChannel(), p.getDestination(), p.getDelivered(), p.getAttempt(), p.getError(),
                    p.getMessageRef());
            case dev.gatehouse.schemas.v1.ApprovalExecuted p -> new AuditEvent.ApprovalExecuted(h, p.getApprovalId(),
                    new CommandId(p.getCommandId()));
            case ApprovalDenied p -> new AuditEvent.ApprovalDenied(h, p.getApprovalId(), p.getDeniedBy(), p.getReason());
            case ApprovalExpired p -> new AuditEvent.ApprovalExpired(h, p.getApprovalId());
            case AccessRevoked p -> new AuditEvent.AccessRevoked(h, p.getSelectorType(), p.getSelectorValue(),
                    p.getRevokedBy(), p.getReason(), p.getLifted());
            case SessionSealed p -> new AuditEvent.SessionSealed(h, p.getSealedSessionId(), p.getEvents(),
                    p.getChainHead(), p.getAlgorithm(), p.getSignature(), p.getKeyId(), p.getStatus());
            case dev.gatehouse.schemas.v1.ResultSampled p -> sample(h, p);
            case null -> throw new EventDecodingException("audit record " + record.getEventId() + " has no payload");
            default -> throw new EventDecodingException("audit record " + record.getEventId()
                    + " has an unknown payload type " + record.getPayload().getClass().getName());
        };
    }

    /** A result sample, an event of its own or inside a CommandCompleted (then under that event's header). */
    private static AuditEvent.ResultSampled sample(EventHeader h, dev.gatehouse.schemas.v1.ResultSampled p) {
        return new AuditEvent.ResultSampled(h, new CommandId(p.getCommandId()), p.getSequence(), p.getChunk(), p.getLast(),
                p.getColumns(), p.getRows(), p.getTruncated(), p.getRowsCaptured(), p.getBytesCaptured(), p.getMasked());
    }

    /** The core control message an Avro envelope carries. */
    public static ControlMessage fromAvro(ControlRecord record) {
        return switch (record.getPayload()) {
            case CancelQuery c -> new ControlMessage.CancelQuery(c.getProcessId(), c.getSecretKey(), c.getFromEdge());
            case KillSession k -> new ControlMessage.KillSession(new SessionId(k.getSessionId()), k.getReason());
            case KillConnection k -> new ControlMessage.KillConnection(k.getConnectionId(), k.getQuery(), k.getSubject(),
                    k.getIssuer(), k.getRequestedBy(), k.getFromEdge());
            case null -> throw new EventDecodingException("control record has no payload");
            default -> throw new EventDecodingException("control record has an unknown payload type "
                    + record.getPayload().getClass().getName());
        };
    }

    /**
     * Identities already read, by value: a session's commands carry the same identity, whose claims
     * (JSON) are parsed once, not once per command. Claims that do not parse are not kept (each
     * read fails).
     */
    private static final Cache<dev.gatehouse.schemas.v1.Identity, Identity> IDENTITIES =
            Caffeine.newBuilder().maximumSize(10_000).executor(Runnable::run).build();

    static Identity identity(dev.gatehouse.schemas.v1.Identity identity) {
        return identity == null ? null : IDENTITIES.get(identity, AvroEventReader::readIdentity);
    }

    private static Identity readIdentity(dev.gatehouse.schemas.v1.Identity identity) {
        Map<String, Object> claims = new LinkedHashMap<>();
        identity.getClaims().forEach((name, json) -> claims.put(name, claimValue(name, json)));
        return new Identity(identity.getSubject(), identity.getIssuer(), identity.getGroups(), identity.getRoles(),
                claims, ci(identity.getCi()), delegation(identity.getDelegation()), intent(identity.getIntent()));
    }

    private static Delegation delegation(dev.gatehouse.schemas.v1.Delegation d) {
        return d == null ? null : new Delegation(d.getOriginator(), d.getOriginatorIssuer(), d.getOriginatorGroups(),
                d.getOriginatorRoles(), d.getEarlierActors(), d.getVia());
    }

    private static DeclaredIntent intent(dev.gatehouse.schemas.v1.DeclaredIntent i) {
        if (i == null) return null;
        if (i.getRunId() == null && i.getStepId() == null) throw new EventDecodingException("a declared intent names neither run nor step");
        return new DeclaredIntent(i.getRunId(), i.getStepId(), i.getVerified(), i.getSource());
    }

    private static Object claimValue(String name, String json) {
        try {
            Object value = AvroEventWriter.JSON.readValue(json, Object.class);
            if (value == null) {
                throw new EventDecodingException("claim '" + name + "' is JSON null; claims cannot be null");
            }
            return value;
        } catch (IOException e) {
            throw new EventDecodingException("claim '" + name + "' is not valid JSON", e);
        }
    }

    private static CiProvenance ci(dev.gatehouse.schemas.v1.CiProvenance ci) {
        if (ci == null) {
            return null;
        }
        return new CiProvenance(ci.getSystem(), ci.getRepository(), ci.getRepositoryId(), ci.getCommitSha(),
                ci.getRef(), ci.getWorkflow(), ci.getRunId(), ci.getJob(), ci.getWorkflowRef(), ci.getWorkflowSha(),
                ci.getJobWorkflowRef(), ci.getJobWorkflowSha(), ci.getRunAttempt(), ci.getActor(), ci.getActorId(),
                ci.getEnvironment(), ci.getEvent(), ci.getRefProtected(), ci.getRunnerEnvironment());
    }

    private static ConnectionRef connection(Connection connection) {
        if (connection == null) {
            return null;
        }
        return new ConnectionRef(connection.getName(), connection.getProtocol(), connection.getTarget(),
                connection.getLabels());
    }

    private static SqlCommand command(dev.gatehouse.schemas.v1.SqlCommand command) {
        return new SqlCommand(new CommandId(command.getCommandId()), new SessionId(command.getSessionId()),
                command.getSequence(), command.getReceivedAt(), SqlCommand.Form.valueOf(command.getForm().name()),
                command.getSql(), command.getParameters(), analysis(command.getAnalysis()), command.getProtocol(),
                command.getStatements().stream().map(AvroEventReader::statement).toList());
    }

    private static CommandStatement statement(dev.gatehouse.schemas.v1.CommandStatement s) {
        return new CommandStatement(CommandStatement.Step.valueOf(s.getStep().name()), s.getSql(), s.getStatementName(),
                s.getPortalName(), s.getParameters(), s.getParametersDigest(), s.getRowLimit(), s.getContinued(),
                s.getVia(), statement(s.getAnalysis()));
    }

    private static SqlAnalysis analysis(dev.gatehouse.schemas.v1.SqlAnalysis analysis) {
        return new SqlAnalysis(analysis.getParseable(), analysis.getParseError(), analysis.getFingerprint(),
                analysis.getStatements().stream().map(AvroEventReader::statement).toList());
    }

    private static StatementAnalysis statement(dev.gatehouse.schemas.v1.StatementAnalysis s) {
        return new StatementAnalysis(StatementKind.valueOf(s.getKind().name()), s.getTag(), s.getObjectType(),
                s.getTablesRead(), s.getTablesWritten(), s.getFunctions(), s.getMissingWhere(), s.getRunsCode(),
                s.getUncertain(), s.getUncertainty(), s.getSettings(), s.getFilterColumns());
    }

    static Decision decision(dev.gatehouse.schemas.v1.Decision d) {
        CommandId id = new CommandId(d.getCommandId());
        return switch (d.getVerdict()) {
            case ALLOW -> new Decision.Allow(id, d.getRuleId(), d.getReason(), d.getPolicyVersion());
            case DENY -> new Decision.Deny(id, d.getRuleId(), d.getReason(), d.getPolicyVersion());
            case MASK -> new Decision.Mask(id, d.getRuleId(), d.getReason(), d.getPolicyVersion(), d.getMaskProfile());
            case REQUIRE_APPROVAL -> new Decision.RequireApproval(id, d.getRuleId(), d.getReason(),
                    d.getPolicyVersion(), d.getApproverGroup(), d.getApprovals(), d.getApprovalId(),
                    d.getApprovalMode(), d.getApprovalExpiresAt(), d.getApprovalChannel());
        };
    }

    static dev.gatehouse.platform.core.DryRunVerdict dryRun(dev.gatehouse.schemas.v1.DryRunVerdict v) {
        return new dev.gatehouse.platform.core.DryRunVerdict(v.getRuleId(),
                dev.gatehouse.platform.core.Verdict.valueOf(v.getVerdict().name()), v.getReason(), v.getPolicyVersion(),
                v.getStaged(), v.getApproverGroup(), v.getApprovals(), v.getMaskProfile());
    }

    private static AuditEvent.Outcome outcome(Outcome o) {
        return new AuditEvent.Outcome(o.getForwarded(), o.getCommandTags(), o.getRows(), o.getSqlState(),
                o.getErrorMessage(), duration(o.getDurationMicros()), o.getBytesToClient(), o.getTxStatus(),
                o.getMasking() == null ? null : new AuditEvent.Masking(o.getMasking().getProfile(), o.getMasking().getValues(),
                        o.getMasking().getColumns(), o.getMasking().getDetectors()), o.getStatementsRun());
    }

    private static Duration duration(Long micros) {
        return micros == null ? null : Duration.of(micros, ChronoUnit.MICROS);
    }
}
