package dev.gatehouse.edge.masking;

import java.util.Map;
import java.util.TreeMap;

/**
 * How many values one command's result had masked, per column rule and per detector. Counts only:
 * never a value. Not thread-safe (one command, one event loop).
 */
public final class MaskingStats {
    private final Map<String, Long> columns = new TreeMap<>();
    private final Map<String, Long> detectors = new TreeMap<>();
    private long values;

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

    /** Masked values per column, by {@code schema.table.column}. */
    public Map<String, Long> columns() {
        return Map.copyOf(columns);
    }

    /** Values with at least one finding, per detector. */
    public Map<String, Long> detectors() {
        return Map.copyOf(detectors);
    }

    /** Values changed in all. */
    public long values() {
        return values;
    }

    @Override
    public String toString() {
        return "MaskingStats[values=" + values + ", columns=" + columns + ", detectors=" + detectors + "]";
    }
}
