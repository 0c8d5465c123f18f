package dev.gatehouse.platform.events;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.fasterxml.jackson.databind.ObjectMapper;

import dev.gatehouse.platform.core.AuditEvent;
import dev.gatehouse.platform.core.CiProvenance;
import dev.gatehouse.platform.core.CommandStatement;
import dev.gatehouse.platform.core.ConnectionRef;
import dev.gatehouse.platform.core.ControlMessage;
import dev.gatehouse.platform.core.Decision;
import dev.gatehouse.platform.core.EventHeader;
import dev.gatehouse.platform.core.DeclaredIntent;
import dev.gatehouse.platform.core.Delegation;
import dev.gatehouse.platform.core.Identity;
import dev.gatehouse.platform.core.SqlAnalysis;
import dev.gatehouse.platform.core.SqlCommand;
import dev.gatehouse.platform.core.StatementAnalysis;
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
import dev.gatehouse.schemas.v1.SqlCommandForm;

/**
 * Maps core events and control messages to the generated Avro records of {@code schemas/}, field
 * by field. The only direction-specific knowledge is here; {@link AvroEventReader} is its inverse.
 *
 * <p>Durations become microseconds, instants keep microsecond precision (the schema's
 * {@code timestamp-micros}), identity claims become JSON-encoded strings.
 */
public final class AvroEventWriter {

    static final ObjectMapper JSON = new ObjectMapper();

    private AvroEventWriter() {
    }

    /** The Avro envelope of an event. */
    public static AuditRecord toAvro(AuditEvent event) {
        EventHeader h = event.header();
        return AuditRecord.newBuilder()
                .setEventId(h.eventId())
                .setSessionId(h.sessionId().value())
                .setTimestamp(h.timestamp())
                .setService(h.service())
                .setInstance(h.instance())
                .setPayload(payload(event))
                .build();
    }

    /** The Avro envelope of a control message. */
    public static ControlRecord toAvro(ControlMessage message) {
        Object payload = switch (message) {
            case ControlMessage.CancelQuery c -> CancelQuery.newBuilder()
                    .setProcessId(c.processId()).setSecretKey(c.secretKey()).setFromEdge(c.fromEdge()).build();
            case ControlMessage.KillSession k -> KillSession.newBuilder()
                    .setSessionId(k.sessionId().value()).setReason(k.reason()).build();
            case ControlMessage.KillConnection k -> KillConnection.newBuilder().setConnectionId(k.connectionId())
                    .setQuery(k.query()).setSubject(k.subject()).setIssuer(k.issuer()).setRequestedBy(k.requestedBy())
                    .setFromEdge(k.fromEdge()).build();
        };
        return ControlRecord.newBuilder().setPayload(payload).build();
    }

