package dev.gatehouse.edge.masking;

import java.util.List;
import java.util.Objects;
import java.util.Optional;

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
