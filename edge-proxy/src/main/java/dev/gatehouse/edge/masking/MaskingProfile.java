package dev.gatehouse.edge.masking;

import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/**
 * A named masking profile: column rules (a column selected by a pattern has its whole value
 * replaced) and detectors (text values are scanned and what is found is replaced). A profile is
 * immutable and thread-safe; see {@link MaskingProfiles} for the YAML form.
 *
 * @param name     the name a policy's {@code mask: {profile: NAME}} refers to
 * @param columns  column rules, first match wins
 * @param detectors detector rules, run from the most specific to the least (see {@link Detectors#precedence})
 * @param copy     whether {@code COPY ... TO STDOUT} is refused or masked under this profile
 */
public record MaskingProfile(String name, List<ColumnRule> columns, List<DetectorRule> detectors, CopyMode copy) {

    /** The planner statistics of PostgreSQL 15, which hold sample values of other relations' columns. */
    private static final Set<String> STATISTICS = Set.of("pg_statistic", "pg_statistic_ext_data", "pg_stats",
            "pg_stats_ext", "pg_stats_ext_exprs");

    /** What happens to {@code COPY ... TO STDOUT} under this profile. */
    public enum CopyMode {
        /** The command is refused before it reaches the target. */
        REFUSE,
        /** Text-format COPY rows are scanned by the detectors (column rules cannot apply: refused if there are any). */
        MASK
    }

    /** A column selector and how its values are replaced. */
    public record ColumnRule(ColumnPattern pattern, MaskMethod method) {
        public ColumnRule {
            Objects.requireNonNull(pattern, "pattern");
            Objects.requireNonNull(method, "method");
        }
    }

    /** A detector and how what it finds is replaced. */
    public record DetectorRule(Detector detector, MaskMethod method) {
        public DetectorRule {
            Objects.requireNonNull(detector, "detector");
            Objects.requireNonNull(method, "method");
        }
    }

    public MaskingProfile {
        Objects.requireNonNull(name, "name");
        columns = List.copyOf(columns);
        detectors = detectors.stream()
                .sorted(java.util.Comparator.comparingInt(r -> Detectors.precedence(r.detector()))).toList();
        copy = copy == null ? CopyMode.REFUSE : copy;
        if (columns.isEmpty() && detectors.isEmpty()) {
            throw new MaskingException("masking profile \"" + name + "\" can never mask anything: it has no columns and no detectors");
        }
    }

    /** The first column rule selecting {@code schema.table.column}. */
    public Optional<ColumnRule> columnRule(String schema, String table, String column) {
        for (ColumnRule rule : columns) {
            if (rule.pattern().matches(schema, table, column)) return Optional.of(rule);
        }
        return Optional.empty();
    }

    /**
     * Whether a column rule selects some column of the relation {@code schema.relation} (a table, a
     * view, ...) whose columns are {@code columns}; matching ignores case, as {@link ColumnPattern}
     * does. The session asks it for every relation a command reads, directly or through views, to
     * decide whether the result's derived columns are masked as a whole ({@code maskDerived} of
     * the result masker). An empty {@code columns} means they are not known: the answer is then
     * whether a rule could select a column of the relation at all ({@code *.ssn} can). The planner
     * statistics ({@link #holdsColumnValues}) count as masked whenever the profile has column rules.
     */
    public boolean masksAnyColumnOf(String schema, String relation, List<String> columns) {
        if (holdsColumnValues(schema, relation)) return !this.columns.isEmpty();
        for (ColumnRule rule : this.columns) {
            ColumnPattern p = rule.pattern();
            if (!p.schema().matcher(schema).matches() || !p.table().matcher(relation).matches()) continue;
            if (columns.isEmpty()) return true;
            for (String column : columns) {
                if (p.column().matcher(column).matches()) return true;
            }
        }
        return false;
    }

    /**
     * Whether {@code schema.relation} holds copies of other tables' column values: the planner
     * statistics ({@code pg_stats.most_common_vals} and {@code histogram_bounds} list values of any
     * column the reader may select, a masked one included). Their columns are masked as a whole
     * like a view's.
     */
    public static boolean holdsColumnValues(String schema, String relation) {
        return schema.equalsIgnoreCase("pg_catalog") && STATISTICS.contains(relation.toLowerCase(Locale.ROOT));
    }

    /**
     * Runs the detectors over a text value: the value with what they found replaced (the same
     * instance when nothing was found), or null when a detector's method is {@code null}.
     */
    public String scan(String value, MaskingStats stats) {
        String current = value;
        for (DetectorRule rule : detectors) {
            String next = rule.detector().replace(current, rule.method());
            if (next != current) {
                stats.detector(rule.detector().name());
                if (next == null) {
                    stats.detectedValue();
                    return null;
                }
                current = next;
            }
        }
        if (current != value) stats.detectedValue();
        return current;
    }

    /** Why a COPY TO STDOUT is refused under this profile, or empty when its rows can be masked. */
    public Optional<String> copyRefusal() {
        if (copy == CopyMode.REFUSE) {
            return Optional.of("masking profile \"" + name + "\" does not allow COPY TO STDOUT (set copy: mask to scan COPY rows)");
        }
        if (!columns.isEmpty()) {
            return Optional.of("masking profile \"" + name + "\" has column rules, which cannot be applied to COPY rows"
                    + " (COPY does not say which table a field comes from)");
        }
        return Optional.empty();
    }
}