    private static Object payload(AuditEvent event) {
        return switch (event) {
            case AuditEvent.SessionOpened e -> SessionOpened.newBuilder()
                    .setIdentity(identity(e.identity()))
                    .setConnection(connection(e.connection()))
                    .setClientAddress(e.clientAddress())
                    .setDatabaseUser(e.databaseUser())
                    .setApplicationName(e.applicationName())
                    .setMode(e.mode())
                    .setTls(e.tls())
                    .setStartupParameters(new LinkedHashMap<>(e.startupParameters()))
                    .setTargetParameters(new LinkedHashMap<>(e.targetParameters()))
                    .setTargetProcessId(e.targetProcessId())
                    .build();
            case AuditEvent.SessionRejected e -> SessionRejected.newBuilder()
                    .setClientAddress(e.clientAddress())
                    .setConnection(e.connection())
                    .setDatabaseUser(e.databaseUser())
                    .setSubject(e.subject())
                    .setSqlState(e.sqlState())
                    .setReason(e.reason())
                    .build();
            case AuditEvent.SessionRequested e -> SessionRequested.newBuilder()
                    .setRequestId(e.requestId().value())
                    .setIdentity(identity(e.identity()))
                    .setConnection(connection(e.connection()))
                    .setClientAddress(e.clientAddress())
                    .setDatabaseUser(e.databaseUser())
                    .setApplicationName(e.applicationName())
                    .setEdgeId(e.edgeId())
                    .setReplyPartition(e.replyPartition())
                    .setMode(e.mode())
                    .build();
            case AuditEvent.CommandReceived e -> CommandReceived.newBuilder()
                    .setCommand(command(e.command()))
                    .setIdentity(identity(e.identity()))
                    .setConnection(connection(e.connection()))
                    .setEdgeId(e.edgeId())
                    .setReplyPartition(e.replyPartition())
                    .setMode(e.mode())
                    .setSessionStartedAt(e.sessionStartedAt())
                    .setClientAddress(e.clientAddress())
                    .setRefusal(e.refusal())
                    .build();
            case AuditEvent.DecisionMade e -> DecisionMade.newBuilder()
                    .setCommandId(e.commandId() == null ? null : e.commandId().value())
                    .setSequence(e.sequence())
                    .setDecision(decision(e.decision()))
                    .setEdgeId(e.edgeId())
                    .setReplyPartition(e.replyPartition())
                    .setMode(e.mode())
                    .setEvaluationMicros(micros(e.evaluation()))
                    .setDryRun(e.dryRun().stream().map(AvroEventWriter::dryRun).toList())
                    .build();
            case AuditEvent.CommandCompleted e -> CommandCompleted.newBuilder()
                    .setCommandId(e.commandId() == null ? null : e.commandId().value())
                    .setSequence(e.sequence())
                    .setOutcome(outcome(e.outcome()))
                    .setSample(e.sample() == null ? null : sample(e.sample()))
                    .build();
            case AuditEvent.SessionClosed e -> SessionClosed.newBuilder()
                    .setReason(e.reason())
                    .setCommands(e.commands())
                    .setDurationMicros(micros(e.duration()))
                    .build();
            case AuditEvent.ProtocolViolation e -> ProtocolViolation.newBuilder()
                    .setProtocol(e.protocol())
                    .setClientAddress(e.clientAddress())
                    .setDetail(e.detail())
                    .build();
            case AuditEvent.CancelRequested e -> CancelRequested.newBuilder()
                    .setClientAddress(e.clientAddress())
                    .setMatched(e.matched())
                    .build();
            case AuditEvent.PolicyActivated e -> PolicyActivated.newBuilder()
                    .setPolicyId(e.policyId())
                    .setVersion(e.version())
                    .setAppliedBy(e.appliedBy())
                    .setStaged(e.staged())
                    .setAppliedAt(e.appliedAt())
                    .setSha256(e.sha256())
                    .build();
            case AuditEvent.ApprovalRequested e -> ApprovalRequested.newBuilder()
                    .setCommandId(e.commandId() == null ? null : e.commandId().value())
                    .setApprovalId(e.approvalId())
                    .setContentFingerprint(e.contentFingerprint())
                    .setApproverGroup(e.approverGroup())
                    .setApprovalsRequired(e.approvalsRequired())
                    .setExpiresAt(e.expiresAt())
                    .setRuleId(e.ruleId())
                    .setReason(e.reason())
                    .setMode(e.mode())
                    .setCommand(command(e.command()))
                    .setIdentity(identity(e.identity()))
                    .setConnection(connection(e.connection()))
                    .setEdgeId(e.edgeId())
                    .setReplyPartition(e.replyPartition())
                    .setValidForMicros(micros(e.validFor()))
                    .setChannel(e.channel())
                    .setApproverFrom(e.approverFrom())
                    .build();
            case AuditEvent.ApprovalGranted e -> ApprovalGranted.newBuilder()
                    .setApprovalId(e.approvalId())
                    .setApprovers(e.approvers() == null ? List.of() : List.copyOf(e.approvers()))
                    .setValidUntil(e.validUntil())
                    .build();
            case AuditEvent.ApprovalVoted e -> dev.gatehouse.schemas.v1.ApprovalVoted.newBuilder()
                    .setApprovalId(e.approvalId())
                    .setApprover(e.approver())
                    .setApproverIssuer(e.approverIssuer())
                    .setApproverGroups(e.approverGroups() == null ? List.of() : List.copyOf(e.approverGroups()))
                    .setApprove(e.approve())
                    .setReason(e.reason())
                    .setChannel(e.channel())
                    .setExternalUser(e.externalUser())
                    .build();
            case AuditEvent.ApprovalNotified e -> dev.gatehouse.schemas.v1.ApprovalNotified.newBuilder()
                    .setApprovalId(e.approvalId())
                    .setChannel(e.channel())
                    .setDestination(e.destination())
                    .setDelivered(e.delivered())
                    .setAttempt(e.attempt())
                    .setError(e.error())
                    .setMessageRef(e.messageRef())
                    .build();
            case AuditEvent.ApprovalExecuted e -> dev.gatehouse.schemas.v1.ApprovalExecuted.newBuilder()
                    .setApprovalId(e.approvalId())
                    .setCommandId(e.commandId().value())
                    .build();
            case AuditEvent.ApprovalDenied e -> ApprovalDenied.newBuilder()
                    .setApprovalId(e.approvalId())
                    .setDeniedBy(e.deniedBy())
                    .setReason(e.reason())
                    .build();
            case AuditEvent.ApprovalExpired e -> ApprovalExpired.newBuilder()
                    .setApprovalId(e.approvalId())
                    .build();
            case AuditEvent.AccessRevoked e -> AccessRevoked.newBuilder()
                    .setSelectorType(e.selectorType())
                    .setSelectorValue(e.selectorValue())
                    .setRevokedBy(e.revokedBy())
                    .setReason(e.reason())
                    .setLifted(e.lifted())
                    .build();
            case AuditEvent.SessionSealed e -> SessionSealed.newBuilder()
                    .setSealedSessionId(e.sealedSessionId())
                    .setEvents(e.events())
                    .setChainHead(e.chainHead())
                    .setAlgorithm(e.algorithm())
                    .setSignature(e.signature())
                    .setKeyId(e.keyId())
                    .setStatus(e.status())
                    .build();
            case AuditEvent.ResultSampled e -> sample(e);
        };
    }

