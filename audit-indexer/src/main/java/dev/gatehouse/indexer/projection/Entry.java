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
     * A command: its text and parameters, analysis, decision, approval, outcome and result sample
     * (each null until its event is projected).
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record CommandEntry(String at, long offset, long sequence, String commandId, String receivedAt, String sql,
                        List<String> parameters, String form, List<StatementInfo> statements, DecisionInfo decision,
                        ApprovalInfo approval, OutcomeInfo outcome, SampleInfo sample) implements Entry {

        public CommandEntry {
            parameters = parameters == null ? List.of() : java.util.Collections.unmodifiableList(new java.util.ArrayList<>(parameters));
            statements = statements == null ? List.of() : List.copyOf(statements);
        }

        @Override
        public String type() {
            return "command";
        }

        public CommandEntry withDecision(DecisionInfo d) {
            return new CommandEntry(at, offset, sequence, commandId, receivedAt, sql, parameters, form, statements, d,
                    approval, outcome, sample);
        }

        public CommandEntry withApproval(ApprovalInfo a) {
            return new CommandEntry(at, offset, sequence, commandId, receivedAt, sql, parameters, form, statements,
                    decision, a, outcome, sample);
        }

        public CommandEntry withOutcome(OutcomeInfo o) {
            return new CommandEntry(at, offset, sequence, commandId, receivedAt, sql, parameters, form, statements,
                    decision, approval, o, sample);
        }

        public CommandEntry withSample(SampleInfo s) {
            return new CommandEntry(at, offset, sequence, commandId, receivedAt, sql, parameters, form, statements,
                    decision, approval, outcome, s);
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

    /** One statement of a command: its kind and the objects it touches ("schema.name" or "name"). */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record StatementInfo(String kind, List<String> objects) {
        public StatementInfo {
            objects = objects == null ? List.of() : List.copyOf(objects);
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

    /** What became of a command. {@code masking} is null unless its result was masked. */
    @JsonIgnoreProperties(ignoreUnknown = true)
    record OutcomeInfo(boolean forwarded, List<String> tags, long rows, String sqlState, String error,
                       long durationMicros, String completedAt, MaskingInfo masking) {
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
