package dev.gatehouse.edge.masking;

import java.util.Map;
import java.util.TreeMap;

/**
 * How many values one command's result had masked, per column rule and per detector, how many
 * derived values were masked as a whole, and how many error or notice texts were withheld. Counts
 * only: never a value. Not thread-safe (one command, one event loop).
 */
public final class MaskingStats {
    private final Map<String, Long> columns = new TreeMap<>();
    private final Map<String, Long> detectors = new TreeMap<>();
    private long values;
    private long derived;
    private long withheldTexts;

    /** A value masked by the rule of column {@code column} ({@code schema.table.column}). */
    public void column(String column) {
        columns.merge(column, 1L, Long::sum);
        values++;
    }

    /** A value in which {@code detector} found something. */
    public void detector(String detector) {
        detectors.merge(detector, 1L, Long::sum);
    }

    /** A value changed by detectors (counted once however many detectors matched). */
    public void detectedValue() {
        values++;
    }

    /**
     * A value of a result column that is not a plain table column (an expression, a whole row, a
     * view's column) masked as a whole, because the command reads masked data.
     */
    public void derivedValue() {
        derived++;
        values++;
    }

    /** An ErrorResponse or NoticeResponse whose texts were withheld (they can echo a value). */
    public void withheldText() {
        withheldTexts++;
    }

    /** Masked values per column, by {@code schema.table.column}. */
    public Map<String, Long> columns() {
        return Map.copyOf(columns);
    }

    /** Values with at least one finding, per detector. */
    public Map<String, Long> detectors() {
        return Map.copyOf(detectors);
    }

    /** Values changed in all (derived values included). */
    public long values() {
        return values;
    }

    /** Derived values masked as a whole (see {@link #derivedValue}). */
    public long derived() {
        return derived;
    }

    /** Error and notice texts withheld. */
    public long withheldTexts() {
        return withheldTexts;
    }

    @Override
    public String toString() {
        return "MaskingStats[values=" + values + ", columns=" + columns + ", detectors=" + detectors
                + ", derived=" + derived + ", withheldTexts=" + withheldTexts + "]";
    }
}