    /**
     * Identities already converted, by the very object (a session's identity rides on every command
     * it sends): its claims are written as JSON once per session, not once per command. The Avro
     * records handed out are only read, never changed.
     */
    private static final Cache<Identity, dev.gatehouse.schemas.v1.Identity> IDENTITIES =
            Caffeine.newBuilder().weakKeys().maximumSize(10_000).executor(Runnable::run).build();

    static dev.gatehouse.schemas.v1.Identity identity(Identity identity) {
        return identity == null ? null : IDENTITIES.get(identity, AvroEventWriter::convertIdentity);
    }

    private static dev.gatehouse.schemas.v1.Identity convertIdentity(Identity identity) {
        Map<String, String> claims = new LinkedHashMap<>();
        identity.claims().forEach((name, value) -> claims.put(name, claimJson(name, value)));
        return dev.gatehouse.schemas.v1.Identity.newBuilder()
                .setSubject(identity.subject())
                .setIssuer(identity.issuer())
                .setGroups(identity.groups())
                .setRoles(identity.roles())
                .setClaims(claims)
                .setCi(ci(identity.ci()))
                .setDelegation(delegation(identity.delegation()))
                .setIntent(intent(identity.intent()))
                .build();
    }

    private static dev.gatehouse.schemas.v1.Delegation delegation(Delegation d) {
        return d == null ? null : dev.gatehouse.schemas.v1.Delegation.newBuilder()
                .setOriginator(d.originator())
                .setOriginatorIssuer(d.originatorIssuer())
                .setOriginatorGroups(d.originatorGroups())
                .setOriginatorRoles(d.originatorRoles())
                .setEarlierActors(d.earlierActors())
                .setVia(d.via())
                .build();
    }

    private static dev.gatehouse.schemas.v1.DeclaredIntent intent(DeclaredIntent i) {
        return i == null ? null : dev.gatehouse.schemas.v1.DeclaredIntent.newBuilder()
                .setRunId(i.runId())
                .setStepId(i.stepId())
                .setVerified(i.verified())
                .setSource(i.source())
                .build();
    }

