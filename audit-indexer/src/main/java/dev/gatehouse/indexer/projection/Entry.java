package dev.gatehouse.indexer.projection;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

import java.util.List;
import java.util.Map;

/**
 * One line of a session's timeline, in log order: a command with everything that became of it, or
 * another event. Instants are ISO-8601 strings; {@code offset} is the record's offset in its
 * partition of {@code gatehouse.audit}.
 */
public sealed interface Entry permits Entry.CommandEntry, Entry.EventEntry {

    @JsonProperty("type")
    String type();

    String at();

    long offset();

    /**
     * A command: its text and parameters, its statements, decision, approval, outcome and result sample
     * (each null until its event is projected).
     *
     * @param sql        the text as the first event version records it: a simple Query as sent, an
     *                   extended batch's statements joined
     * @param parameters every statement's parameters in order (the first event version's record)
     * @param protocol   the wire protocol ("postgres"); null in entries projected before it was recorded
     * @param statements one per statement: what it does and, for commands recorded statement by
     *                   statement, how and with which parameters it runs
     * @param refusal    why the edge refused the command itself (no decision follows), or null
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record CommandEntry(String at, long offset, long sequence, String commandId, String receivedAt, String sql,
                        List<String> parameters, String form, String protocol, List<StatementInfo> statements,
                        String refusal, DecisionInfo decision, ApprovalInfo approval, OutcomeInfo outcome,
                        SampleInfo sample) implements Entry {

        public CommandEntry {
            parameters = parameters == null ? List.of() : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(parameters));
            statements = statements == null ? List.of() : List.copyOf(statements);
        }

        @Override
        public String type() {
            return "command";
        }

        public CommandEntry withDecision(DecisionInfo d) {
            return new CommandEntry(at, offset, sequence, commandId, receivedAt, sql, parameters, form, protocol,
                    statements, refusal, d, approval, outcome, sample);
        }

        public CommandEntry withApproval(ApprovalInfo a) {
            return new CommandEntry(at, offset, sequence, commandId, receivedAt, sql, parameters, form, protocol,
                    statements, refusal, decision, a, outcome, sample);
        }

        public CommandEntry withOutcome(OutcomeInfo o) {
            return new CommandEntry(at, offset, sequence, commandId, receivedAt, sql, parameters, form, protocol,
                    statements, refusal, decision, approval, o, sample);
        }

        public CommandEntry withSample(SampleInfo s) {
            return new CommandEntry(at, offset, sequence, commandId, receivedAt, sql, parameters, form, protocol,
                    statements, refusal, decision, approval, outcome, s);
        }
    }

    /** Any other event: {@code event} is its type (e.g. "SessionClosed"), {@code detail} a human sentence. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record EventEntry(String at, long offset, String event, String detail) implements Entry {
        @Override
        public String type() {
            return "event";
        }
    }

    /**
     * One statement of a command: its kind and the objects it touches ("schema.name" or "name"),
     * and, for commands recorded statement by statement, how the target runs it (else null, false,
     * 0 and empty).
     *
     * @param step          QUERY, BIND, EXECUTE, FUNCTION_CALL or UNKNOWN
     * @param sql           its text as the target runs it
     * @param statementName the prepared statement ("" the unnamed one), or null
     * @param portalName    the portal or cursor ("" the unnamed portal), or null
     * @param parameters    its own parameters as text (bounded; SQL NULL as null)
     * @param rowLimit      an Execute's row limit, 0 for all rows
     * @param continued     it continues a portal or cursor that already ran
     * @param via           the SQL-level statement that led here ("EXECUTE p(1)", "FETCH 10 FROM c"), or null
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record StatementInfo(String kind, List<String> objects, String step, String sql, String statementName,
                         String portalName, List<String> parameters, long rowLimit, boolean continued, String via) {
        public StatementInfo {
            objects = objects == null ? List.of() : List.copyOf(objects);
            parameters = parameters == null ? List.of()
                    : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(parameters));
        }

        /** A statement known only by its analysis (a command recorded as one text). */
        public StatementInfo(String kind, List<String> objects) {
            this(kind, objects, null, null, null, null, List.of(), 0, false, null);
        }
    }

    /** A dry-run verdict: what a dry-run rule or a staged policy would have decided. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record DryRunInfo(String ruleId, String verdict, String reason, String policyVersion, boolean staged) {
    }

    /** The policy decision about a command. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record DecisionInfo(String verdict, String ruleId, String reason, String policyVersion, String decidedAt,
                        List<DryRunInfo> dryRun, String maskProfile) {
        public DecisionInfo {
            dryRun = dryRun == null ? List.of() : List.copyOf(dryRun);
        }
    }

    /** A human approval a command waited for; state requested, granted, denied or expired. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record ApprovalInfo(String approvalId, String state, List<String> approvers, String deniedBy, String reason,
                        String expiresAt) {
        public ApprovalInfo {
            approvers = approvers == null ? List.of() : List.copyOf(approvers);
        }
    }

    /**
     * What became of a command. {@code masking} is null unless its result was masked;
     * {@code statementsRun} how many of its statements ran to completion, null when not recorded.
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record OutcomeInfo(boolean forwarded, List<String> tags, long rows, String sqlState, String error,
                       long durationMicros, String completedAt, MaskingInfo masking, Integer statementsRun) {
        public OutcomeInfo {
            tags = tags == null ? List.of() : List.copyOf(tags);
        }
    }

    /** Masking counts of one result (never a value). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record MaskingInfo(String profile, long values, Map<String, Long> columns, Map<String, Long> detectors) {
        public MaskingInfo {
            columns = columns == null ? Map.of() : new java.util.TreeMap<>(columns);
            detectors = detectors == null ? Map.of() : new java.util.TreeMap<>(detectors);
        }
    }

    /** The captured, masked, bounded sample of a command's result; {@code truncated} when more existed. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record SampleInfo(List<String> columns, List<List<String>> rows, boolean truncated, long rowsCaptured,
                      long bytesCaptured, boolean masked) {
        public SampleInfo {
            columns = columns == null ? List.of() : List.copyOf(columns);
            rows = rows == null ? List.of() : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(rows));
        }
    }
}