    private static String claimJson(String name, Object value) {
        try {
            return JSON.writeValueAsString(value);
        } catch (JsonProcessingException e) {
            throw new IllegalArgumentException("claim '" + name + "' of type " + value.getClass().getName()
                    + " cannot be written as JSON", e);
        }
    }

    private static dev.gatehouse.schemas.v1.CiProvenance ci(CiProvenance ci) {
        if (ci == null) {
            return null;
        }
        return dev.gatehouse.schemas.v1.CiProvenance.newBuilder()
                .setSystem(ci.system())
                .setRepository(ci.repository())
                .setRepositoryId(ci.repositoryId())
                .setCommitSha(ci.commitSha())
                .setRef(ci.ref())
                .setWorkflow(ci.workflow())
                .setRunId(ci.runId())
                .setJob(ci.job())
                .setWorkflowRef(ci.workflowRef())
                .setWorkflowSha(ci.workflowSha())
                .setJobWorkflowRef(ci.jobWorkflowRef())
                .setJobWorkflowSha(ci.jobWorkflowSha())
                .setRunAttempt(ci.runAttempt())
                .setActor(ci.actor())
                .setActorId(ci.actorId())
                .setEnvironment(ci.environment())
                .setEvent(ci.event())
                .setRefProtected(ci.refProtected())
                .setRunnerEnvironment(ci.runnerEnvironment())
                .build();
    }

    private static Connection connection(ConnectionRef connection) {
        if (connection == null) {
            return null;
        }
        return Connection.newBuilder()
                .setName(connection.name())
                .setProtocol(connection.protocol())
                .setTarget(connection.target())
                .setLabels(new LinkedHashMap<>(connection.labels()))
                .build();
    }

    private static dev.gatehouse.schemas.v1.SqlCommand command(SqlCommand command) {
        if (command == null) {
            return null;
        }
        return dev.gatehouse.schemas.v1.SqlCommand.newBuilder()
                .setCommandId(command.id().value())
                .setSessionId(command.sessionId().value())
                .setSequence(command.sequence())
                .setReceivedAt(command.receivedAt())
                .setForm(SqlCommandForm.valueOf(command.form().name()))
                .setSql(command.sql())
                .setParameters(new ArrayList<>(command.parameters()))
                .setAnalysis(analysis(command.analysis()))
                .setProtocol(command.protocol())
                .setStatements(command.statements().stream().map(AvroEventWriter::statement).toList())
                .build();
    }

    private static dev.gatehouse.schemas.v1.CommandStatement statement(CommandStatement s) {
        return dev.gatehouse.schemas.v1.CommandStatement.newBuilder()
                .setStep(dev.gatehouse.schemas.v1.StatementStep.valueOf(s.step().name()))
                .setSql(s.sql())
                .setStatementName(s.statementName())
                .setPortalName(s.portalName())
                .setParameters(new ArrayList<>(s.parameters()))
                .setParametersDigest(s.parametersDigest())
                .setRowLimit(s.rowLimit())
                .setContinued(s.continued())
                .setVia(s.via())
                .setAnalysis(statement(s.analysis()))
                .build();
    }

    private static dev.gatehouse.schemas.v1.SqlAnalysis analysis(SqlAnalysis analysis) {
        return dev.gatehouse.schemas.v1.SqlAnalysis.newBuilder()
                .setParseable(analysis.parseable())
                .setParseError(analysis.parseError())
                .setFingerprint(analysis.fingerprint())
                .setStatements(analysis.statements().stream().map(AvroEventWriter::statement).toList())
                .build();
    }

    private static dev.gatehouse.schemas.v1.StatementAnalysis statement(StatementAnalysis s) {
        return dev.gatehouse.schemas.v1.StatementAnalysis.newBuilder()
                .setKind(s.kind() == null ? dev.gatehouse.schemas.v1.StatementKind.UNKNOWN
                        : dev.gatehouse.schemas.v1.StatementKind.valueOf(s.kind().name()))
                .setTag(s.tag())
                .setObjectType(s.objectType())
                .setTablesRead(s.tablesRead())
                .setTablesWritten(s.tablesWritten())
                .setFunctions(s.functions())
                .setMissingWhere(s.missingWhere())
                .setRunsCode(s.runsCode())
                .setUncertain(s.uncertain())
                .setUncertainty(s.uncertainty())
                .setSettings(s.settings())
                .setFilterColumns(s.filterColumns())
                .build();
    }

    static dev.gatehouse.schemas.v1.Decision decision(Decision decision) {
        if (decision == null) {
            return null;
        }
        var builder = dev.gatehouse.schemas.v1.Decision.newBuilder()
                .setCommandId(decision.commandId().value())
                .setVerdict(dev.gatehouse.schemas.v1.Verdict.valueOf(decision.verdict().name()))
                .setRuleId(decision.ruleId())
                .setReason(decision.reason())
                .setPolicyVersion(decision.policyVersion());
        switch (decision) {
            case Decision.Mask m -> builder.setMaskProfile(m.profile());
            case Decision.RequireApproval r -> builder.setApproverGroup(r.approverGroup()).setApprovals(r.approvals())
                    .setApprovalId(r.approvalId()).setApprovalMode(r.mode()).setApprovalExpiresAt(r.expiresAt())
                    .setApprovalChannel(r.channel());
            case Decision.Allow a -> { }
            case Decision.Deny d -> { }
        }
        return builder.build();
    }

    static dev.gatehouse.schemas.v1.DryRunVerdict dryRun(dev.gatehouse.platform.core.DryRunVerdict v) {
        return dev.gatehouse.schemas.v1.DryRunVerdict.newBuilder()
                .setRuleId(v.ruleId())
                .setVerdict(dev.gatehouse.schemas.v1.Verdict.valueOf(v.verdict().name()))
                .setReason(v.reason())
                .setPolicyVersion(v.policyVersion())
                .setStaged(v.staged())
                .setApproverGroup(v.approverGroup())
                .setApprovals(v.approvals())
                .setMaskProfile(v.maskProfile())
                .build();
    }

    /** A result sample, written as an event of its own or inside a CommandCompleted. */
    private static dev.gatehouse.schemas.v1.ResultSampled sample(AuditEvent.ResultSampled e) {
        return dev.gatehouse.schemas.v1.ResultSampled.newBuilder()
                .setCommandId(e.commandId().value())
                .setSequence(e.sequence())
                .setChunk(e.chunk())
                .setLast(e.last())
                .setColumns(e.columns())
                .setRows(e.rows())
                .setTruncated(e.truncated())
                .setRowsCaptured(e.rowsCaptured())
                .setBytesCaptured(e.bytesCaptured())
                .setMasked(e.masked())
                .build();
    }

    private static Outcome outcome(AuditEvent.Outcome outcome) {
        if (outcome == null) {
            return null;
        }
        return Outcome.newBuilder()
                .setForwarded(outcome.forwarded())
                .setCommandTags(outcome.commandTags())
                .setRows(outcome.rows())
                .setSqlState(outcome.sqlState())
                .setErrorMessage(outcome.errorMessage())
                .setDurationMicros(micros(outcome.duration()))
                .setBytesToClient(outcome.bytesToClient())
                .setTxStatus(outcome.txStatus())
                .setMasking(outcome.masking() == null ? null : dev.gatehouse.schemas.v1.MaskingSummary.newBuilder()
                        .setProfile(outcome.masking().profile())
                        .setValues(outcome.masking().values())
                        .setColumns(new java.util.HashMap<>(outcome.masking().columns()))
                        .setDetectors(new java.util.HashMap<>(outcome.masking().detectors()))
                        .build())
                .setStatementsRun(outcome.statementsRun())
                .build();
    }

    /** Whole microseconds of a duration (truncated), or null. */
    static Long micros(Duration duration) {
        if (duration == null) {
            return null;
        }
        return Math.addExact(Math.multiplyExact(duration.getSeconds(), 1_000_000L), duration.getNano() / 1_000);
    }
}
